/* sp_template_fn: Tinybird's template functions (see docs/templates.md):
 * typed parameters and helpers with the semantics of Tinybird's
 * sql_template.py; Python's builtins and methods are in sp_template_py.  Every value that reaches SQL
 * from here is a checked number, an escaped string literal or an escaped
 * (back-quoted) identifier. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_time.h"
#include "sp_banned.h"

#define NOPOS UINT32_MAX

/* ---------------------------------------------------------- arguments */

/* bind args to the names in spec (positional first, then keywords);
 * out[i] points at the bound value or NULL */
int sp__tbind(tctx *c, const char *fn, const char *const *spec, targ *a, size_t na,
              const tv **out, uint32_t pos)
{
    size_t ns = 0;
    while (spec[ns])
        ns++;
    for (size_t i = 0; i < ns; i++)
        out[i] = NULL;
    size_t p = 0;
    for (size_t i = 0; i < na; i++) {
        size_t k;
        if (!a[i].kw) {
            if (p >= ns)
                return sp__tfail(c, SP_EDEF, pos, "%s() takes at most %zu positional arguments",
                                 fn, ns);
            k = p++;
        } else {
            for (k = 0; k < ns; k++)
                if (strlen(spec[k]) == a[i].kwlen && !memcmp(spec[k], a[i].kw, a[i].kwlen))
                    break;
            if (k == ns)
                return sp__tfail(c, SP_EDEF, pos, "%s() got an unexpected keyword argument '%.*s'",
                                 fn, (int)a[i].kwlen, a[i].kw);
        }
        if (out[k])
            return sp__tfail(c, SP_EDEF, pos, "%s() got multiple values for argument '%s'", fn,
                             spec[k]);
        out[k] = &a[i].v;
    }
    return 0;
}

static const tv NONE_V = { TV_NONE, 0, 0, { 0 } };

static const tv *opt(const tv *v)
{
    return v ? v : &NONE_V;
}

/* the parameter name behind an argument (a bare name), for messages */
static void arg_name(tctx *c, const targ *a, char *buf, size_t n)
{
    const tnode *nd = a ? &c->ast->v[a->node] : NULL;
    if (nd && nd->kind == N_NAME)
        snprintf(buf, n, "%.*s", (int)nd->namelen, c->src + nd->name);
    else if (nd)
        snprintf(buf, n, "%.*s", (int)(nd->end - nd->pos > 40 ? 40 : nd->end - nd->pos),
                 c->src + nd->pos);
    else
        snprintf(buf, n, "?");
}

static int need_str(tctx *c, const char *fn, const tv *v, uint32_t pos)
{
    if (v->kind != TV_STR)
        return sp__tfail(c, SP_EDEF, pos, "%s() expects a string, not %s", fn, sp__tv_typename(v));
    return 0;
}

static int raw_str(tctx *c, const char *s, size_t n, tv *out)
{
    int rc = sp__tv_str(c, s, n, out);
    if (!rc)
        out->flags = TVF_RAW;
    return rc;
}

static int buf_to_raw(tctx *c, sp_buf *b, int rc, tv *out)
{
    if (!rc)
        rc = raw_str(c, b->data ? b->data : "", b->len, out);
    sp_buf_release(b);
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
}

/* ---------------------------------------------------- typed validation */

static const struct {
    const char *name;
    int bits, is_signed;
    const char *min, *max; /* limits past 64 bits */
} int_types[] = {
    { "Int8", 8, 1, NULL, NULL },
    { "Int16", 16, 1, NULL, NULL },
    { "Int32", 32, 1, NULL, NULL },
    { "Int64", 64, 1, NULL, NULL },
    { "Int128", 128, 1, "170141183460469231731687303715884105728",
      "170141183460469231731687303715884105727" },
    { "Int256", 256, 1,
      "57896044618658097711785492504343953926634992332820282019728792003956564819968",
      "57896044618658097711785492504343953926634992332820282019728792003956564819967" },
    { "UInt8", 8, 0, NULL, NULL },
    { "UInt16", 16, 0, NULL, NULL },
    { "UInt32", 32, 0, NULL, NULL },
    { "UInt64", 64, 0, NULL, NULL },
    { "UInt128", 128, 0, NULL, "340282366920938463463374607431768211455" },
    { "UInt256", 256, 0, NULL,
      "115792089237316195423570985008687907853269984665640564039457584007913129639935" },
    { NULL, 0, 0, NULL, NULL },
};

static int int_index(const char *t)
{
    if (!strcmp(t, "Int") || !strcmp(t, "Integer"))
        return 2;
    for (int k = 0; int_types[k].name; k++)
        if (!strcmp(t, int_types[k].name))
            return k;
    return -1;
}

static int sqlt_of(const char *t)
{
    for (int k = 0; sp__tnum_types[k]; k++)
        if (!strcmp(t, sp__tnum_types[k]))
            return k + 1;
    return 0;
}

static int digits_le(const char *d, size_t n, const char *lim)
{
    size_t l = strlen(lim);
    return n != l ? n < l : memcmp(d, lim, n) <= 0;
}

/* an integer of type k from text: Tinybird's ^[+-]?\d+$ with the type's
 * range; *out TV_INT or TV_BIG, normalised */
