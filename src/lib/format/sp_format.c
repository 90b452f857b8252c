/* sp_format: the format registry and value renderers shared by the CSV and
 * NDJSON writers and by file-name templates (see sp_format.h). */
#include "sp_format.h"

#include <stdio.h>
#include <string.h>

#include "sp_date.h"
#include "sp_dtoa.h"
#include "sp_error.h"
#include "sp_format_int.h"
#include "sp_time.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

#define SP_FORMAT_PTR_(w) &sp_format_##w,
static const sp_format *const formats[] = { SP_FORMATS(SP_FORMAT_PTR_) };
#define NFORMATS (sizeof formats / sizeof formats[0])

const sp_format *sp_format_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

#define SP_FORMAT_LISTED_(w) ", " #w
const char *sp_format_names(void)
{
    return SP_FORMATS(SP_FORMAT_LISTED_) + 2; /* without the first ", " */
}

const char *sp_format_row_names(char *buf, size_t bufsz)
{
    size_t n = 0;
    if (bufsz)
        buf[0] = '\0';
    for (size_t i = 0; i < NFORMATS && n < bufsz; i++)
        if (formats[i]->row) {
            int k = snprintf(buf + n, bufsz - n, "%s%s", n ? ", " : "", formats[i]->name);
            if (k > 0)
                n += (size_t)k;
        }
    return buf;
}

static inline int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static const int64_t pow10_i64[10] = {1,      10,      100,      1000,      10000,
                                      100000, 1000000, 10000000, 100000000, 1000000000};

