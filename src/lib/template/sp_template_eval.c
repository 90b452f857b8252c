/* sp_template_eval: the evaluator of template expressions (see
 * sp_template_int.h, docs/templates.md): walks the tree sp_template_expr.c
 * parsed with the run's parameters and variables, Python's operators,
 * indexing, slicing, calls and comprehensions, short-circuiting `and`, `or`
 * and `x if c else y` as Python does; the template's variables. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_banned.h"

/* ============================================================= variables */

int sp__tvar_set(tctx *c, const char *name, size_t n, tv v)
{
    for (size_t i = 0; i < c->nvars; i++)
        if (strlen(c->vars[i].name) == n && !memcmp(c->vars[i].name, name, n)) {
            sp__tv_drop(&c->vars[i].v);
            c->vars[i].v = v;
            return 0;
        }
    if (sp__tgrow(c, (void **)&c->vars, &c->capvars, c->nvars + 1, sizeof *c->vars)) {
        sp__tv_drop(&v);
        return c->rc;
    }
    char *nm = malloc(n + 1);
    if (!nm) {
        sp__tv_drop(&v);
        return sp__toom(c);
    }
    memcpy(nm, name, n);
    nm[n] = '\0';
    c->vars[c->nvars].name = nm;
    c->vars[c->nvars].v = v;
    c->nvars++;
    return 0;
}

const tv *sp__tvar_get(tctx *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nvars; i++)
        if (strlen(c->vars[i].name) == n && !memcmp(c->vars[i].name, name, n))
            return &c->vars[i].v;
    return NULL;
}

const char *sp__tparam(tctx *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->np; i++)
        if (c->params[i].name && strlen(c->params[i].name) == n &&
            !memcmp(c->params[i].name, name, n))
            return c->params[i].value ? c->params[i].value : "";
    return NULL;
}

/* ============================================================ evaluation */

#define NODE(c, id) (&(c)->ast->v[id])

static int eval(tctx *c, uint32_t id, tv *out);

static int name_value(tctx *c, const tnode *nd, tv *out)
{
    const char *nm = c->src + nd->name;
    size_t n = nd->namelen;
    const tv *v = sp__tvar_get(c, nm, n);
    if (v) {
        *out = sp__tv_ref(v);
        return 0;
    }
    const char *p = sp__tparam(c, nm, n);
    if (p) {
        int rc = sp__tv_strz(c, p, out);
        for (size_t i = 0; !rc && i < c->narrays; i++)
            if (strlen(c->arrays[i].name) == n && !memcmp(c->arrays[i].name, nm, n)) {
                /* Tinybird reads a parameter declared Array(x, 'T') as a list */
                tv l;
                sp_error e2 = SP_ERROR_INIT;
                sp_error *keep = c->err;
                c->err = &e2;
                int r2 = sp__tarray_list(c, c->arrays[i].name, out, c->arrays[i].etype, &l, nd->pos);
                c->err = keep;
                c->rc = 0;
                if (r2 == SP_ENOMEM) {
                    sp__tv_drop(out);
                    return sp__toom(c);
                }
                if (!r2) {
                    sp__tv_drop(out);
                    *out = l;
                }
                break;
            }
        return rc;
    }
    *out = sp__tv_none();
    if (c->flags & SP_TEMPLATE_CHECK)
        out->kind = TV_PH;
    return 0;
}

void sp__titems_free(tv *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sp__tv_drop(&items[i]);
    free(items);
}

int sp__titer(tctx *c, const tv *v, tv **items, size_t *n, uint32_t pos)
{
    *items = NULL;
    *n = 0;
    size_t cnt;
    switch (v->kind) {
    case TV_LIST:
    case TV_TUPLE:
    case TV_DICT: cnt = v->u.o->n; break;
    case TV_STR: cnt = sp__tutf8_len(v->u.o->s, v->u.o->n); break;
    case TV_PH: cnt = 3; break;
    default:
        return sp__tfail(c, SP_EDEF, pos, "'%s' object is not iterable", sp__tv_typename(v));
    }
    int rc = sp__tstep(c, cnt, pos);
    if (rc)
        return rc;
    tv *it = calloc(cnt ? cnt : 1, sizeof *it);
    if (!it)
        return sp__toom(c);
    size_t off = 0;
    for (size_t i = 0; i < cnt && !rc; i++) {
        if (v->kind == TV_PH) {
            it[i].kind = TV_PH;
        } else if (v->kind == TV_STR) {
            size_t next = sp__tutf8_off(v->u.o->s + off, v->u.o->n - off, 1);
            rc = sp__tv_str(c, v->u.o->s + off, next, &it[i]);
            off += next;
        } else {
            it[i] = sp__tv_ref(&v->u.o->items[v->kind == TV_DICT ? 2 * i : i]);
        }
    }
    if (rc) {
        sp__titems_free(it, cnt);
        return rc;
    }
    *items = it;
    *n = cnt;
    return 0;
}

