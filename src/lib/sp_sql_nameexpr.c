/* sp_sql_nameexpr: a ClickHouse expression re-printed as ClickHouse names
 * it (`a + 1` is plus(a, 1)): a precedence parser after ClickHouse's
 * ExpressionListParsers (lambda, ?:, OR, AND, NOT, IS NULL, comparisons,
 * BETWEEN, ||, + -, * / %, unary minus, x[i] and x::T, primaries). */
#include <string.h>

#include "sp_sql_names.h"

static void expr(np *p, sp_buf *o, int *lit);
static void unary(np *p, sp_buf *o, int *lit);

typedef void (*level_fn)(np *, sp_buf *, int *);

/* every level writes a whole buffer (it may wrap what it wrote): parse one
 * operand into a fresh one and append it to o */
static void sub(np *p, sp_buf *o, level_fn f, int *lit)
{
    sp_buf r = SP_BUF_INIT(NAME_MAX_LEN);
    f(p, &r, lit);
    add(p, o, r.data ? r.data : "", r.len);
    sp_buf_release(&r);
}

/* the bracket group opening at p->i, parsed as a comma list: items joined
 * by ", " into o; *n their count, *all_lit whether all are literals */
static void list(np *p, sp_buf *o, size_t *n, int *all_lit)
{
    size_t close = p->c->mate[p->i], saved_b = p->b;
    *n = 0;
    *all_lit = 1;
    if (close == SIZE_MAX || close >= p->b) {
        p->bad = 1;
        return;
    }
    p->b = close;
    adv(p);
    while (p->i < p->b && !p->bad) {
        int lit = 0;
        if ((*n)++)
            adds(p, o, ", ");
        sub(p, o, expr, &lit);
        *all_lit &= lit;
        if (p->i < p->b && !at_op(p, ","))
            p->bad = 1;
        else if (p->i < p->b)
            adv(p);
    }
    p->b = saved_b;
    p->i = nx(p->c, close + 1, p->b);
}

/* ClickHouse type text after AS or :: up to b: tokens as written, ", "
 * after commas */
static void type_text(np *p, sp_buf *o, size_t b)
{
    size_t start = o->len;
    for (; p->i < b && !p->bad; adv(p)) {
        add_tok(p, o, p->i);
        if (at_op(p, ","))
            adds(p, o, " ");
    }
    if (o->len == start)
        p->bad = 1;
}

static void quote_type(np *p, sp_buf *o, const sp_buf *ty)
{
    adds(p, o, "'");
    for (size_t k = 0; k < ty->len; k++) {
        char ch = ty->data[k];
        if (ch == '\'' || ch == '\\')
            adds(p, o, "\\");
        add(p, o, &ch, 1);
    }
    adds(p, o, "'");
}

static const char *const units[] = { "SECOND", "MINUTE", "HOUR", "DAY", "WEEK",
                                     "MONTH", "QUARTER", "YEAR", NULL };

