/* sp_objname: object names from file templates (see sp_objname.h).
 *
 * A template compiles into parts.  Everything that does not depend on the
 * row (literal text, parameters, built-ins from the logical time, job id)
 * is rendered once at compile time into literal parts, so rendering a row
 * only touches the column placeholders and {N}.  Every rendered value goes
 * through enc_value(), which percent-encodes what could leave the prefix. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_date.h"
#include "sp_format.h"
#include "sp_objname.h"
#include "sp_time.h"
#include "sp_banned.h"

#define NAME_MAX_LEN 4096 /* longest rendered name */

typedef enum part_kind { P_LIT, P_COL, P_COLFMT, P_SPLIT } part_kind;

typedef struct part {
    part_kind kind;
    char *text;   /* P_LIT: literal (already encoded); P_COLFMT: the format */
    size_t len;   /* of text */
    size_t col;   /* P_COL, P_COLFMT */
} part;

struct sp_objname {
    part *parts;
    size_t nparts;
    unsigned split; /* N of {N}, 0 when none */
    int has_cols;
    sp_buf tmp;     /* scratch for one value */
};

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
};
static const char *const day_names[7] = { /* 1970-01-01 was a Thursday */
    "Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"
};

/* ---- encoding ------------------------------------------------------------ */

/* enc_value: append v[0..n) so that it cannot leave its folder: '/', '\\',
 * '%', control characters and the dots of ".." (or a value that is just
 * ".") become %XX; an empty value becomes "_" */
static int enc_value(sp_buf *out, const char *v, size_t n, sp_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n == 0)
        return sp_buf_addch(out, '_', err);
    int rc = sp_buf_grow(out, n * 3, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        int dot_run = c == '.' && ((i > 0 && v[i - 1] == '.') ||
                                   (i + 1 < n && v[i + 1] == '.') || n == 1);
        if (c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f || dot_run) {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            sp_buf_add_unchecked(out, e, 3);
        } else {
            sp_buf_add_unchecked(out, &v[i], 1);
        }
    }
    return 0;
}

/* ---- ClickHouse formatDateTime subset ------------------------------------ */

typedef struct tmparts {
    int64_t days; /* since the epoch */
    int y, mo, d, h, mi, s;
    int64_t frac;  /* fraction ticks */
    int scale;     /* digits of frac */
} tmparts;

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void tm_from(tmparts *t, int64_t secs, int64_t frac, int scale)
{
    t->days = floordiv(secs, 86400);
    int64_t sod = secs - t->days * 86400;
    sp_civil_from_days(t->days, &t->y, &t->mo, &t->d);
    t->h = (int)(sod / 3600);
    t->mi = (int)(sod / 60 % 60);
    t->s = (int)(sod % 60);
    t->frac = frac;
    t->scale = scale;
}

/* known: the specifier letters accepted (checked at compile time) */
static const char fmt_known[] = "abcCdDeFfhHiIjklmMpQrRsSTuwWyYz%nt";

