/* sp_format_int: helpers shared by sp_format.c, sp_format_csv.c and
 * sp_format_ndjson.c (internal).
 *
 * The hot path writes through a raw cursor into an sp_buf whose room was
 * reserved with sp_buf_grow() for an upper bound of the row (computed by
 * sp__fmt_bound), so the writers below never check capacity. */
#ifndef SP_FORMAT_INT_H
#define SP_FORMAT_INT_H

#include <stdint.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_dtoa.h"
#include "sp_buf.h"

/* the widest scalar text: a DateTime64(9) quoted is 31 bytes, a double 24 */
#define SP__FMT_SCALAR_MAX 48

typedef enum sp__fmt_mode {
    SP__FMT_CSV,  /* CSV cell */
    SP__FMT_JSON, /* JSON value */
    SP__FMT_TEXT  /* plain text (file-name placeholders) */
} sp__fmt_mode;


static inline int sp__fmt_u64_len(uint64_t v)
{
    int n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* unsigned decimal written in place, back to front; returns the end */
static inline char *sp__fmt_u64(char *p, uint64_t v)
{
    char *end = p + sp__fmt_u64_len(v);
    char *t = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        t -= 2;
        t[0] = sp_digit_pairs[2 * r];
        t[1] = sp_digit_pairs[2 * r + 1];
    }
    if (v >= 10) {
        t[-2] = sp_digit_pairs[2 * v];
        t[-1] = sp_digit_pairs[2 * v + 1];
    } else {
        t[-1] = (char)('0' + v);
    }
    return end;
}

static inline char *sp__fmt_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return sp__fmt_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return sp__fmt_u64(p, (uint64_t)v);
}

/* value of a scalar cell as text without quotes (numbers, dates, bool);
 * returns the end.  Kinds stored as text are not handled here. */
char *sp__fmt_scalar(char *p, const sp_column *c, size_t i);
/* the DateTime64 text for ticks of 10^-scale seconds */
char *sp__fmt_datetime64(char *p, int64_t ticks, int scale);
/* 1 when the kind is stored in v.str */
int sp__fmt_is_text_kind(sp_kind k);
/* an upper bound of the bytes value (c, i) takes in the given mode
 * (including quotes, escapes, separators of nested values) */
size_t sp__fmt_bound_slow(const sp_column *c, size_t i, sp__fmt_mode mode);
static inline size_t sp__fmt_bound(const sp_column *c, size_t i, sp__fmt_mode mode)
{
    if (c->nulls && c->nulls[i])
        return 4;
    sp_kind k = c->type->kind;
    if ((k <= SP_T_FLOAT64 && k != SP_T_INT128 && k != SP_T_INT256 && k != SP_T_UINT128 &&
         k != SP_T_UINT256) ||
        (k >= SP_T_DATE && k <= SP_T_DATETIME64))
        return SP__FMT_SCALAR_MAX;
    if (k == SP_T_STRING) /* the common case, inline: see sp__fmt_bound_slow */
        return mode == SP__FMT_JSON ? 6 * c->v.str[i].n + 4 : 2 * c->v.str[i].n + 4;
    return sp__fmt_bound_slow(c, i, mode);
}
/* ClickHouse's quoted text form of a value (Array/Map/Tuple elements):
 * 'str' with \-escapes, numbers bare, NULL; with csv != 0 every '"' is
 * doubled (the value sits inside a CSV-quoted cell).  Returns the end. */
char *sp__fmt_quoted_text(char *p, const sp_column *c, size_t i, int csv);

/* Reserve `need` bytes in out and return the write cursor. */
static inline char *sp__fmt_begin(sp_buf *out, size_t need, sp_error *err, int *rc)
{
    *rc = sp_buf_grow(out, need, err);
    return *rc ? NULL : out->data + out->len;
}

static inline void sp__fmt_end(sp_buf *out, char *p)
{
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
}

#endif