/* a function call: name at p->i, its argument group next */
static void call(np *p, sp_buf *o)
{
    size_t name = p->i;
    adv(p);
    size_t open = p->i, close = p->c->mate[open];
    if (kw(p->c, name, "CAST")) { /* CAST(x AS T) */
        size_t as = SIZE_MAX;
        for (size_t k = open + 1; k < close; k = skip(p->c, k))
            if (kw(p->c, k, "AS"))
                as = k;
        if (as != SIZE_MAX) {
            sp_buf ty = SP_BUF_INIT(NAME_MAX_LEN);
            size_t saved_b = p->b;
            add_tok(p, o, name);
            adds(p, o, "(");
            p->b = as;
            adv(p);
            int lit = 0;
            sub(p, o, expr, &lit);
            if (p->i != as)
                p->bad = 1;
            p->b = close;
            p->i = as;
            adv(p);
            type_text(p, &ty, close);
            adds(p, o, ", ");
            quote_type(p, o, &ty);
            adds(p, o, ")");
            sp_buf_release(&ty);
            p->b = saved_b;
            p->i = nx(p->c, close + 1, p->b);
            return;
        }
    }
    size_t first = nx(p->c, open + 1, close);
    add_tok(p, o, name);
    if (kw(p->c, name, "count") && first < close && op_is(p->c, first, "*") &&
        nx(p->c, first + 1, close) == close) {
        adds(p, o, "()");
        p->i = nx(p->c, close + 1, p->b);
        return;
    }
    if (first < close && kw(p->c, first, "DISTINCT")) {
        adds(p, o, "Distinct(");
        size_t saved_b = p->b;
        p->b = close;
        p->i = nx(p->c, first + 1, close);
        size_t n = 0;
        while (p->i < p->b && !p->bad) {
            int lit = 0;
            if (n++)
                adds(p, o, ", ");
            sub(p, o, expr, &lit);
            if (p->i < p->b && !at_op(p, ","))
                p->bad = 1;
            else if (p->i < p->b)
                adv(p);
        }
        p->b = saved_b;
        p->i = nx(p->c, close + 1, p->b);
        adds(p, o, ")");
    } else {
        size_t n;
        int all;
        adds(p, o, "(");
        list(p, o, &n, &all);
        adds(p, o, ")");
    }
    if (at_op(p, "(")) { /* parametric: quantile(0.9)(x) */
        size_t n;
        int all;
        adds(p, o, "(");
        list(p, o, &n, &all);
        adds(p, o, ")");
    }
}

static void primary(np *p, sp_buf *o, int *lit)
{
    const rw *c = p->c;
    *lit = 0;
    if (p->i >= p->b) {
        p->bad = 1;
        return;
    }
    size_t i = p->i, nxt = nx(c, i + 1, p->b);
    switch (c->t[i].kind) {
    case SP_TOK_NUMBER:
        sp__name_number(p, o, i, 0);
        *lit = 1;
        adv(p);
        return;
    case SP_TOK_STRING:
        sp__name_string(p, o, i);
        *lit = 1;
        adv(p);
        return;
    case SP_TOK_OP:
        if (op_is(c, i, "(") || op_is(c, i, "[")) {
            int sq = op_is(c, i, "[");
            size_t inner = nx(c, i + 1, p->b);
            if (kw(c, inner, "SELECT") || kw(c, inner, "WITH")) {
                p->bad = 1;
                return;
            }
            sp_buf items = SP_BUF_INIT(NAME_MAX_LEN);
            size_t n = 0;
            int all = 1;
            list(p, &items, &n, &all);
            const char *body = items.data ? items.data : "";
            if (!sq && n == 1) {
                adds(p, o, body);
                *lit = all;
            } else if (!sq && n == 0) {
                p->bad = 1;
            } else if (all) { /* a literal tuple or array */
                adds(p, o, sq ? "[" : "(");
                adds(p, o, body);
                adds(p, o, sq ? "]" : ")");
                *lit = 1;
            } else {
                adds(p, o, sq ? "array(" : "tuple(");
                adds(p, o, body);
                adds(p, o, ")");
            }
            sp_buf_release(&items);
            return;
        }
        p->bad = 1;
        return;
    case SP_TOK_QIDENT:
    case SP_TOK_IDENT:
        break;
    default:
        p->bad = 1;
        return;
    }
    if (c->t[i].kind == SP_TOK_IDENT) {
        if (kw(c, i, "NULL") || kw(c, i, "TRUE") || kw(c, i, "FALSE")) {
            adds(p, o, kw(c, i, "NULL") ? "NULL" : kw(c, i, "TRUE") ? "true" : "false");
            *lit = 1;
            adv(p);
            return;
        }
        if (kw(c, i, "CASE")) {
            adv(p);
            int with = !at_kw(p, "WHEN"), l2;
            adds(p, o, with ? "caseWithExpression(" : "multiIf(");
            if (with) {
                sub(p, o, expr, &l2);
                adds(p, o, ", ");
            }
            int arms = 0;
            while (at_kw(p, "WHEN") && !p->bad) {
                adv(p);
                sub(p, o, expr, &l2);
                if (!at_kw(p, "THEN")) {
                    p->bad = 1;
                    return;
                }
                adv(p);
                adds(p, o, ", ");
                sub(p, o, expr, &l2);
                adds(p, o, ", ");
                arms++;
            }
            if (at_kw(p, "ELSE")) {
                adv(p);
                sub(p, o, expr, &l2);
            } else {
                adds(p, o, "NULL");
            }
            if (!arms || !at_kw(p, "END")) {
                p->bad = 1;
                return;
            }
            adv(p);
            adds(p, o, ")");
            return;
        }
        if (kw(c, i, "INTERVAL") && nxt < p->b &&
            (c->t[nxt].kind == SP_TOK_NUMBER || c->t[nxt].kind == SP_TOK_IDENT ||
             op_is(c, nxt, "("))) {
            adv(p);
            sp_buf v = SP_BUF_INIT(NAME_MAX_LEN);
            int l2;
            unary(p, &v, &l2);
            int u = -1;
            for (int k = 0; units[k] && p->i < p->b; k++)
                if (at_kw(p, units[k]))
                    u = k;
            if (u < 0) {
                p->bad = 1;
            } else {
                adds(p, o, "toInterval");
                add(p, o, units[u], 1);
                for (const char *q = units[u] + 1; *q; q++) {
                    char lc = (char)(*q - 'A' + 'a');
                    add(p, o, &lc, 1);
                }
                adds(p, o, "(");
                add(p, o, v.data ? v.data : "", v.len);
                adds(p, o, ")");
                adv(p);
            }
            sp_buf_release(&v);
            return;
        }
        if (nxt < p->b && op_is(c, nxt, "(")) {
            call(p, o);
            return;
        }
        if (nxt < p->b && c->t[nxt].kind == SP_TOK_STRING) { /* DATE '…' */
            p->bad = 1;
            return;
        }
    }
    /* an identifier, compound a.b.c */
    for (;;) {
        if (c->t[p->i].kind == SP_TOK_QIDENT)
            sp__name_qident(p, o, p->i);
        else
            add_tok(p, o, p->i);
        adv(p);
        if (!at_op(p, "."))
            return;
        size_t d = nx(c, p->i + 1, p->b);
        if (d >= p->b || (c->t[d].kind != SP_TOK_IDENT && c->t[d].kind != SP_TOK_QIDENT)) {
            p->bad = 1;
            return;
        }
        adds(p, o, ".");
        p->i = d;
    }
}