static int fmt_time(sp_buf *out, const char *f, size_t flen, const tmparts *t,
                    sp_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < flen && !rc; i++) {
        if (f[i] != '%' || i + 1 >= flen) {
            rc = sp_buf_addch(out, f[i], err);
            continue;
        }
        char c = f[++i];
        int h12 = t->h % 12 == 0 ? 12 : t->h % 12;
        int64_t yday = t->days - sp_days_from_civil(t->y, 1, 1) + 1;
        int wd = (int)(((t->days % 7) + 7) % 7); /* 0 = Thursday */
        switch (c) {
        case 'Y': rc = sp_buf_addf(out, err, "%04d", t->y); break;
        case 'y': rc = sp_buf_addf(out, err, "%02d", ((t->y % 100) + 100) % 100); break;
        case 'C': rc = sp_buf_addf(out, err, "%02d", t->y / 100); break;
        case 'm': case 'c': rc = sp_buf_addf(out, err, "%02d", t->mo); break;
        case 'd': rc = sp_buf_addf(out, err, "%02d", t->d); break;
        case 'e': rc = sp_buf_addf(out, err, "%d", t->d); break;
        case 'H': case 'k': rc = sp_buf_addf(out, err, "%02d", t->h); break;
        case 'h': case 'I': case 'l': rc = sp_buf_addf(out, err, "%02d", h12); break;
        case 'i': rc = sp_buf_addf(out, err, "%02d", t->mi); break;
        case 'S': case 's': rc = sp_buf_addf(out, err, "%02d", t->s); break;
        case 'M': rc = sp_buf_adds(out, month_names[t->mo - 1], err); break;
        case 'b': rc = sp_buf_addf(out, err, "%.3s", month_names[t->mo - 1]); break;
        case 'W': rc = sp_buf_adds(out, day_names[wd], err); break;
        case 'a': rc = sp_buf_addf(out, err, "%.3s", day_names[wd]); break;
        case 'u': rc = sp_buf_addf(out, err, "%d", (wd + 3) % 7 + 1); break;
        case 'w': rc = sp_buf_addf(out, err, "%d", (wd + 4) % 7); break;
        case 'j': rc = sp_buf_addf(out, err, "%03" PRId64, yday); break;
        case 'Q': rc = sp_buf_addf(out, err, "%d", (t->mo - 1) / 3 + 1); break;
        case 'p': rc = sp_buf_adds(out, t->h < 12 ? "AM" : "PM", err); break;
        case 'F':
            rc = sp_buf_addf(out, err, "%04d-%02d-%02d", t->y, t->mo, t->d);
            break;
        case 'D':
            rc = sp_buf_addf(out, err, "%02d/%02d/%02d", t->mo, t->d,
                             ((t->y % 100) + 100) % 100);
            break;
        case 'T': rc = sp_buf_addf(out, err, "%02d:%02d:%02d", t->h, t->mi, t->s); break;
        case 'R': rc = sp_buf_addf(out, err, "%02d:%02d", t->h, t->mi); break;
        case 'r':
            rc = sp_buf_addf(out, err, "%02d:%02d %s", h12, t->mi, t->h < 12 ? "AM" : "PM");
            break;
        case 'z': rc = sp_buf_adds(out, "+0000", err); break;
        case 'f':
            if (t->scale > 0)
                rc = sp_buf_addf(out, err, "%0*" PRId64, t->scale, t->frac);
            else
                rc = sp_buf_adds(out, "000000", err);
            break;
        case 'n': rc = sp_buf_addch(out, '\n', err); break;
        case 't': rc = sp_buf_addch(out, '\t', err); break;
        default: rc = sp_buf_addch(out, c, err); break; /* '%' */
        }
    }
    return rc;
}

/* ---- compile ------------------------------------------------------------- */

static int add_part(sp_objname *t, part_kind kind, const char *text, size_t len,
                    size_t col, sp_error *err)
{
    if (kind == P_LIT && t->nparts && t->parts[t->nparts - 1].kind == P_LIT) {
        part *p = &t->parts[t->nparts - 1]; /* merge adjacent literals */
        char *nt = realloc(p->text, p->len + len + 1);
        if (!nt)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (file template)");
        memcpy(nt + p->len, text, len);
        nt[p->len + len] = '\0';
        p->text = nt;
        p->len += len;
        return 0;
    }
    part *np = realloc(t->parts, (t->nparts + 1) * sizeof *np);
    if (!np)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (file template)");
    t->parts = np;
    part *p = &np[t->nparts];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->col = col;
    if (text) {
        p->text = malloc(len + 1);
        if (!p->text)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (file template)");
        memcpy(p->text, text, len);
        p->text[len] = '\0';
        p->len = len;
    }
    t->nparts++;
    return 0;
}

/* add_value: a static value, encoded, as literal text */
static int add_value(sp_objname *t, const char *v, size_t n, sp_error *err)
{
    sp_buf_reset(&t->tmp);
    int rc = enc_value(&t->tmp, v, n, err);
    return rc ? rc : add_part(t, P_LIT, t->tmp.data, t->tmp.len, 0, err);
}

static int is_date_kind(sp_kind k)
{
    return k == SP_T_DATE || k == SP_T_DATE32 || k == SP_T_DATETIME || k == SP_T_DATETIME64;
}

static int builtin(const char *name, size_t n, const sp_objname_ctx *ctx, char *buf,
                   size_t bufsz)
{
    tmparts tp;
    tm_from(&tp, ctx->now_unix, 0, 0);
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    if (IS("date"))
        return snprintf(buf, bufsz, "%04d-%02d-%02d", tp.y, tp.mo, tp.d);
    if (IS("time"))
        return snprintf(buf, bufsz, "%02d%02d%02d", tp.h, tp.mi, tp.s);
    if (IS("year"))
        return snprintf(buf, bufsz, "%04d", tp.y);
    if (IS("month"))
        return snprintf(buf, bufsz, "%02d", tp.mo);
    if (IS("day"))
        return snprintf(buf, bufsz, "%02d", tp.d);
    if (IS("hour"))
        return snprintf(buf, bufsz, "%02d", tp.h);
    if (IS("minute"))
        return snprintf(buf, bufsz, "%02d", tp.mi);
    if (IS("job_id"))
        return snprintf(buf, bufsz, "%s", ctx->job_id ? ctx->job_id : "");
#undef IS
    return -1;
}

