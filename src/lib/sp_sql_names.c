/* sp_sql_names: result column names as ClickHouse gives them.
 *
 * ClickHouse names an unaliased select-list expression by re-printing its
 * AST (`a + 1` is `plus(a, 1)`, `count(*)` is `count()`); DuckDB names it
 * differently (`count_star()`, `(a + 1)`).  Before the dialect pass, every
 * unaliased item of the OUTERMOST select list (the first one of a UNION,
 * after a leading WITH) that is not a bare column reference gets
 * ` AS "<ClickHouse name>"`.  The printer (sp_sql_nameexpr.c) is a small
 * precedence parser over the tokens, after ClickHouse's
 * ExpressionListParsers; an item it cannot reproduce keeps its
 * whitespace-normalised text as its name (docs/sql-dialect.md lists the
 * exact forms).  This file finds the list and formats literals.  An item
 * whose top is a predicate (its name is `equals(…)`, `and(…)`, `in(…)`…)
 * is wrapped in CAST((…) AS UTINYINT): ClickHouse returns UInt8 there. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_sql.h"
#include "sp_sql_names.h"

/* ---- literals ---- */

/* a double as ClickHouse prints a Float64 literal: shortest round-trip
 * digits, plain notation for 1e-6 <= |x| < 1e21 with a trailing '.' when
 * integral ("2.", "1000."), else "1.5e25" / "1e-7" */
static void fmt_float(np *p, sp_buf *o, double v)
{
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    if (!isfinite(v)) {
        p->bad = 1;
        return;
    }
    char dig[24];
    size_t nd = 0;
    const char *q = e;
    if (*q == '-') {
        adds(p, o, "-");
        q++;
    }
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < sizeof dig - 1)
            dig[nd++] = *q;
    long ex = *q == 'e' ? strtol(q + 1, NULL, 10) : 0;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (ex >= -6 && ex < 21) {
        if (ex < 0) {
            adds(p, o, "0.");
            for (long k = -1; k > ex; k--)
                adds(p, o, "0");
            add(p, o, dig, nd);
        } else {
            for (long k = 0; k <= ex; k++)
                add(p, o, (size_t)k < nd ? &dig[k] : "0", 1);
            adds(p, o, ".");
            if ((size_t)ex + 1 < nd)
                add(p, o, dig + ex + 1, nd - (size_t)ex - 1);
        }
        return;
    }
    add(p, o, dig, 1);
    if (nd > 1) {
        adds(p, o, ".");
        add(p, o, dig + 1, nd - 1);
    }
    char x[24];
    int m = snprintf(x, sizeof x, "e%ld", ex);
    add(p, o, x, (size_t)m);
}

/* the NUMBER token at i (negated when neg): integers as their decimal value
 * (0x1F is 31), past 64 bits and with a fraction or exponent as Float64 */
void sp__name_number(np *p, sp_buf *o, size_t i, int neg)
{
    char t[128];
    const sp_tok *k = &p->c->t[i];
    if (k->len >= sizeof t) {
        p->bad = 1;
        return;
    }
    memcpy(t, p->c->s + k->off, k->len);
    t[k->len] = '\0';
    int hex = k->len > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
    if (hex || strspn(t, "0123456789") == k->len) {
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(hex ? t + 2 : t, &end, hex ? 16 : 10);
        if (errno == 0 && end && *end == '\0' && (!neg || v <= (1ull << 63))) {
            char x[32];
            int m = snprintf(x, sizeof x, "%s%llu", neg && v ? "-" : "", v);
            add(p, o, x, (size_t)m);
            return;
        }
        if (hex) {
            p->bad = 1;
            return;
        }
    }
    char *end = NULL;
    double d = strtod(t, &end);
    if (!end || *end != '\0') {
        p->bad = 1;
        return;
    }
    fmt_float(p, o, neg ? -d : d);
}

/* a 'string' token as ClickHouse quotes it in a name: \' \\ \n \t \r \b
 * \f \0 escaped, other bytes as they are */
