/* sp_template_py: the Python builtins (len, str, int, range, sorted, …)
 * and the string/list/dict methods templates call (see docs/templates.md),
 * with Python's results and error messages. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_banned.h"

/* -------------------------------------------------------- Python builtins */

static int one_arg(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos)
{
    if (na != 1 || a[0].kw)
        return sp__tfail(c, SP_EDEF, pos, "%s() takes exactly one argument", fn);
    return 0;
}

static int to_int(tctx *c, const tv *x, tv *out, uint32_t pos)
{
    switch (x->kind) {
    case TV_INT:
    case TV_BOOL: *out = sp__tv_int(x->u.i); return 0;
    case TV_BIG: *out = sp__tv_ref(x); out->sqlt = 0; return 0;
    case TV_FLOAT:
        if (!isfinite(x->u.f) || fabs(x->u.f) >= 9.2e18)
            return sp__tfail(c, SP_EDEF, pos, "cannot convert float %g to integer", x->u.f);
        *out = sp__tv_int((int64_t)x->u.f);
        return 0;
    case TV_STR: {
        char buf[40];
        const char *s = x->u.o->s;
        size_t n = x->u.o->n, k = 0;
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        for (size_t i = 0; i < n && k + 1 < sizeof buf; i++)
            if (s[i] != '_' || (i && i + 1 < n && isdigit((unsigned char)s[i - 1])))
                buf[k++] = s[i];
        buf[k] = '\0';
        tv r;
        int ok = k && k < sizeof buf - 1 && sp__tparse_int(c, buf, 3, &r) == 1;
        if (!ok || r.kind != TV_INT) {
            if (ok)
                sp__tv_drop(&r);
            return sp__tfail(c, SP_EDEF, pos, "invalid literal for int() with base 10: '%.40s'",
                             x->u.o->s);
        }
        *out = r;
        return 0;
    }
    default:
        return sp__tfail(c, SP_EDEF, pos, "int() argument must be a string or a number, not '%s'",
                         sp__tv_typename(x));
    }
}

static int items_of(tctx *c, targ *a, size_t na, tv **items, size_t *n, uint32_t pos)
{
    if (na == 1)
        return sp__titer(c, &a[0].v, items, n, pos);
    *items = calloc(na ? na : 1, sizeof **items);
    if (!*items)
        return sp__toom(c);
    for (size_t i = 0; i < na; i++)
        (*items)[i] = sp__tv_ref(&a[i].v);
    *n = na;
    return 0;
}

static int cmp_sort(tctx *c, tv *v, size_t n, int reverse, uint32_t pos)
{
    /* insertion sort: stable, errors surface (lists here are small) */
    int rc = sp__tstep(c, n * n / 2 + 1, pos);
    for (size_t i = 1; i < n && !rc; i++) {
        tv key = v[i];
        size_t j = i;
        while (j > 0) {
            int r;
            if ((rc = sp__tv_cmp(c, &v[j - 1], &key, &r, pos, "<")))
                break;
            if (reverse ? r >= 0 : r <= 0)
                break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = key;
    }
    return rc;
}

static int list_from(tctx *c, int kind, tv *items, size_t n, tv *out)
{
    int rc = sp__tv_seq(c, kind, 0, out);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = sp__tv_push(c, out, items[i]);
        items[i] = sp__tv_none();
    }
    sp__titems_free(items, n);
    return rc;
}