int sp__tparse_int(tctx *c, const char *s, int k, tv *out)
{
    const char *p = s;
    int neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return 0;
    while (*p == '0' && p[1])
        p++;
    size_t n = strlen(p);
    if (n == 1 && *p == '0')
        neg = 0;
    if (neg && !int_types[k].is_signed)
        return 0;
    int bits = int_types[k].bits;
    if (bits <= 64) {
        if (n > 20)
            return 0;
        errno = 0;
        if (int_types[k].is_signed) {
            char buf[24];
            snprintf(buf, sizeof buf, "%s%s", neg ? "-" : "", p);
            long long v = strtoll(buf, NULL, 10);
            if (errno)
                return 0;
            if (bits < 64 && (v < -(1LL << (bits - 1)) || v >= (1LL << (bits - 1))))
                return 0;
            *out = sp__tv_int(v);
        } else {
            unsigned long long v = strtoull(p, NULL, 10);
            if (errno || (bits < 64 && v >= (1ULL << bits)))
                return 0;
            if (v > INT64_MAX) {
                if (sp__tv_str(c, p, n, out))
                    return -1;
                out->kind = TV_BIG;
                return 1;
            }
            *out = sp__tv_int((int64_t)v);
        }
        return 1;
    }
    if (!digits_le(p, n, neg ? int_types[k].min : int_types[k].max))
        return 0;
    if (n < 19) {
        char buf[24];
        snprintf(buf, sizeof buf, "%s%s", neg ? "-" : "", p);
        *out = sp__tv_int(strtoll(buf, NULL, 10));
        return 1;
    }
    char *buf = malloc(n + 2);
    if (!buf)
        return -1;
    snprintf(buf, n + 2, "%s%s", neg ? "-" : "", p);
    int rc = sp__tv_strz(c, buf, out);
    free(buf);
    if (rc)
        return -1;
    out->kind = TV_BIG;
    return 1;
}

/* Python float(): optional spaces, sign, digits/./exponent, inf, nan */
int sp__tparse_float(const char *s, double *d)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || strchr(s, '_') || strpbrk(s, "xXpP(") )
        return 0;
    char *e;
    errno = 0;
    *d = strtod(s, &e);
    if (e == s)
        return 0;
    while (isspace((unsigned char)*e))
        e++;
    return *e == '\0';
}

static int check_date(const char *s)
{
    int y = 0, m = 0, d = 0;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return 0;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    return d >= 1 && d <= sp_days_in_month(y, m);
}

/* DateTime(64) text normalised into out: 'YYYY-MM-DD hh:mm:ss[.fff]' from
 * a date, `T`, a trailing Z */
static int check_datetime(const char *s, int frac_ok, char *out, size_t outlen)
{
    if (strlen(s) < 10 || !check_date(s))
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
    if (f[nf] != '\0' && strcmp(f + nf, "Z") != 0 && strcmp(f + nf, "z") != 0)
        return 0;
    snprintf(out, outlen, "%.10s %.8s%.*s", s, t, (int)nf, f);
    return 1;
}

/* Tinybird's boolean(): "0"/"false" (any case) and empty are 0, else 1 */
static tv boolean_of(const tv *x)
{
    if (x->kind == TV_STR) {
        const char *s = x->u.o->s;
        return sp__tv_int(!(x->u.o->n == 0 || !strcmp(s, "0") || !strcasecmp(s, "false")));
    }
    return sp__tv_int(sp__tv_truthy(x));
}

/* convert x (any value) to `type` the way Tinybird's transform_type does
 * after its tests.  plain: Int/Integer and Array items (plain ints/floats). */
static int convert(tctx *c, const char *pname, const char *type, const tv *x, tv *out, int plain,
                   const char *item, uint32_t pos)
{
    tv s;
    int rc = sp__tv_tostr(c, x, &s);
    if (rc)
        return rc;
    const char *raw = s.u.o->s;
    char buf[64];
    int k = int_index(type);
    if (k >= 0) {
        int r = sp__tparse_int(c, raw, k, out);
        if (r < 0) {
            sp__tv_drop(&s);
            return sp__toom(c);
        }
        if (!r)
            goto bad;
        if (!plain)
            out->sqlt = (uint8_t)sqlt_of(int_types[k].name);
    } else if (!strcmp(type, "Float32") || !strcmp(type, "Float64")) {
        double d;
        if (!sp__tparse_float(raw, &d))
            goto bad;
        *out = sp__tv_float(d);
        if (!plain)
            out->sqlt = (uint8_t)sqlt_of(type);
    } else if (!strcmp(type, "Boolean") || !strcmp(type, "bool")) {
        *out = boolean_of(x);
    } else if (!strcmp(type, "Date")) {
        if (strlen(raw) != 10 || !check_date(raw))
            goto bad;
        rc = sp__tv_str(c, raw, 10, out);
    } else if (!strcmp(type, "DateTime") || !strcmp(type, "DateTime64")) {
        if (!check_datetime(raw, type[8] == '6', buf, sizeof buf))
            goto bad;
        rc = sp__tv_strz(c, buf, out);
    } else if (!strcmp(type, "Symbol") || !strcmp(type, "Column")) {
        sp_buf b = SP_BUF_INIT((size_t)1 << 20);
        rc = sp_buf_addch(&b, '`', c->err);
        if (!rc)
            rc = sp__tsql_escape_ident(c, raw, s.u.o->n, &b);
        if (!rc)
            rc = sp_buf_addch(&b, '`', c->err);
        rc = buf_to_raw(c, &b, rc, out);
    } else { /* String and any other type: the text */
        *out = s;
        return 0;
    }
    sp__tv_drop(&s);
    return rc;
bad:;
    char shown[80];
    snprintf(shown, sizeof shown, "%s", raw);
    if (!*raw && item)
        rc = sp__tfail(c, SP_EPARAM, pos, "param '%s': %s (empty string) is not a valid %s", pname,
                       item, type);
    else if (item)
        rc = sp__tfail(c, SP_EPARAM, pos, "param '%s': %s '%s' is not a valid %s", pname, item,
                       shown, type);
    else
        rc = sp__tfail(c, SP_EPARAM, pos, "param '%s': '%s' is not a valid %s", pname, shown, type);
    sp__tv_drop(&s);
    return rc;
}