int sp__texpr_assign(tctx *c, uint32_t kids, uint32_t nkids, const tv *v, uint32_t pos)
{
    const uint32_t *k = c->ast->kids + kids;
    if (nkids == 1) {
        const tnode *nd = NODE(c, k[0]);
        return sp__tvar_set(c, c->src + nd->name, nd->namelen, sp__tv_ref(v));
    }
    tv *items;
    size_t n;
    int rc = sp__titer(c, v, &items, &n, pos);
    if (rc)
        return rc;
    if (n != nkids) {
        sp__titems_free(items, n);
        return sp__tfail(c, SP_EDEF, pos, "cannot unpack %zu values into %u names", n,
                         (unsigned)nkids);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const tnode *nd = NODE(c, k[i]);
        rc = sp__tvar_set(c, c->src + nd->name, nd->namelen, items[i]);
        items[i] = sp__tv_none();
    }
    sp__titems_free(items, n);
    return rc;
}

static int int_result(tctx *c, long double r, int64_t *out, uint32_t pos)
{
    if (r > 9223372036854775807.0L || r < -9223372036854775808.0L)
        return sp__tfail(c, SP_EDEF, pos, "integer overflow in the template expression");
    *out = (int64_t)r;
    return 0;
}

static int concat(tctx *c, const tv *a, const tv *b, tv *out)
{
    if (a->kind == TV_STR)
        {
            size_t n = a->u.o->n + b->u.o->n;
            if (n > ((size_t)64 << 20))
                return sp__tfail(c, SP_ETOOBIG, UINT32_MAX, "template: a string is too long");
            char *s = malloc(n + 1);
            if (!s)
                return sp__toom(c);
            memcpy(s, a->u.o->s, a->u.o->n);
            memcpy(s + a->u.o->n, b->u.o->s, b->u.o->n);
            int rc = sp__tv_str(c, s, n, out);
            free(s);
            return rc;
        }
    int rc = sp__tv_seq(c, a->kind, 0, out);
    for (size_t i = 0; !rc && i < a->u.o->n; i++)
        rc = sp__tv_push(c, out, sp__tv_ref(&a->u.o->items[i]));
    for (size_t i = 0; !rc && i < b->u.o->n; i++)
        rc = sp__tv_push(c, out, sp__tv_ref(&b->u.o->items[i]));
    return rc;
}

static int repeat(tctx *c, const tv *s, int64_t times, tv *out, uint32_t pos)
{
    if (times < 0)
        times = 0;
    size_t unit = s->u.o->n;
    if (unit && (uint64_t)times > SP_TMPL_MAX_ITEMS / unit)
        return sp__tfail(c, SP_ETOOBIG, pos, "the repeated value is too long");
    int rc = sp__tstep(c, unit * (size_t)times, pos);
    if (rc)
        return rc;
    if (s->kind == TV_STR) {
        sp_buf b = SP_BUF_INIT((size_t)64 << 20);
        for (int64_t i = 0; i < times && !rc; i++)
            rc = sp_buf_add(&b, s->u.o->s, unit, c->err);
        if (!rc)
            rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
        sp_buf_release(&b);
        return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
    }
    rc = sp__tv_seq(c, s->kind, 0, out);
    for (int64_t i = 0; i < times && !rc; i++)
        for (size_t j = 0; j < unit && !rc; j++)
            rc = sp__tv_push(c, out, sp__tv_ref(&s->u.o->items[j]));
    return rc;
}

