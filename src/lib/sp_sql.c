/* sp_sql: the ClickHouse -> DuckDB token pass (docs/sql-dialect.md lists
 * every rule).  The tokenizer is sp_sql_lex.c, the macros sp_sql_macros.c,
 * node composition sp_sql_compose.c. */
#include "sp_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_sql_int.h"


/* ---- literals ---- */

static int needs_escape(unsigned char ch)
{
    return ch < 0x20 || ch == 0x7f;
}

/* a ClickHouse 'string' token as a DuckDB literal */
static void emit_string(rw *c, size_t i)
{
    sp_buf raw = SP_BUF_INIT(c->out->max);
    if (c->rc || (c->rc = sp_sql_unescape_string(c->s, &c->t[i], &raw, c->err))) {
        sp_buf_release(&raw);
        return;
    }
    int plain = 1;
    for (size_t k = 0; k < raw.len; k++)
        if (needs_escape((unsigned char)raw.data[k]))
            plain = 0;
    if (!plain)
        puts_(c, "(");
    int open = 0, first = 1;
    for (size_t k = 0; k < raw.len; k++) {
        unsigned char ch = (unsigned char)raw.data[k];
        if (needs_escape(ch)) {
            if (open)
                puts_(c, "'");
            if (!first)
                puts_(c, " || ");
            char tmp[16];
            int m = snprintf(tmp, sizeof tmp, "chr(%u)", ch);
            put(c, tmp, (size_t)m);
            open = 0;
            first = 0;
            continue;
        }
        if (!open) {
            if (!first)
                puts_(c, " || ");
            puts_(c, "'");
            open = 1;
            first = 0;
        }
        if (ch == '\'')
            puts_(c, "''");
        else
            put(c, (const char *)&raw.data[k], 1);
    }
    if (open)
        puts_(c, "'");
    if (first)
        puts_(c, "''");
    if (!plain)
        puts_(c, ")");
    sp_buf_release(&raw);
}

/* `ident` or "ident" as a DuckDB "ident" */
static void emit_qident(rw *c, size_t i)
{
    const char *p = c->s + c->t[i].off;
    size_t n = c->t[i].len;
    char q = p[0];
    if (q == '"') {
        put(c, p, n);
        return;
    }
    puts_(c, "\"");
    for (size_t k = 1; k + 1 < n; k++) {
        if ((p[k] == '\\' || p[k] == q) && k + 2 < n) {
            k++; /* \` or `` */
        }
        if (p[k] == '"')
            puts_(c, "\"\"");
        else
            put(c, p + k, 1);
    }
    puts_(c, "\"");
}

/* ClickHouse formatDateTime specifier -> strftime, NULL if unsupported */
/* ---- function calls and type names ---- */

static void emit_arg(rw *c, size_t o, const size_t *commas, size_t ncomma, size_t k);

static const char *ch_fmt(char f)
{
    switch (f) {
    case 'Y': return "%Y";
    case 'm': return "%m";
    case 'd': return "%d";
    case 'H': return "%H";
    case 'i': return "%M";
    case 'S': case 's': return "%S";
    case 'M': return "%B";
    case 'F': return "%Y-%m-%d";
    case 'T': return "%H:%M:%S";
    case 'D': return "%m/%d/%y";
    case 'e': return "%-d";
    case 'j': return "%j";
    case 'y': return "%y";
    case 'I': case 'h': return "%I";
    case 'p': return "%p";
    case 'R': return "%H:%M";
    case 'r': return "%I:%M %p";
    case 'u': return "%u";
    case 'w': return "%w";
    case 'a': return "%a";
    case 'b': return "%b";
    case 'B': return "%B";
    case 'n': return "\n";
    case 't': return "\t";
    case 'f': return "%f";
    case 'z': return "%z";
    case '%': return "%%";
    default: return NULL;
    }
}

/* formatDateTime(t, 'fmt'[, tz]) -> strftime(t, 'translated') */
static int emit_format_datetime(rw *c, size_t o, const size_t *commas, size_t nc)
{
    size_t f = nx(c, commas[0] + 1, nc >= 2 ? commas[1] : c->mate[o]);
    if (c->t[f].kind != SP_TOK_STRING) {
        sp__sql_fail(c, SP_EUNSUPPORTED, "formatDateTime needs a constant format string", f);
        return 1;
    }
    sp_buf raw = SP_BUF_INIT(1 << 16), fmt = SP_BUF_INIT(1 << 16);
    c->rc = sp_sql_unescape_string(c->s, &c->t[f], &raw, c->err);
    for (size_t k = 0; k < raw.len && !c->rc; k++) {
        if (raw.data[k] != '%' || k + 1 == raw.len) {
            c->rc = sp_buf_addch(&fmt, raw.data[k], c->err);
            continue;
        }
        const char *r = ch_fmt(raw.data[++k]);
        if (!r) {
            c->rc = sp_error_set(c->err, SP_EUNSUPPORTED, 0,
                                 "sql: formatDateTime specifier '%%%c' is not supported",
                                 raw.data[k]);
            break;
        }
        c->rc = sp_buf_adds(&fmt, r, c->err);
    }
    if (!c->rc) {
        puts_(c, "strftime(CAST(");
        emit_arg(c, o, commas, nc, 0);
        puts_(c, " AS TIMESTAMP), ");
        if (!c->rc)
            c->rc = sp_sql_quote_string(c->out, fmt.data ? fmt.data : "", fmt.len, c->err);
        puts_(c, ")");
    }
    sp_buf_release(&raw);
    sp_buf_release(&fmt);
    return 1;
}