int sp__tbuiltin(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out, int *found)
{
    *found = 1;
    int rc;
    tv *items = NULL;
    size_t n = 0;
    if (!strcmp(fn, "len")) {
        if ((rc = one_arg(c, fn, a, na, pos)))
            return rc;
        const tv *x = &a[0].v;
        if (x->kind == TV_STR)
            *out = sp__tv_int((int64_t)sp__tutf8_len(x->u.o->s, x->u.o->n));
        else if (x->kind == TV_LIST || x->kind == TV_TUPLE || x->kind == TV_DICT)
            *out = sp__tv_int((int64_t)x->u.o->n);
        else
            return sp__tfail(c, SP_EDEF, pos, "object of type '%s' has no len()", sp__tv_typename(x));
        return 0;
    }
    if (!strcmp(fn, "str") || !strcmp(fn, "repr")) {
        if ((rc = one_arg(c, fn, a, na, pos)))
            return rc;
        if (fn[0] == 's') {
            rc = sp__tv_tostr(c, &a[0].v, out);
            if (!rc && out->flags) { /* str(column(x)) is a plain string */
                tv t;
                rc = sp__tv_str(c, out->u.o->s, out->u.o->n, &t);
                sp__tv_drop(out);
                *out = t;
            }
            return rc;
        }
        sp_buf b = SP_BUF_INIT((size_t)64 << 20);
        rc = sp__tv_pystr(c, &a[0].v, &b, 1);
        if (!rc)
            rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
        sp_buf_release(&b);
        return rc;
    }
    if (!strcmp(fn, "int")) {
        if (na == 2 && (a[1].v.kind != TV_INT || a[1].v.u.i != 10))
            return sp__tfail(c, SP_EDEF, pos, "int(): only base 10 is supported");
        if (na < 1 || na > 2)
            return sp__tfail(c, SP_EDEF, pos, "int() takes one argument");
        return to_int(c, &a[0].v, out, pos);
    }
    if (!strcmp(fn, "float")) {
        if ((rc = one_arg(c, fn, a, na, pos)))
            return rc;
        const tv *x = &a[0].v;
        double d;
        if (sp__tv_isnum(x))
            *out = sp__tv_float(sp__tv_num(x));
        else if (x->kind == TV_STR && sp__tparse_float(x->u.o->s, &d))
            *out = sp__tv_float(d);
        else
            return sp__tfail(c, SP_EDEF, pos, "could not convert %s to float", sp__tv_typename(x));
        return 0;
    }
    if (!strcmp(fn, "abs")) {
        if ((rc = one_arg(c, fn, a, na, pos)))
            return rc;
        const tv *x = &a[0].v;
        if (x->kind == TV_FLOAT)
            *out = sp__tv_float(fabs(x->u.f));
        else if ((x->kind == TV_INT || x->kind == TV_BOOL) && x->u.i != INT64_MIN)
            *out = sp__tv_int(x->u.i < 0 ? -x->u.i : x->u.i);
        else
            return sp__tfail(c, SP_EDEF, pos, "bad operand type for abs(): '%s'", sp__tv_typename(x));
        return 0;
    }
    if (!strcmp(fn, "round")) {
        if (na < 1 || na > 2 || !sp__tv_isnum(&a[0].v) || (na == 2 && a[1].v.kind != TV_INT))
            return sp__tfail(c, SP_EDEF, pos, "round() takes a number and optional digits");
        if (a[0].v.kind != TV_FLOAT) {
            *out = sp__tv_int(a[0].v.u.i);
            return 0;
        }
        if (na == 1) {
            double r = nearbyint(a[0].v.u.f);
            if (!isfinite(r) || fabs(r) >= 9.2e18)
                return sp__tfail(c, SP_EDEF, pos, "cannot round %g to an integer", r);
            *out = sp__tv_int((int64_t)r);
            return 0;
        }
        char buf[400];
        int nd = (int)(a[1].v.u.i < 0 ? 0 : a[1].v.u.i > 30 ? 30 : a[1].v.u.i);
        snprintf(buf, sizeof buf, "%.*f", nd, a[0].v.u.f);
        *out = sp__tv_float(strtod(buf, NULL));
        return 0;
    }
    if (!strcmp(fn, "range")) {
        int64_t p[3] = { 0, 0, 1 };
        if (na < 1 || na > 3)
            return sp__tfail(c, SP_EDEF, pos, "range() takes 1 to 3 integers");
        for (size_t i = 0; i < na; i++)
            if (a[i].v.kind != TV_INT && a[i].v.kind != TV_BOOL)
                return sp__tfail(c, SP_EDEF, pos, "range() takes integers, not %s",
                                 sp__tv_typename(&a[i].v));
        if (na == 1)
            p[1] = a[0].v.u.i;
        else
            for (size_t i = 0; i < na; i++)
                p[i] = a[i].v.u.i;
        if (!p[2])
            return sp__tfail(c, SP_EDEF, pos, "range() arg 3 must not be zero");
        long double cnt = ((long double)p[1] - p[0]) / p[2];
        if (cnt > (long double)SP_TMPL_MAX_ITEMS)
            return sp__tfail(c, SP_ETOOBIG, pos, "range() of more than %zu numbers", SP_TMPL_MAX_ITEMS);
        if ((rc = sp__tv_seq(c, TV_LIST, 0, out)))
            return rc;
        for (int64_t i = p[0]; !rc && (p[2] > 0 ? i < p[1] : i > p[1]); i += p[2])
            rc = sp__tv_push(c, out, sp__tv_int(i));
        return rc;
    }
    if (!strcmp(fn, "list") || !strcmp(fn, "tuple") || !strcmp(fn, "sorted") ||
        !strcmp(fn, "reversed")) {
        int srt = fn[0] == 's', rev = 0;
        if (srt) {
            static const char *const spec[] = { "iterable", "reverse", NULL };
            const tv *v[2];
            if ((rc = sp__tbind(c, fn, spec, a, na, v, pos)))
                return rc;
            if (!v[0])
                return sp__tfail(c, SP_EDEF, pos, "sorted() needs an iterable");
            rev = v[1] && sp__tv_truthy(v[1]);
            if ((rc = sp__titer(c, v[0], &items, &n, pos)))
                return rc;
        } else {
            if (na > 1 || (na && a[0].kw))
                return sp__tfail(c, SP_EDEF, pos, "%s() takes at most one argument", fn);
            if (na && (rc = sp__titer(c, &a[0].v, &items, &n, pos)))
                return rc;
        }
        if (srt && (rc = cmp_sort(c, items, n, rev, pos))) {
            sp__titems_free(items, n);
            return rc;
        }
        if (fn[0] == 'r')
            for (size_t i = 0; i < n / 2; i++) {
                tv t = items[i];
                items[i] = items[n - 1 - i];
                items[n - 1 - i] = t;
            }
        return list_from(c, fn[0] == 't' ? TV_TUPLE : TV_LIST, items, n, out);
    }
    if (!strcmp(fn, "enumerate") || !strcmp(fn, "enumerate_with_last")) {
        int64_t start = 0;
        int last = fn[9] == '_';
        if (na < 1 || na > (last ? 1u : 2u))
            return sp__tfail(c, SP_EDEF, pos, "%s() takes an iterable%s", fn, last ? "" : " and a start");
        if (na == 2) {
            if (a[1].v.kind != TV_INT)
                return sp__tfail(c, SP_EDEF, pos, "enumerate(): start must be an integer");
            start = a[1].v.u.i;
        }
        if ((rc = sp__titer(c, &a[0].v, &items, &n, pos)))
            return rc;
        rc = sp__tv_seq(c, TV_LIST, 0, out);
        for (size_t i = 0; i < n && !rc; i++) {
            tv t;
            if ((rc = sp__tv_seq(c, TV_TUPLE, 2, &t)))
                break;
            t.u.o->items[0] = last ? sp__tv_bool(i + 1 == n) : sp__tv_int(start + (int64_t)i);
            t.u.o->items[1] = items[i];
            items[i] = sp__tv_none();
            rc = sp__tv_push(c, out, t);
        }
        sp__titems_free(items, n);
        return rc;
    }
    if (!strcmp(fn, "zip")) {
        size_t m = SIZE_MAX;
        tv **cols = calloc(na ? na : 1, sizeof *cols);
        size_t *cn = calloc(na ? na : 1, sizeof *cn);
        rc = cols && cn ? 0 : sp__toom(c);
        for (size_t i = 0; i < na && !rc; i++) {
            rc = sp__titer(c, &a[i].v, &cols[i], &cn[i], pos);
            if (!rc && cn[i] < m)
                m = cn[i];
        }
        if (!na)
            m = 0;
        if (!rc)
            rc = sp__tv_seq(c, TV_LIST, 0, out);
        for (size_t r = 0; !rc && r < m; r++) {
            tv t;
            if ((rc = sp__tv_seq(c, TV_TUPLE, na, &t)))
                break;
            for (size_t i = 0; i < na; i++)
                t.u.o->items[i] = sp__tv_ref(&cols[i][r]);
            rc = sp__tv_push(c, out, t);
        }
        for (size_t i = 0; cols && i < na; i++)
            if (cols[i])
                sp__titems_free(cols[i], cn[i]);
        free(cols);
        free(cn);
        return rc;
    }
    if (!strcmp(fn, "min") || !strcmp(fn, "max") || !strcmp(fn, "sum") || !strcmp(fn, "any") ||
        !strcmp(fn, "all")) {
        const tv *dflt = NULL;
        size_t pn = na;
        if (na && a[na - 1].kw && a[na - 1].kwlen == 7 && !memcmp(a[na - 1].kw, "default", 7) &&
            fn[1] != 'u') {
            dflt = &a[na - 1].v;
            pn--;
        }
        for (size_t i = 0; i < pn; i++)
            if (a[i].kw)
                return sp__tfail(c, SP_EDEF, pos, "%s() got an unexpected keyword argument", fn);
        if (!pn)
            return sp__tfail(c, SP_EDEF, pos, "%s() needs an argument", fn);
        if (fn[0] == 's' && pn > 2)
            return sp__tfail(c, SP_EDEF, pos, "sum() takes an iterable and a start");
        if ((rc = fn[0] == 's' ? sp__titer(c, &a[0].v, &items, &n, pos)
                               : items_of(c, a, pn, &items, &n, pos)))
            return rc;
        if (fn[0] == 'a') {
            int want = fn[1] == 'l', res = want;
            for (size_t i = 0; i < n; i++)
                if (sp__tv_truthy(&items[i]) != want) {
                    res = !want;
                    break;
                }
            *out = sp__tv_bool(res);
        } else if (fn[0] == 's') {
            tv acc = pn == 2 ? sp__tv_ref(&a[1].v) : sp__tv_int(0);
            for (size_t i = 0; i < n && !rc; i++) {
                if (!sp__tv_isnum(&items[i]) || !sp__tv_isnum(&acc)) {
                    rc = sp__tfail(c, SP_EDEF, pos, "sum() can only add numbers, not %s",
                                   sp__tv_typename(&items[i]));
                    break;
                }
                if (acc.kind == TV_FLOAT || items[i].kind == TV_FLOAT)
                    acc = sp__tv_float(sp__tv_num(&acc) + sp__tv_num(&items[i]));
                else if (__builtin_add_overflow(acc.u.i, items[i].u.i, &acc.u.i))
                    rc = sp__tfail(c, SP_EDEF, pos, "integer overflow in sum()");
                else
                    acc.kind = TV_INT;
            }
            *out = acc;
        } else if (!n) {
            if (dflt)
                *out = sp__tv_ref(dflt);
            else
                rc = sp__tfail(c, SP_EDEF, pos, "%s() arg is an empty sequence", fn);
        } else {
            size_t best = 0;
            for (size_t i = 1; i < n && !rc; i++) {
                int r;
                if (!(rc = sp__tv_cmp(c, &items[i], &items[best], &r, pos, "<")) &&
                    (fn[1] == 'i' ? r < 0 : r > 0))
                    best = i;
            }
            if (!rc)
                *out = sp__tv_ref(&items[best]);
        }
        sp__titems_free(items, n);
        return rc;
    }
    *found = 0;
    return 0;
}


