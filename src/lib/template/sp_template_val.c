/* sp_template_val: the values of template expressions (see
 * sp_template_int.h): construction, truth, equality and order as Python
 * has them, str()/repr(), and the SQL text a value renders to. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_banned.h"

const char *const sp__tnum_types[] = { "Int8",   "Int16",   "Int32",   "Int64",  "Int128",
                                       "Int256", "UInt8",   "UInt16",  "UInt32", "UInt64",
                                       "UInt128", "UInt256", "Float32", "Float64", NULL };

int sp__toom(tctx *c)
{
    if (!c->rc)
        c->rc = sp_error_set(c->err, SP_ENOMEM, 0, "out of memory");
    return c->rc;
}

static int line_of(const char *src, uint32_t off)
{
    int line = 1;
    for (uint32_t i = 0; i < off && src[i]; i++)
        line += src[i] == '\n';
    return line;
}

int sp__tfail(tctx *c, int code, uint32_t pos, const char *fmt, ...)
{
    if (c->rc)
        return c->rc;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *w = c->where ? c->where : "";
    const char *sep = c->where ? ": " : "";
    if (code == SP_EPARAM || pos == UINT32_MAX)
        c->rc = sp_error_set(c->err, code, 0, "%s%s%s", w, sep, msg);
    else
        c->rc = sp_error_set(c->err, code, 0, "%s%stemplate line %d: %s", w, sep,
                             line_of(c->src, pos), msg);
    if (!c->rc) /* err NULL: still fail */
        c->rc = code;
    return c->rc;
}

int sp__tgrow(tctx *c, void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? 2 * *cap : 16;
    while (nc < need)
        nc *= 2;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return sp__toom(c);
    *v = nv;
    *cap = nc;
    return 0;
}

int sp__tstep(tctx *c, size_t n, uint32_t pos)
{
    c->steps += n;
    if (c->steps > SP_TMPL_MAX_STEPS)
        return sp__tfail(c, SP_ETOOBIG, pos, "the template does too much work (over %zu steps)",
                         SP_TMPL_MAX_STEPS);
    return 0;
}

/* ------------------------------------------------------------ construction */

static int is_obj(int k)
{
    return k == TV_STR || k == TV_LIST || k == TV_TUPLE || k == TV_DICT || k == TV_BIG;
}

void sp__tv_drop(tv *v)
{
    if (is_obj(v->kind) && v->u.o && --v->u.o->rc == 0) {
        tobj *o = v->u.o;
        size_t n = v->kind == TV_DICT ? 2 * o->n : v->kind == TV_STR || v->kind == TV_BIG ? 0 : o->n;
        for (size_t i = 0; i < n; i++)
            sp__tv_drop(&o->items[i]);
        free(o->items);
        free(o->s);
        free(o);
    }
    memset(v, 0, sizeof *v);
}

tv sp__tv_ref(const tv *v)
{
    if (is_obj(v->kind) && v->u.o)
        v->u.o->rc++;
    return *v;
}

tv sp__tv_none(void)
{
    tv v;
    memset(&v, 0, sizeof v);
    return v;
}

tv sp__tv_bool(int b)
{
    tv v = sp__tv_none();
    v.kind = TV_BOOL;
    v.u.i = b != 0;
    return v;
}

tv sp__tv_int(int64_t i)
{
    tv v = sp__tv_none();
    v.kind = TV_INT;
    v.u.i = i;
    return v;
}

tv sp__tv_float(double f)
{
    tv v = sp__tv_none();
    v.kind = TV_FLOAT;
    v.u.f = f;
    return v;
}

int sp__tv_str(tctx *c, const char *s, size_t n, tv *out)
{
    *out = sp__tv_none();
    tobj *o = calloc(1, sizeof *o);
    if (!o || !(o->s = malloc(n + 1))) {
        free(o);
        return sp__toom(c);
    }
    if (n)
        memcpy(o->s, s, n);
    o->s[n] = '\0';
    o->n = n;
    o->rc = 1;
    out->kind = TV_STR;
    out->u.o = o;
    return 0;
}

int sp__tv_strz(tctx *c, const char *s, tv *out)
{
    return sp__tv_str(c, s, strlen(s), out);
}