/* ---- type names in CAST(x AS T) and x::T ---- */

static const struct {
    const char *ch, *duck;
} type_map[] = {
    { "String", "VARCHAR" },       { "FixedString", "VARCHAR" }, { "UInt8", "UTINYINT" },
    { "UInt16", "USMALLINT" },     { "UInt32", "UINTEGER" },     { "UInt64", "UBIGINT" },
    { "UInt128", "UHUGEINT" },     { "Int8", "TINYINT" },        { "Int16", "SMALLINT" },
    { "Int32", "INTEGER" },        { "Int64", "BIGINT" },        { "Int128", "HUGEINT" },
    { "Float32", "FLOAT" },        { "Float64", "DOUBLE" },      { "Date", "DATE" },
    { "Date32", "DATE" },          { "DateTime", "TIMESTAMP_S" }, { "Bool", "BOOLEAN" },
    { "Boolean", "BOOLEAN" },      { "UUID", "UUID" },           { NULL, NULL },
};

/* emit a type at [a, b); returns the index after it */
size_t sp__sql_emit_type(rw *c, size_t a, size_t b)
{
    size_t i = nx(c, a, b);
    if (i >= b || c->t[i].kind != SP_TOK_IDENT) {
        sp__sql_emit_range(c, a, b);
        return b;
    }
    size_t o = nx(c, i + 1, b);
    int has_args = o < b && op_is(c, o, "(") && c->mate[o] != SIZE_MAX && c->mate[o] < b;
    if (has_args && (kw(c, i, "Nullable") || kw(c, i, "LowCardinality"))) {
        sp__sql_emit_type(c, o + 1, c->mate[o]);
        return c->mate[o] + 1;
    }
    if (kw(c, i, "DateTime64")) {
        long p = 3;
        if (has_args) {
            size_t d = nx(c, o + 1, c->mate[o]);
            if (d < c->mate[o] && c->t[d].kind == SP_TOK_NUMBER)
                p = strtol(c->s + c->t[d].off, NULL, 10);
        }
        puts_(c, p == 0 ? "TIMESTAMP_S" : p <= 3 ? "TIMESTAMP_MS" : p <= 6 ? "TIMESTAMP"
                                                                         : "TIMESTAMP_NS");
        return has_args ? c->mate[o] + 1 : i + 1;
    }
    if (has_args && kw(c, i, "Array")) {
        sp__sql_emit_type(c, o + 1, c->mate[o]);
        puts_(c, "[]");
        return c->mate[o] + 1;
    }
    if (has_args && kw(c, i, "DateTime")) { /* DateTime('UTC') */
        puts_(c, "TIMESTAMP_S");
        return c->mate[o] + 1;
    }
    for (int k = 0; type_map[k].ch; k++)
        if (c->t[i].len == strlen(type_map[k].ch) &&
            memcmp(c->s + c->t[i].off, type_map[k].ch, c->t[i].len) == 0) {
            puts_(c, type_map[k].duck);
            if (has_args && kw(c, i, "FixedString"))
                return c->mate[o] + 1;
            return i + 1;
        }
    if (kw(c, i, "Decimal32") || kw(c, i, "Decimal64") || kw(c, i, "Decimal128")) {
        const char *p = kw(c, i, "Decimal32") ? "9" : kw(c, i, "Decimal64") ? "18" : "38";
        puts_(c, "DECIMAL(");
        puts_(c, p);
        puts_(c, ", ");
        if (has_args)
            sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, ")");
        return has_args ? c->mate[o] + 1 : i + 1;
    }
    return i; /* not a ClickHouse name: emitted as is by the caller */
}

/* ---- function rewrites ---- */

/* emit argument k of the call whose parens are at o */
static void emit_arg(rw *c, size_t o, const size_t *commas, size_t ncomma, size_t k)
{
    size_t a = k == 0 ? o + 1 : commas[k - 1] + 1;
    size_t b = k == ncomma ? c->mate[o] : commas[k];
    sp__sql_emit_range(c, a, b);
}

static int name_is(const rw *c, size_t i, const char *name)
{
    size_t n = strlen(name);
    return c->t[i].kind == SP_TOK_IDENT && c->t[i].len == n &&
           memcmp(c->s + c->t[i].off, name, n) == 0;
}

