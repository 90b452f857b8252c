/* sp_type: parse and print ClickHouse type names (see sp_type.h). */
#include "sp_type.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

#define MAX_DEPTH SP_TYPE_MAX_DEPTH

typedef struct parser {
    const char *text; /* whole input, for messages */
    const char *p;
    sp_error *err;
    int depth;
} parser;

typedef struct named_kind {
    const char *name;
    sp_kind kind;
} named_kind;

/* parameterless names, matched exactly */
static const named_kind simple_names[] = {
    {"Nothing", SP_T_NOTHING}, {"Bool", SP_T_BOOL},         {"Boolean", SP_T_BOOL},
    {"Int8", SP_T_INT8},       {"Int16", SP_T_INT16},       {"Int32", SP_T_INT32},
    {"Int64", SP_T_INT64},     {"Int128", SP_T_INT128},     {"Int256", SP_T_INT256},
    {"UInt8", SP_T_UINT8},     {"UInt16", SP_T_UINT16},     {"UInt32", SP_T_UINT32},
    {"UInt64", SP_T_UINT64},   {"UInt128", SP_T_UINT128},   {"UInt256", SP_T_UINT256},
    {"Float32", SP_T_FLOAT32}, {"Float64", SP_T_FLOAT64},   {"String", SP_T_STRING},
    {"UUID", SP_T_UUID},       {"Date", SP_T_DATE},         {"Date32", SP_T_DATE32},
    {"DateTime", SP_T_DATETIME}, {"JSON", SP_T_JSON},       {"IPv4", SP_T_IPV4},
    {"IPv6", SP_T_IPV6},
};

/* SQL-standard aliases ClickHouse accepts, matched case-insensitively */
static const named_kind alias_names[] = {
    {"BOOLEAN", SP_T_BOOL},
    {"TINYINT", SP_T_INT8},    {"SMALLINT", SP_T_INT16},    {"INT", SP_T_INT32},
    {"INTEGER", SP_T_INT32},   {"BIGINT", SP_T_INT64},      {"FLOAT", SP_T_FLOAT32},
    {"REAL", SP_T_FLOAT32},    {"DOUBLE", SP_T_FLOAT64},    {"TEXT", SP_T_STRING},
    {"VARCHAR", SP_T_STRING},  {"BLOB", SP_T_STRING},       {"TIMESTAMP", SP_T_DATETIME},
};

static const char *const kind_names[] = {
    [SP_T_NOTHING] = "Nothing",     [SP_T_BOOL] = "Bool",         [SP_T_INT8] = "Int8",
    [SP_T_INT16] = "Int16",         [SP_T_INT32] = "Int32",       [SP_T_INT64] = "Int64",
    [SP_T_INT128] = "Int128",       [SP_T_INT256] = "Int256",     [SP_T_UINT8] = "UInt8",
    [SP_T_UINT16] = "UInt16",       [SP_T_UINT32] = "UInt32",     [SP_T_UINT64] = "UInt64",
    [SP_T_UINT128] = "UInt128",     [SP_T_UINT256] = "UInt256",   [SP_T_FLOAT32] = "Float32",
    [SP_T_FLOAT64] = "Float64",     [SP_T_DECIMAL] = "Decimal",   [SP_T_STRING] = "String",
    [SP_T_FIXEDSTRING] = "FixedString", [SP_T_UUID] = "UUID",     [SP_T_DATE] = "Date",
    [SP_T_DATE32] = "Date32",       [SP_T_DATETIME] = "DateTime", [SP_T_DATETIME64] = "DateTime64",
    [SP_T_ARRAY] = "Array",         [SP_T_MAP] = "Map",           [SP_T_TUPLE] = "Tuple",
    [SP_T_OTHER] = "",              [SP_T_JSON] = "JSON",           [SP_T_IPV4] = "IPv4",         [SP_T_IPV6] = "IPv6",
    [SP_T_ENUM8] = "Enum8",         [SP_T_ENUM16] = "Enum16",
};

sp_type *sp_type_new(sp_kind kind)
{
    sp_type *t = calloc(1, sizeof *t);
    if (t)
        t->kind = kind;
    return t;
}

void sp_type_free(sp_type *t)
{
    if (!t)
        return;
    sp_type_free(t->elem);
    sp_type_free(t->key);
    for (size_t i = 0; i < t->nelems; i++) {
        if (t->elems)
            sp_type_free(t->elems[i]);
        if (t->names)
            free(t->names[i]);
    }
    free(t->elems);
    free(t->names);
    free(t->tz);
    free(t->enum_body);
    free(t->raw);
    free(t);
}