int sp__tv_seq(tctx *c, int kind, size_t n, tv *out)
{
    *out = sp__tv_none();
    if (n > SP_TMPL_MAX_ITEMS)
        return sp__tfail(c, SP_ETOOBIG, UINT32_MAX, "template: a list of %zu items is too long", n);
    tobj *o = calloc(1, sizeof *o);
    size_t slots = kind == TV_DICT ? 2 * n : n;
    if (!o || (slots && !(o->items = calloc(slots, sizeof *o->items)))) {
        free(o);
        return sp__toom(c);
    }
    o->n = n;
    o->cap = n;
    o->rc = 1;
    out->kind = (uint8_t)kind;
    out->u.o = o;
    return 0;
}

int sp__tv_push(tctx *c, tv *seq, tv item)
{
    tobj *o = seq->u.o;
    if (o->n >= SP_TMPL_MAX_ITEMS) {
        sp__tv_drop(&item);
        return sp__tfail(c, SP_ETOOBIG, UINT32_MAX, "template: a list is too long");
    }
    if (sp__tgrow(c, (void **)&o->items, &o->cap, o->n + 1, sizeof *o->items)) {
        sp__tv_drop(&item);
        return c->rc;
    }
    o->items[o->n++] = item;
    return 0;
}

/* ---------------------------------------------------------------- queries */

int sp__tv_truthy(const tv *v)
{
    switch (v->kind) {
    case TV_NONE: return 0;
    case TV_BOOL:
    case TV_INT: return v->u.i != 0;
    case TV_FLOAT: return v->u.f != 0;
    case TV_PH:
    case TV_BIG: return 1;
    default: return v->u.o->n != 0;
    }
}

const char *sp__tv_typename(const tv *v)
{
    static const char *const names[] = { "NoneType", "bool", "int",   "int",  "float",
                                         "str",      "list", "tuple", "dict", "Placeholder" };
    return names[v->kind];
}

int sp__tv_isnum(const tv *v)
{
    return v->kind == TV_BOOL || v->kind == TV_INT || v->kind == TV_FLOAT;
}

double sp__tv_num(const tv *v)
{
    return v->kind == TV_FLOAT ? v->u.f : (double)v->u.i;
}

/* big decimal integers (TV_BIG digits, or an int64) compared as text */
static int big_cmp(const tv *a, const tv *b)
{
    char ba[32], bb[32];
    const char *x = a->kind == TV_BIG ? a->u.o->s : ba;
    const char *y = b->kind == TV_BIG ? b->u.o->s : bb;
    if (a->kind != TV_BIG)
        snprintf(ba, sizeof ba, "%lld", (long long)a->u.i);
    if (b->kind != TV_BIG)
        snprintf(bb, sizeof bb, "%lld", (long long)b->u.i);
    int na = *x == '-', nb = *y == '-';
    if (na != nb)
        return na ? -1 : 1;
    size_t la = strlen(x), lb = strlen(y);
    int r = la != lb ? (la < lb ? -1 : 1) : strcmp(x, y);
    r = r < 0 ? -1 : r > 0;
    return na ? -r : r;
}

int sp__tv_eq(const tv *a, const tv *b)
{
    if ((a->kind == TV_BIG || b->kind == TV_BIG) &&
        (a->kind == TV_BIG || a->kind == TV_INT) && (b->kind == TV_BIG || b->kind == TV_INT))
        return big_cmp(a, b) == 0;
    if (sp__tv_isnum(a) && sp__tv_isnum(b)) {
        if (a->kind != TV_FLOAT && b->kind != TV_FLOAT)
            return a->u.i == b->u.i;
        return sp__tv_num(a) == sp__tv_num(b);
    }
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case TV_NONE: return 1;
    case TV_PH: return 0;
    case TV_STR: return a->u.o->n == b->u.o->n && !memcmp(a->u.o->s, b->u.o->s, a->u.o->n);
    case TV_LIST:
    case TV_TUPLE:
        if (a->u.o->n != b->u.o->n)
            return 0;
        for (size_t i = 0; i < a->u.o->n; i++)
            if (!sp__tv_eq(&a->u.o->items[i], &b->u.o->items[i]))
                return 0;
        return 1;
    case TV_DICT:
        if (a->u.o->n != b->u.o->n)
            return 0;
        for (size_t i = 0; i < a->u.o->n; i++) {
            size_t j = 0;
            for (; j < b->u.o->n; j++)
                if (sp__tv_eq(&a->u.o->items[2 * i], &b->u.o->items[2 * j]))
                    break;
            if (j == b->u.o->n || !sp__tv_eq(&a->u.o->items[2 * i + 1], &b->u.o->items[2 * j + 1]))
                return 0;
        }
        return 1;
    default: return 0;
    }
}