/* the value a parameter of `type` takes while checking */
static const char *placeholder_of(const char *type)
{
    if (!strcmp(type, "DateTime64"))
        return "2019-01-01 00:00:00.000";
    if (!strcmp(type, "DateTime"))
        return "2019-01-01 00:00:00";
    if (!strcmp(type, "Date"))
        return "2019-01-01";
    if (!strcmp(type, "String"))
        return "__no_value__";
    if (!strcmp(type, "Symbol") || !strcmp(type, "Column"))
        return "symbol";
    if (!strcmp(type, "Float32") || !strcmp(type, "Float64"))
        return "0.0";
    if (int_index(type) >= 0)
        return "0";
    return NULL;
}

int sp__tarray_list(tctx *c, const char *pname, const tv *x, const char *etype, tv *out,
                    uint32_t pos)
{
    tv items = sp__tv_none();
    int rc = 0;
    if (x->kind == TV_LIST || x->kind == TV_TUPLE) {
        items = sp__tv_ref(x);
    } else {
        tv s;
        if ((rc = sp__tv_tostr(c, x, &s)))
            return rc;
        rc = sp__tv_seq(c, TV_LIST, 0, &items);
        const char *p = s.u.o->s, *end = p + s.u.o->n;
        while (!rc) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
            tv it;
            if (!(rc = sp__tv_str(c, p, n, &it)))
                rc = sp__tv_push(c, &items, it);
            if (!comma)
                break;
            p = comma + 1;
        }
        sp__tv_drop(&s);
    }
    if (!rc)
        rc = sp__tv_seq(c, TV_LIST, 0, out);
    int numeric = etype && (int_index(etype) >= 0 || !strncmp(etype, "Float", 5));
    for (size_t i = 0; !rc && i < items.u.o->n; i++) {
        const tv *it = &items.u.o->items[i];
        tv v;
        char item[32];
        snprintf(item, sizeof item, "item %zu", i);
        if (!etype) {
            rc = sp__tv_tostr(c, it, &v);
        } else if (numeric && it->kind == TV_STR) {
            /* numbers may carry spaces around them: " 2" reads as 2 */
            const char *s = it->u.o->s;
            size_t n = it->u.o->n;
            while (n && isspace((unsigned char)*s))
                s++, n--;
            while (n && isspace((unsigned char)s[n - 1]))
                n--;
            tv t;
            if (!(rc = sp__tv_str(c, s, n, &t))) {
                rc = convert(c, pname, etype, &t, &v, 1, item, pos);
                sp__tv_drop(&t);
            }
        } else {
            rc = convert(c, pname, etype, it, &v, 1, item, pos);
        }
        if (!rc)
            rc = sp__tv_push(c, out, v);
    }
    sp__tv_drop(&items);
    if (rc)
        sp__tv_drop(out);
    return rc;
}

/* the SQL of one Array item (Tinybird's expression_wrapper per item) */
static int array_sql(tctx *c, const tv *list, tv *out)
{
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    int rc = sp_buf_addch(&b, '[', c->err);
    for (size_t i = 0; !rc && i < list->u.o->n; i++) {
        if (i)
            rc = sp_buf_addch(&b, ',', c->err);
        if (!rc)
            rc = sp__tv_sql(c, &list->u.o->items[i], &b, "Array", NOPOS);
    }
    if (!rc)
        rc = sp_buf_addch(&b, ']', c->err);
    return buf_to_raw(c, &b, rc, out);
}

static int is_int_type(const char *n)
{
    return int_index(n) >= 0;
}

/* String, Int*, UInt*, Float*, Date, DateTime(64), Boolean, bool, Int, Integer, Array, JSON */
int sp__tis_typed(const char *name, size_t n)
{
    static const char *const names[] = { "String", "Boolean", "bool",  "Float32", "Float64", "Date",
                                         "DateTime", "DateTime64", "Array", "JSON", NULL };
    char buf[16];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, name, n);
    buf[n] = '\0';
    if (is_int_type(buf))
        return 1;
    for (int k = 0; names[k]; k++)
        if (!strcmp(buf, names[k]))
            return 1;
    return 0;
}

static int json_to_tv(tctx *c, json_t *j, tv *out, int depth)
{
    *out = sp__tv_none();
    if (depth > 100)
        return sp__tfail(c, SP_EPARAM, NOPOS, "JSON nested too deeply");
    int rc = 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        rc = sp__tv_seq(c, TV_DICT, 0, out);
        json_object_foreach(j, k, v) {
            tv kv, vv;
            if (rc || (rc = sp__tv_strz(c, k, &kv)) || (rc = sp__tv_push(c, out, kv)))
                break;
            if ((rc = json_to_tv(c, v, &vv, depth + 1)) || (rc = sp__tv_push(c, out, vv)))
                break;
        }
        if (!rc)
            out->u.o->n /= 2;
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        rc = sp__tv_seq(c, TV_LIST, 0, out);
        json_array_foreach(j, i, v) {
            tv vv;
            if (rc || (rc = json_to_tv(c, v, &vv, depth + 1)) || (rc = sp__tv_push(c, out, vv)))
                break;
        }
        break;
    }
    case JSON_STRING: rc = sp__tv_str(c, json_string_value(j), json_string_length(j), out); break;
    case JSON_INTEGER: *out = sp__tv_int(json_integer_value(j)); break;
    case JSON_REAL: *out = sp__tv_float(json_real_value(j)); break;
    case JSON_TRUE: *out = sp__tv_bool(1); break;
    case JSON_FALSE: *out = sp__tv_bool(0); break;
    default: break;
    }
    if (rc)
        sp__tv_drop(out);
    return rc;
}