/* `'fmt' % args` with %s %r %d %i %f %% */
static int str_format_pct(tctx *c, const tv *f, const tv *args, tv *out, uint32_t pos)
{
    const tv *av = args;
    size_t na = 1;
    if (args->kind == TV_TUPLE) {
        av = args->u.o->items;
        na = args->u.o->n;
    }
    size_t used = 0;
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    int rc = 0;
    const char *s = f->u.o->s;
    for (size_t i = 0; i < f->u.o->n && !rc; i++) {
        if (s[i] != '%') {
            rc = sp_buf_addch(&b, s[i], c->err);
            continue;
        }
        i++;
        int prec = -1;
        if (i < f->u.o->n && s[i] == '.') {
            prec = 0;
            while (++i < f->u.o->n && isdigit((unsigned char)s[i]))
                prec = prec * 10 + (s[i] - '0');
        }
        char conv = i < f->u.o->n ? s[i] : 0;
        if (conv == '%') {
            rc = sp_buf_addch(&b, '%', c->err);
            continue;
        }
        if (used >= na) {
            rc = sp__tfail(c, SP_EDEF, pos, "not enough arguments for format string");
            break;
        }
        const tv *a = &av[used++];
        if (conv == 's' || conv == 'r')
            rc = sp__tv_pystr(c, a, &b, conv == 'r');
        else if ((conv == 'd' || conv == 'i') && sp__tv_isnum(a))
            rc = sp_buf_addf(&b, c->err, "%lld",
                             (long long)(a->kind == TV_FLOAT ? (int64_t)a->u.f : a->u.i));
        else if (conv == 'f' && sp__tv_isnum(a))
            rc = sp_buf_addf(&b, c->err, "%.*f", prec < 0 ? 6 : prec > 30 ? 30 : prec, sp__tv_num(a));
        else
            rc = sp__tfail(c, SP_EDEF, pos, "unsupported format '%%%c' for a %s", conv ? conv : ' ',
                           sp__tv_typename(a));
    }
    if (!rc && used < na && args->kind == TV_TUPLE)
        rc = sp__tfail(c, SP_EDEF, pos, "not all arguments converted during string formatting");
    if (!rc)
        rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
    sp_buf_release(&b);
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
}

int sp__texpr_binop(tctx *c, int op, const tv *a, const tv *b, tv *out, uint32_t pos)
{
    static const char *const names[] = { "", "+", "-", "*", "/", "//", "%", "&", "|", "^" };
    *out = sp__tv_none();
    if (a->kind == TV_PH || b->kind == TV_PH) { /* Placeholder + x: a placeholder */
        out->kind = TV_PH;
        return 0;
    }
    int ai = a->kind == TV_INT || a->kind == TV_BOOL, bi = b->kind == TV_INT || b->kind == TV_BOOL;
    if (sp__tv_isnum(a) && sp__tv_isnum(b)) {
        if (ai && bi) {
            long double x = (long double)a->u.i, y = (long double)b->u.i;
            int64_t r = 0;
            int rc = 0;
            switch (op) {
            case OP_ADD: rc = int_result(c, x + y, &r, pos); break;
            case OP_SUB: rc = int_result(c, x - y, &r, pos); break;
            case OP_MUL: rc = int_result(c, x * y, &r, pos); break;
            case OP_DIV:
                if (!b->u.i)
                    return sp__tfail(c, SP_EDEF, pos, "division by zero");
                *out = sp__tv_float((double)a->u.i / (double)b->u.i);
                return 0;
            case OP_FLOORDIV:
            case OP_MOD: {
                if (!b->u.i)
                    return sp__tfail(c, SP_EDEF, pos, "integer division or modulo by zero");
                if (a->u.i == INT64_MIN && b->u.i == -1)
                    return sp__tfail(c, SP_EDEF, pos, "integer overflow in the template expression");
                int64_t q = a->u.i / b->u.i, m = a->u.i % b->u.i;
                if (m && ((m < 0) != (b->u.i < 0))) {
                    q--;
                    m += b->u.i;
                }
                r = op == OP_MOD ? m : q;
                break;
            }
            case OP_BITAND: r = a->u.i & b->u.i; break;
            case OP_BITOR: r = a->u.i | b->u.i; break;
            case OP_BITXOR: r = a->u.i ^ b->u.i; break;
            }
            if (rc)
                return rc;
            *out = (a->kind == TV_BOOL && b->kind == TV_BOOL && op >= OP_BITAND) ? sp__tv_bool((int)r)
                                                                                 : sp__tv_int(r);
            return 0;
        }
        if (op >= OP_BITAND)
            goto bad;
        double x = sp__tv_num(a), y = sp__tv_num(b), r;
        switch (op) {
        case OP_ADD: r = x + y; break;
        case OP_SUB: r = x - y; break;
        case OP_MUL: r = x * y; break;
        case OP_DIV:
            if (y == 0)
                return sp__tfail(c, SP_EDEF, pos, "float division by zero");
            r = x / y;
            break;
        default:
            if (y == 0)
                return sp__tfail(c, SP_EDEF, pos, "float modulo");
            r = op == OP_FLOORDIV ? floor(x / y) : x - floor(x / y) * y;
            break;
        }
        *out = sp__tv_float(r);
        return 0;
    }
    if (op == OP_ADD && a->kind == b->kind &&
        (a->kind == TV_STR || a->kind == TV_LIST || a->kind == TV_TUPLE))
        return concat(c, a, b, out);
    if (op == OP_MUL && (a->kind == TV_STR || a->kind == TV_LIST || a->kind == TV_TUPLE) && bi)
        return repeat(c, a, b->u.i, out, pos);
    if (op == OP_MUL && (b->kind == TV_STR || b->kind == TV_LIST || b->kind == TV_TUPLE) && ai)
        return repeat(c, b, a->u.i, out, pos);
    if (op == OP_MOD && a->kind == TV_STR)
        return str_format_pct(c, a, b, out, pos);
    if (a->kind == TV_BIG || b->kind == TV_BIG)
        return sp__tfail(c, SP_EDEF, pos, "arithmetic on integers past 64 bits is not supported");
bad:
    return sp__tfail(c, SP_EDEF, pos, "unsupported operand type(s) for %s: '%s' and '%s'",
                     names[op], sp__tv_typename(a), sp__tv_typename(b));
}