void sp__name_string(np *p, sp_buf *o, size_t i)
{
    sp_buf raw = SP_BUF_INIT(NAME_MAX_LEN);
    if (sp_sql_unescape_string(p->c->s, &p->c->t[i], &raw, NULL) != 0) {
        p->bad = 1;
        sp_buf_release(&raw);
        return;
    }
    adds(p, o, "'");
    for (size_t k = 0; k < raw.len; k++) {
        char ch = raw.data[k];
        const char *esc = ch == '\'' ? "\\'" : ch == '\\' ? "\\\\" : ch == '\n' ? "\\n"
                          : ch == '\t' ? "\\t" : ch == '\r' ? "\\r" : ch == '\b' ? "\\b"
                          : ch == '\f' ? "\\f" : ch == '\0' ? "\\0" : NULL;
        if (esc)
            adds(p, o, esc);
        else
            add(p, o, &ch, 1);
    }
    adds(p, o, "'");
    sp_buf_release(&raw);
}

/* a `quoted` or "quoted" identifier's name */
void sp__name_qident(np *p, sp_buf *o, size_t i)
{
    const char *s = p->c->s + p->c->t[i].off;
    size_t n = p->c->t[i].len;
    for (size_t k = 1; k + 1 < n; k++) {
        if ((s[k] == '\\' || s[k] == s[0]) && k + 2 < n)
            k++;
        add(p, o, s + k, 1);
    }
}

/* ---- the outermost select list ---- */

static const char *const list_end[] = {
    "FROM",   "WHERE",   "PREWHERE",  "GROUP",  "ORDER", "LIMIT", "HAVING", "UNION",
    "SETTINGS", "FORMAT", "INTO", "WINDOW", "QUALIFY", "INTERSECT", "EXCEPT", NULL,
};

/* words after which a trailing identifier is not an implicit alias */
static const char *const no_alias_after[] = {
    "IS",   "NOT",  "AND",     "OR",     "INTERVAL", "DISTINCT", "ELSE", "THEN",
    "WHEN", "CASE", "LIKE",    "ILIKE",  "IN",       "BETWEEN",  "GLOBAL", "SELECT",
    "ALL",  NULL,
};

static const char *const not_alias[] = { "END", "NULL", "TRUE", "FALSE", NULL };
static const char *const literal_words[] = { "NULL", "TRUE", "FALSE", NULL };

static int is_unit(const rw *c, size_t i)
{
    static const char *const u[] = { "SECOND", "SECONDS", "MINUTE", "MINUTES", "HOUR",
                                     "HOURS",  "DAY",     "DAYS",   "WEEK",    "WEEKS",
                                     "MONTH",  "MONTHS",  "QUARTER", "QUARTERS", "YEAR",
                                     "YEARS",  NULL };
    return kw_any(c, i, u);
}

static int is_name_tok(const rw *c, size_t i)
{
    return c->t[i].kind == SP_TOK_IDENT || c->t[i].kind == SP_TOK_QIDENT;
}

/* the item [a, b) (significant tokens a .. last) ends with an alias */
static int has_alias(const rw *c, size_t a, size_t last)
{
    if (!is_name_tok(c, last))
        return 0;
    size_t p = pv(c, last, a);
    if (p == SIZE_MAX)
        return 0;
    if (kw(c, p, "AS"))
        return 1;
    if (c->t[last].kind == SP_TOK_IDENT && kw_any(c, last, not_alias))
        return 0;
    if (c->t[p].kind == SP_TOK_OP)
        return op_is(c, p, ")") || op_is(c, p, "]");
    if (c->t[p].kind == SP_TOK_IDENT && kw_any(c, p, no_alias_after))
        return 0;
    if (is_unit(c, last))
        for (size_t k = a; k < last; k++)
            if (kw(c, k, "INTERVAL"))
                return 0;
    return 1;
}

/* a, "a", t.a, *, t.*, * EXCEPT …, COLUMNS(…) */
static int is_bare(const rw *c, size_t a, size_t b)
{
    size_t k = nx(c, a, b);
    if (kw(c, k, "COLUMNS") && op_is(c, nx(c, k + 1, b), "("))
        return 1;
    int chain = 1;
    size_t prev = SIZE_MAX, n = 0;
    for (; k < b; prev = k, k = nx(c, skip(c, k), b), n++) {
        if (op_is(c, k, "*") && (prev == SIZE_MAX || op_is(c, prev, ".")))
            return 1;
        int want_name = n % 2 == 0;
        if (want_name ? !is_name_tok(c, k) : !op_is(c, k, "."))
            chain = 0;
    }
    return chain && n % 2 == 1;
}