/* ---------------------------------------------------------------- methods */

static int strip_chars(const tv *self, const tv *chars, int left, int right, const char **s,
                       size_t *n)
{
    const char *set = chars && chars->kind == TV_STR ? chars->u.o->s : NULL;
    *s = self->u.o->s;
    *n = self->u.o->n;
    while (left && *n && (set ? strchr(set, **s) != NULL : isspace((unsigned char)**s)))
        (*s)++, (*n)--;
    while (right && *n && (set ? strchr(set, (*s)[*n - 1]) != NULL : isspace((unsigned char)(*s)[*n - 1])))
        (*n)--;
    return 0;
}

static int str_split(tctx *c, const tv *self, const tv *sep, int64_t maxsplit, tv *out, uint32_t pos)
{
    int rc = sp__tv_seq(c, TV_LIST, 0, out);
    const char *p = self->u.o->s, *end = p + self->u.o->n;
    tv it;
    if (!sep || sep->kind == TV_NONE) {
        for (int64_t k = 0; !rc;) {
            while (p < end && isspace((unsigned char)*p))
                p++;
            if (p >= end)
                break;
            const char *q = p;
            if (maxsplit >= 0 && k >= maxsplit)
                q = end;
            else
                while (q < end && !isspace((unsigned char)*q))
                    q++;
            if (maxsplit >= 0 && k >= maxsplit)
                while (q > p && isspace((unsigned char)q[-1]))
                    q--;
            if (!(rc = sp__tv_str(c, p, (size_t)(q - p), &it)))
                rc = sp__tv_push(c, out, it);
            k++;
            p = q;
        }
        return rc;
    }
    if (sep->kind != TV_STR || !sep->u.o->n) {
        sp__tv_drop(out);
        return sp__tfail(c, SP_EDEF, pos, "split(): empty or non-string separator");
    }
    for (int64_t k = 0; !rc; k++) {
        const char *hit = maxsplit >= 0 && k >= maxsplit
                              ? NULL
                              : memmem(p, (size_t)(end - p), sep->u.o->s, sep->u.o->n);
        size_t n = hit ? (size_t)(hit - p) : (size_t)(end - p);
        if (!(rc = sp__tv_str(c, p, n, &it)))
            rc = sp__tv_push(c, out, it);
        if (!hit)
            break;
        p = hit + sep->u.o->n;
    }
    return rc;
}