static void trim(const char **s, const char *e)
{
    while (*s < e && (**s == ' ' || **s == '\t'))
        (*s)++;
}

static size_t rtrim(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* placeholder: the text between '{' and '}' */
static int placeholder(sp_objname *t, const char *ph, size_t phlen, const char *where,
                       const sp_objname_ctx *ctx, sp_error *err)
{
    const char *p = ph, *e = ph + phlen;
    trim(&p, e);
    const char *comma = memchr(p, ',', (size_t)(e - p));
    size_t nlen = rtrim(p, (size_t)((comma ? comma : e) - p));
    const char *fmt = NULL;
    size_t flen = 0;
    if (nlen == 0)
        return sp_error_set(err, SP_EDEF, 0, "%s: empty placeholder '{%.*s}'", where,
                            (int)phlen, ph);
    if (comma) {
        const char *f = comma + 1;
        trim(&f, e);
        size_t rest = rtrim(f, (size_t)(e - f));
        if (rest < 2 || f[0] != '\'' || f[rest - 1] != '\'')
            return sp_error_set(err, SP_EDEF, 0,
                                "%s: placeholder '{%.*s}': expected a quoted format "
                                "such as {%.*s, '%%Y-%%m-%%d'}",
                                where, (int)phlen, ph, (int)nlen, p);
        fmt = f + 1;
        flen = rest - 2;
        for (size_t i = 0; i < flen; i++) {
            if (fmt[i] != '%')
                continue;
            if (i + 1 >= flen || !strchr(fmt_known, fmt[i + 1]))
                return sp_error_set(err, SP_EDEF, 0,
                                    "%s: placeholder '{%.*s}': unsupported format "
                                    "specifier '%%%.*s' (expected one of %%Y %%m %%d "
                                    "%%H %%i %%S %%F %%T and others in docs/objects.md)",
                                    where, (int)phlen, ph, i + 1 < flen ? 1 : 0,
                                    fmt + i + 1);
            i++;
        }
    }
    /* 1. parameters */
    for (size_t i = 0; i < ctx->nparams; i++) {
        const char *pn = ctx->params[i].name;
        if (pn && strlen(pn) == nlen && memcmp(pn, p, nlen) == 0) {
            if (fmt)
                return sp_error_set(err, SP_EDEF, 0,
                                    "%s: placeholder '{%.*s}': a format applies only "
                                    "to Date and DateTime result columns, '%.*s' is a "
                                    "parameter", where, (int)phlen, ph, (int)nlen, p);
            const char *v = ctx->params[i].value ? ctx->params[i].value : "";
            return add_value(t, v, strlen(v), err);
        }
    }
    /* 2. result columns */
    for (size_t c = 0; ctx->schema && c < ctx->schema->ncols; c++) {
        const char *cn = ctx->schema->names[c];
        if (!cn || strlen(cn) != nlen || memcmp(cn, p, nlen) != 0)
            continue;
        t->has_cols = 1;
        if (!fmt)
            return add_part(t, P_COL, NULL, 0, c, err);
        if (!is_date_kind(ctx->schema->types[c]->kind)) {
            sp_buf tn = SP_BUF_INIT(256);
            (void)sp_type_format(ctx->schema->types[c], &tn, NULL);
            sp_error_set(err, SP_EDEF, 0,
                         "%s: placeholder '{%.*s}': a format applies only to Date and "
                         "DateTime columns, column '%s' is %s", where, (int)phlen, ph,
                         cn, tn.data ? tn.data : "not a date");
            sp_buf_release(&tn);
            return SP_EDEF;
        }
        return add_part(t, P_COLFMT, fmt, flen, c, err);
    }
    /* 3. built-ins */
    char buf[256];
    int n = fmt ? -1 : builtin(p, nlen, ctx, buf, sizeof buf);
    if (n >= 0)
        return add_value(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, err);
    /* {N}: a split */
    int digits = !fmt && nlen <= 6;
    for (size_t i = 0; i < nlen && digits; i++)
        digits = p[i] >= '0' && p[i] <= '9';
    if (digits) {
        unsigned v = 0;
        for (size_t i = 0; i < nlen; i++)
            v = v * 10 + (unsigned)(p[i] - '0');
        if (v == 0)
            return sp_error_set(err, SP_EDEF, 0,
                                "%s: placeholder '{%.*s}': the number of objects must "
                                "be at least 1", where, (int)phlen, ph);
        if (t->split && t->split != v)
            return sp_error_set(err, SP_EDEF, 0,
                                "%s: placeholders '{%u}' and '{%u}' disagree on the "
                                "number of objects", where, t->split, v);
        t->split = v;
        return add_part(t, P_SPLIT, NULL, 0, 0, err);
    }
    if (fmt)
        return sp_error_set(err, SP_EDEF, 0,
                            "%s: placeholder '{%.*s}': a format applies only to Date "
                            "and DateTime result columns, '%.*s' is not a result column",
                            where, (int)phlen, ph, (int)nlen, p);
    return sp_error_set(err, SP_EDEF, 0,
                        "%s: unknown placeholder '{%.*s}' (expected a parameter, a result "
                        "column, or date, time, year, month, day, hour, minute, job_id, N)",
                        where, (int)nlen, p);
}

int sp_objname_compile(const char *tmpl, const char *where, const sp_objname_ctx *ctx,
                       sp_objname **out, sp_error *err)
{
    static const sp_objname_ctx none;
    *out = NULL;
    if (!ctx)
        ctx = &none;
    if (!where)
        where = "file template";
    if (!tmpl || !*tmpl)
        return sp_error_set(err, SP_EDEF, 0, "%s: empty file template", where);
    sp_objname *t = calloc(1, sizeof *t);
    if (!t)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (file template)");
    sp_buf_init(&t->tmp, NAME_MAX_LEN);
    int rc = 0;
    const char *s = tmpl;
    while (*s && !rc) {
        const char *open = strchr(s, '{');
        if (!open) {
            rc = add_part(t, P_LIT, s, strlen(s), 0, err);
            break;
        }
        if (open > s)
            rc = add_part(t, P_LIT, s, (size_t)(open - s), 0, err);
        const char *close = strchr(open + 1, '}');
        const char *nested = strchr(open + 1, '{');
        if (!rc && (!close || (nested && nested < close)))
            rc = sp_error_set(err, SP_EDEF, 0, "%s: unclosed placeholder in '%s'", where,
                              tmpl);
        if (!rc)
            rc = placeholder(t, open + 1, (size_t)(close - open - 1), where, ctx, err);
        if (!rc)
            s = close + 1;
    }
    if (rc) {
        sp_objname_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void sp_objname_free(sp_objname *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nparts; i++)
        free(t->parts[i].text);
    free(t->parts);
    sp_buf_release(&t->tmp);
    free(t);
}

int sp_objname_is_static(const sp_objname *t)
{
    return !t->has_cols;
}

unsigned sp_objname_split(const sp_objname *t)
{
    return t->split;
}

/* ---- render -------------------------------------------------------------- */

static int render_col(sp_objname *t, const part *p, const sp_batch *b, size_t i,
                      sp_buf *out, sp_error *err)
{
    if (!b || p->col >= b->ncols || i >= b->nrows)
        return sp_error_set(err, SP_EINTERNAL, 0,
                            "file template: row %zu or column %zu out of range", i, p->col);
    const sp_column *c = &b->cols[p->col];
    if (c->nulls && c->nulls[i])
        return enc_value(out, "null", 4, err);
    sp_buf_reset(&t->tmp);
    int rc;
    if (p->kind == P_COL) {
        rc = sp_fmt_value_text(&t->tmp, c, i, err);
    } else {
        tmparts tp;
        int64_t v = c->v.i64[i];
        sp_kind k = c->type->kind;
        if (k == SP_T_DATE || k == SP_T_DATE32) {
            tm_from(&tp, v * 86400, 0, 0);
        } else if (k == SP_T_DATETIME64 && c->type->scale > 0) {
            int64_t div = 1;
            for (int s = 0; s < c->type->scale && s < 18; s++)
                div *= 10;
            int64_t secs = floordiv(v, div);
            tm_from(&tp, secs, v - secs * div, c->type->scale);
        } else {
            tm_from(&tp, v, 0, 0);
        }
        rc = fmt_time(&t->tmp, p->text, p->len, &tp, err);
    }
    if (rc)
        return rc;
    return enc_value(out, t->tmp.data ? t->tmp.data : "", t->tmp.len, err);
}

int sp_objname_render(const sp_objname *tc, const sp_batch *b, size_t i, unsigned part_no,
                      sp_buf *out, sp_error *err)
{
    sp_objname *t = (sp_objname *)tc; /* scratch buffer only */
    int rc = 0;
    for (size_t k = 0; k < t->nparts && !rc; k++) {
        const part *p = &t->parts[k];
        switch (p->kind) {
        case P_LIT: rc = sp_buf_add(out, p->text, p->len, err); break;
        case P_SPLIT: rc = sp_buf_addf(out, err, "%u", part_no); break;
        default: rc = render_col(t, p, b, i, out, err); break;
        }
    }
    return rc;
}