/* whitespace-normalised text of [a, b): comments dropped, blanks one space */
static void normalised(const rw *c, size_t a, size_t b, np *p, sp_buf *o)
{
    int gap = 0;
    for (size_t k = nx(c, a, b); k < b; k++) {
        if (!is_sig(&c->t[k])) {
            gap = 1;
            continue;
        }
        if (gap && o->len)
            adds(p, o, " ");
        gap = 0;
        add_tok(p, o, k);
    }
}

/* the ClickHouse name of the item [a, b) into o; 0 if it has none to add */
static int item_name(const rw *c, size_t a, size_t b, const sp_tok *const *with,
                     size_t nwith, sp_buf *o)
{
    size_t f = nx(c, a, b), last = pv(c, b, a);
    if (f >= b || last == SIZE_MAX)
        return 0;
    if (has_alias(c, f, last))
        return 0;
    np p = { c, f, b, 0, 0 };
    if (f == last && c->t[f].kind == SP_TOK_IDENT) { /* a WITH scalar's name */
        for (size_t k = 0; k < nwith; k++)
            if (with[k]->len == c->t[f].len &&
                memcmp(c->s + with[k]->off, c->s + c->t[f].off, c->t[f].len) == 0) {
                add_tok(&p, o, f);
                return !p.bad;
            }
    }
    /* NULL, true, false alone are literals (DuckDB names true
     * "CAST('t' AS BOOLEAN)") */
    if (!(f == last && kw_any(c, f, literal_words)) && is_bare(c, f, b))
        return 0;
    int lit = 0;
    sp__name_expr(&p, o, &lit);
    if (p.bad || p.i != b) {
        /* `a IS DISTINCT FROM b` and other forms cut by a clause word */
        if (c->t[last].kind == SP_TOK_IDENT && kw_any(c, last, no_alias_after))
            return 0;
        sp_buf_reset(o);
        p.bad = 0;
        normalised(c, f, b, &p, o);
    }
    return !p.bad && o->len > 0;
}

/* the name as a "quoted" identifier that sp_sql_lex reads back as one
 * token (it honours backslash escapes; DuckDB does not) */
static int quoted_ok(const sp_buf *name, sp_buf *q)
{
    if (sp_sql_quote_ident(q, name->data, NULL) != 0 || strlen(name->data) != name->len)
        return 0;
    sp_tok *t = NULL;
    size_t n = 0;
    int ok = sp_sql_lex(q->data, q->len, &t, &n, NULL) == 0 && n == 1 &&
             t[0].kind == SP_TOK_QIDENT && t[0].len == q->len;
    free(t);
    return ok;
}

/* ClickHouse's functions returning UInt8 where DuckDB's give BOOLEAN */
static const char *const u8_fns[] = {
    "equals", "notEquals", "less", "greater", "lessOrEquals", "greaterOrEquals", "and", "or",
    "not", "xor", "empty", "notEmpty", "like", "notLike", "ilike", "notILike", "in", "notIn",
    "isNull", "isNotNull", "has", "hasAny", "hasAll", "startsWith", "endsWith", "match",
    "JSONHas", "JSONExtractBool", NULL
};

/* Is the expression [f, e) a call of one of u8_fns at its top (its
 * ClickHouse name is `fn(…)`; every operator prints as a call, so a name
 * that starts with `fn(` and ends with `)` is that call)? */
static int is_u8_pred(const rw *c, size_t f, size_t e)
{
    if (f >= e)
        return 0;
    sp_buf o = SP_BUF_INIT(NAME_MAX_LEN);
    np p = { c, f, e, 0, 0 };
    int lit = 0, yes = 0;
    sp__name_expr(&p, &o, &lit);
    if (!p.bad && nx(c, p.i, e) >= e && o.len > 2 && o.data[o.len - 1] == ')') {
        for (size_t k = 0; u8_fns[k] && !yes; k++) {
            size_t n = strlen(u8_fns[k]);
            yes = o.len > n && memcmp(o.data, u8_fns[k], n) == 0 && o.data[n] == '(';
        }
    }
    sp_buf_release(&o);
    return yes;
}