static int fn_json(tctx *c, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "default", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, "JSON", spec, a, na, v, pos);
    if (rc)
        return rc;
    if (!v[0])
        return sp__tfail(c, SP_EDEF, pos, "JSON() needs a parameter");
    const tv *x = v[0], *def = opt(v[1]);
    tv tmp = sp__tv_none();
    if (x->kind == TV_PH)
        x = sp__tv_truthy(def) ? def : NULL;
    else if (x->kind == TV_NONE)
        x = def->kind == TV_STR ? def : NULL;
    if (x && x->kind != TV_STR) {
        *out = sp__tv_ref(x);
        return 0;
    }
    const char *text = x ? x->u.o->s : (v[0]->kind == TV_PH ? "__no_value__" : "{}");
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        return sp__tfail(c, SP_EPARAM, pos, "Error parsing JSON: '%.16s%s' - %s", text,
                         strlen(text) > 16 ? "..." : "", je.text);
    rc = json_to_tv(c, j, out, 0);
    json_decref(j);
    sp__tv_drop(&tmp);
    return rc;
}

/* String(x, default), Int32(x, …), Array(x, 'Type', default, …) */
static int fn_typed(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "default", "defined", "required", "description",
                                        "enum", "example", "format", NULL };
    static const char *const aspec[] = { "x", "_type", "default", "defined", "required",
                                         "description", "enum", "example", "format", NULL };
    static const char *const bspec[] = { "x", "default", NULL };
    int is_array = !strcmp(fn, "Array");
    int is_bool = !strcmp(fn, "Boolean") || !strcmp(fn, "bool");
    const tv *v[9];
    int rc = sp__tbind(c, fn, is_array ? aspec : is_bool ? bspec : spec, a, na, v, pos);
    if (rc)
        return rc;
    if (!v[0])
        return sp__tfail(c, SP_EDEF, pos, "%s() needs a parameter, e.g. %s(name)", fn, fn);
    char pname[64];
    size_t xi = 0;
    for (size_t i = 0; i < na; i++)
        if (&a[i].v == v[0])
            xi = i;
    arg_name(c, &a[xi], pname, sizeof pname);
    const tv *x = v[0];
    if (is_bool) {
        const tv *def = opt(v[1]);
        if (x->kind == TV_NONE || x->kind == TV_PH)
            *out = def->kind == TV_NONE ? sp__tv_int(0) : boolean_of(def);
        else
            *out = boolean_of(x);
        return 0;
    }
    const char *etype = NULL;
    const tv *def = opt(v[is_array ? 2 : 1]);
    const tv *defined = v[is_array ? 3 : 2];
    if (is_array && v[1]) {
        if (v[1]->kind != TV_STR)
            return sp__tfail(c, SP_EDEF, pos, "Array(%s, 'Type'): the type must be a string", pname);
        etype = v[1]->u.o->s;
    }
    if (is_array && v[4] && !v[1])
        (void)0;
    tv tmp = sp__tv_none();
    if (x->kind == TV_PH) {
        if (sp__tv_truthy(def)) {
            x = def;
        } else if (is_array) {
            const char *ph = etype ? placeholder_of(etype) : NULL;
            char buf[80];
            if (!ph || !strcmp(etype, "String"))
                buf[0] = '\0';
            else
                snprintf(buf, sizeof buf, "%s,%s", ph, ph);
            if ((rc = sp__tv_strz(c, buf, &tmp)))
                return rc;
            x = &tmp;
        } else {
            const char *ph = placeholder_of(fn);
            if ((rc = sp__tv_strz(c, ph ? ph : "__no_value__", &tmp)))
                return rc;
            x = &tmp;
        }
    } else if (x->kind == TV_NONE) {
        x = def;
        if (x->kind == TV_NONE) {
            if (!defined || sp__tv_truthy(defined))
                return sp__tfail(c, SP_EPARAM, pos, "param '%s' is required", pname);
            *out = sp__tv_none();
            return 0;
        }
    }
    if (is_array) {
        tv list;
        if (!(rc = sp__tarray_list(c, pname, x, etype, &list, pos))) {
            rc = array_sql(c, &list, out);
            sp__tv_drop(&list);
        }
    } else if (!strcmp(fn, "String")) {
        rc = sp__tv_tostr(c, x, out);
        if (!rc)
            out->flags = 0;
    } else {
        rc = convert(c, pname, fn, x, out, !strcmp(fn, "Int") || !strcmp(fn, "Integer"), NULL, pos);
    }
    sp__tv_drop(&tmp);
    return rc;
}

/* ------------------------------------------------------ identifiers */

static int valid_ident(const char *s, size_t n, int dotted)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int start = i == 0 || s[i - 1] == '.';
        if (dotted && s[i] == '.' && !start && i + 1 < n)
            continue;
        if (!(isalpha((unsigned char)s[i]) || s[i] == '_' || (!start && isdigit((unsigned char)s[i]))))
            return 0;
    }
    return 1;
}

/* `a`.`b` with Tinybird's escaping inside the backquotes */
static int add_column(tctx *c, sp_buf *b, const char *s, size_t n)
{
    int rc = 0;
    size_t st = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (st)
            rc = sp_buf_addch(b, '.', c->err);
        if (!rc)
            rc = sp_buf_addch(b, '`', c->err);
        if (!rc)
            rc = sp__tsql_escape_ident(c, s + st, i - st, b);
        if (!rc)
            rc = sp_buf_addch(b, '`', c->err);
        st = i + 1;
    }
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
}