static int contains(tctx *c, const tv *item, const tv *in, int *res, uint32_t pos)
{
    switch (in->kind) {
    case TV_STR:
        if (item->kind != TV_STR)
            return sp__tfail(c, SP_EDEF, pos, "'in <string>' requires string as left operand, not %s",
                             sp__tv_typename(item));
        *res = !item->u.o->n || (item->u.o->n <= in->u.o->n &&
                                 memmem(in->u.o->s, in->u.o->n, item->u.o->s, item->u.o->n));
        return 0;
    case TV_LIST:
    case TV_TUPLE:
    case TV_DICT:
        *res = 0;
        for (size_t i = 0; i < in->u.o->n && !*res; i++)
            *res = sp__tv_eq(item, &in->u.o->items[in->kind == TV_DICT ? 2 * i : i]);
        return sp__tstep(c, in->u.o->n, pos);
    case TV_PH: *res = 0; return 0;
    default:
        return sp__tfail(c, SP_EDEF, pos, "argument of type '%s' is not iterable",
                         sp__tv_typename(in));
    }
}

static int compare(tctx *c, int op, const tv *a, const tv *b, int *res, uint32_t pos)
{
    int r;
    switch (op) {
    case OP_EQ: *res = sp__tv_eq(a, b); return 0;
    case OP_NE: *res = !sp__tv_eq(a, b); return 0;
    case OP_IS:
    case OP_ISNOT:
        r = a->kind == b->kind && (a->kind == TV_NONE || (a->kind == TV_BOOL && a->u.i == b->u.i) ||
                                   ((a->kind == TV_STR || a->kind == TV_LIST || a->kind == TV_DICT ||
                                     a->kind == TV_TUPLE) && a->u.o == b->u.o));
        *res = op == OP_IS ? r : !r;
        return 0;
    case OP_IN:
    case OP_NOTIN: {
        int rc = contains(c, a, b, &r, pos);
        *res = op == OP_IN ? r : !r;
        return rc;
    }
    default: {
        static const char *const sym[] = { [OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">", [OP_GE] = ">=" };
        int rc = sp__tv_cmp(c, a, b, &r, pos, sym[op]);
        if (rc)
            return rc;
        *res = op == OP_LT ? r < 0 : op == OP_LE ? r <= 0 : op == OP_GT ? r > 0 : r >= 0;
        return 0;
    }
    }
}

static int64_t clampi(int64_t i, int64_t n)
{
    if (i < 0)
        i += n;
    return i < 0 ? 0 : i > n ? n : i;
}

static int index_value(tctx *c, const tv *o, const tv *k, tv *out, uint32_t pos)
{
    if (o->kind == TV_DICT) {
        for (size_t i = 0; i < o->u.o->n; i++)
            if (sp__tv_eq(k, &o->u.o->items[2 * i])) {
                *out = sp__tv_ref(&o->u.o->items[2 * i + 1]);
                return 0;
            }
        sp_buf b = SP_BUF_INIT(200);
        sp__tv_pystr(c, k, &b, 1);
        int rc = sp__tfail(c, SP_EDEF, pos, "KeyError: %s", b.data ? b.data : "");
        sp_buf_release(&b);
        return rc;
    }
    if (o->kind == TV_PH) {
        if (k->kind == TV_INT && k->u.i > 2)
            return sp__tfail(c, SP_EDEF, pos, "IndexError: index out of range");
        *out = *o;
        return 0;
    }
    if (o->kind != TV_LIST && o->kind != TV_TUPLE && o->kind != TV_STR)
        return sp__tfail(c, SP_EDEF, pos, "'%s' object is not subscriptable", sp__tv_typename(o));
    if (k->kind != TV_INT && k->kind != TV_BOOL)
        return sp__tfail(c, SP_EDEF, pos, "%s indices must be integers, not %s", sp__tv_typename(o),
                         sp__tv_typename(k));
    int64_t n = o->kind == TV_STR ? (int64_t)sp__tutf8_len(o->u.o->s, o->u.o->n) : (int64_t)o->u.o->n;
    int64_t i = k->u.i < 0 ? k->u.i + n : k->u.i;
    if (i < 0 || i >= n)
        return sp__tfail(c, SP_EDEF, pos, "IndexError: %s index out of range", sp__tv_typename(o));
    if (o->kind == TV_STR) {
        size_t off = sp__tutf8_off(o->u.o->s, o->u.o->n, (size_t)i);
        size_t len = sp__tutf8_off(o->u.o->s + off, o->u.o->n - off, 1);
        return sp__tv_str(c, o->u.o->s + off, len, out);
    }
    *out = sp__tv_ref(&o->u.o->items[i]);
    return 0;
}

static int slice_value(tctx *c, const tv *o, const tv parts[3], tv *out, uint32_t pos)
{
    if (o->kind == TV_PH) {
        *out = *o;
        return 0;
    }
    if (o->kind != TV_LIST && o->kind != TV_TUPLE && o->kind != TV_STR)
        return sp__tfail(c, SP_EDEF, pos, "'%s' object is not subscriptable", sp__tv_typename(o));
    for (int k = 0; k < 3; k++)
        if (parts[k].kind != TV_NONE && parts[k].kind != TV_INT && parts[k].kind != TV_BOOL)
            return sp__tfail(c, SP_EDEF, pos, "slice indices must be integers or None");
    int64_t n = o->kind == TV_STR ? (int64_t)sp__tutf8_len(o->u.o->s, o->u.o->n) : (int64_t)o->u.o->n;
    int64_t step = parts[2].kind == TV_NONE ? 1 : parts[2].u.i;
    if (!step)
        return sp__tfail(c, SP_EDEF, pos, "slice step cannot be zero");
    int64_t lo, hi;
    if (step > 0) {
        lo = parts[0].kind == TV_NONE ? 0 : clampi(parts[0].u.i, n);
        hi = parts[1].kind == TV_NONE ? n : clampi(parts[1].u.i, n);
    } else {
        lo = parts[0].kind == TV_NONE ? n - 1 : parts[0].u.i < 0 ? parts[0].u.i + n : parts[0].u.i;
        hi = parts[1].kind == TV_NONE ? -1 : parts[1].u.i < 0 ? parts[1].u.i + n : parts[1].u.i;
        if (lo >= n)
            lo = n - 1;
        if (hi < -1)
            hi = -1;
    }
    int rc = 0;
    if (o->kind == TV_STR) {
        sp_buf b = SP_BUF_INIT((size_t)64 << 20);
        for (int64_t i = lo; !rc && (step > 0 ? i < hi : i > hi); i += step) {
            size_t off = sp__tutf8_off(o->u.o->s, o->u.o->n, (size_t)i);
            rc = sp_buf_add(&b, o->u.o->s + off, sp__tutf8_off(o->u.o->s + off, o->u.o->n - off, 1),
                            c->err);
        }
        if (!rc)
            rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
        sp_buf_release(&b);
        return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
    }
    rc = sp__tv_seq(c, o->kind, 0, out);
    for (int64_t i = lo; !rc && (step > 0 ? i < hi : i > hi); i += step)
        rc = sp__tv_push(c, out, sp__tv_ref(&o->u.o->items[i]));
    return rc;
}

static int eval_call(tctx *c, const tnode *nd, tv *out)
{
    const tnode *callee = NODE(c, nd->a);
    size_t na = nd->nkids;
    targ *args = calloc(na ? na : 1, sizeof *args);
    if (!args)
        return sp__toom(c);
    tv self = sp__tv_none();
    int rc = 0;
    if (callee->kind == N_ATTR)
        rc = eval(c, callee->a, &self);
    for (size_t i = 0; i < na && !rc; i++) {
        uint32_t k = c->ast->kids[nd->kids + i];
        const tnode *an = NODE(c, k);
        if (an->kind == N_KW) {
            args[i].kw = c->src + an->name;
            args[i].kwlen = an->namelen;
            args[i].node = an->a;
            rc = eval(c, an->a, &args[i].v);
        } else {
            args[i].node = k;
            rc = eval(c, k, &args[i].v);
        }
    }
    if (!rc) {
        if (callee->kind == N_ATTR) {
            rc = sp__tmethod(c, &self, c->src + callee->name, callee->namelen, args, na, nd->pos, out);
        } else if (callee->kind == N_NAME) {
            const char *nm = c->src + callee->name;
            int found = 0;
            if (sp__tvar_get(c, nm, callee->namelen))
                rc = sp__tfail(c, SP_EDEF, nd->pos, "'%.*s' is a variable, not a function",
                               (int)callee->namelen, nm);
            else if (!(rc = sp__tcall(c, nm, callee->namelen, args, na, nd->pos, out, &found)) && !found)
                rc = sp__tfail(c, SP_EDEF, nd->pos, "'%.*s' is not a valid function",
                               (int)callee->namelen, nm);
        } else {
            rc = sp__tfail(c, SP_EDEF, nd->pos, "this expression is not callable");
        }
    }
    for (size_t i = 0; i < na; i++)
        sp__tv_drop(&args[i].v);
    free(args);
    sp__tv_drop(&self);
    return rc;
}

static int eval_comp(tctx *c, const tnode *nd, tv *out)
{
    tv it;
    int rc = eval(c, nd->b, &it);
    if (rc)
        return rc;
    tv *items;
    size_t n;
    rc = sp__titer(c, &it, &items, &n, nd->pos);
    sp__tv_drop(&it);
    if (rc)
        return rc;
    rc = sp__tv_seq(c, TV_LIST, 0, out);
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = sp__texpr_assign(c, nd->kids, nd->nkids, &items[i], nd->pos)))
            break;
        if (nd->c) {
            tv cond;
            if ((rc = eval(c, nd->c, &cond)))
                break;
            int t = sp__tv_truthy(&cond);
            sp__tv_drop(&cond);
            if (!t)
                continue;
        }
        tv e;
        if (!(rc = eval(c, nd->a, &e)))
            rc = sp__tv_push(c, out, e);
    }
    sp__titems_free(items, n);
    return rc;
}