/* the function at i with its argument group at o (and, for parametric
 * aggregates, a second group at o2 or SIZE_MAX); returns 1 if rewritten */
int sp__sql_rewrite_call(rw *c, size_t i, size_t o, size_t o2, size_t *next)
{
    size_t commas[256];
    size_t nc = split_commas(c, o + 1, c->mate[o], commas, 256);
    int empty = nx(c, o + 1, c->mate[o]) == c->mate[o];
    size_t end = c->mate[o] + 1;
    size_t prev = pv(c, i, 0);

    if (o2 != SIZE_MAX) { /* name(params)(args) */
        size_t c2[256];
        size_t n2 = split_commas(c, o2 + 1, c->mate[o2], c2, 256);
        const char *fn = NULL;
        int list = 0;
        if (name_is(c, i, "quantile") || name_is(c, i, "quantileTiming") ||
            name_is(c, i, "quantileTDigest") || name_is(c, i, "quantileExactInclusive"))
            fn = "quantile_cont";
        else if (name_is(c, i, "quantileExact") || name_is(c, i, "quantileExactLow"))
            fn = "quantile_disc";
        else if (name_is(c, i, "quantiles") || name_is(c, i, "quantilesTiming") ||
                 name_is(c, i, "quantilesTDigest"))
            fn = "quantile_cont", list = 1;
        else if (name_is(c, i, "quantilesExact"))
            fn = "quantile_disc", list = 1;
        else if (name_is(c, i, "topK"))
            fn = "approx_top_k";
        if (!fn)
            return 0;
        puts_(c, fn);
        puts_(c, "(");
        emit_arg(c, o2, c2, n2, 0);
        puts_(c, list ? ", [" : ", ");
        sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, list ? "])" : ")");
        *next = c->mate[o2] + 1;
        return 1;
    }
    if ((kw(c, i, "count")) && empty) {
        puts_(c, "count(*)");
    } else if (kw(c, i, "any") &&
               !(prev != SIZE_MAX && (op_is(c, prev, "=") || op_is(c, prev, "==") ||
                                      op_is(c, prev, "!=") || op_is(c, prev, "<>") ||
                                      op_is(c, prev, "<") || op_is(c, prev, ">") ||
                                      op_is(c, prev, "<=") || op_is(c, prev, ">=")))) {
        puts_(c, "any_value(");
        sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, ")");
    } else if ((name_is(c, i, "quantile") || name_is(c, i, "quantileExact") ||
                name_is(c, i, "quantileTiming") || name_is(c, i, "median")) && nc == 0 &&
               !empty) {
        puts_(c, name_is(c, i, "quantileExact") ? "quantile_disc(" : "quantile_cont(");
        sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, ", 0.5)");
    } else if ((kw(c, i, "isNull") || kw(c, i, "isNotNull")) && nc == 0 && !empty) {
        puts_(c, "((");
        sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, kw(c, i, "isNull") ? ") IS NULL)" : ") IS NOT NULL)");
    } else if (name_is(c, i, "topK") && nc == 0 && !empty) {
        puts_(c, "approx_top_k(");
        sp__sql_emit_range(c, o + 1, c->mate[o]);
        puts_(c, ", 10)");
    } else if (name_is(c, i, "multiIf") && nc >= 2) {
        puts_(c, "CASE");
        size_t k = 0;
        for (; k + 1 <= nc; k += 2) {
            puts_(c, " WHEN ");
            emit_arg(c, o, commas, nc, k);
            puts_(c, " THEN ");
            emit_arg(c, o, commas, nc, k + 1);
        }
        if (k <= nc) {
            puts_(c, " ELSE ");
            emit_arg(c, o, commas, nc, k);
        }
        puts_(c, " END");
    } else if ((name_is(c, i, "arrayMap") || name_is(c, i, "arrayFilter") ||
                name_is(c, i, "arrayExists") || name_is(c, i, "arrayAll") ||
                name_is(c, i, "arrayCount")) &&
               nc == 1) {
        const char *agg = name_is(c, i, "arrayExists") ? "bool_or"
                          : name_is(c, i, "arrayAll")  ? "bool_and"
                                                       : NULL;
        if (name_is(c, i, "arrayCount"))
            puts_(c, "length(list_filter(");
        else if (agg)
            puts_(c, "coalesce(list_aggregate(list_transform(");
        else
            puts_(c, name_is(c, i, "arrayMap") ? "list_transform(" : "list_filter(");
        emit_arg(c, o, commas, nc, 1);
        puts_(c, ", ");
        emit_arg(c, o, commas, nc, 0);
        if (name_is(c, i, "arrayCount"))
            puts_(c, "))");
        else if (agg)
            puts_(c, name_is(c, i, "arrayAll") ? "), 'bool_and'), true)"
                                               : "), 'bool_or'), false)");
        else
            puts_(c, ")");
    } else if (name_is(c, i, "toStartOfInterval") && nc >= 1) {
        /* ClickHouse aligns buckets to the Unix epoch (weeks to Monday,
         * DuckDB's default origin, 2000-01-03) */
        int week = 0;
        for (size_t k = commas[0] + 1; k < (nc >= 2 ? commas[1] : c->mate[o]); k++)
            if (kw(c, k, "week") || kw(c, k, "weeks") || name_is(c, k, "toIntervalWeek"))
                week = 1;
        puts_(c, "CAST(time_bucket(");
        emit_arg(c, o, commas, nc, 1);
        puts_(c, ", CAST(");
        emit_arg(c, o, commas, nc, 0);
        puts_(c, week ? " AS TIMESTAMP)) AS TIMESTAMP_S)"
                      : " AS TIMESTAMP), TIMESTAMP '1970-01-01 00:00:00') AS TIMESTAMP_S)");
    } else if (name_is(c, i, "formatDateTime") && nc >= 1) {
        emit_format_datetime(c, o, commas, nc);
    } else if (name_is(c, i, "toDateTime64") && nc >= 1) {
        size_t d = nx(c, commas[0] + 1, nc >= 2 ? commas[1] : c->mate[o]);
        long p = c->t[d].kind == SP_TOK_NUMBER ? strtol(c->s + c->t[d].off, NULL, 10) : 3;
        puts_(c, "CAST(");
        emit_arg(c, o, commas, nc, 0);
        puts_(c, p == 0 ? " AS TIMESTAMP_S)" : p <= 3 ? " AS TIMESTAMP_MS)"
                                          : p <= 6  ? " AS TIMESTAMP)"
                                                    : " AS TIMESTAMP_NS)");
    } else if ((name_is(c, i, "toDecimal32") || name_is(c, i, "toDecimal64") ||
                name_is(c, i, "toDecimal128") || name_is(c, i, "toDecimal256")) &&
               nc == 1) {
        puts_(c, "CAST(");
        emit_arg(c, o, commas, nc, 0);
        puts_(c, name_is(c, i, "toDecimal32") ? " AS DECIMAL(9, "
                 : name_is(c, i, "toDecimal64") ? " AS DECIMAL(18, "
                                                : " AS DECIMAL(38, ");
        emit_arg(c, o, commas, nc, 1);
        puts_(c, "))");
    } else if (kw(c, i, "CAST") && nc == 0) {
        /* CAST(x AS ClickHouse type) */
        size_t as = SIZE_MAX;
        for (size_t k = o + 1; k < c->mate[o]; k = skip(c, k))
            if (kw(c, k, "AS"))
                as = k;
        if (as == SIZE_MAX)
            return 0;
        puts_(c, "CAST(");
        sp__sql_emit_range(c, o + 1, as);
        puts_(c, "AS ");
        size_t r = sp__sql_emit_type(c, as + 1, c->mate[o]);
        sp__sql_emit_range(c, r, c->mate[o]);
        puts_(c, ")");
    } else {
        return 0;
    }
    *next = end;
    return 1;
}