static int fn_column(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "default", NULL };
    static const char *const cspec[] = { "x", "default", "fn", NULL };
    int multi = !strcmp(fn, "columns");
    const tv *v[3];
    int rc = sp__tbind(c, fn, multi ? cspec : spec, a, na, v, pos);
    if (rc)
        return rc;
    char pname[64];
    arg_name(c, na ? &a[0] : NULL, pname, sizeof pname);
    const tv *x = opt(v[0]);
    if (x->kind == TV_NONE || x->kind == TV_PH) {
        x = opt(v[1]);
        if (x->kind == TV_NONE)
            return sp__tfail(c, SP_EPARAM, pos,
                             "param '%s' is required: %s() has no default, use `%s(%s, "
                             "'default_column_name')`",
                             pname, fn, fn, pname);
    }
    if (x->kind == TV_LIST && multi)
        return sp__tfail(c, SP_EPARAM, pos, "The 'columns' function expects a String not an Array");
    tv s;
    if ((rc = sp__tv_tostr(c, x, &s)))
        return rc;
    const tv *f = multi ? opt(v[2]) : &NONE_V;
    if (f->kind != TV_NONE && (f->kind != TV_STR || !valid_ident(f->u.o->s, f->u.o->n, 0))) {
        sp__tv_drop(&s);
        return sp__tfail(c, SP_EDEF, pos, "columns(): fn must be a function name");
    }
    sp_buf b = SP_BUF_INIT((size_t)16 << 20);
    const char *p = s.u.o->s, *end = p + s.u.o->n;
    for (int first = 1; !rc; first = 0) {
        const char *comma = multi ? memchr(p, ',', (size_t)(end - p)) : NULL;
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
        const char *q = p;
        if (multi) {
            while (n && isspace((unsigned char)*q))
                q++, n--;
            while (n && isspace((unsigned char)q[n - 1]))
                n--;
        }
        if (!first)
            rc = sp_buf_addch(&b, ',', c->err);
        if (!rc && f->kind == TV_STR && !(rc = sp_buf_add(&b, f->u.o->s, f->u.o->n, c->err)))
            rc = sp_buf_addch(&b, '(', c->err);
        if (!rc)
            rc = add_column(c, &b, q, n);
        if (!rc && f->kind == TV_STR && !(rc = sp_buf_adds(&b, ") as `", c->err)) &&
            !(rc = sp__tsql_escape_ident(c, q, n, &b)))
            rc = sp_buf_addch(&b, '`', c->err);
        if (!comma)
            break;
        p = comma + 1;
    }
    sp__tv_drop(&s);
    return buf_to_raw(c, &b, rc, out);
}

static int fn_symbol(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "quote", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, fn, spec, a, na, v, pos);
    if (rc)
        return rc;
    const tv *x = opt(v[0]);
    int table = !strcmp(fn, "table") || !strcmp(fn, "TABLE");
    if (x->kind == TV_PH)
        return raw_str(c, table ? "placeholder" : "`placeholder`", table ? 11 : 13, out);
    char pname[64];
    arg_name(c, na ? &a[0] : NULL, pname, sizeof pname);
    if (x->kind != TV_STR)
        return sp__tfail(c, SP_EPARAM, pos, "param '%s': %s() needs a string, not %s", pname, fn,
                         sp__tv_typename(x));
    if (table) {
        if (v[1])
            return sp__tfail(c, SP_EDEF, pos, "%s() takes no quote", fn);
        if (!valid_ident(x->u.o->s, x->u.o->n, 1)) {
            char shown[80];
            snprintf(shown, sizeof shown, "%s", x->u.o->s);
            return sp__tfail(c, SP_EPARAM, pos, "param '%s': '%s' is not a valid table name", pname,
                             shown);
        }
        return raw_str(c, x->u.o->s, x->u.o->n, out);
    }
    const char *q = "`";
    if (v[1]) {
        if (v[1]->kind != TV_STR || (strcmp(v[1]->u.o->s, "`") && strcmp(v[1]->u.o->s, "\"")))
            return sp__tfail(c, SP_EDEF, pos, "symbol(): quote must be '`' or '\"'");
        q = v[1]->u.o->s;
    }
    sp_buf b = SP_BUF_INIT((size_t)1 << 20);
    rc = sp_buf_adds(&b, q, c->err);
    if (!rc)
        rc = sp__tsql_escape_ident(c, x->u.o->s, x->u.o->n, &b);
    if (!rc)
        rc = sp_buf_adds(&b, q, c->err);
    return buf_to_raw(c, &b, rc, out);
}

static int fn_sql_and(tctx *c, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const struct {
        const char *suffix, *op;
    } ops[] = { { "in", "in" }, { "not_in", "not in" }, { "gt", ">" }, { "lt", "<" },
                { "gte", ">=" }, { "lte", "<=" }, { NULL, NULL } };
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    int rc = 0, n = 0;
    for (size_t i = 0; i < na && !rc; i++) {
        if (!a[i].kw) {
            rc = sp__tfail(c, SP_EDEF, pos, "sql_and() takes keyword arguments only: column=value");
            break;
        }
        if (a[i].v.kind == TV_NONE)
            continue;
        const char *k = a[i].kw;
        size_t kl = a[i].kwlen, nl = kl;
        const char *op = "=";
        for (size_t j = kl; j >= 2; j--)
            if (k[j - 1] == '_' && k[j - 2] == '_') {
                nl = j - 2;
                size_t sl = kl - j;
                op = NULL;
                for (int t = 0; ops[t].suffix; t++)
                    if (strlen(ops[t].suffix) == sl && !memcmp(ops[t].suffix, k + j, sl))
                        op = ops[t].op;
                if (!op)
                    rc = sp__tfail(c, SP_EDEF, pos, "sql_and(): operand %.*s not supported", (int)sl,
                                   k + j);
                break;
            }
        if (rc)
            break;
        if (n++)
            rc = sp_buf_adds(&b, " and ", c->err);
        char what[80];
        snprintf(what, sizeof what, "%.*s", (int)kl, k);
        if (!rc)
            rc = sp_buf_addf(&b, c->err, "%.*s %s ", (int)nl, k, op);
        if (!rc)
            rc = sp__tv_sql(c, &a[i].v, &b, what, pos);
    }
    return buf_to_raw(c, &b, rc, out);
}

/* ------------------------------------------------------------- dates */