int sp__sql_add_names(const rw *c, size_t end, sp_buf *out)
{
    const sp_tok *with[MAX_SUBST];
    size_t nwith = 0;
    size_t i = nx(c, 0, end);
    if (i < end && kw(c, i, "WITH")) {
        size_t start = nx(c, i + 1, end);
        for (i = start; i < end && !kw(c, i, "SELECT"); i = skip(c, i)) {
            size_t nn = nx(c, skip(c, i), end);
            if (!(nn >= end || op_is(c, nn, ",") || kw(c, nn, "SELECT")))
                continue;
            /* i is the item's last token: `expr AS name` */
            size_t as = pv(c, i, start);
            if (is_name_tok(c, i) && as != SIZE_MAX && kw(c, as, "AS") && nwith < MAX_SUBST)
                with[nwith++] = &c->t[i];
            if (nn < end && op_is(c, nn, ","))
                start = nx(c, nn + 1, end);
        }
    }
    if (i >= end || !kw(c, i, "SELECT"))
        return 0;
    size_t a = nx(c, i + 1, end);
    if (kw(c, a, "DISTINCT") || kw(c, a, "ALL")) {
        a = nx(c, a + 1, end);
        if (kw(c, a, "ON") && op_is(c, nx(c, a + 1, end), "("))
            a = nx(c, skip(c, nx(c, a + 1, end)), end);
    }
    size_t copied = 0;
    int rc = 0, added = 0;
    sp_buf name = SP_BUF_INIT(NAME_MAX_LEN), q = SP_BUF_INIT(NAME_MAX_LEN * 2 + 2);
    for (size_t k = a, ia = a; !rc; k = skip(c, k)) {
        int stop = k >= end || op_is(c, k, ";") ||
                   (c->t[k].kind == SP_TOK_IDENT && kw_any(c, k, list_end));
        if (!stop && !op_is(c, k, ","))
            continue;
        sp_buf_reset(&name);
        sp_buf_reset(&q);
        /* a predicate at the top of an item is UInt8 on ClickHouse: cast
         * it (DuckDB's BOOLEAN prints `true`), keeping its name or alias */
        size_t f = nx(c, ia, k), last = pv(c, k, ia);
        if (f < k && last != SIZE_MAX) {
            size_t e = k; /* the expression is [f, e) */
            if (has_alias(c, f, last)) {
                e = last;
                size_t as = pv(c, last, f);
                if (as != SIZE_MAX && kw(c, as, "AS"))
                    e = as;
            }
            size_t el = pv(c, e, f);
            if (el != SIZE_MAX && is_u8_pred(c, f, e)) {
                size_t at = c->t[el].off + c->t[el].len;
                rc = sp_buf_add(out, c->s + copied, c->t[f].off - copied, NULL);
                if (!rc)
                    rc = sp_buf_adds(out, "CAST((", NULL);
                if (!rc)
                    rc = sp_buf_add(out, c->s + c->t[f].off, at - c->t[f].off, NULL);
                if (!rc)
                    rc = sp_buf_adds(out, ") AS UTINYINT)", NULL);
                copied = at;
                added = 1;
            }
        }
        if (!rc && item_name(c, ia, k, with, nwith, &name) && quoted_ok(&name, &q)) {
            size_t at = c->t[last].off + c->t[last].len;
            rc = sp_buf_add(out, c->s + copied, at - copied, NULL);
            if (!rc)
                rc = sp_buf_adds(out, " AS ", NULL);
            if (!rc)
                rc = sp_buf_add(out, q.data, q.len, NULL);
            copied = at;
            added = 1;
        }
        if (stop)
            break;
        ia = k + 1;
    }
    if (!rc && added)
        rc = sp_buf_add(out, c->s + copied, strlen(c->s + copied), NULL);
    sp_buf_release(&name);
    sp_buf_release(&q);
    if (rc || !added)
        sp_buf_reset(out);
    return rc;
}