/* ---- clause-level rewrites ---- */

static const char *const clause_kw[] = {
    "SELECT", "FROM",  "WHERE", "PREWHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "SETTINGS",
    "FORMAT", "UNION", "JOIN",  "LEFT",     "RIGHT", "INNER", "FULL",   "CROSS", "ON",
    "USING",  "ARRAY", "WINDOW", "QUALIFY", "INTERSECT", "EXCEPT", "OFFSET", "INTO",
    "GLOBAL", "FINAL", "SAMPLE", "ASOF", "SEMI", "ANTI", "OUTER", "PASTE", NULL,
};

int sp__sql_is_clause_kw(const char *src, const sp_tok *t)
{
    for (int k = 0; clause_kw[k]; k++)
        if (sp_tok_is(src, t, clause_kw[k]))
            return 1;
    return 0;
}

/* WITH <expr> AS name, … : scalar aliases are substituted; CTEs kept */
static int do_with(rw *c, size_t a, size_t b)
{
    size_t w = nx(c, a, b);
    if (w >= b || !kw(c, w, "WITH"))
        return 0;
    size_t sel = SIZE_MAX;
    for (size_t i = w + 1; i < b; i = skip(c, i))
        if (kw(c, i, "SELECT")) {
            sel = i;
            break;
        }
    if (sel == SIZE_MAX)
        return 0;
    size_t cte_a[64], cte_b[64], nctes = 0, start = w + 1;
    size_t saved = c->nsub;
    for (size_t i = w + 1; i <= sel; i = skip(c, i)) {
        if (i < sel && !op_is(c, i, ","))
            continue;
        size_t ia = start, ib = i;
        start = i + 1;
        size_t f = nx(c, ia, ib);
        size_t f2 = nx(c, f + 1, ib);
        size_t f3 = nx(c, f2 + 1, ib);
        if (f < ib && f2 < ib && kw(c, f2, "AS") && f3 < ib && op_is(c, f3, "(") &&
            (c->t[f].kind == SP_TOK_IDENT || c->t[f].kind == SP_TOK_QIDENT)) {
            if (nctes == 64)
                return sp__sql_fail(c, SP_ETOOBIG, "too many WITH items", ia), 1;
            cte_a[nctes] = ia;
            cte_b[nctes++] = ib;
            continue;
        }
        size_t as = SIZE_MAX;
        for (size_t k = ia; k < ib; k = skip(c, k))
            if (kw(c, k, "AS"))
                as = k;
        size_t nm = as == SIZE_MAX ? ib : nx(c, as + 1, ib);
        if (nm >= ib || c->t[nm].kind != SP_TOK_IDENT || c->nsub >= MAX_SUBST)
            return sp__sql_fail(c, SP_EDEF, "unsupported WITH item", ia), 1;
        subst *s = &c->sub[c->nsub++];
        s->name = c->s + c->t[nm].off;
        s->nlen = c->t[nm].len;
        s->a = ia;
        s->b = as;
        s->active = 0;
    }
    sp__sql_emit_range(c, a, w);
    if (nctes) {
        puts_(c, "WITH ");
        for (size_t k = 0; k < nctes; k++) {
            if (k)
                puts_(c, ",");
            sp__sql_emit_range(c, cte_a[k], cte_b[k]);
        }
        puts_(c, " ");
    }
    sp__sql_emit_range(c, sel, b);
    c->nsub = saved;
    return 1;
}