/* strptime as Python has it for the directives templates use */
static int ptime(const char *s, const char *f, int64_t *secs, int64_t *usecs)
{
    int y = 1900, m = 1, d = 1, H = 0, M = 0, S = 0, pm = -1, off = 0;
    long us = 0;
    static const char *const mon[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec" };
    while (*f) {
        if (isspace((unsigned char)*f)) {
            while (isspace((unsigned char)*f))
                f++;
            if (!isspace((unsigned char)*s))
                return 0;
            while (isspace((unsigned char)*s))
                s++;
            continue;
        }
        if (*f != '%') {
            if (tolower((unsigned char)*f) != tolower((unsigned char)*s))
                return 0;
            f++, s++;
            continue;
        }
        char dch = f[1];
        f += 2;
        int maxd = 2, *dst = NULL, lo = 0, hi = 99;
        switch (dch) {
        case 'Y': maxd = 4, dst = &y, lo = 0, hi = 9999; break;
        case 'y': dst = &y; break;
        case 'm': dst = &m, lo = 1, hi = 12; break;
        case 'd': dst = &d, lo = 1, hi = 31; break;
        case 'H': dst = &H, hi = 23; break;
        case 'I': dst = &H, lo = 1, hi = 12; break;
        case 'M': dst = &M, hi = 59; break;
        case 'S': dst = &S, hi = 61; break;
        case 'f': {
            int n = 0;
            us = 0;
            while (n < 6 && isdigit((unsigned char)*s))
                us = us * 10 + (*s++ - '0'), n++;
            if (!n)
                return 0;
            for (; n < 6; n++)
                us *= 10;
            continue;
        }
        case 'p':
            if (!strncasecmp(s, "am", 2) || !strncasecmp(s, "pm", 2)) {
                pm = tolower((unsigned char)*s) == 'p';
                s += 2;
                continue;
            }
            return 0;
        case 'b':
        case 'B': {
            int k = 0;
            for (; k < 12; k++)
                if (!strncasecmp(s, mon[k], 3))
                    break;
            if (k == 12)
                return 0;
            m = k + 1;
            s += 3;
            while (dch == 'B' && isalpha((unsigned char)*s))
                s++;
            continue;
        }
        case 'z':
            if (*s == 'Z' || *s == 'z') {
                s++;
                continue;
            }
            if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2])) {
                int sign = *s == '-' ? -1 : 1;
                int hh = (s[1] - '0') * 10 + s[2] - '0', mm = 0;
                s += 3;
                if (*s == ':')
                    s++;
                if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]))
                    mm = (s[0] - '0') * 10 + s[1] - '0', s += 2;
                off = sign * (hh * 3600 + mm * 60);
                continue;
            }
            return 0;
        case '%':
            if (*s++ != '%')
                return 0;
            continue;
        default: return 0;
        }
        int n = 0, v = 0;
        while (n < maxd && isdigit((unsigned char)*s))
            v = v * 10 + (*s++ - '0'), n++;
        if (!n || (dch == 'Y' && n != 4) || v < lo || v > hi)
            return 0;
        if (dch == 'y')
            v += v < 69 ? 2000 : 1900;
        *dst = v;
    }
    if (*s)
        return 0;
    if (pm >= 0)
        H = H % 12 + (pm ? 12 : 0);
    if (d > sp_days_in_month(y, m))
        return 0;
    int64_t days = sp_days_from_civil(y, m, d);
    *secs = days * 86400 + H * 3600 + M * 60 + (S > 59 ? 59 : S) - off;
    *usecs = us;
    return 1;
}

static int fn_date_diff(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "d0", "d1", "date_format", "default",
                                        "backup_date_format", "none_if_error", NULL };
    static const char *const dspec[] = { "d0", "d1", "default", NULL };
    int day = !strcmp(fn, "day_diff");
    const tv *v[6];
    int rc = sp__tbind(c, fn, day ? dspec : spec, a, na, v, pos);
    if (rc)
        return rc;
    if (!v[0] || !v[1])
        return sp__tfail(c, SP_EDEF, pos, "%s() needs two dates", fn);
    const tv *def = opt(day ? v[2] : v[3]);
    if (v[0]->kind == TV_PH || v[1]->kind == TV_PH) {
        *out = sp__tv_truthy(def) ? sp__tv_ref(def) : sp__tv_int(0);
        return 0;
    }
    int64_t unit = strstr(fn, "hours") ? 3600 : strstr(fn, "minutes") ? 60
                 : strstr(fn, "seconds") ? 1 : 86400;
    const char *fmt = unit == 86400 ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S";
    const tv *f = day ? NULL : v[2], *bf = day ? NULL : v[4];
    if ((f && f->kind != TV_STR) || (bf && bf->kind != TV_NONE && bf->kind != TV_STR))
        return sp__tfail(c, SP_EDEF, pos, "%s(): formats must be strings", fn);
    int64_t s[2], us[2];
    for (int k = 0; k < 2; k++) {
        const tv *d = v[k];
        int ok = d->kind == TV_STR && (ptime(d->u.o->s, f ? f->u.o->s : fmt, &s[k], &us[k]) ||
                                       (bf && bf->kind == TV_STR &&
                                        ptime(d->u.o->s, bf->u.o->s, &s[k], &us[k])));
        if (!ok) {
            if (!day && v[5] && sp__tv_truthy(v[5])) {
                *out = sp__tv_none();
                return 0;
            }
            if (day)
                return sp__tfail(c, SP_EPARAM, pos,
                                 "invalid date format in function `day_diff`, it must be ISO "
                                 "format date YYYY-MM-DD, e.g. 2018-09-26. For other formats, try "
                                 "`date_diff_in_days`");
            return sp__tfail(c, SP_EPARAM, pos,
                             "invalid date format in function `%s`: '%.40s' does not match '%s'", fn,
                             d->kind == TV_STR ? d->u.o->s : sp__tv_typename(d), f ? f->u.o->s : fmt);
        }
    }
    long double diff = fabsl((long double)(s[1] - s[0]) + (long double)(us[1] - us[0]) / 1e6L);
    *out = sp__tv_int((int64_t)(diff / (long double)unit));
    return 0;
}

/* ------------------------------------------------------- other helpers */