/* primary, then a[i] and x::T */
static void postfix(np *p, sp_buf *o, int *lit)
{
    primary(p, o, lit);
    while (!p->bad && p->i < p->b) {
        if (at_op(p, "[")) {
            sp_buf r = SP_BUF_INIT(NAME_MAX_LEN);
            size_t n;
            int all;
            list(p, &r, &n, &all);
            if (n != 1)
                p->bad = 1;
            wrap2(p, o, "arrayElement", &r);
            sp_buf_release(&r);
            *lit = 0;
        } else if (at_op(p, "::")) {
            adv(p);
            size_t e = p->i;
            if (e < p->b && p->c->t[e].kind == SP_TOK_IDENT) {
                size_t k = nx(p->c, e + 1, p->b);
                e = k < p->b && op_is(p->c, k, "(") && p->c->mate[k] < p->b ? p->c->mate[k] + 1
                                                                            : e + 1;
            }
            sp_buf ty = SP_BUF_INIT(NAME_MAX_LEN), r = SP_BUF_INIT(NAME_MAX_LEN);
            type_text(p, &ty, e);
            quote_type(p, &r, &ty);
            wrap2(p, o, "CAST", &r);
            sp_buf_release(&ty);
            sp_buf_release(&r);
            p->i = nx(p->c, e, p->b);
            *lit = 0;
        } else {
            return;
        }
    }
}