/* LIMIT n BY cols -> a row_number() window filter */
static int do_limit_by(rw *c, size_t a, size_t b)
{
    size_t sel = SIZE_MAX, from = SIZE_MAX, order = SIZE_MAX, lim = SIZE_MAX, by = SIZE_MAX;
    for (size_t i = a; i < b; i = skip(c, i)) {
        if (kw(c, i, "UNION") || kw(c, i, "INTERSECT") || kw(c, i, "EXCEPT")) {
            sel = from = order = SIZE_MAX; /* LIMIT BY belongs to the last SELECT */
            continue;
        }
        if (sel == SIZE_MAX && kw(c, i, "SELECT"))
            sel = i;
        else if (sel != SIZE_MAX && from == SIZE_MAX && kw(c, i, "FROM"))
            from = i;
        else if (sel != SIZE_MAX && kw(c, i, "ORDER") && kw(c, nx(c, i + 1, b), "BY"))
            order = i;
        else if (sel != SIZE_MAX && kw(c, i, "LIMIT")) {
            for (size_t k = i + 1; k < b; k = skip(c, k)) {
                if (kw(c, k, "BY")) {
                    lim = i;
                    by = k;
                    break;
                }
                if (c->t[k].kind == SP_TOK_IDENT && !kw(c, k, "OFFSET"))
                    break;
            }
            if (lim != SIZE_MAX)
                break;
        }
    }
    if (lim == SIZE_MAX)
        return 0;
    size_t ce = b;
    for (size_t k = by + 1; k < b; k = skip(c, k))
        if (kw(c, k, "LIMIT") || kw(c, k, "SETTINGS") || kw(c, k, "FORMAT") ||
            kw(c, k, "UNION") || op_is(c, k, ";")) {
            ce = k;
            break;
        }
    size_t ins = from != SIZE_MAX && from < lim ? from : (order != SIZE_MAX ? order : lim);
    size_t body_end = order != SIZE_MAX ? order : lim;
    /* n, or off, n, or n OFFSET off */
    size_t comma = SIZE_MAX, offk = SIZE_MAX;
    for (size_t k = lim + 1; k < by; k = skip(c, k)) {
        if (op_is(c, k, ","))
            comma = k;
        if (kw(c, k, "OFFSET"))
            offk = k;
    }
    sp__sql_emit_range(c, a, sel);
    puts_(c, "SELECT * EXCLUDE (__sp_rn");
    if (order != SIZE_MAX)
        puts_(c, ", __sp_ord");
    puts_(c, ") FROM (");
    sp__sql_emit_range(c, sel, ins);
    puts_(c, ", row_number() OVER (PARTITION BY ");
    sp__sql_emit_range(c, by + 1, ce);
    if (order != SIZE_MAX) {
        puts_(c, " ORDER BY ");
        sp__sql_emit_range(c, nx(c, order + 1, b) + 1, lim);
    }
    puts_(c, ") AS __sp_rn");
    if (order != SIZE_MAX) {
        puts_(c, ", row_number() OVER (ORDER BY ");
        sp__sql_emit_range(c, nx(c, order + 1, b) + 1, lim);
        puts_(c, ") AS __sp_ord");
    }
    puts_(c, " ");
    if (ins < body_end)
        sp__sql_emit_range(c, ins, body_end);
    puts_(c, ") WHERE ");
    if (comma != SIZE_MAX || offk != SIZE_MAX) {
        size_t na = comma != SIZE_MAX ? comma + 1 : lim + 1;
        size_t nb = comma != SIZE_MAX ? by : offk;
        size_t oa = comma != SIZE_MAX ? lim + 1 : offk + 1;
        size_t ob = comma != SIZE_MAX ? comma : by;
        puts_(c, "__sp_rn > (");
        sp__sql_emit_range(c, oa, ob);
        puts_(c, ") AND __sp_rn <= (");
        sp__sql_emit_range(c, oa, ob);
        puts_(c, ") + (");
        sp__sql_emit_range(c, na, nb);
        puts_(c, ")");
    } else {
        puts_(c, "__sp_rn <= ");
        sp__sql_emit_range(c, lim + 1, by);
    }
    if (order != SIZE_MAX)
        puts_(c, " ORDER BY __sp_ord");
    puts_(c, " ");
    sp__sql_emit_range(c, ce, b);
    return 1;
}