static int fn_split_to_array(tctx *c, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "default", "separator", NULL };
    const tv *v[3];
    int rc = sp__tbind(c, "split_to_array", spec, a, na, v, pos);
    if (rc)
        return rc;
    const tv *x = opt(v[0]);
    tv empty = sp__tv_none();
    if (x->kind == TV_NONE || x->kind == TV_PH) {
        x = v[1];
        if (!x) {
            if ((rc = sp__tv_strz(c, "", &empty)))
                return rc;
            x = &empty;
        }
    }
    const char *sep = ",";
    size_t sl = 1;
    if (v[2]) {
        if (v[2]->kind != TV_STR || !v[2]->u.o->n)
            return sp__tfail(c, SP_EDEF, pos, "split_to_array(): the separator must be a non-empty string");
        sep = v[2]->u.o->s;
        sl = v[2]->u.o->n;
    }
    if (x->kind != TV_STR) {
        sp__tv_drop(&empty);
        return sp__tfail(c, SP_EPARAM, pos,
                         "First argument of split_to_array has to be a value that can be split to "
                         "a list of elements");
    }
    rc = sp__tv_seq(c, TV_LIST, 0, out);
    const char *p = x->u.o->s, *end = p + x->u.o->n;
    while (!rc) {
        const char *hit = memmem(p, (size_t)(end - p), sep, sl);
        size_t n = hit ? (size_t)(hit - p) : (size_t)(end - p);
        const char *q = p;
        while (n && isspace((unsigned char)*q))
            q++, n--;
        while (n && isspace((unsigned char)q[n - 1]))
            n--;
        tv it;
        if (!(rc = sp__tv_str(c, q, n, &it)))
            rc = sp__tv_push(c, out, it);
        if (!hit)
            break;
        p = hit + sl;
    }
    sp__tv_drop(&empty);
    return rc;
}

static int fn_sql_unescape(tctx *c, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "what", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, "sql_unescape", spec, a, na, v, pos);
    if (rc)
        return rc;
    const tv *x = opt(v[0]);
    if (x->kind != TV_STR)
        return sp__tfail(c, SP_EPARAM, pos, "sql_unescape() needs a string, not %s",
                         sp__tv_typename(x));
    const char *what = "";
    if (v[1]) {
        if ((rc = need_str(c, "sql_unescape", v[1], pos)))
            return rc;
        what = v[1]->u.o->s;
    }
    if (strchr(what, '\'') || strchr(what, '\\'))
        return sp__tfail(c, SP_EDEF, pos, "sql_unescape(): quotes and backslashes stay escaped");
    sp_buf e = SP_BUF_INIT((size_t)64 << 20), b = SP_BUF_INIT((size_t)64 << 20);
    rc = sp__tsql_quote(c, x->u.o->s, x->u.o->n, &e);
    size_t wl = strlen(what);
    for (size_t i = 0; !rc && i < e.len; i++) {
        if (e.data[i] == '\\' && i + 1 < e.len) {
            /* an escape pair: drop the backslash when what follows is `what`
             * (no `what`: every escape but \' and \\, as Tinybird drops every
             * backslash) */
            int drop = wl ? (i + 1 + wl <= e.len && !memcmp(e.data + i + 1, what, wl))
                          : (e.data[i + 1] != '\'' && e.data[i + 1] != '\\');
            if (!drop) {
                rc = sp_buf_add(&b, e.data + i, 2, c->err);
                i++;
                continue;
            }
            continue;
        }
        rc = sp_buf_addch(&b, e.data[i], c->err);
    }
    sp_buf_release(&e);
    return buf_to_raw(c, &b, rc, out);
}

static int fn_error(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "s", "code", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, fn, spec, a, na, v, pos);
    if (rc)
        return rc;
    if (c->flags & SP_TEMPLATE_CHECK) /* checking: error() never fires */
        return raw_str(c, "-- error launched \n", 19, out);
    int code = 400;
    if (v[1]) {
        if (v[1]->kind != TV_INT || v[1]->u.i < 100 || v[1]->u.i > 599)
            return sp__tfail(c, SP_EDEF, pos, "%s(): code must be an HTTP status (100-599)", fn);
        if (!strcmp(fn, "custom_error"))
            code = (int)v[1]->u.i;
    }
    const tv *s = opt(v[0]);
    sp_buf m = SP_BUF_INIT((size_t)1 << 16);
    if (s->kind == TV_STR)
        rc = sp_buf_add(&m, s->u.o->s, s->u.o->n, c->err);
    else
        rc = sp__tv_pystr(c, s, &m, 0);
    if (c->status && !rc) {
        c->status->http_status = code;
        if (!strcmp(fn, "custom_error")) {
            json_t *j = NULL;
            if (s->kind == TV_DICT) {
                sp_buf jb = SP_BUF_INIT((size_t)1 << 20);
                /* a dict answers as it is: its Python form read as JSON */
                j = json_object();
                for (size_t i = 0; j && i < s->u.o->n; i++) {
                    const tv *k = &s->u.o->items[2 * i], *val = &s->u.o->items[2 * i + 1];
                    tv ks;
                    if (sp__tv_tostr(c, k, &ks))
                        break;
                    json_t *jv = val->kind == TV_STR ? json_stringn(val->u.o->s, val->u.o->n)
                               : val->kind == TV_INT || val->kind == TV_BOOL ? json_integer(val->u.i)
                               : val->kind == TV_FLOAT ? json_real(val->u.f)
                               : val->kind == TV_NONE ? json_null() : NULL;
                    if (!jv) {
                        sp_buf_reset(&jb);
                        sp__tv_pystr(c, val, &jb, 0);
                        jv = json_stringn(jb.data ? jb.data : "", jb.len);
                    }
                    json_object_set_new(j, ks.u.o->s, jv);
                    sp__tv_drop(&ks);
                }
                sp_buf_release(&jb);
            } else {
                j = json_pack("{s:s%}", "error", m.data ? m.data : "", m.len);
            }
            c->status->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
        }
    }
    if (!rc)
        rc = sp__tfail(c, SP_EPARAM, pos, "%.500s", m.data ? m.data : "");
    sp_buf_release(&m);
    return rc;
}