char *sp__fmt_datetime64(char *p, int64_t ticks, int scale)
{
    if (scale <= 0 || scale > 9)
        return sp_date_put_datetime(p, ticks);
    int64_t div = pow10_i64[scale];
    int64_t secs = floordiv(ticks, div);
    int64_t frac = ticks - secs * div;
    p = sp_date_put_datetime(p, secs);
    *p++ = '.';
    for (int s = scale - 1; s >= 0; s--) {
        p[s] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return p + scale;
}

/* ------------------------------------------------------------ values */

int sp__fmt_is_text_kind(sp_kind k)
{
    switch (k) {
    case SP_T_STRING:
    case SP_T_FIXEDSTRING:
    case SP_T_UUID:
    case SP_T_IPV4:
    case SP_T_IPV6:
    case SP_T_ENUM8:
    case SP_T_ENUM16:
    case SP_T_JSON:
    case SP_T_OTHER:
    case SP_T_INT128:
    case SP_T_INT256:
    case SP_T_UINT128:
    case SP_T_UINT256:
    case SP_T_DECIMAL:
        return 1;
    default:
        return 0;
    }
}

char *sp__fmt_scalar(char *p, const sp_column *c, size_t i)
{
    switch (c->type->kind) {
    case SP_T_BOOL:
        if (c->v.u64[i]) {
            memcpy(p, "true", 4);
            return p + 4;
        }
        memcpy(p, "false", 5);
        return p + 5;
    case SP_T_UINT8:
    case SP_T_UINT16:
    case SP_T_UINT32:
    case SP_T_UINT64:
        return sp__fmt_u64(p, c->v.u64[i]);
    case SP_T_INT8:
    case SP_T_INT16:
    case SP_T_INT32:
    case SP_T_INT64:
        return sp__fmt_i64(p, c->v.i64[i]);
    case SP_T_FLOAT32:
        return p + sp_ftoa((float)c->v.f64[i], p);
    case SP_T_FLOAT64:
        return p + sp_dtoa(c->v.f64[i], p);
    case SP_T_DATE:
    case SP_T_DATE32:
        return sp_date_put(p, c->v.i64[i]);
    case SP_T_DATETIME:
        return sp_date_put_datetime(p, c->v.i64[i]);
    case SP_T_DATETIME64:
        return sp__fmt_datetime64(p, c->v.i64[i], c->type->scale);
    default:
        return p;
    }
}

static inline int is_null(const sp_column *c, size_t i)
{
    return c->nulls && c->nulls[i];
}

size_t sp__fmt_bound_slow(const sp_column *c, size_t i, sp__fmt_mode mode)
{
    if (is_null(c, i))
        return 4;
    sp_kind k = c->type->kind;
    if (sp__fmt_is_text_kind(k)) {
        size_t n = c->v.str[i].n;
        return mode == SP__FMT_JSON ? 6 * n + 4 : 2 * n + 4;
    }
    size_t b = 2, from, to;
    switch (k) {
    case SP_T_ARRAY:
    case SP_T_MAP:
        from = (size_t)c->offsets[i];
        to = (size_t)c->offsets[i + 1];
        for (size_t j = from; j < to; j++) {
            b += sp__fmt_bound(&c->child[0], j, mode) + 1;
            if (k == SP_T_MAP)
                b += sp__fmt_bound(&c->child[1], j, mode) + SP__FMT_SCALAR_MAX;
        }
        return b;
    case SP_T_TUPLE:
        for (size_t j = 0; j < c->nchild; j++) {
            b += sp__fmt_bound(&c->child[j], i, mode) + 1;
            const char *nm = c->type->names ? c->type->names[j] : NULL;
            if (nm && mode == SP__FMT_JSON)
                b += 6 * strlen(nm) + 3;
        }
        return b;
    default:
        return SP__FMT_SCALAR_MAX;
    }
}

/* 'text' with ClickHouse's escapes; csv doubles '"' */
static char *quote_text(char *p, const char *s, size_t n, int csv)
{
    *p++ = '\'';
    for (size_t j = 0; j < n; j++) {
        char ch = s[j];
        const char *e = sp_ch_esc(ch); /* ClickHouse's escapes */
        if (e) {
            *p++ = e[0];
            *p++ = e[1];
        } else {
            *p++ = ch;
            if (ch == '"' && csv)
                *p++ = '"';
        }
    }
    *p++ = '\'';
    return p;
}

char *sp__fmt_quoted_text(char *p, const sp_column *c, size_t i, int csv)
{
    if (is_null(c, i)) {
        memcpy(p, "NULL", 4);
        return p + 4;
    }
    sp_kind k = c->type->kind;
    switch (k) {
    case SP_T_NOTHING:
        memcpy(p, "NULL", 4);
        return p + 4;
    case SP_T_INT128:
    case SP_T_INT256:
    case SP_T_UINT128:
    case SP_T_UINT256:
    case SP_T_DECIMAL:
        memcpy(p, c->v.str[i].p, c->v.str[i].n);
        return p + c->v.str[i].n;
    case SP_T_DATE:
    case SP_T_DATE32:
    case SP_T_DATETIME:
    case SP_T_DATETIME64:
        *p++ = '\'';
        p = sp__fmt_scalar(p, c, i);
        *p++ = '\'';
        return p;
    case SP_T_ARRAY:
    case SP_T_MAP: {
        size_t from = (size_t)c->offsets[i], to = (size_t)c->offsets[i + 1];
        *p++ = k == SP_T_MAP ? '{' : '[';
        for (size_t j = from; j < to; j++) {
            if (j > from)
                *p++ = ',';
            p = sp__fmt_quoted_text(p, &c->child[0], j, csv);
            if (k == SP_T_MAP) {
                *p++ = ':';
                p = sp__fmt_quoted_text(p, &c->child[1], j, csv);
            }
        }
        *p++ = k == SP_T_MAP ? '}' : ']';
        return p;
    }
    case SP_T_TUPLE:
        *p++ = '(';
        for (size_t j = 0; j < c->nchild; j++) {
            if (j)
                *p++ = ',';
            p = sp__fmt_quoted_text(p, &c->child[j], i, csv);
        }
        *p++ = ')';
        return p;
    default:
        if (sp__fmt_is_text_kind(k))
            return quote_text(p, c->v.str[i].p, c->v.str[i].n, csv);
        return sp__fmt_scalar(p, c, i);
    }
}

int sp_fmt_value_text(sp_buf *out, const sp_column *c, size_t i, sp_error *err)
{
    if (is_null(c, i) || c->type->kind == SP_T_NOTHING)
        return sp_buf_add(out, "null", 4, err);
    sp_kind k = c->type->kind;
    if (sp__fmt_is_text_kind(k))
        return sp_buf_add(out, c->v.str[i].p, c->v.str[i].n, err);
    int rc;
    char *p = sp__fmt_begin(out, sp__fmt_bound(c, i, SP__FMT_TEXT), err, &rc);
    if (!p)
        return rc;
    if (k == SP_T_ARRAY || k == SP_T_MAP || k == SP_T_TUPLE)
        p = sp__fmt_quoted_text(p, c, i, 0);
    else
        p = sp__fmt_scalar(p, c, i);
    sp__fmt_end(out, p);
    return 0;
}