static char *dup_or_null(const char *s, int *fail)
{
    char *d = sp_strdup0(s);
    if (s && !d)
        *fail = 1;
    return d;
}

static sp_type *clone_or_null(const sp_type *s, int *fail)
{
    if (!s)
        return NULL;
    sp_type *d = sp_type_clone(s);
    if (!d)
        *fail = 1;
    return d;
}

sp_type *sp_type_clone(const sp_type *t)
{
    if (!t)
        return NULL;
    sp_type *c = sp_type_new(t->kind);
    if (!c)
        return NULL;
    int fail = 0;
    c->nullable = t->nullable;
    c->low_cardinality = t->low_cardinality;
    c->precision = t->precision;
    c->scale = t->scale;
    c->tz = dup_or_null(t->tz, &fail);
    c->enum_body = dup_or_null(t->enum_body, &fail);
    c->raw = dup_or_null(t->raw, &fail);
    c->elem = clone_or_null(t->elem, &fail);
    c->key = clone_or_null(t->key, &fail);
    if (t->nelems && !fail) {
        c->elems = calloc(t->nelems, sizeof *c->elems);
        c->names = calloc(t->nelems, sizeof *c->names);
        if (!c->elems || !c->names) {
            fail = 1;
        } else {
            c->nelems = t->nelems;
            for (size_t i = 0; i < t->nelems && !fail; i++) {
                c->elems[i] = clone_or_null(t->elems ? t->elems[i] : NULL, &fail);
                c->names[i] = dup_or_null(t->names ? t->names[i] : NULL, &fail);
            }
        }
    }
    if (fail) {
        sp_type_free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------ parsing */

static int perr(parser *ps, const char *what)
{
    return sp_error_set(ps->err, SP_EDEF, 0, "type '%s': %s at position %d", ps->text, what,
                        (int)(ps->p - ps->text) + 1);
}

static int nomem(parser *ps)
{
    return sp_error_set(ps->err, SP_ENOMEM, 0, "type '%s': out of memory", ps->text);
}

static void skip_ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static int is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* read an identifier; returns its length (0 when none) */
static size_t ident(parser *ps, const char **start)
{
    skip_ws(ps);
    *start = ps->p;
    if (!is_ident_start(*ps->p))
        return 0;
    while (is_ident(*ps->p))
        ps->p++;
    return (size_t)(ps->p - *start);
}

static int expect(parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p != c) {
        char what[40];
        snprintf(what, sizeof what, "expected '%c'", c);
        return perr(ps, what);
    }
    ps->p++;
    return 0;
}

static int accept(parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

static int parse_uint(parser *ps, int max, int *out)
{
    skip_ws(ps);
    if (!isdigit((unsigned char)*ps->p))
        return perr(ps, "expected a number");
    long v = 0;
    while (isdigit((unsigned char)*ps->p)) {
        v = v * 10 + (*ps->p - '0');
        if (v > max)
            return perr(ps, "number out of range");
        ps->p++;
    }
    *out = (int)v;
    return 0;
}

/* a single-quoted string literal (ClickHouse's escapes, '' for '); *out heap */
static int parse_quoted(parser *ps, char **out)
{
    skip_ws(ps);
    if (*ps->p != '\'')
        return perr(ps, "expected a quoted string");
    sp_buf b = SP_BUF_INIT(4096);
    const char *end = ps->p + strlen(ps->p);
    int rc = sp_ch_unquote(&ps->p, end, &b, NULL);
    if (rc) {
        sp_buf_release(&b);
        if (rc != SP_EDATA)
            return perr(ps, "string too long");
        ps->p = end; /* the error points at the end */
        return perr(ps, "unterminated string");
    }
    *out = sp_buf_detach(&b);
    return *out ? 0 : nomem(ps);
}

/* skip to the ')' matching an already consumed '(' (quotes respected);
 * returns the text in between, trimmed */
static int balanced_body(parser *ps, char **out)
{
    skip_ws(ps);
    const char *start = ps->p;
    int level = 0;
    for (;;) {
        char c = *ps->p;
        if (!c)
            return perr(ps, "expected ')'");
        if (c == '\'' || c == '`' || c == '"') {
            ps->p++;
            while (*ps->p && *ps->p != c) {
                if (*ps->p == '\\' && ps->p[1])
                    ps->p++;
                ps->p++;
            }
            if (!*ps->p)
                return perr(ps, "unterminated string");
            ps->p++;
            continue;
        }
        if (c == '(')
            level++;
        if (c == ')') {
            if (level == 0)
                break;
            level--;
        }
        ps->p++;
    }
    const char *end = ps->p;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    ps->p++; /* ')' */
    if (out) {
        *out = strndup(start, (size_t)(end - start));
        if (!*out)
            return nomem(ps);
    }
    return 0;
}

static int parse_type(parser *ps, sp_type **out);


static int word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static int word_is_ci(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

static int parse_tuple(parser *ps, sp_type *t)
{
    size_t cap = 0;
    if (accept(ps, ')'))
        return 0; /* Tuple() */
    for (;;) {
        if (t->nelems == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            sp_type **e = realloc(t->elems, ncap * sizeof *e);
            if (!e)
                return nomem(ps);
            t->elems = e;
            char **nm = realloc(t->names, ncap * sizeof *nm);
            if (!nm)
                return nomem(ps);
            t->names = nm;
            cap = ncap;
        }
        t->elems[t->nelems] = NULL;
        t->names[t->nelems] = NULL;
        t->nelems++;
        /* optional element name: an identifier (or `quoted`) followed by a type */
        skip_ws(ps);
        const char *save = ps->p;
        char *name = NULL;
        if (*ps->p == '`') {
            const char *s = ++ps->p;
            while (*ps->p && *ps->p != '`')
                ps->p++;
            if (!*ps->p)
                return perr(ps, "unterminated name");
            name = strndup(s, (size_t)(ps->p - s));
            ps->p++;
            if (!name)
                return nomem(ps);
        } else {
            const char *s;
            size_t n = ident(ps, &s);
            const char *after = ps->p;
            skip_ws(ps);
            if (n && after != ps->p && is_ident_start(*ps->p)) {
                name = strndup(s, n);
                if (!name)
                    return nomem(ps);
            } else {
                ps->p = save;
            }
        }
        t->names[t->nelems - 1] = name;
        int rc = parse_type(ps, &t->elems[t->nelems - 1]);
        if (rc)
            return rc;
        if (accept(ps, ')'))
            return 0;
        if ((rc = expect(ps, ',')))
            return rc;
    }
}

/* the part after the name of a parametric type, ps->p just after '(' */
/* "Name(body)" as ClickHouse prints a type: no spaces but one after each
 * comma outside quotes */
static char *raw_name(const char *nm, size_t n, const char *body)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    int rc = sp_buf_add(&b, nm, n, NULL);
    if (!rc && body) {
        rc = sp_buf_addch(&b, '(', NULL);
        char q = 0;
        for (const char *p = body; *p && !rc; p++) {
            if (q) {
                rc = sp_buf_addch(&b, *p, NULL);
                if (*p == '\\' && p[1])
                    rc = rc ? rc : sp_buf_addch(&b, *++p, NULL);
                else if (*p == q)
                    q = 0;
                continue;
            }
            if (*p == '\'' || *p == '`' || *p == '"')
                q = *p;
            if (isspace((unsigned char)*p))
                continue;
            rc = sp_buf_addch(&b, *p, NULL);
            if (!rc && *p == ',')
                rc = sp_buf_addch(&b, ' ', NULL);
        }
        if (!rc)
            rc = sp_buf_addch(&b, ')', NULL);
    }
    char *s = rc ? NULL : sp_buf_detach(&b);
    sp_buf_release(&b);
    return s;
}

/* types sinkpipe carries as text (SP_T_OTHER) */
static int other_name(const char *nm, size_t n, int parametric)
{
    static const char *const bare[] = { "Dynamic", "Nothing", "Time", NULL };
    static const char *const par[] = { "AggregateFunction", "Variant", "Dynamic", "Nested",
                                       "Time64", NULL };
    for (const char *const *w = parametric ? par : bare; *w; w++)
        if (word_is(nm, n, *w))
            return 1;
    return 0;
}

/* Interval types: Int64 values, named for tables */
static int interval_name(const char *nm, size_t n)
{
    static const char *const units[] = { "Nanosecond", "Microsecond", "Millisecond", "Second",
                                         "Minute", "Hour", "Day", "Week", "Month", "Quarter",
                                         "Year", NULL };
    if (n <= 8 || strncmp(nm, "Interval", 8) != 0)
        return 0;
    for (const char *const *u = units; *u; u++)
        if (word_is(nm + 8, n - 8, *u))
            return 1;
    return 0;
}

static int parse_params(parser *ps, const char *nm, size_t n, sp_type **out)
{
    sp_type *t = NULL;
    int rc = 0;
    if (word_is(nm, n, "Nullable") || word_is(nm, n, "LowCardinality")) {
        skip_ws(ps);
        const char *inner = ps->p;
        if ((rc = parse_type(ps, &t)) || (rc = expect(ps, ')'))) {
            sp_type_free(t);
            return rc;
        }
        if (word_is(nm, n, "Nullable")) {
            if (t->nullable || t->low_cardinality || t->kind == SP_T_ARRAY ||
                t->kind == SP_T_MAP || t->kind == SP_T_TUPLE) {
                sp_type_free(t);
                ps->p = inner;
                return perr(ps, "nested type cannot be inside Nullable");
            }
            t->nullable = 1;
        } else {
            if (t->low_cardinality) {
                sp_type_free(t);
                ps->p = inner;
                return perr(ps, "LowCardinality inside LowCardinality");
            }
            t->low_cardinality = 1;
        }
        *out = t;
        return 0;
    }
    if (word_is(nm, n, "FixedString")) {
        if (!(t = sp_type_new(SP_T_FIXEDSTRING)))
            return nomem(ps);
        rc = parse_uint(ps, 1 << 24, &t->precision);
        if (!rc && t->precision == 0)
            rc = perr(ps, "FixedString size must be positive");
    } else if (word_is(nm, n, "DateTime")) {
        if (!(t = sp_type_new(SP_T_DATETIME)))
            return nomem(ps);
        rc = parse_quoted(ps, &t->tz);
    } else if (word_is(nm, n, "DateTime64")) {
        if (!(t = sp_type_new(SP_T_DATETIME64)))
            return nomem(ps);
        rc = parse_uint(ps, 9, &t->scale);
        if (!rc && accept(ps, ','))
            rc = parse_quoted(ps, &t->tz);
    } else if (word_is(nm, n, "Decimal") || word_is_ci(nm, n, "DECIMAL") ||
               word_is_ci(nm, n, "NUMERIC")) {
        if (!(t = sp_type_new(SP_T_DECIMAL)))
            return nomem(ps);
        rc = parse_uint(ps, 76, &t->precision);
        if (!rc && t->precision == 0)
            rc = perr(ps, "decimal precision must be between 1 and 76");
        if (!rc && accept(ps, ','))
            rc = parse_uint(ps, 76, &t->scale);
        if (!rc && t->scale > t->precision)
            rc = perr(ps, "decimal scale greater than its precision");
    } else if (word_is(nm, n, "Decimal32") || word_is(nm, n, "Decimal64") ||
               word_is(nm, n, "Decimal128") || word_is(nm, n, "Decimal256")) {
        if (!(t = sp_type_new(SP_T_DECIMAL)))
            return nomem(ps);
        t->precision = nm[7] == '3' ? 9 : nm[7] == '6' ? 18 : nm[8] == '2' ? 38 : 76;
        rc = parse_uint(ps, 76, &t->scale);
        if (!rc && t->scale > t->precision)
            rc = perr(ps, "decimal scale greater than its precision");
    } else if (word_is(nm, n, "Array")) {
        if (!(t = sp_type_new(SP_T_ARRAY)))
            return nomem(ps);
        rc = parse_type(ps, &t->elem);
    } else if (word_is(nm, n, "Map")) {
        if (!(t = sp_type_new(SP_T_MAP)))
            return nomem(ps);
        rc = parse_type(ps, &t->key);
        if (!rc)
            rc = expect(ps, ',');
        if (!rc)
            rc = parse_type(ps, &t->elem);
    } else if (word_is(nm, n, "Tuple")) {
        if (!(t = sp_type_new(SP_T_TUPLE)))
            return nomem(ps);
        rc = parse_tuple(ps, t);
        if (rc) {
            sp_type_free(t);
            return rc;
        }
        *out = t;
        return 0;
    } else if (word_is(nm, n, "Enum8") || word_is(nm, n, "Enum16") || word_is(nm, n, "Enum")) {
        if (!(t = sp_type_new(nm[4] == '8' ? SP_T_ENUM8 : SP_T_ENUM16)))
            return nomem(ps);
        rc = balanced_body(ps, &t->enum_body);
        if (!rc && !t->enum_body[0])
            rc = perr(ps, "enum without values");
        if (rc) {
            sp_type_free(t);
            return rc;
        }
        *out = t;
        return 0;
    } else if (word_is(nm, n, "JSON") || word_is(nm, n, "Object")) {
        /* JSON(settings...) and Object('json'): the document text either way */
        if (!(t = sp_type_new(SP_T_JSON)))
            return nomem(ps);
        rc = balanced_body(ps, NULL);
        if (rc) {
            sp_type_free(t);
            return rc;
        }
        *out = t;
        return 0;
    } else if (word_is(nm, n, "SimpleAggregateFunction")) {
        /* (f, T): T's values; the name kept for tables */
        const char *body = ps->p;
        char *all = NULL;
        rc = balanced_body(ps, &all);
        if (rc)
            return rc;
        parser in = *ps;
        int lvl = 0;
        const char *comma = NULL;
        for (const char *p = all; *p && !comma; p++) {
            if (*p == '(')
                lvl++;
            else if (*p == ')')
                lvl--;
            else if (*p == ',' && lvl == 0)
                comma = p;
        }
        (void)body;
        if (!comma) {
            free(all);
            return perr(ps, "SimpleAggregateFunction needs (function, type)");
        }
        in.p = comma + 1;
        in.text = all;
        rc = parse_type(&in, &t);
        if (!rc) {
            skip_ws(&in);
            if (*in.p)
                rc = perr(ps, "unexpected text after the SimpleAggregateFunction type");
        }
        if (!rc && !(t->raw = raw_name(nm, n, all)))
            rc = nomem(ps);
        free(all);
        if (rc) {
            sp_type_free(t);
            return rc;
        }
        *out = t;
        return 0;
    } else if (other_name(nm, n, 1)) {
        char *body = NULL;
        rc = balanced_body(ps, &body);
        if (rc)
            return rc;
        t = sp_type_new(SP_T_OTHER);
        if (t && !(t->raw = raw_name(nm, n, body))) {
            sp_type_free(t);
            t = NULL;
        }
        free(body);
        if (!t)
            return nomem(ps);
        *out = t;
        return 0;
    } else {
        return perr(ps, "unknown parametric type");
    }
    if (!rc)
        rc = expect(ps, ')');
    if (rc) {
        sp_type_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* types whose values are another type's, named for tables by `raw`:
 * Interval* (Int64), BFloat16 (read as Float32's text), and the geo types
 * (Point = Tuple(Float64, Float64), Ring and LineString = Array(Point),
 * Polygon = Array(Ring), MultiLineString = Array(LineString), MultiPolygon =
 * Array(Polygon)).  *out NULL when nm is none of them; -1 on ENOMEM. */
static int geo_or_scalar(const char *nm, size_t n, sp_type **out)
{
    static const struct {
        const char *name, *inner;
    } geo[] = { { "Ring", "Point" }, { "LineString", "Point" }, { "Polygon", "Ring" },
                { "MultiLineString", "LineString" }, { "MultiPolygon", "Polygon" } };
    sp_type *t = NULL;
    *out = NULL;
    if (interval_name(nm, n)) {
        t = sp_type_new(SP_T_INT64);
    } else if (word_is(nm, n, "BFloat16")) {
        t = sp_type_new(SP_T_FLOAT32);
    } else if (word_is(nm, n, "Point")) {
        t = sp_type_new(SP_T_TUPLE);
        if (t && !(t->elems = calloc(2, sizeof *t->elems))) {
            sp_type_free(t);
            return -1;
        }
        if (t) {
            t->nelems = 2;
            t->elems[0] = sp_type_new(SP_T_FLOAT64);
            t->elems[1] = sp_type_new(SP_T_FLOAT64);
            if (!t->elems[0] || !t->elems[1]) {
                sp_type_free(t);
                return -1;
            }
        }
    } else {
        for (size_t i = 0; i < sizeof geo / sizeof *geo; i++)
            if (word_is(nm, n, geo[i].name)) {
                t = sp_type_new(SP_T_ARRAY);
                if (t && geo_or_scalar(geo[i].inner, strlen(geo[i].inner), &t->elem) != 0) {
                    sp_type_free(t);
                    return -1;
                }
                if (t && !t->elem) {
                    sp_type_free(t);
                    return -1;
                }
                break;
            }
        if (!t)
            return 0;
    }
    if (!t || !(t->raw = strndup(nm, n))) {
        sp_type_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

static int parse_type(parser *ps, sp_type **out)
{
    *out = NULL;
    if (++ps->depth > MAX_DEPTH)
        return perr(ps, "type nested too deeply");
    const char *nm;
    size_t n = ident(ps, &nm);
    if (!n)
        return perr(ps, "expected a type name");
    int rc;
    if (accept(ps, '(')) {
        rc = parse_params(ps, nm, n, out);
        ps->depth--;
        return rc;
    }
    int kind = -1;
    rc = 0;
    for (size_t i = 0; kind < 0 && i < sizeof simple_names / sizeof simple_names[0]; i++)
        if (word_is(nm, n, simple_names[i].name))
            kind = (int)simple_names[i].kind;
    for (size_t i = 0; kind < 0 && i < sizeof alias_names / sizeof alias_names[0]; i++)
        if (word_is_ci(nm, n, alias_names[i].name))
            kind = (int)alias_names[i].kind;
    if (kind >= 0) {
        *out = sp_type_new((sp_kind)kind);
        ps->depth--;
        return *out ? 0 : nomem(ps);
    }
    if ((rc = geo_or_scalar(nm, n, out)) != 0 || *out) {
        ps->depth--;
        return rc < 0 ? nomem(ps) : 0;
    }
    if (other_name(nm, n, 0)) {
        *out = sp_type_new(SP_T_OTHER);
        if (*out && !((*out)->raw = raw_name(nm, n, NULL))) {
            sp_type_free(*out);
            *out = NULL;
        }
        ps->depth--;
        return *out ? 0 : nomem(ps);
    }
    if (word_is(nm, n, "Decimal")) { /* bare Decimal = Decimal(10, 0) */
        if (!(*out = sp_type_new(SP_T_DECIMAL)))
            return nomem(ps);
        (*out)->precision = 10;
        ps->depth--;
        return 0;
    }
    ps->p = nm;
    char what[96];
    snprintf(what, sizeof what, "unknown type '%.*s'", (int)(n > 40 ? 40 : n), nm);
    return perr(ps, what);
}

int sp_type_parse(const char *text, sp_type **out, sp_error *err)
{
    *out = NULL;
    if (!text)
        return sp_error_set(err, SP_EINVAL, 0, "type: no text");
    parser ps = {text, text, err, 0};
    sp_type *t = NULL;
    int rc = parse_type(&ps, &t);
    if (!rc) {
        skip_ws(&ps);
        if (*ps.p)
            rc = perr(&ps, "unexpected text after the type");
    }
    if (rc) {
        sp_type_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------ printing */


static int name_needs_quotes(const char *s)
{
    if (!is_ident_start(*s))
        return 1;
    for (; *s; s++)
        if (!is_ident(*s))
            return 1;
    return 0;
}

static int format_inner(const sp_type *t, sp_buf *out, sp_error *err, int depth)
{
    if (depth > MAX_DEPTH)
        return sp_error_set(err, SP_EINVAL, 0, "type nested too deeply");
    if ((unsigned)t->kind >= sizeof kind_names / sizeof kind_names[0])
        return sp_error_set(err, SP_EINVAL, 0, "type: unknown kind %d", (int)t->kind);
    int rc = 0;
    if (t->raw && !t->nullable && !t->low_cardinality)
        return sp_buf_adds(out, t->raw, err); /* as ClickHouse names it */
    if (t->low_cardinality)
        rc = sp_buf_adds(out, "LowCardinality(", err);
    if (!rc && t->nullable)
        rc = sp_buf_adds(out, "Nullable(", err);
    if (!rc)
        rc = sp_buf_adds(out, t->raw ? t->raw : kind_names[t->kind], err);
    if (rc)
        return rc;
    switch (t->kind) {
    case SP_T_DECIMAL:
        rc = sp_buf_addf(out, err, "(%d, %d)", t->precision, t->scale);
        break;
    case SP_T_FIXEDSTRING:
        rc = sp_buf_addf(out, err, "(%d)", t->precision);
        break;
    case SP_T_DATETIME:
        if (t->tz) {
            rc = sp_buf_addch(out, '(', err);
            if (!rc)
                rc = sp_ch_quote_string(out, t->tz, strlen(t->tz), err);
            if (!rc)
                rc = sp_buf_addch(out, ')', err);
        }
        break;
    case SP_T_DATETIME64:
        rc = sp_buf_addf(out, err, "(%d", t->scale);
        if (!rc && t->tz) {
            rc = sp_buf_adds(out, ", ", err);
            if (!rc)
                rc = sp_ch_quote_string(out, t->tz, strlen(t->tz), err);
        }
        if (!rc)
            rc = sp_buf_addch(out, ')', err);
        break;
    case SP_T_ARRAY:
        if (!t->elem)
            return sp_error_set(err, SP_EINVAL, 0, "type: Array without element type");
        rc = sp_buf_addch(out, '(', err);
        if (!rc)
            rc = format_inner(t->elem, out, err, depth + 1);
        if (!rc)
            rc = sp_buf_addch(out, ')', err);
        break;
    case SP_T_MAP:
        if (!t->elem || !t->key)
            return sp_error_set(err, SP_EINVAL, 0, "type: Map without key or value type");
        rc = sp_buf_addch(out, '(', err);
        if (!rc)
            rc = format_inner(t->key, out, err, depth + 1);
        if (!rc)
            rc = sp_buf_adds(out, ", ", err);
        if (!rc)
            rc = format_inner(t->elem, out, err, depth + 1);
        if (!rc)
            rc = sp_buf_addch(out, ')', err);
        break;
    case SP_T_TUPLE:
        rc = sp_buf_addch(out, '(', err);
        for (size_t i = 0; !rc && i < t->nelems; i++) {
            if (i)
                rc = sp_buf_adds(out, ", ", err);
            const char *nm = t->names ? t->names[i] : NULL;
            if (!rc && nm) {
                if (name_needs_quotes(nm))
                    rc = sp_buf_addf(out, err, "`%s` ", nm);
                else
                    rc = sp_buf_addf(out, err, "%s ", nm);
            }
            if (!rc && (!t->elems || !t->elems[i]))
                return sp_error_set(err, SP_EINVAL, 0, "type: Tuple element %zu missing", i);
            if (!rc)
                rc = format_inner(t->elems[i], out, err, depth + 1);
        }
        if (!rc)
            rc = sp_buf_addch(out, ')', err);
        break;
    case SP_T_ENUM8:
    case SP_T_ENUM16:
        if (t->enum_body)
            rc = sp_buf_addf(out, err, "(%s)", t->enum_body);
        break;
    default:
        break;
    }
    if (!rc && t->nullable)
        rc = sp_buf_addch(out, ')', err);
    if (!rc && t->low_cardinality)
        rc = sp_buf_addch(out, ')', err);
    return rc;
}

int sp_type_format(const sp_type *t, sp_buf *out, sp_error *err)
{
    if (!t)
        return sp_error_set(err, SP_EINVAL, 0, "type: none");
    return format_inner(t, out, err, 0);
}

/* ------------------------------------------------------------ classes */

int sp_kind_is_signed(sp_kind k)
{
    return k == SP_T_INT8 || k == SP_T_INT16 || k == SP_T_INT32 || k == SP_T_INT64;
}

int sp_kind_is_unsigned(sp_kind k)
{
    return k == SP_T_BOOL || k == SP_T_UINT8 || k == SP_T_UINT16 || k == SP_T_UINT32 ||
           k == SP_T_UINT64;
}

int sp_kind_is_bigint(sp_kind k)
{
    return k == SP_T_INT128 || k == SP_T_INT256 || k == SP_T_UINT128 || k == SP_T_UINT256;
}

int sp_kind_json_number(sp_kind k)
{
    return (sp_kind_is_signed(k) || sp_kind_is_unsigned(k) || sp_kind_is_bigint(k) ||
            k == SP_T_FLOAT32 || k == SP_T_FLOAT64 || k == SP_T_DECIMAL) &&
           k != SP_T_BOOL;
}

int sp_type_tz_is_utc(const char *tz)
{
    static const char *const names[] = { "UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal",
                                         "Etc/Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT",
                                         "GMT0", "Etc/GMT0", "Greenwich", "Etc/Greenwich" };
    for (size_t i = 0; tz && i < sizeof names / sizeof *names; i++)
        if (!strcmp(tz, names[i]))
            return 1;
    return 0;
}