static const char *const tern_back[] = { "SELECT", "DISTINCT", "WHERE", "PREWHERE", "HAVING",
                                         "ON",     "BY",       "WHEN",  "THEN",     "ELSE",
                                         "WITH",   "RETURN",   NULL };
static const char *const tern_fwd[] = {
    "AS",    "FROM",  "WHERE", "PREWHERE", "GROUP", "ORDER", "HAVING", "LIMIT",
    "SETTINGS", "FORMAT", "UNION", "WHEN", "THEN",  "ELSE",  "END",    "ASC",
    "DESC",  "LEFT",  "RIGHT", "INNER",    "FULL",  "CROSS", "JOIN",   "ARRAY",
    "WINDOW", "QUALIFY", "NULLS", NULL,
};

/* c ? x : y -> CASE WHEN c THEN x ELSE y END */
static int do_ternary(rw *c, size_t a, size_t b)
{
    size_t q = SIZE_MAX;
    for (size_t i = a; i < b; i = skip(c, i))
        if (op_is(c, i, "?")) {
            q = i;
            break;
        }
    if (q == SIZE_MAX)
        return 0;
    size_t cs = a;
    for (size_t i = a; i < q; i = skip(c, i))
        if (op_is(c, i, ",") || op_is(c, i, "->") || kw_any(c, i, tern_back))
            cs = i + 1;
    size_t colon = SIZE_MAX;
    int lvl = 0;
    for (size_t i = q; i < b; i = skip(c, i)) {
        if (op_is(c, i, "?"))
            lvl++;
        else if (op_is(c, i, ":") && --lvl == 0) {
            colon = i;
            break;
        }
    }
    if (colon == SIZE_MAX)
        return sp__sql_fail(c, SP_EDEF, "'?' without ':'", q), 1;
    size_t ee = b;
    for (size_t i = colon + 1; i < b; i = skip(c, i))
        if (op_is(c, i, ",") || op_is(c, i, ";") || kw_any(c, i, tern_fwd)) {
            ee = i;
            break;
        }
    sp__sql_emit_range(c, a, cs);
    puts_(c, " CASE WHEN ");
    sp__sql_emit_range(c, cs, q);
    puts_(c, " THEN ");
    sp__sql_emit_range(c, q + 1, colon);
    puts_(c, " ELSE ");
    sp__sql_emit_range(c, colon + 1, ee);
    puts_(c, " END ");
    sp__sql_emit_range(c, ee, b);
    return 1;
}

static subst *find_subst(rw *c, size_t i)
{
    for (size_t k = c->nsub; k-- > 0;)
        if (c->sub[k].nlen == c->t[i].len &&
            memcmp(c->sub[k].name, c->s + c->t[i].off, c->t[i].len) == 0)
            return &c->sub[k];
    return NULL;
}

static const char *const final_next[] = {
    "WHERE", "PREWHERE", "GROUP", "ORDER", "LIMIT", "SETTINGS", "FORMAT", "UNION", "LEFT",
    "RIGHT", "INNER", "FULL", "CROSS", "JOIN", "ANY", "ALL", "ARRAY", "SAMPLE", "AS", "ON",
    "USING", "HAVING", "WINDOW", "GLOBAL", "ASOF", "SEMI", "ANTI", NULL,
};

/* 1.5, 100.0: a literal with a point and no exponent, not a tuple index
 * (t.1); ClickHouse reads it as Float64, DuckDB as DECIMAL (which keeps
 * `1.0`'s zero and adds 0.1 + 0.2 exactly) */