static int str_format(tctx *c, const tv *self, targ *a, size_t na, tv *out, uint32_t pos)
{
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    const char *s = self->u.o->s;
    size_t n = self->u.o->n, auto_i = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < n && s[i + 1] == s[i]) {
            rc = sp_buf_addch(&b, s[i++], c->err);
            continue;
        }
        if (s[i] != '{') {
            rc = sp_buf_addch(&b, s[i], c->err);
            continue;
        }
        const char *close = memchr(s + i, '}', n - i);
        if (!close) {
            rc = sp__tfail(c, SP_EDEF, pos, "format(): unmatched '{'");
            break;
        }
        const char *f = s + i + 1;
        size_t fl = (size_t)(close - f);
        const tv *v = NULL;
        if (!fl) {
            size_t seen = 0;
            for (size_t k = 0; k < na; k++)
                if (!a[k].kw && seen++ == auto_i)
                    v = &a[k].v;
            auto_i++;
        } else if (isdigit((unsigned char)*f)) {
            size_t idx = (size_t)strtoul(f, NULL, 10), seen = 0;
            for (size_t k = 0; k < na; k++)
                if (!a[k].kw && seen++ == idx)
                    v = &a[k].v;
        } else {
            for (size_t k = 0; k < na; k++)
                if (a[k].kw && a[k].kwlen == fl && !memcmp(a[k].kw, f, fl))
                    v = &a[k].v;
        }
        if (!v) {
            rc = sp__tfail(c, SP_EDEF, pos, "format(): no argument for '{%.*s}'", (int)fl, f);
            break;
        }
        rc = sp__tv_pystr(c, v, &b, 0);
        i = (size_t)(close - s);
    }
    if (!rc)
        rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
    sp_buf_release(&b);
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
}

