/* sp_template_expr: expressions inside {{ }} and {% if %} (see
 * sp_template_int.h, docs/templates.md).  A small recursive-descent parser
 * that evaluates as it parses.  Values that come from parameters leave only
 * as checked SQL literals or validated identifiers. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_template_int.h"

enum { V_NULL, V_BOOL, V_NUM, V_STR, V_SQL };

typedef struct val {
    int kind;
    double num;
    char *str; /* raw text (strings, numbers as written), owned */
    char *sql; /* rendered SQL, owned, or NULL: computed from the rest */
} val;

typedef struct ectx {
    const char *s;
    size_t p, b;
    const sp_param *params;
    size_t np;
    const char *where;
    sp__tcollect *col;
    sp_error *err;
    int rc;
    int depth;
} ectx;

static void val_free(val *v)
{
    free(v->str);
    free(v->sql);
    memset(v, 0, sizeof *v);
}

static int fail(ectx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ectx *c, int code, const char *fmt, ...)
{
    if (c->rc)
        return c->rc;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->rc = sp_error_set(c->err, code, 0, "%s%s%s", c->where ? c->where : "",
                         c->where ? ": " : "", msg);
    return c->rc;
}

static int oom(ectx *c)
{
    if (!c->rc)
        c->rc = sp_error_set(c->err, SP_ENOMEM, 0, "out of memory");
    return c->rc;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static const char *param_get(ectx *c, const char *name)
{
    for (size_t i = 0; i < c->np; i++)
        if (c->params[i].name && strcmp(c->params[i].name, name) == 0)
            return c->params[i].value ? c->params[i].value : "";
    return NULL;
}

/* ---- SQL rendering ---- */

/* a ClickHouse string literal: backslash and quote escaped */
static char *ch_quote(const char *s)
{
    sp_buf b = SP_BUF_INIT((size_t)1 << 26);
    int rc = sp_buf_addch(&b, '\'', NULL);
    for (const char *p = s; *p && !rc; p++) {
        if (*p == '\\' || *p == '\'')
            rc = sp_buf_addch(&b, '\\', NULL);
        if (!rc)
            rc = sp_buf_addch(&b, *p, NULL);
    }
    if (!rc)
        rc = sp_buf_addch(&b, '\'', NULL);
    if (rc) {
        sp_buf_release(&b);
        return NULL;
    }
    return sp_buf_detach(&b);
}

static int render_val(ectx *c, const val *v, sp_buf *out)
{
    if (v->sql)
        return sp_buf_adds(out, v->sql, c->err);
    switch (v->kind) {
    case V_NULL: return sp_buf_adds(out, "NULL", c->err);
    case V_BOOL: return sp_buf_adds(out, v->num != 0 ? "1" : "0", c->err);
    case V_NUM: return sp_buf_adds(out, v->str ? v->str : "0", c->err);
    default: {
        char *q = ch_quote(v->str ? v->str : "");
        if (!q)
            return oom(c);
        int rc = sp_buf_adds(out, q, c->err);
        free(q);
        return rc;
    }
    }
}

/* ---- lexing ---- */

static void ws(ectx *c)
{
    while (c->p < c->b && isspace((unsigned char)c->s[c->p]))
        c->p++;
}

static int peek(ectx *c, const char *op)
{
    ws(c);
    size_t n = strlen(op);
    return c->p + n <= c->b && memcmp(c->s + c->p, op, n) == 0;
}

static int accept(ectx *c, const char *op)
{
    if (!peek(c, op))
        return 0;
    c->p += strlen(op);
    return 1;
}

/* an identifier at p (no advance): its length or 0 */
static size_t ident_len(ectx *c)
{
    ws(c);
    size_t i = c->p;
    if (i < c->b && (isalpha((unsigned char)c->s[i]) || c->s[i] == '_')) {
        while (i < c->b && (isalnum((unsigned char)c->s[i]) || c->s[i] == '_'))
            i++;
    }
    return i - c->p;
}

static int accept_word(ectx *c, const char *w)
{
    size_t n = ident_len(c);
    if (n == strlen(w) && memcmp(c->s + c->p, w, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

static int expr(ectx *c, val *out);

static int string_lit(ectx *c, val *out)
{
    char q = c->s[c->p++];
    sp_buf b = SP_BUF_INIT((size_t)1 << 20);
    int rc = 0;
    while (c->p < c->b && c->s[c->p] != q && !rc) {
        char ch = c->s[c->p++];
        if (ch == '\\' && c->p < c->b) {
            ch = c->s[c->p++];
            ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
        }
        rc = sp_buf_addch(&b, ch, c->err);
    }
    if (c->p >= c->b) {
        sp_buf_release(&b);
        return fail(c, SP_EDEF, "template: unterminated string");
    }
    c->p++;
    out->kind = V_STR;
    out->str = rc ? NULL : sp_buf_detach(&b);
    sp_buf_release(&b);
    return out->str ? 0 : oom(c);
}

/* ---- typed parameters ---- */

static const struct {
    const char *name;
    int bits; /* integer width; 0 not an integer */
    int is_signed;
} int_types[] = {
    { "Int8", 8, 1 },     { "Int16", 16, 1 },   { "Int32", 32, 1 },   { "Int64", 64, 1 },
    { "Int128", 128, 1 }, { "Int256", 256, 1 }, { "UInt8", 8, 0 },    { "UInt16", 16, 0 },
    { "UInt32", 32, 0 },  { "UInt64", 64, 0 },  { "UInt128", 128, 0 }, { "UInt256", 256, 0 },
    { NULL, 0, 0 },
};

static int int_index(const char *t)
{
    for (int k = 0; int_types[k].name; k++)
        if (strcmp(t, int_types[k].name) == 0)
            return k;
    return -1;
}

static int is_typed_fn(const char *t)
{
    static const char *const names[] = { "String", "Boolean", "Float32", "Float64", "Date",
                                         "DateTime", "DateTime64", "Array", NULL };
    if (int_index(t) >= 0)
        return 1;
    for (int k = 0; names[k]; k++)
        if (strcmp(t, names[k]) == 0)
            return 1;
    return 0;
}

static int check_int(const char *s, int k)
{
    const char *p = s;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p || strlen(p) > 78)
        return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return 0;
    if (neg && !int_types[k].is_signed && strspn(p, "0") != strlen(p))
        return 0;
    int bits = int_types[k].bits;
    if (bits > 64)
        return 1;
    errno = 0;
    if (int_types[k].is_signed) {
        long long v = strtoll(s, NULL, 10);
        if (errno)
            return 0;
        long long lim = bits == 64 ? 0 : 1LL << (bits - 1);
        return bits == 64 || (v >= -lim && v < lim);
    }
    unsigned long long v = strtoull(p, NULL, 10);
    if (errno)
        return 0;
    return bits == 64 || v < (1ULL << bits);
}

static int check_date(const char *s, size_t *used)
{
    int y, m, d, n = 0;
    if (strlen(s) < 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    *used = 10;
    return 1;
}

/* normalise a DateTime(64) value into out (size >= 40); 0 if invalid */
static int check_datetime(const char *s, int frac_ok, char *out, size_t outlen)
{
    size_t used;
    if (!check_date(s, &used))
        return 0;
    if (s[10] == '\0') {
        snprintf(out, outlen, "%.10s 00:00:00", s);
        return 1;
    }
    if ((s[10] != ' ' && s[10] != 'T') || strlen(s) < 19)
        return 0;
    const char *t = s + 11;
    for (int i = 0; i < 8; i++)
        if ((i == 2 || i == 5) ? t[i] != ':' : !isdigit((unsigned char)t[i]))
            return 0;
    int hh = (t[0] - '0') * 10 + t[1] - '0', mi = (t[3] - '0') * 10 + t[4] - '0',
        ss = (t[6] - '0') * 10 + t[7] - '0';
    if (hh > 23 || mi > 59 || ss > 59)
        return 0;
    const char *f = t + 8;
    size_t nf = 0;
    if (*f == '.' && frac_ok) {
        nf = strspn(f + 1, "0123456789");
        if (nf < 1 || nf > 9)
            return 0;
        nf++;
    }
    if (f[nf] != '\0' && strcmp(f + nf, "Z") != 0)
        return 0;
    snprintf(out, outlen, "%.10s %.8s%.*s", s, t, (int)nf, f);
    return 1;
}

/* validate raw text as type and fill v; 0 or SP_EPARAM */
static int typed_value(ectx *c, const char *pname, const char *type, const char *raw, val *v)
{
    char buf[64];
    int k = int_index(type);
    if (k >= 0) {
        if (!check_int(raw, k))
            goto bad;
        v->kind = V_NUM;
        v->num = strtod(raw, NULL);
        v->str = strdup(raw[0] == '+' ? raw + 1 : raw);
        return v->str ? 0 : oom(c);
    }
    if (strcmp(type, "Float32") == 0 || strcmp(type, "Float64") == 0) {
        char *e;
        errno = 0;
        double d = strtod(raw, &e);
        if (!*raw || *e || errno || !isfinite(d) || strpbrk(raw, "xX"))
            goto bad;
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        v->kind = V_NUM;
        v->num = d;
        v->str = strdup(buf);
        return v->str ? 0 : oom(c);
    }
    if (strcmp(type, "Boolean") == 0) {
        int t = strcasecmp(raw, "true") == 0 || strcmp(raw, "1") == 0;
        int f = strcasecmp(raw, "false") == 0 || strcmp(raw, "0") == 0;
        if (!t && !f)
            goto bad;
        v->kind = V_BOOL;
        v->num = t;
        return 0;
    }
    if (strcmp(type, "Date") == 0 || strcmp(type, "DateTime") == 0 ||
        strcmp(type, "DateTime64") == 0) {
        size_t used;
        if (type[4] == '\0') {
            if (!check_date(raw, &used) || raw[used])
                goto bad;
            snprintf(buf, sizeof buf, "%.10s", raw);
        } else if (!check_datetime(raw, type[8] == '6', buf, sizeof buf)) {
            goto bad;
        }
        v->kind = V_STR;
        v->str = strdup(buf);
        v->sql = ch_quote(buf);
        return v->str && v->sql ? 0 : oom(c);
    }
    /* String */
    v->kind = V_STR;
    v->str = strdup(raw);
    return v->str ? 0 : oom(c);
bad:;
    char shown[80];
    snprintf(shown, sizeof shown, "%s", raw);
    return fail(c, SP_EPARAM, "param '%.100s': '%s' is not a valid %s", pname, shown, type);
}

/* Array(name, 'Type', default='1,2') */
static int array_value(ectx *c, const char *pname, const char *etype, const char *raw, val *v)
{
    if (!is_typed_fn(etype) || strcmp(etype, "Array") == 0)
        return fail(c, SP_EDEF, "template: Array element type '%s' is not supported", etype);
    sp_buf b = SP_BUF_INIT((size_t)1 << 26);
    int rc = sp_buf_addch(&b, '[', c->err);
    const char *p = raw;
    int first = 1;
    while (!rc && *raw) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && isspace((unsigned char)*p))
            p++, n--;
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        char *item = dupn(p, n);
        val iv;
        memset(&iv, 0, sizeof iv);
        if (!item) {
            rc = oom(c);
            break;
        }
        rc = typed_value(c, pname, etype, item, &iv);
        free(item);
        if (!rc && !first)
            rc = sp_buf_addch(&b, ',', c->err);
        if (!rc)
            rc = render_val(c, &iv, &b);
        val_free(&iv);
        first = 0;
        if (!e)
            break;
        p = e + 1;
    }
    if (!rc)
        rc = sp_buf_addch(&b, ']', c->err);
    if (rc) {
        sp_buf_release(&b);
        return rc;
    }
    v->kind = V_SQL;
    v->sql = sp_buf_detach(&b);
    v->str = strdup(raw);
    return v->sql && v->str ? 0 : oom(c);
}

typedef struct arg {
    char *kw;    /* keyword name or NULL */
    char *ident; /* the argument was a bare name: that name */
    val v;
} arg;

static const char *val_text(const val *v, char *buf, size_t n)
{
    if (v->kind == V_BOOL)
        return v->num != 0 ? "true" : "false";
    if (v->kind == V_NULL)
        return NULL;
    if (v->str)
        return v->str;
    snprintf(buf, n, "%.17g", v->num);
    return buf;
}

static void collect(ectx *c, const char *name, const char *type, const char *def,
                    const char *desc, int required)
{
    sp__tcollect *col = c->col;
    for (size_t i = 0; i < col->n; i++)
        if (strcmp(col->v[i].name, name) == 0) {
            if (!col->v[i].default_val && def)
                col->v[i].default_val = strdup(def);
            if (!col->v[i].description && desc)
                col->v[i].description = strdup(desc);
            col->v[i].required |= required;
            return;
        }
    if (col->n == col->cap) {
        size_t nc = col->cap ? 2 * col->cap : 8;
        sp_tparam *nv = realloc(col->v, nc * sizeof *nv);
        if (!nv) {
            oom(c);
            return;
        }
        col->v = nv;
        col->cap = nc;
    }
    sp_tparam *t = &col->v[col->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->type = strdup(type);
    t->default_val = def ? strdup(def) : NULL;
    t->description = desc ? strdup(desc) : NULL;
    t->required = required;
    col->n++;
    if (!t->name || !t->type || (def && !t->default_val) || (desc && !t->description))
        oom(c);
}

static int truthy(const val *v)
{
    switch (v->kind) {
    case V_NULL: return 0;
    case V_BOOL:
    case V_NUM: return v->num != 0;
    case V_STR: return v->str && *v->str;
    default: return 1;
    }
}

static int call_typed(ectx *c, const char *fn, arg *a, size_t na, val *out)
{
    const char *pname = na ? a[0].ident : NULL;
    if (!pname || a[0].kw)
        return fail(c, SP_EDEF, "template: %s() needs a parameter name first", fn);
    int is_array = strcmp(fn, "Array") == 0;
    const char *etype = NULL, *desc = NULL;
    const val *def = NULL;
    int required = 0;
    size_t pos = 1;
    if (is_array) {
        if (na < 2 || a[1].kw || a[1].v.kind != V_STR)
            return fail(c, SP_EDEF, "template: Array(%s, 'Type') needs an element type",
                        pname);
        etype = a[1].v.str;
        pos = 2;
    }
    for (size_t i = pos; i < na; i++) {
        if (!a[i].kw) {
            if (i == pos)
                def = &a[i].v;
        } else if (strcmp(a[i].kw, "default") == 0) {
            def = &a[i].v;
        } else if (strcmp(a[i].kw, "description") == 0) {
            desc = a[i].v.str;
        } else if (strcmp(a[i].kw, "required") == 0) {
            required = truthy(&a[i].v);
        }
    }
    char nb[64];
    const char *deftext = def ? val_text(def, nb, sizeof nb) : NULL;
    if (c->col) {
        collect(c, pname, is_array ? "Array" : fn, deftext, desc, required);
        out->kind = V_NULL;
        return c->rc;
    }
    const char *raw = param_get(c, pname);
    if (!raw)
        raw = deftext;
    if (!raw) {
        if (required)
            return fail(c, SP_EPARAM, "param '%s' is required", pname);
        out->kind = V_NULL;
        return 0;
    }
    if (is_array)
        return array_value(c, pname, etype, raw, out);
    return typed_value(c, pname, fn, raw, out);
}

static int valid_ident(const char *s)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int start = p == s || p[-1] == '.';
        if (*p == '.' && !start && p[1])
            continue;
        if (!(isalpha((unsigned char)*p) || *p == '_' || (!start && isdigit((unsigned char)*p))))
            return 0;
    }
    return 1;
}

/* `a`.`b` into b */
static int add_ident(ectx *c, sp_buf *b, const char *s, size_t n)
{
    int rc = sp_buf_addch(b, '`', c->err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == '.' ? sp_buf_adds(b, "`.`", c->err) : sp_buf_addch(b, s[i], c->err);
    return rc ? rc : sp_buf_addch(b, '`', c->err);
}

static int call_columns(ectx *c, const char *fn, arg *a, size_t na, val *out)
{
    const char *pname = na ? a[0].ident : NULL;
    if (!pname)
        return fail(c, SP_EDEF, "template: %s() needs a parameter name first", fn);
    const char *raw = param_get(c, pname);
    char nb[64];
    if (!raw && na > 1)
        raw = val_text(&a[1].v, nb, sizeof nb);
    if (c->col) {
        out->kind = V_NULL;
        return 0;
    }
    if (!raw)
        return fail(c, SP_EPARAM, "param '%s' is required", pname);
    int multi = strcmp(fn, "columns") == 0;
    sp_buf b = SP_BUF_INIT((size_t)1 << 20);
    int rc = 0;
    const char *p = raw;
    for (int first = 1; !rc; first = 0) {
        const char *e = multi ? strchr(p, ',') : NULL;
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && isspace((unsigned char)*p))
            p++, n--;
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        char *id = dupn(p, n);
        if (!id) {
            rc = oom(c);
            break;
        }
        if (!valid_ident(id)) {
            char shown[80];
            snprintf(shown, sizeof shown, "%s", id);
            free(id);
            rc = fail(c, SP_EPARAM, "param '%s': '%s' is not a valid column name", pname, shown);
            break;
        }
        if (!first)
            rc = sp_buf_adds(&b, ", ", c->err);
        if (!rc)
            rc = add_ident(c, &b, id, n);
        free(id);
        if (!e)
            break;
        p = e + 1;
    }
    if (rc) {
        sp_buf_release(&b);
        return rc;
    }
    out->kind = V_SQL;
    out->sql = sp_buf_detach(&b);
    return out->sql ? 0 : oom(c);
}

static int call(ectx *c, const char *fn, arg *a, size_t na, val *out)
{
    if (is_typed_fn(fn))
        return call_typed(c, fn, a, na, out);
    if (strcmp(fn, "defined") == 0) {
        if (na != 1 || !a[0].ident)
            return fail(c, SP_EDEF, "template: defined() needs a parameter name");
        out->kind = V_BOOL;
        out->num = param_get(c, a[0].ident) != NULL;
        return 0;
    }
    if (strcmp(fn, "column") == 0 || strcmp(fn, "columns") == 0 || strcmp(fn, "symbol") == 0)
        return call_columns(c, fn, a, na, out);
    if (strcmp(fn, "sql_unescape") == 0) {
        if (na < 1)
            return fail(c, SP_EDEF, "template: sql_unescape() needs a value");
        const char *chars = na > 1 && a[1].v.kind == V_STR ? a[1].v.str : "%";
        if (a[0].v.kind != V_STR || !a[0].v.str) {
            *out = a[0].v;
            memset(&a[0].v, 0, sizeof a[0].v);
            return 0;
        }
        char *s = a[0].v.str, *w = s;
        for (char *r = s; *r; r++) {
            if (*r == '\\' && r[1] && strchr(chars, r[1]))
                r++;
            *w++ = *r;
        }
        *w = '\0';
        out->kind = V_STR;
        out->str = s;
        a[0].v.str = NULL;
        return 0;
    }
    if (strcmp(fn, "split_to_array") == 0) {
        /* split_to_array(String(x[, 'a,b'])[, 'default']) -> ['a','b'] */
        char nb[64];
        const char *raw = na ? val_text(&a[0].v, nb, sizeof nb) : NULL;
        if (!raw && na > 1)
            raw = val_text(&a[1].v, nb, sizeof nb);
        if (c->col) {
            out->kind = V_NULL;
            return 0;
        }
        return array_value(c, na && a[0].ident ? a[0].ident : "split_to_array", "String",
                           raw ? raw : "", out);
    }
    if (strcmp(fn, "error") == 0 || strcmp(fn, "custom_error") == 0) {
        if (c->col) {
            out->kind = V_NULL;
            return 0;
        }
        const char *m = na && a[0].v.kind == V_STR && a[0].v.str ? a[0].v.str : "error";
        return fail(c, SP_EPARAM, "%.300s", m);
    }
    return fail(c, SP_EDEF, "template: unknown function '%s'", fn);
}

static int primary(ectx *c, val *out)
{
    memset(out, 0, sizeof *out);
    if (++c->depth > 100)
        return fail(c, SP_EDEF, "template: expression nested too deeply");
    ws(c);
    int rc = 0;
    if (c->p >= c->b) {
        rc = fail(c, SP_EDEF, "template: expression expected");
    } else if (accept(c, "(")) {
        rc = expr(c, out);
        if (!rc && !accept(c, ")"))
            rc = fail(c, SP_EDEF, "template: ')' expected");
    } else if (c->s[c->p] == '\'' || c->s[c->p] == '"') {
        rc = string_lit(c, out);
    } else if (isdigit((unsigned char)c->s[c->p]) || c->s[c->p] == '-') {
        size_t st = c->p;
        c->p++;
        while (c->p < c->b && (isdigit((unsigned char)c->s[c->p]) || c->s[c->p] == '.'))
            c->p++;
        out->kind = V_NUM;
        out->str = dupn(c->s + st, c->p - st);
        if (!out->str)
            rc = oom(c);
        else {
            char *e;
            out->num = strtod(out->str, &e);
            if (*e || e == out->str)
                rc = fail(c, SP_EDEF, "template: bad number '%s'", out->str);
        }
    } else if (ident_len(c)) {
        size_t n = ident_len(c);
        char *name = dupn(c->s + c->p, n);
        if (!name)
            return oom(c);
        c->p += n;
        if (strcmp(name, "True") == 0 || strcmp(name, "False") == 0) {
            out->kind = V_BOOL;
            out->num = name[0] == 'T';
        } else if (strcmp(name, "None") == 0) {
            out->kind = V_NULL;
        } else if (accept(c, "(")) {
            arg args[16];
            size_t na = 0;
            memset(args, 0, sizeof args);
            while (!rc && !accept(c, ")")) {
                if (na && !accept(c, ","))
                    rc = fail(c, SP_EDEF, "template: ',' or ')' expected in %s()", name);
                if (rc)
                    break;
                if (na == 16) {
                    rc = fail(c, SP_EDEF, "template: too many arguments to %s()", name);
                    break;
                }
                arg *a = &args[na++];
                size_t il = ident_len(c), save = c->p;
                if (il) { /* keyword argument, or a bare name? */
                    c->p += il;
                    if (accept(c, "=") && !peek(c, "=")) {
                        a->kw = dupn(c->s + save, il);
                    } else {
                        ws(c);
                        if (peek(c, ",") || peek(c, ")"))
                            a->ident = dupn(c->s + save, il);
                        c->p = save;
                    }
                }
                rc = expr(c, &a->v);
            }
            if (!rc)
                rc = call(c, name, args, na, out);
            for (size_t i = 0; i < na; i++) {
                free(args[i].kw);
                free(args[i].ident);
                val_free(&args[i].v);
            }
        } else {
            const char *v = c->col ? NULL : param_get(c, name);
            if (v) {
                out->kind = V_STR;
                out->str = strdup(v);
                if (!out->str)
                    rc = oom(c);
            } else {
                out->kind = V_NULL;
            }
        }
        free(name);
    } else {
        char tok[2] = { c->s[c->p], 0 };
        rc = fail(c, SP_EDEF, "template: unexpected '%s'", tok);
    }
    c->depth--;
    return rc;
}

static int is_numeric(const val *v, double *d)
{
    if (v->kind == V_NUM || v->kind == V_BOOL) {
        *d = v->num;
        return 1;
    }
    if (v->kind == V_STR && v->str && *v->str) {
        char *e;
        *d = strtod(v->str, &e);
        return *e == '\0';
    }
    return 0;
}

static int compare(ectx *c, val *out)
{
    int rc = primary(c, out);
    static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">", NULL };
    while (!rc) {
        int k = 0;
        for (; ops[k]; k++)
            if (accept(c, ops[k]))
                break;
        if (!ops[k])
            break;
        val r;
        memset(&r, 0, sizeof r);
        if ((rc = primary(c, &r))) {
            val_free(&r); /* a failed operand may hold a partial value */
            break;
        }
        int res;
        double x, y;
        if (out->kind == V_NULL || r.kind == V_NULL) {
            res = k == 0 ? out->kind == r.kind : k == 1 ? out->kind != r.kind : 0;
        } else {
            int cmp;
            if (is_numeric(out, &x) && is_numeric(&r, &y))
                cmp = x < y ? -1 : x > y;
            else
                cmp = strcmp(out->str ? out->str : "", r.str ? r.str : "");
            res = k == 0 ? cmp == 0 : k == 1 ? cmp != 0 : k == 2 ? cmp <= 0
                : k == 3 ? cmp >= 0 : k == 4 ? cmp < 0 : cmp > 0;
        }
        val_free(&r);
        val_free(out);
        out->kind = V_BOOL;
        out->num = res;
    }
    return rc;
}