static int is_float_literal(const rw *c, size_t i)
{
    const char *s = c->s + c->t[i].off;
    size_t n = c->t[i].len, dots = 0;
    if (!n || s[0] < '0' || s[0] > '9')
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '.')
            dots++;
        else if (s[k] < '0' || s[k] > '9')
            return 0;
    }
    size_t p = pv(c, i, 0), q = nx(c, i + 1, c->n);
    if (dots != 1 || (p != SIZE_MAX && op_is(c, p, ".")) || (q < c->n && op_is(c, q, "::")))
        return 0;
    /* CAST(1.5 AS Decimal(…)), toDecimal64(1.25, 2): kept exact */
    size_t f = p != SIZE_MAX && op_is(c, p, "(") ? pv(c, p, 0) : SIZE_MAX;
    return !(f != SIZE_MAX && c->t[f].kind == SP_TOK_IDENT &&
             (kw(c, f, "CAST") || kw(c, f, "TRY_CAST") ||
              (c->t[f].len >= 9 && strncasecmp(c->s + c->t[f].off, "toDecimal", 9) == 0)));
}

void sp__sql_emit_range(rw *c, size_t a, size_t b)
{
    if (c->rc || a >= b)
        return;
    if (++c->depth > MAX_DEPTH) {
        sp__sql_fail(c, SP_ETOOBIG, "query nested too deeply", a);
        c->depth--;
        return;
    }
    if (do_with(c, a, b) || do_limit_by(c, a, b) || do_ternary(c, a, b)) {
        c->depth--;
        return;
    }
    for (size_t i = a; i < b && !c->rc;) {
        const sp_tok *t = &c->t[i];
        size_t p = pv(c, i, a), nxt = nx(c, i + 1, b);
        switch (t->kind) {
        case SP_TOK_WS:
            put_tok(c, i);
            i++;
            continue;
        case SP_TOK_COMMENT:
            puts_(c, " ");
            i++;
            continue;
        case SP_TOK_STRING:
            emit_string(c, i);
            i++;
            continue;
        case SP_TOK_QIDENT:
            emit_qident(c, i);
            i++;
            continue;
        case SP_TOK_PARAM:
            sp__sql_fail(c, SP_EUNSUPPORTED, "{name:Type} query parameters are not supported", i);
            return;
        case SP_TOK_NUMBER:
            if (is_float_literal(c, i)) { /* Float64 on ClickHouse, DECIMAL on DuckDB */
                puts_(c, "CAST('");
                put_tok(c, i);
                puts_(c, "' AS DOUBLE)");
            } else {
                put_tok(c, i);
            }
            i++;
            continue;
        case SP_TOK_OP:
            if (is_open(c, i)) {
                put_tok(c, i);
                sp__sql_emit_range(c, i + 1, c->mate[i]);
                put_tok(c, c->mate[i]);
                i = c->mate[i] + 1;
                continue;
            }
            if (op_is(c, i, "::")) {
                put_tok(c, i);
                size_t r = sp__sql_emit_type(c, i + 1, b);
                i = r > i + 1 ? r : i + 1;
                continue;
            }
            put_tok(c, i);
            i++;
            continue;
        case SP_TOK_IDENT:
            break;
        }
        /* identifiers and keywords */
        if (kw(c, i, "FINAL") && p != SIZE_MAX &&
            (c->t[p].kind == SP_TOK_IDENT || c->t[p].kind == SP_TOK_QIDENT) &&
            (nxt >= b || op_is(c, nxt, ")") || op_is(c, nxt, ";") || op_is(c, nxt, ",") ||
             kw_any(c, nxt, final_next))) {
            i++;
            continue;
        }
        if (kw(c, i, "SETTINGS") && nxt < b && c->t[nxt].kind == SP_TOK_IDENT &&
            op_is(c, nx(c, nxt + 1, b), "=")) {
            size_t e = b;
            for (size_t k = i; k < b; k = skip(c, k))
                if (kw(c, k, "FORMAT") || op_is(c, k, ";")) {
                    e = k;
                    break;
                }
            i = e;
            continue;
        }
        if (kw(c, i, "FORMAT") && nxt < b && c->t[nxt].kind == SP_TOK_IDENT) {
            size_t after = nx(c, nxt + 1, b);
            if (after >= b || op_is(c, after, ";") || kw(c, after, "SETTINGS")) {
                i = nxt + 1;
                continue;
            }
        }
        if ((kw(c, i, "ANY") || kw(c, i, "ALL")) && nxt < b &&
            kw_any(c, nxt, (const char *const[]){ "LEFT", "INNER", "RIGHT", "JOIN", "FULL",
                                                  NULL })) {
            i = nxt; /* ANY LEFT JOIN -> LEFT JOIN */
            continue;
        }
        if (kw(c, i, "PREWHERE")) {
            puts_(c, "WHERE");
            i++;
            continue;
        }
        if (nxt < b && op_is(c, nxt, "(") && !(p != SIZE_MAX && op_is(c, p, "."))) {
            size_t o2 = nx(c, c->mate[nxt] + 1, b);
            size_t next = 0;
            if (o2 < b && op_is(c, o2, "(") && sp__sql_rewrite_call(c, i, nxt, o2, &next)) {
                i = next;
                continue;
            }
            if (sp__sql_rewrite_call(c, i, nxt, SIZE_MAX, &next)) {
                i = next;
                continue;
            }
        }
        subst *s = find_subst(c, i);
        if (s && !s->active && !(p != SIZE_MAX && (op_is(c, p, ".") || kw(c, p, "AS"))) &&
            !(nxt < b && (op_is(c, nxt, "(") || op_is(c, nxt, ".")))) {
            s->active = 1;
            puts_(c, "(");
            sp__sql_emit_range(c, s->a, s->b);
            puts_(c, ")");
            s->active = 0;
            i++;
            continue;
        }
        put_tok(c, i);
        i++;
    }
    c->depth--;
}