static int eval(tctx *c, uint32_t id, tv *out)
{
    *out = sp__tv_none();
    if (c->rc)
        return c->rc;
    if (++c->depth > 200) {
        c->depth--;
        return sp__tfail(c, SP_EDEF, NODE(c, id)->pos, "expression nested too deeply");
    }
    int rc = sp__tstep(c, 1, NODE(c, id)->pos);
    const tnode *nd = NODE(c, id);
    tv a = sp__tv_none(), b = sp__tv_none();
    if (rc)
        goto done;
    switch (nd->kind) {
    case N_CONST: *out = sp__tv_ref(&nd->val); break;
    case N_NAME: rc = name_value(c, nd, out); break;
    case N_LIST:
    case N_TUPLE:
    case N_DICT:
        rc = sp__tv_seq(c, nd->kind == N_LIST ? TV_LIST : nd->kind == N_TUPLE ? TV_TUPLE : TV_DICT, 0, out);
        for (uint32_t i = 0; i < nd->nkids && !rc; i++) {
            tv e;
            if (!(rc = eval(c, c->ast->kids[nd->kids + i], &e)))
                rc = sp__tv_push(c, out, e);
        }
        if (!rc && nd->kind == N_DICT)
            out->u.o->n /= 2;
        break;
    case N_CALL: rc = eval_call(c, nd, out); break;
    case N_KW: rc = sp__tfail(c, SP_EDEF, nd->pos, "a keyword argument outside a call"); break;
    case N_ATTR:
        rc = sp__tfail(c, SP_EDEF, nd->pos, "'.%.*s' is only supported as a method call",
                       (int)nd->namelen, c->src + nd->name);
        break;
    case N_INDEX:
        if (!(rc = eval(c, nd->a, &a)) && !(rc = eval(c, nd->b, &b)))
            rc = index_value(c, &a, &b, out, nd->pos);
        break;
    case N_SLICE: {
        tv parts[3] = { sp__tv_none(), sp__tv_none(), sp__tv_none() };
        rc = eval(c, nd->a, &a);
        for (int k = 0; k < 3 && !rc; k++)
            if (c->ast->kids[nd->kids + (uint32_t)k])
                rc = eval(c, c->ast->kids[nd->kids + (uint32_t)k], &parts[k]);
        if (!rc)
            rc = slice_value(c, &a, parts, out, nd->pos);
        for (int k = 0; k < 3; k++)
            sp__tv_drop(&parts[k]);
        break;
    }
    case N_UNARY:
        if ((rc = eval(c, nd->a, &a)))
            break;
        if (a.kind == TV_PH) {
            *out = a;
        } else if (nd->op == '-' && (a.kind == TV_INT || a.kind == TV_BOOL)) {
            if (a.u.i == INT64_MIN)
                rc = sp__tfail(c, SP_EDEF, nd->pos, "integer overflow in the template expression");
            *out = sp__tv_int(-a.u.i);
        } else if (nd->op == '-' && a.kind == TV_FLOAT) {
            *out = sp__tv_float(-a.u.f);
        } else if (nd->op == '+' && sp__tv_isnum(&a)) {
            *out = a.kind == TV_FLOAT ? sp__tv_float(a.u.f) : sp__tv_int(a.u.i);
        } else if (nd->op == '~' && (a.kind == TV_INT || a.kind == TV_BOOL)) {
            *out = sp__tv_int(~a.u.i);
        } else {
            rc = sp__tfail(c, SP_EDEF, nd->pos, "bad operand type for unary %c: '%s'", nd->op,
                           sp__tv_typename(&a));
        }
        break;
    case N_NOT:
        if (!(rc = eval(c, nd->a, &a)))
            *out = sp__tv_bool(!sp__tv_truthy(&a));
        break;
    case N_BIN:
        if (!(rc = eval(c, nd->a, &a)) && !(rc = eval(c, nd->b, &b)))
            rc = sp__texpr_binop(c, nd->op, &a, &b, out, nd->pos);
        break;
    case N_CMP: {
        const uint32_t *k = c->ast->kids + nd->kids;
        int res = 1;
        rc = eval(c, k[0], &a);
        for (uint32_t i = 1; i + 1 < nd->nkids && !rc && res; i += 2) {
            if ((rc = eval(c, k[i + 1], &b)))
                break;
            rc = compare(c, (int)k[i], &a, &b, &res, nd->pos);
            sp__tv_drop(&a);
            a = b;
            b = sp__tv_none();
        }
        if (!rc)
            *out = sp__tv_bool(res);
        break;
    }
    case N_AND:
    case N_OR:
        if ((rc = eval(c, nd->a, &a)))
            break;
        if (sp__tv_truthy(&a) == (nd->kind == N_OR)) {
            *out = a;
            a = sp__tv_none();
        } else {
            rc = eval(c, nd->b, out);
        }
        break;
    case N_IFE:
        if (!(rc = eval(c, nd->b, &a)))
            rc = eval(c, sp__tv_truthy(&a) ? nd->a : nd->c, out);
        break;
    case N_COMP: rc = eval_comp(c, nd, out); break;
    default: rc = sp__tfail(c, SP_EINTERNAL, nd->pos, "unknown expression node"); break;
    }
done:
    sp__tv_drop(&a);
    sp__tv_drop(&b);
    if (rc)
        sp__tv_drop(out);
    c->depth--;
    return rc;
}

int sp__texpr_eval(tctx *c, uint32_t node, tv *out)
{
    return eval(c, node, out);
}