int sp__tv_cmp(tctx *c, const tv *a, const tv *b, int *res, uint32_t pos, const char *op)
{
    int ia = a->kind == TV_BIG || a->kind == TV_INT || a->kind == TV_BOOL;
    int ib = b->kind == TV_BIG || b->kind == TV_INT || b->kind == TV_BOOL;
    if ((a->kind == TV_BIG || b->kind == TV_BIG) && ia && ib) {
        *res = big_cmp(a, b);
        return 0;
    }
    if (sp__tv_isnum(a) && sp__tv_isnum(b)) {
        if (a->kind != TV_FLOAT && b->kind != TV_FLOAT)
            *res = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        else {
            double x = sp__tv_num(a), y = sp__tv_num(b);
            *res = x < y ? -1 : x > y;
        }
        return 0;
    }
    if (a->kind == TV_STR && b->kind == TV_STR) {
        size_t n = a->u.o->n < b->u.o->n ? a->u.o->n : b->u.o->n;
        int r = memcmp(a->u.o->s, b->u.o->s, n);
        *res = r ? (r < 0 ? -1 : 1) : a->u.o->n < b->u.o->n ? -1 : a->u.o->n > b->u.o->n;
        return 0;
    }
    if ((a->kind == TV_LIST || a->kind == TV_TUPLE) && a->kind == b->kind) {
        size_t n = a->u.o->n < b->u.o->n ? a->u.o->n : b->u.o->n;
        for (size_t i = 0; i < n; i++) {
            if (sp__tv_eq(&a->u.o->items[i], &b->u.o->items[i]))
                continue;
            return sp__tv_cmp(c, &a->u.o->items[i], &b->u.o->items[i], res, pos, op);
        }
        *res = a->u.o->n < b->u.o->n ? -1 : a->u.o->n > b->u.o->n;
        return 0;
    }
    if (a->kind == TV_PH || b->kind == TV_PH)
        return sp__tfail(c, SP_EDEF, pos,
                         "'%s' not supported between instances of '%s' and '%s': wrap a "
                         "parameter in its type (e.g. Int32(x)) to compare it",
                         op, sp__tv_typename(a), sp__tv_typename(b));
    return sp__tfail(c, SP_EDEF, pos, "'%s' not supported between instances of '%s' and '%s'", op,
                     sp__tv_typename(a), sp__tv_typename(b));
}

/* ------------------------------------------------------------------ UTF-8 */

static size_t u8len(unsigned char ch)
{
    return ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 1;
}

size_t sp__tutf8_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        size_t l = u8len((unsigned char)s[i]);
        i += i + l <= n ? l : 1;
    }
    return k;
}

size_t sp__tutf8_off(const char *s, size_t n, size_t idx)
{
    size_t i = 0;
    for (size_t k = 0; k < idx && i < n; k++) {
        size_t l = u8len((unsigned char)s[i]);
        i += i + l <= n ? l : 1;
    }
    return i;
}

/* ------------------------------------------------------------------- text */