/* match brackets; SP_EDEF when unbalanced */
static int pair_brackets(rw *c)
{
    size_t *stack = malloc((c->n + 1) * sizeof *stack);
    c->mate = malloc((c->n + 1) * sizeof *c->mate);
    if (!stack || !c->mate) {
        free(stack);
        return sp_error_set(c->err, SP_ENOMEM, 0, "out of memory");
    }
    size_t sp = 0;
    for (size_t i = 0; i < c->n; i++) {
        c->mate[i] = SIZE_MAX;
        if (c->t[i].kind != SP_TOK_OP || c->t[i].len != 1)
            continue;
        char ch = c->s[c->t[i].off];
        if (ch == '(' || ch == '[' || ch == '{') {
            stack[sp++] = i;
        } else if (ch == ')' || ch == ']' || ch == '}') {
            char want = ch == ')' ? '(' : ch == ']' ? '[' : '{';
            if (!sp || c->s[c->t[stack[sp - 1]].off] != want) {
                free(stack);
                return sp_error_set(c->err, SP_EDEF, 0, "sql: unbalanced '%c' at offset %zu",
                                    ch, c->t[i].off);
            }
            sp--;
            c->mate[stack[sp]] = i;
            c->mate[i] = stack[sp];
        }
    }
    int rc = 0;
    if (sp)
        rc = sp_error_set(c->err, SP_EDEF, 0, "sql: unclosed '%c' at offset %zu",
                          c->s[c->t[stack[sp - 1]].off], c->t[stack[sp - 1]].off);
    free(stack);
    return rc;
}

/* the token pass over sql; names: first add ClickHouse's result column
 * names (sp_sql_names.c), falling back to the plain pass if that text
 * fails, so that the error (and its offset) is the original's */
static int to_duckdb(const char *sql, sp_buf *out, sp_error *err, int names)
{
    rw c;
    memset(&c, 0, sizeof c);
    c.s = sql;
    c.out = out;
    c.err = err;
    int rc = sp_sql_lex(sql, strlen(sql), &c.t, &c.n, err);
    if (!rc)
        rc = pair_brackets(&c);
    if (!rc) {
        /* a trailing ';' is dropped: one statement */
        size_t end = c.n;
        size_t last = pv(&c, end, 0);
        if (last != SIZE_MAX && op_is(&c, last, ";"))
            end = last;
        sp_buf named = SP_BUF_INIT(out->max);
        if (names && sp__sql_add_names(&c, end, &named) == 0 && named.len) {
            size_t len0 = out->len;
            if (to_duckdb(named.data, out, NULL, 0) == 0) {
                sp_buf_release(&named);
                free(c.t);
                free(c.mate);
                return 0;
            }
            out->len = len0;
            if (out->data)
                out->data[len0] = '\0';
        }
        sp_buf_release(&named);
        sp__sql_emit_range(&c, 0, end);
        rc = c.rc;
    }
    free(c.t);
    free(c.mate);
    return rc;
}

int sp_sql_to_duckdb(const char *sql, sp_buf *out, sp_error *err)
{
    return to_duckdb(sql, out, err, 1);
}

/* ---- quoting ---- */

int sp_sql_quote_ident(sp_buf *out, const char *s, sp_error *err)
{
    int rc = sp_buf_addch(out, '"', err);
    for (const char *p = s; *p && !rc; p++)
        rc = *p == '"' ? sp_buf_adds(out, "\"\"", err) : sp_buf_addch(out, *p, err);
    return rc ? rc : sp_buf_addch(out, '"', err);
}

int sp_sql_quote_string(sp_buf *out, const char *s, size_t n, sp_error *err)
{
    if (memchr(s, '\0', n))
        return sp_error_set(err, SP_EINVAL, 0, "string literal contains a NUL byte");
    int rc = sp_buf_addch(out, '\'', err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == '\'' ? sp_buf_adds(out, "''", err) : sp_buf_addch(out, s[i], err);
    return rc ? rc : sp_buf_addch(out, '\'', err);
}