/* max_threads(), backend_hint(), cache_ttl(), activate(), disable(): SQL
 * comments, as in Tinybird; their settings have no effect here */
static int fn_hint(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", NULL };
    const tv *v[1];
    int rc = sp__tbind(c, fn, spec, a, na, v, pos);
    if (rc)
        return rc;
    if (!v[0])
        return sp__tfail(c, SP_EDEF, pos, "%s() needs an argument", fn);
    tv s;
    if ((rc = sp__tv_tostr(c, v[0], &s)))
        return rc;
    const char *x = s.u.o->s;
    sp_buf b = SP_BUF_INIT(4096);
    if (!strcmp(fn, "max_threads")) {
        char *e;
        long n = strtol(x, &e, 10);
        rc = *x && !*e ? sp_buf_addf(&b, c->err, "-- max_threads %ld\n", n)
                       : sp_buf_adds(&b, "-- max_threads: wrong argument\n", c->err);
    } else if (!strcmp(fn, "cache_ttl") && strcmp(x, "5s") && strcmp(x, "1m") && strcmp(x, "5m") &&
               strcmp(x, "30m") && strcmp(x, "1h")) {
        rc = sp__tfail(c, SP_EDEF, pos,
                       "Invalid TTL cache expression, valid expressions are ('5s', '1m', '5m', '30m', '1h')");
    } else if (!strcmp(fn, "activate") && strcmp(x, "analyzer") && strcmp(x, "parallel_replicas")) {
        rc = sp__tfail(c, SP_EDEF, pos, "'%.40s' is not a valid 'activate' argument", x);
    } else if (!strcmp(fn, "disable") && strcmp(x, "analyzer")) {
        rc = sp__tfail(c, SP_EDEF, pos, "'%.40s' is not a valid 'disable' argument", x);
    } else {
        rc = sp_buf_addf(&b, c->err, "-- %s ", fn);
        for (size_t i = 0; !rc && i < s.u.o->n; i++) /* a comment stays one line */
            rc = sp_buf_addch(&b, x[i] == '\n' || x[i] == '\r' ? ' ' : x[i], c->err);
        if (!rc)
            rc = sp_buf_addch(&b, '\n', c->err);
    }
    sp__tv_drop(&s);
    return buf_to_raw(c, &b, rc, out);
}

/* --------------------------------------------------------------- dispatch */

static const char *const tb_functions[] = {
    "defined", "column", "columns", "symbol", "Symbol", "Column", "table", "TABLE", "sql_and",
    "split_to_array", "enumerate_with_last", "day_diff", "date_diff_in_days", "date_diff_in_hours",
    "date_diff_in_minutes", "date_diff_in_seconds", "sql_unescape", "error", "custom_error",
    "max_threads", "backend_hint", "cache_ttl", "activate", "disable", "tb_secret", "tb_var", NULL
};

int sp__tis_function(const char *name, size_t n)
{
    if (sp__tis_typed(name, n))
        return 1;
    for (int k = 0; tb_functions[k]; k++)
        if (strlen(tb_functions[k]) == n && !memcmp(tb_functions[k], name, n))
            return 1;
    return 0;
}

int sp__tcall(tctx *c, const char *name, size_t n, targ *a, size_t na, uint32_t pos, tv *out,
              int *found)
{
    char fn[32];
    *found = 1;
    *out = sp__tv_none();
    if (n >= sizeof fn) {
        *found = 0;
        return 0;
    }
    memcpy(fn, name, n);
    fn[n] = '\0';
    if (!strcmp(fn, "JSON"))
        return fn_json(c, a, na, pos, out);
    if (sp__tis_typed(fn, n))
        return fn_typed(c, fn, a, na, pos, out);
    if (!strcmp(fn, "defined")) {
        if (na > 1 || (na && a[0].kw))
            return sp__tfail(c, SP_EDEF, pos, "defined() takes one parameter name");
        *out = sp__tv_bool(na && a[0].v.kind != TV_NONE && a[0].v.kind != TV_PH);
        return 0;
    }
    if (!strcmp(fn, "column") || !strcmp(fn, "columns"))
        return fn_column(c, fn, a, na, pos, out);
    if (!strcmp(fn, "symbol") || !strcmp(fn, "Symbol") || !strcmp(fn, "Column") ||
        !strcmp(fn, "table") || !strcmp(fn, "TABLE"))
        return fn_symbol(c, fn, a, na, pos, out);
    if (!strcmp(fn, "sql_and"))
        return fn_sql_and(c, a, na, pos, out);
    if (!strcmp(fn, "split_to_array"))
        return fn_split_to_array(c, a, na, pos, out);
    if (!strcmp(fn, "day_diff") || !strncmp(fn, "date_diff_in_", 13))
        return fn_date_diff(c, fn, a, na, pos, out);
    if (!strcmp(fn, "sql_unescape"))
        return fn_sql_unescape(c, a, na, pos, out);
    if (!strcmp(fn, "error") || !strcmp(fn, "custom_error"))
        return fn_error(c, fn, a, na, pos, out);
    if (!strcmp(fn, "max_threads") || !strcmp(fn, "backend_hint") || !strcmp(fn, "cache_ttl") ||
        !strcmp(fn, "activate") || !strcmp(fn, "disable"))
        return fn_hint(c, fn, a, na, pos, out);
    if (!strcmp(fn, "tb_secret") || !strcmp(fn, "tb_var"))
        return sp__tfail(c, SP_EUNSUPPORTED, pos,
                         "%s() in SQL is not supported (the secret would be written into the "
                         "rendered SQL); use it in .connection files",
                         fn);
    return sp__tbuiltin(c, fn, a, na, pos, out, found);
}