int sp__tv_float_text(double f, char *buf, size_t n)
{
    if (isnan(f))
        return snprintf(buf, n, "nan");
    if (isinf(f))
        return snprintf(buf, n, f < 0 ? "-inf" : "inf");
    char e[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, f);
        if (strtod(e, NULL) == f)
            break;
    }
    /* e: [-]d[.ddd]e±XX */
    const char *m = e;
    int neg = *m == '-';
    if (neg)
        m++;
    char digits[24];
    size_t nd = 0;
    for (; *m && *m != 'e'; m++)
        if (*m != '.')
            digits[nd++] = *m;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp = (int)strtol(m + 1, NULL, 10);
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp >= -5 && exp < 16) {
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int k = -1; k > exp; k--)
                out[o++] = '0';
            memcpy(out + o, digits, nd);
            o += nd;
        } else {
            for (int k = 0; k <= exp; k++)
                out[o++] = (size_t)k < nd ? digits[k] : '0';
            out[o++] = '.';
            if ((size_t)exp + 1 < nd) {
                memcpy(out + o, digits + exp + 1, nd - (size_t)exp - 1);
                o += nd - (size_t)exp - 1;
            } else {
                out[o++] = '0';
            }
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        snprintf(out + o, sizeof out - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    return snprintf(buf, n, "%s", out);
}

/* Python repr() of a string: single quotes unless it holds ' and no " */
static int py_repr_str(tctx *c, const char *s, size_t n, sp_buf *b)
{
    char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    int rc = sp_buf_addch(b, q, c->err);
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\' || ch == (unsigned char)q)
            rc = sp_buf_addf(b, c->err, "\\%c", ch);
        else if (ch == '\n')
            rc = sp_buf_adds(b, "\\n", c->err);
        else if (ch == '\t')
            rc = sp_buf_adds(b, "\\t", c->err);
        else if (ch == '\r')
            rc = sp_buf_adds(b, "\\r", c->err);
        else if (ch < 0x20 || ch == 0x7f)
            rc = sp_buf_addf(b, c->err, "\\x%02x", ch);
        else
            rc = sp_buf_addch(b, (char)ch, c->err);
    }
    if (!rc)
        rc = sp_buf_addch(b, q, c->err);
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
}

/* a list, tuple or dict written the way Python prints it, each item by
 * `item` */
static int container(tctx *c, const tv *v, sp_buf *b, int (*item)(tctx *, const tv *, sp_buf *))
{
    int d = v->kind == TV_DICT;
    int rc = sp_buf_addch(b, v->kind == TV_LIST ? '[' : d ? '{' : '(', c->err);
    for (size_t i = 0; i < v->u.o->n && !rc; i++) {
        if (i)
            rc = sp_buf_adds(b, ", ", c->err);
        if (!rc)
            rc = item(c, &v->u.o->items[d ? 2 * i : i], b);
        if (!rc && d && !(rc = sp_buf_adds(b, ": ", c->err)))
            rc = item(c, &v->u.o->items[2 * i + 1], b);
    }
    if (!rc && v->kind == TV_TUPLE && v->u.o->n == 1)
        rc = sp_buf_addch(b, ',', c->err);
    if (!rc)
        rc = sp_buf_addch(b, v->kind == TV_LIST ? ']' : d ? '}' : ')', c->err);
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}

static int py_item(tctx *c, const tv *v, sp_buf *b)
{
    return sp__tv_pystr(c, v, b, 1);
}

int sp__tv_pystr(tctx *c, const tv *v, sp_buf *b, int repr)
{
    int rc = 0;
    char nb[64];
    switch (v->kind) {
    case TV_NONE: rc = sp_buf_adds(b, "None", c->err); break;
    case TV_BOOL: rc = sp_buf_adds(b, v->u.i ? "True" : "False", c->err); break;
    case TV_PH: rc = sp_buf_adds(b, "__no_value__", c->err); break;
    case TV_INT:
    case TV_BIG:
        if (v->kind == TV_INT)
            snprintf(nb, sizeof nb, "%lld", (long long)v->u.i);
        if (v->sqlt && !repr)
            rc = sp_buf_addf(b, c->err, "to%s('%s')", sp__tnum_types[v->sqlt - 1],
                             v->kind == TV_BIG ? v->u.o->s : nb);
        else
            rc = sp_buf_adds(b, v->kind == TV_BIG ? v->u.o->s : nb, c->err);
        break;
    case TV_FLOAT:
        sp__tv_float_text(v->u.f, nb, sizeof nb);
        if (v->sqlt && !repr)
            rc = sp_buf_addf(b, c->err, "to%s('%s')", sp__tnum_types[v->sqlt - 1], nb);
        else
            rc = sp_buf_adds(b, nb, c->err);
        break;
    case TV_STR:
        if (repr)
            return py_repr_str(c, v->u.o->s, v->u.o->n, b);
        rc = sp_buf_add(b, v->u.o->s, v->u.o->n, c->err);
        break;
    case TV_LIST:
    case TV_TUPLE:
    case TV_DICT: return container(c, v, b, py_item);
    }
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}