static int not_expr(ectx *c, val *out)
{
    if (accept_word(c, "not")) {
        int rc = not_expr(c, out);
        if (!rc) {
            int t = truthy(out);
            val_free(out);
            out->kind = V_BOOL;
            out->num = !t;
        }
        return rc;
    }
    return compare(c, out);
}

static int bool_chain(ectx *c, val *out, int is_or)
{
    int rc = is_or ? bool_chain(c, out, 0) : not_expr(c, out);
    while (!rc && accept_word(c, is_or ? "or" : "and")) {
        val r;
        memset(&r, 0, sizeof r);
        rc = is_or ? bool_chain(c, &r, 0) : not_expr(c, &r);
        if (rc) {
            val_free(&r); /* a failed operand may hold a partial value */
            break;
        }
        int t = is_or ? (truthy(out) || truthy(&r)) : (truthy(out) && truthy(&r));
        val_free(&r);
        val_free(out);
        out->kind = V_BOOL;
        out->num = t;
    }
    return rc;
}

static int expr(ectx *c, val *out)
{
    return bool_chain(c, out, 1);
}

static int eval(ectx *c, val *v)
{
    int rc = expr(c, v);
    ws(c);
    if (!rc && c->p < c->b) {
        char tok[2] = { c->s[c->p], 0 };
        rc = fail(c, SP_EDEF, "template: unexpected '%s' after the expression", tok);
    }
    return rc;
}

int sp__texpr_render(const char *src, size_t a, size_t b, const sp_param *params,
                     size_t nparams, const char *where, sp_buf *out, sp__tcollect *col,
                     sp_error *err)
{
    ectx c = { src, a, b, params, nparams, where, col, err, 0, 0 };
    val v;
    memset(&v, 0, sizeof v);
    int rc = eval(&c, &v);
    if (!rc && out)
        rc = render_val(&c, &v, out);
    val_free(&v);
    return rc;
}

int sp__texpr_truth(const char *src, size_t a, size_t b, const sp_param *params,
                    size_t nparams, const char *where, int *truth, sp__tcollect *col,
                    sp_error *err)
{
    ectx c = { src, a, b, params, nparams, where, col, err, 0, 0 };
    val v;
    memset(&v, 0, sizeof v);
    int rc = eval(&c, &v);
    *truth = rc ? 0 : truthy(&v);
    val_free(&v);
    return rc;
}
