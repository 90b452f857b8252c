/* sp_template_typed: the typed parameters of Tinybird's templates (see
 * docs/templates.md, "Typed parameters"): String(), the Int/UInt/Float
 * types, Boolean(), Date(), DateTime(), DateTime64(), Array(x, 'Type'),
 * JSON(): a parameter's text checked and converted as sql_template.py does
 * (ranges, formats, defaults, required, enum), and the SQL literal it
 * renders to; placeholders while checking. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_time.h"
#include "sp_banned.h"

#define NOPOS UINT32_MAX

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
        rc = sp__tbuf_to_raw(c, &b, rc, out);
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
    return sp__tbuf_to_raw(c, &b, rc, out);
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

int sp__tfn_json(tctx *c, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "default", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, "JSON", spec, a, na, v, pos);
    if (rc)
        return rc;
    if (!v[0])
        return sp__tfail(c, SP_EDEF, pos, "JSON() needs a parameter");
    const tv *x = v[0], *def = sp__targ_opt(v[1]);
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
int sp__tfn_typed(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
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
    sp__targ_name(c, &a[xi], pname, sizeof pname);
    const tv *x = v[0];
    if (is_bool) {
        const tv *def = sp__targ_opt(v[1]);
        if (x->kind == TV_NONE || x->kind == TV_PH)
            *out = def->kind == TV_NONE ? sp__tv_int(0) : boolean_of(def);
        else
            *out = boolean_of(x);
        return 0;
    }
    const char *etype = NULL;
    const tv *def = sp__targ_opt(v[is_array ? 2 : 1]);
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