int sp__tv_tostr(tctx *c, const tv *v, tv *out)
{
    if (v->kind == TV_STR && !v->flags) {
        *out = sp__tv_ref(v);
        return 0;
    }
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    int rc = sp__tv_pystr(c, v, &b, 0);
    if (!rc)
        rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
    sp_buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------------- SQL */

/* Tinybird's escaping tables (sqlescape / sqlescape_for_string_expression):
 * NUL, CR, BS, TAB, SUB and LF become escapes, ' \ % ` get a backslash;
 * `"` gets a backslash in strings and is dropped from identifiers. */
static int tb_escape(tctx *c, const char *s, size_t n, sp_buf *b, int ident)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char ch = s[i];
        const char *e = NULL;
        switch (ch) {
        case '\0': e = "\\0"; break;
        case '\r': e = "\\r"; break;
        case '\b': e = "\\b"; break;
        case '\t': e = "\\t"; break;
        case '\x1a': e = "\\z"; break;
        case '\n': e = "\\n"; break;
        case '"': e = ident ? "" : "\\\""; break;
        case '\'': e = "\\'"; break;
        case '\\': e = "\\\\"; break;
        case '%': e = "\\%"; break;
        case '`': e = "\\`"; break;
        default: break;
        }
        rc = e ? sp_buf_adds(b, e, c->err) : sp_buf_addch(b, ch, c->err);
    }
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}

int sp__tsql_quote(tctx *c, const char *s, size_t n, sp_buf *b)
{
    int rc = sp_buf_addch(b, '\'', c->err);
    if (!rc)
        rc = tb_escape(c, s, n, b, 0);
    if (!rc)
        rc = sp_buf_addch(b, '\'', c->err);
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}

int sp__tsql_escape_ident(tctx *c, const char *s, size_t n, sp_buf *b)
{
    return tb_escape(c, s, n, b, 1);
}

/* a list item as SQL: Python's repr() made safe as a ClickHouse literal */
static int sql_item(tctx *c, const tv *v, sp_buf *b)
{
    int rc = 0;
    if (v->kind == TV_STR) {
        rc = sp_buf_addch(b, '\'', c->err);
        for (size_t i = 0; i < v->u.o->n && !rc; i++) {
            char ch = v->u.o->s[i];
            if (ch == '\\' || ch == '\'')
                rc = sp_buf_addch(b, '\\', c->err);
            if (!rc)
                rc = ch == '\0' ? sp_buf_adds(b, "\\0", c->err) : sp_buf_addch(b, ch, c->err);
        }
        if (!rc)
            rc = sp_buf_addch(b, '\'', c->err);
    } else if (v->kind == TV_NONE) {
        rc = sp_buf_adds(b, "NULL", c->err);
    } else if (v->kind == TV_PH) {
        rc = sp_buf_adds(b, "'__no_value__'", c->err);
    } else if (v->kind == TV_LIST || v->kind == TV_TUPLE || v->kind == TV_DICT) {
        return container(c, v, b, sql_item);
    } else {
        return sp__tv_pystr(c, v, b, 1);
    }
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}

int sp__tv_sql(tctx *c, const tv *v, sp_buf *b, const char *what, uint32_t pos)
{
    int rc;
    switch (v->kind) {
    case TV_NONE: {
        size_t n = strlen(what);
        return sp__tfail(c, SP_EPARAM, pos, "expression \"%.20s%s\" evaluated to null", what,
                         n > 20 ? "..." : "");
    }
    case TV_STR:
        if (v->flags & TVF_RAW) {
            rc = sp_buf_add(b, v->u.o->s, v->u.o->n, c->err);
            break;
        }
        return sp__tsql_quote(c, v->u.o->s, v->u.o->n, b);
    case TV_PH: rc = sp_buf_adds(b, "'__no_value__'", c->err); break;
    case TV_LIST:
    case TV_TUPLE:
    case TV_DICT: return sql_item(c, v, b);
    default: return sp__tv_pystr(c, v, b, 0);
    }
    if (rc && !c->rc)
        c->rc = rc;
    return rc;
}