static void unary(np *p, sp_buf *o, int *lit)
{
    if (++p->depth > NP_MAX_DEPTH) {
        p->bad = 1;
        p->depth--;
        return;
    }
    if (at_op(p, "-")) {
        adv(p);
        size_t after = nx(p->c, p->i + 1, p->b);
        if (p->i < p->b && p->c->t[p->i].kind == SP_TOK_NUMBER &&
            !(after < p->b && (op_is(p->c, after, "[") || op_is(p->c, after, "::")))) {
            sp__name_number(p, o, p->i, 1); /* -1 is a literal */
            *lit = 1;
            adv(p);
        } else {
            unary(p, o, lit);
            wrap1(p, o, "negate");
            *lit = 0;
        }
    } else {
        postfix(p, o, lit);
    }
    p->depth--;
}

/* left-associative binary operators over next: o = fn(o, rhs) */
static void binary(np *p, sp_buf *o, int *lit, level_fn next,
                   const char *const *ops, const char *const *fns)
{
    next(p, o, lit);
    while (!p->bad && p->i < p->b) {
        int k = 0;
        while (ops[k] && !at_op(p, ops[k]))
            k++;
        if (!ops[k])
            return;
        adv(p);
        sp_buf r = SP_BUF_INIT(NAME_MAX_LEN);
        int l2;
        next(p, &r, &l2);
        wrap2(p, o, fns[k], &r);
        sp_buf_release(&r);
        *lit = 0;
    }
}

static void mul(np *p, sp_buf *o, int *lit)
{
    static const char *const ops[] = { "*", "/", "%", NULL };
    static const char *const fns[] = { "multiply", "divide", "modulo" };
    binary(p, o, lit, unary, ops, fns);
}

static void additive(np *p, sp_buf *o, int *lit)
{
    static const char *const ops[] = { "+", "-", NULL };
    static const char *const fns[] = { "plus", "minus" };
    binary(p, o, lit, mul, ops, fns);
}

/* a op b op c -> fn(a, b, c) (|| AND OR); op is an operator or a keyword */
static void variadic(np *p, sp_buf *o, int *lit, level_fn next, const char *op,
                     const char *fn)
{
    int is_kw = op[0] >= 'A' && op[0] <= 'Z';
    sp_buf all = SP_BUF_INIT(NAME_MAX_LEN);
    next(p, &all, lit);
    size_t n = 1;
    while (!p->bad && (is_kw ? at_kw(p, op) : at_op(p, op))) {
        adv(p);
        int l2;
        adds(p, &all, ", ");
        sub(p, &all, next, &l2);
        n++;
    }
    if (n > 1) {
        adds(p, o, fn);
        adds(p, o, "(");
        *lit = 0;
    }
    add(p, o, all.data ? all.data : "", all.len);
    if (n > 1)
        adds(p, o, ")");
    sp_buf_release(&all);
}

static void concat_(np *p, sp_buf *o, int *lit)
{
    variadic(p, o, lit, additive, "||", "concat");
}

/* x BETWEEN a AND b -> and(greaterOrEquals(x, a), lessOrEquals(x, b)) */
static void between(np *p, sp_buf *o, int *lit)
{
    concat_(p, o, lit);
    if (!at_kw(p, "BETWEEN"))
        return;
    adv(p);
    sp_buf lo = SP_BUF_INIT(NAME_MAX_LEN), hi = SP_BUF_INIT(NAME_MAX_LEN);
    int l2;
    concat_(p, &lo, &l2);
    if (!at_kw(p, "AND"))
        p->bad = 1;
    adv(p);
    concat_(p, &hi, &l2);
    sp_buf x = SP_BUF_INIT(NAME_MAX_LEN);
    add(p, &x, o->data ? o->data : "", o->len);
    wrap2(p, o, "greaterOrEquals", &lo);
    wrap2(p, &x, "lessOrEquals", &hi);
    wrap2(p, o, "and", &x);
    sp_buf_release(&lo);
    sp_buf_release(&hi);
    sp_buf_release(&x);
    *lit = 0;
}

static const struct {
    const char *op, *fn;
} cmp_ops[] = {
    { "==", "equals" }, { "=", "equals" },        { "!=", "notEquals" },
    { "<>", "notEquals" }, { "<=", "lessOrEquals" }, { ">=", "greaterOrEquals" },
    { "<", "less" },    { ">", "greater" },       { NULL, NULL },
};