int sp__tmethod(tctx *c, const tv *self, const char *name, size_t n, targ *a, size_t na,
                uint32_t pos, tv *out)
{
    char m[24];
    *out = sp__tv_none();
    if (n >= sizeof m)
        goto unknown;
    memcpy(m, name, n);
    m[n] = '\0';
    for (size_t i = 0; i < na; i++)
        if (a[i].kw && strcmp(m, "format") && strcmp(m, "split") && strcmp(m, "rsplit"))
            return sp__tfail(c, SP_EDEF, pos, "%s() takes no keyword arguments", m);
    if (self->kind == TV_PH) { /* a parameter with no value while checking */
        if (!strcmp(m, "split")) {
            int rc = sp__tv_seq(c, TV_LIST, 2, out);
            if (!rc)
                out->u.o->items[0].kind = out->u.o->items[1].kind = TV_PH;
            return rc;
        }
        if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
            *out = sp__tv_bool(0);
            return 0;
        }
        out->kind = TV_PH;
        return 0;
    }
    int rc = 0;
    if (self->kind == TV_STR) {
        const char *s;
        size_t sl;
        if (!strcmp(m, "split") || !strcmp(m, "rsplit")) {
            static const char *const spec[] = { "sep", "maxsplit", NULL };
            const tv *v[2];
            if ((rc = sp__tbind(c, m, spec, a, na, v, pos)))
                return rc;
            int64_t maxs = v[1] && v[1]->kind == TV_INT ? v[1]->u.i : -1;
            if (m[0] == 'r' && maxs >= 0)
                return sp__tfail(c, SP_EDEF, pos, "rsplit() with maxsplit is not supported");
            return str_split(c, self, v[0], maxs, out, pos);
        }
        if (!strcmp(m, "strip") || !strcmp(m, "lstrip") || !strcmp(m, "rstrip")) {
            if (na > 1 || (na && a[0].v.kind != TV_STR && a[0].v.kind != TV_NONE))
                return sp__tfail(c, SP_EDEF, pos, "%s() takes an optional string", m);
            strip_chars(self, na ? &a[0].v : NULL, m[0] != 'r', m[0] != 'l', &s, &sl);
            return sp__tv_str(c, s, sl, out);
        }
        if (!strcmp(m, "lower") || !strcmp(m, "upper") || !strcmp(m, "title") ||
            !strcmp(m, "capitalize")) {
            if ((rc = sp__tv_str(c, self->u.o->s, self->u.o->n, out)))
                return rc;
            char *p = out->u.o->s;
            for (size_t i = 0; i < out->u.o->n; i++) {
                int first = i == 0 || (m[0] == 't' && !isalpha((unsigned char)p[i - 1]));
                p[i] = (char)(m[0] == 'u' || ((m[0] == 't' || m[0] == 'c') && first)
                                  ? toupper((unsigned char)p[i])
                                  : tolower((unsigned char)p[i]));
            }
            return 0;
        }
        if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
            if (na != 1)
                return sp__tfail(c, SP_EDEF, pos, "%s() takes one argument", m);
            const tv *p = &a[0].v;
            size_t cnt = p->kind == TV_TUPLE ? p->u.o->n : 1;
            int res = 0;
            for (size_t i = 0; i < cnt && !res; i++) {
                const tv *x = p->kind == TV_TUPLE ? &p->u.o->items[i] : p;
                if (x->kind != TV_STR)
                    return sp__tfail(c, SP_EDEF, pos, "%s() takes a string or a tuple of strings", m);
                res = x->u.o->n <= self->u.o->n &&
                      !memcmp(self->u.o->s + (m[0] == 'e' ? self->u.o->n - x->u.o->n : 0), x->u.o->s,
                              x->u.o->n);
            }
            *out = sp__tv_bool(res);
            return 0;
        }
        if (!strcmp(m, "replace")) {
            if (na < 2 || na > 3 || a[0].v.kind != TV_STR || a[1].v.kind != TV_STR ||
                (na == 3 && a[2].v.kind != TV_INT))
                return sp__tfail(c, SP_EDEF, pos, "replace() takes two strings and an optional count");
            const tv *o = &a[0].v, *w = &a[1].v;
            int64_t count = na == 3 ? a[2].v.u.i : -1;
            sp_buf b = SP_BUF_INIT((size_t)64 << 20);
            const char *p = self->u.o->s, *end = p + self->u.o->n;
            while (!rc && p <= end) {
                const char *hit = count && o->u.o->n ? memmem(p, (size_t)(end - p), o->u.o->s, o->u.o->n)
                                                     : NULL;
                if (!hit) {
                    rc = sp_buf_add(&b, p, (size_t)(end - p), c->err);
                    break;
                }
                if (!(rc = sp_buf_add(&b, p, (size_t)(hit - p), c->err)))
                    rc = sp_buf_add(&b, w->u.o->s, w->u.o->n, c->err);
                p = hit + o->u.o->n;
                count--;
            }
            if (!rc)
                rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
            sp_buf_release(&b);
            return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
        }
        if (!strcmp(m, "join")) {
            tv *items;
            size_t cnt;
            if (na != 1)
                return sp__tfail(c, SP_EDEF, pos, "join() takes one iterable");
            if ((rc = sp__titer(c, &a[0].v, &items, &cnt, pos)))
                return rc;
            sp_buf b = SP_BUF_INIT((size_t)64 << 20);
            for (size_t i = 0; i < cnt && !rc; i++) {
                if (items[i].kind != TV_STR) {
                    rc = sp__tfail(c, SP_EDEF, pos, "sequence item %zu: expected str instance, %s found",
                                   i, sp__tv_typename(&items[i]));
                    break;
                }
                if (i)
                    rc = sp_buf_add(&b, self->u.o->s, self->u.o->n, c->err);
                if (!rc)
                    rc = sp_buf_add(&b, items[i].u.o->s, items[i].u.o->n, c->err);
            }
            if (!rc)
                rc = sp__tv_str(c, b.data ? b.data : "", b.len, out);
            sp_buf_release(&b);
            sp__titems_free(items, cnt);
            return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
        }
        if (!strcmp(m, "find") || !strcmp(m, "count") || !strcmp(m, "index")) {
            if (na != 1 || a[0].v.kind != TV_STR)
                return sp__tfail(c, SP_EDEF, pos, "%s() takes one string", m);
            const tv *x = &a[0].v;
            const char *hit = x->u.o->n ? memmem(self->u.o->s, self->u.o->n, x->u.o->s, x->u.o->n)
                                        : self->u.o->s;
            if (m[0] == 'c') {
                int64_t k = 0;
                if (!x->u.o->n)
                    k = (int64_t)sp__tutf8_len(self->u.o->s, self->u.o->n) + 1;
                for (const char *p = self->u.o->s; x->u.o->n && p;) {
                    p = memmem(p, self->u.o->n - (size_t)(p - self->u.o->s), x->u.o->s, x->u.o->n);
                    if (p) {
                        k++;
                        p += x->u.o->n;
                    }
                }
                *out = sp__tv_int(k);
                return 0;
            }
            if (!hit && m[0] == 'i')
                return sp__tfail(c, SP_EDEF, pos, "substring not found");
            *out = sp__tv_int(hit ? (int64_t)sp__tutf8_len(self->u.o->s, (size_t)(hit - self->u.o->s)) : -1);
            return 0;
        }
        if (!strcmp(m, "isdigit") || !strcmp(m, "isalpha") || !strcmp(m, "isalnum") ||
            !strcmp(m, "isspace") || !strcmp(m, "islower") || !strcmp(m, "isupper")) {
            int res = self->u.o->n > 0;
            for (size_t i = 0; i < self->u.o->n && res; i++) {
                unsigned char ch = (unsigned char)self->u.o->s[i];
                res = m[2] == 'd' ? isdigit(ch) : m[2] == 's' ? isspace(ch) : m[3] == 'p' && m[2] == 'a' ? isalpha(ch)
                    : m[2] == 'a' ? isalnum(ch) : m[2] == 'l' ? !isupper(ch) : !islower(ch);
            }
            *out = sp__tv_bool(res);
            return 0;
        }
        if (!strcmp(m, "format"))
            return str_format(c, self, a, na, out, pos);
    }
    if ((self->kind == TV_LIST || self->kind == TV_TUPLE) && (!strcmp(m, "index") || !strcmp(m, "count"))) {
        if (na != 1)
            return sp__tfail(c, SP_EDEF, pos, "%s() takes one argument", m);
        int64_t k = 0, at = -1;
        for (size_t i = 0; i < self->u.o->n; i++)
            if (sp__tv_eq(&self->u.o->items[i], &a[0].v)) {
                k++;
                if (at < 0)
                    at = (int64_t)i;
            }
        if (m[0] == 'i' && at < 0)
            return sp__tfail(c, SP_EDEF, pos, "ValueError: value is not in list");
        *out = sp__tv_int(m[0] == 'i' ? at : k);
        return 0;
    }
    if (self->kind == TV_DICT) {
        if (!strcmp(m, "get")) {
            if (na < 1 || na > 2)
                return sp__tfail(c, SP_EDEF, pos, "get() takes a key and an optional default");
            for (size_t i = 0; i < self->u.o->n; i++)
                if (sp__tv_eq(&a[0].v, &self->u.o->items[2 * i])) {
                    *out = sp__tv_ref(&self->u.o->items[2 * i + 1]);
                    return 0;
                }
            *out = na == 2 ? sp__tv_ref(&a[1].v) : sp__tv_none();
            return 0;
        }
        if (!strcmp(m, "keys") || !strcmp(m, "values") || !strcmp(m, "items")) {
            if ((rc = sp__tv_seq(c, TV_LIST, 0, out)))
                return rc;
            for (size_t i = 0; i < self->u.o->n && !rc; i++) {
                tv t;
                if (m[0] == 'i') {
                    if ((rc = sp__tv_seq(c, TV_TUPLE, 2, &t)))
                        break;
                    t.u.o->items[0] = sp__tv_ref(&self->u.o->items[2 * i]);
                    t.u.o->items[1] = sp__tv_ref(&self->u.o->items[2 * i + 1]);
                } else {
                    t = sp__tv_ref(&self->u.o->items[2 * i + (m[0] == 'v')]);
                }
                rc = sp__tv_push(c, out, t);
            }
            return rc;
        }
    }
    if (self->kind == TV_STR && !strcmp(m, "get"))
        return sp__tfail(c, SP_EDEF, pos,
                         "'str' object has no attribute 'get'. Make sure you're using an "
                         "object/dictionary where trying to use .get()");
unknown:
    return sp__tfail(c, SP_EDEF, pos, "'%s' object has no method '%.*s'", sp__tv_typename(self),
                     (int)n, name);
}
