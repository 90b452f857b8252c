/* sp_template_fn: Tinybird's template functions (see docs/templates.md)
 * with the semantics of Tinybird's sql_template.py: arguments, identifiers
 * (column(), columns(), symbol(), sql_and()), dates, split_to_array(),
 * errors and hints, and the dispatch of every function; the typed
 * parameters (String(), Int32(), Array(), JSON()…) are sp_template_typed's,
 * Python's builtins and methods sp_template_py's.  Every value that reaches
 * SQL from here is a checked number, an escaped string literal or an
 * escaped (back-quoted) identifier. */
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

const tv *sp__targ_opt(const tv *v)
{
    return v ? v : &NONE_V;
}

void sp__targ_name(tctx *c, const targ *a, char *buf, size_t n)
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

int sp__tbuf_to_raw(tctx *c, sp_buf *b, int rc, tv *out)
{
    if (!rc)
        rc = raw_str(c, b->data ? b->data : "", b->len, out);
    sp_buf_release(b);
    return rc ? (c->rc = c->rc ? c->rc : rc) : 0;
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
    sp__targ_name(c, na ? &a[0] : NULL, pname, sizeof pname);
    const tv *x = sp__targ_opt(v[0]);
    if (x->kind == TV_NONE || x->kind == TV_PH) {
        x = sp__targ_opt(v[1]);
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
    const tv *f = multi ? sp__targ_opt(v[2]) : &NONE_V;
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
    return sp__tbuf_to_raw(c, &b, rc, out);
}

static int fn_symbol(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out)
{
    static const char *const spec[] = { "x", "quote", NULL };
    const tv *v[2];
    int rc = sp__tbind(c, fn, spec, a, na, v, pos);
    if (rc)
        return rc;
    const tv *x = sp__targ_opt(v[0]);
    int table = !strcmp(fn, "table") || !strcmp(fn, "TABLE");
    if (x->kind == TV_PH)
        return raw_str(c, table ? "placeholder" : "`placeholder`", table ? 11 : 13, out);
    char pname[64];
    sp__targ_name(c, na ? &a[0] : NULL, pname, sizeof pname);
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
    return sp__tbuf_to_raw(c, &b, rc, out);
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
    return sp__tbuf_to_raw(c, &b, rc, out);
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
    const tv *def = sp__targ_opt(day ? v[2] : v[3]);
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
    const tv *x = sp__targ_opt(v[0]);
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
    const tv *x = sp__targ_opt(v[0]);
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
    return sp__tbuf_to_raw(c, &b, rc, out);
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
    const tv *s = sp__targ_opt(v[0]);
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
    return sp__tbuf_to_raw(c, &b, rc, out);
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
        return sp__tfn_json(c, a, na, pos, out);
    if (sp__tis_typed(fn, n))
        return sp__tfn_typed(c, fn, a, na, pos, out);
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