static void comparison(np *p, sp_buf *o, int *lit)
{
    between(p, o, lit);
    while (!p->bad && p->i < p->b) {
        const char *fn = NULL;
        for (int k = 0; cmp_ops[k].op && !fn; k++)
            if (at_op(p, cmp_ops[k].op))
                fn = cmp_ops[k].fn;
        if (!fn) {
            int neg = at_kw(p, "NOT");
            size_t w = neg ? nx(p->c, p->i + 1, p->b) : p->i;
            if (w < p->b && kw(p->c, w, "LIKE"))
                fn = neg ? "notLike" : "like";
            else if (w < p->b && kw(p->c, w, "ILIKE"))
                fn = neg ? "notILike" : "ilike";
            else if (w < p->b && kw(p->c, w, "IN"))
                fn = neg ? "notIn" : "in";
            else
                return;
            p->i = w;
        }
        adv(p);
        sp_buf r = SP_BUF_INIT(NAME_MAX_LEN);
        int l2;
        between(p, &r, &l2);
        wrap2(p, o, fn, &r);
        sp_buf_release(&r);
        *lit = 0;
    }
}

/* x IS [NOT] NULL */
static void nullity(np *p, sp_buf *o, int *lit)
{
    comparison(p, o, lit);
    if (!at_kw(p, "IS"))
        return;
    adv(p);
    int neg = at_kw(p, "NOT");
    if (neg)
        adv(p);
    if (!at_kw(p, "NULL")) {
        p->bad = 1;
        return;
    }
    adv(p);
    wrap1(p, o, neg ? "isNotNull" : "isNull");
    *lit = 0;
}

static void not_(np *p, sp_buf *o, int *lit)
{
    if (!at_kw(p, "NOT")) {
        nullity(p, o, lit);
        return;
    }
    if (++p->depth > NP_MAX_DEPTH) {
        p->bad = 1;
        p->depth--;
        return;
    }
    adv(p);
    not_(p, o, lit);
    wrap1(p, o, "not");
    *lit = 0;
    p->depth--;
}

static void and_(np *p, sp_buf *o, int *lit)
{
    variadic(p, o, lit, not_, "AND", "and");
}

static void or_(np *p, sp_buf *o, int *lit)
{
    variadic(p, o, lit, and_, "OR", "or");
}

/* c ? a : b -> if(c, a, b) */
static void ternary(np *p, sp_buf *o, int *lit)
{
    or_(p, o, lit);
    if (!at_op(p, "?"))
        return;
    adv(p);
    sp_buf r = SP_BUF_INIT(NAME_MAX_LEN), n = SP_BUF_INIT(NAME_MAX_LEN);
    int l2;
    sub(p, &r, ternary, &l2);
    if (!at_op(p, ":"))
        p->bad = 1;
    adv(p);
    adds(p, &r, ", ");
    sub(p, &r, ternary, &l2);
    adds(p, &n, "if(");
    add(p, &n, o->data ? o->data : "", o->len);
    adds(p, &n, ", ");
    add(p, &n, r.data ? r.data : "", r.len);
    adds(p, &n, ")");
    sp_buf_release(o);
    *o = n;
    sp_buf_release(&r);
    *lit = 0;
}

/* x -> body is lambda(tuple(x), body) */
static void expr(np *p, sp_buf *o, int *lit)
{
    if (++p->depth > NP_MAX_DEPTH) {
        p->bad = 1;
        p->depth--;
        return;
    }
    size_t n1 = nx(p->c, p->i + 1, p->b);
    if (p->i < p->b && p->c->t[p->i].kind == SP_TOK_IDENT && n1 < p->b &&
        op_is(p->c, n1, "->")) {
        adds(p, o, "lambda(tuple(");
        add_tok(p, o, p->i);
        adds(p, o, "), ");
        p->i = nx(p->c, n1 + 1, p->b);
        sub(p, o, expr, lit);
        adds(p, o, ")");
        *lit = 0;
    } else {
        ternary(p, o, lit);
    }
    p->depth--;
}

void sp__name_expr(np *p, sp_buf *o, int *lit)
{
    expr(p, o, lit);
}
