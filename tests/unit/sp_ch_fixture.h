/* sp_ch_fixture: what the unit tests of the binary result readers
 * (test_ch_native, test_ch_rbread) share: builders of hand-made input
 * (LEB128, little-endian integers, strings, big decimals), a sink that
 * renders every batch as text ("v|v|v\n" rows, NULLs checked to hold a zero
 * value) and checks that a column's null map is set only in a batch that
 * holds a NULL, and SP_CH_FIXTURE_READ_CHUNKS, which defines read_chunks()
 * for one reader's API. */
#ifndef SP_CH_FIXTURE_H
#define SP_CH_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_error.h"
#include "sp_type.h"

/* ------------------------------------------------------------ building */

static inline void b_leb(sp_buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        sp_buf_addch(b, (char)(c | (v ? 0x80 : 0)), NULL);
    } while (v);
}

static inline void b_str(sp_buf *b, const char *s, size_t n)
{
    b_leb(b, n);
    sp_buf_add(b, s, n, NULL);
}

static inline void b_s(sp_buf *b, const char *s)
{
    b_str(b, s, strlen(s));
}

static inline void b_le(sp_buf *b, uint64_t v, int w)
{
    for (int i = 0; i < w; i++)
        sp_buf_addch(b, (char)(v >> (8 * i)), NULL);
}

static inline void b_raw(sp_buf *b, const void *p, size_t n)
{
    sp_buf_add(b, p, n, NULL);
}

/* decimal digits into a w-byte little-endian two's complement integer */
static inline void b_big(sp_buf *b, const char *digits, int w)
{
    uint8_t v[32] = { 0 };
    int neg = *digits == '-';
    for (const char *d = digits + neg; *d; d++) {
        unsigned carry = (unsigned)(*d - '0');
        for (int k = 0; k < w; k++) {
            unsigned x = v[k] * 10u + carry;
            v[k] = (uint8_t)x;
            carry = x >> 8;
        }
    }
    for (int k = 0, carry = 1; neg && k < w; k++) {
        unsigned x = (uint8_t)~v[k] + (unsigned)carry;
        v[k] = (uint8_t)x;
        carry = (int)(x >> 8);
    }
    b_raw(b, v, (size_t)w);
}

/* ------------------------------------------------------------ reading */

typedef struct sink {
    sp_buf text; /* rows as "v|v|v\n" */
    int nschema, badnulls;
    size_t nbatches, maxrows, rows;
} sink;

/* kinds held in 8 bytes */
static inline int is_num(sp_kind k)
{
    return sp_kind_is_signed(k) || sp_kind_is_unsigned(k) || k == SP_T_FLOAT32 ||
           k == SP_T_FLOAT64 || (k >= SP_T_DATE && k <= SP_T_DATETIME64);
}

/* value i of c as text; a NULL as "NULL" when its null flag is 1 and a zero
 * value is under it, else "NULL(not zero)" */
static inline void render(sp_buf *o, const sp_column *c, size_t i)
{
    sp_kind k = c->type->kind;
    if (c->nulls && c->nulls[i]) {
        int zero = k == SP_T_ARRAY || k == SP_T_MAP ? c->offsets[i] == c->offsets[i + 1]
                 : is_num(k) ? c->v.u64[i] == 0 : c->v.str[i].n == 0;
        sp_buf_adds(o, zero && c->nulls[i] == 1 ? "NULL" : "NULL(not zero)", NULL);
    } else if (k == SP_T_ARRAY || k == SP_T_MAP) {
        sp_buf_addch(o, k == SP_T_ARRAY ? '[' : '{', NULL);
        for (uint64_t j = c->offsets[i]; j < c->offsets[i + 1]; j++) {
            if (j > c->offsets[i])
                sp_buf_addch(o, ',', NULL);
            render(o, &c->child[0], (size_t)j);
            if (k == SP_T_MAP) {
                sp_buf_addch(o, ':', NULL);
                render(o, &c->child[1], (size_t)j);
            }
        }
        sp_buf_addch(o, k == SP_T_ARRAY ? ']' : '}', NULL);
    } else if (k == SP_T_TUPLE) {
        sp_buf_addch(o, '(', NULL);
        for (size_t j = 0; j < c->nchild; j++) {
            if (j)
                sp_buf_addch(o, ',', NULL);
            render(o, &c->child[j], i);
        }
        sp_buf_addch(o, ')', NULL);
    } else if (k == SP_T_FLOAT32 || k == SP_T_FLOAT64) {
        sp_buf_addf(o, NULL, "%.17g", c->v.f64[i]);
    } else if (sp_kind_is_unsigned(k)) {
        sp_buf_addf(o, NULL, "%llu", (unsigned long long)c->v.u64[i]);
    } else if (is_num(k)) {
        sp_buf_addf(o, NULL, "%lld", (long long)c->v.i64[i]);
    } else {
        for (size_t j = 0; j < c->v.str[i].n; j++) {
            unsigned char ch = (unsigned char)c->v.str[i].p[j];
            if (ch < 32 || ch > 126)
                sp_buf_addf(o, NULL, "\\x%02x", ch);
            else
                sp_buf_addch(o, (char)ch, NULL);
        }
    }
}

/* a column's nulls are set only in a batch that holds a NULL */
static inline int nulls_ok(const sp_column *c, size_t lo, size_t hi)
{
    int any = 0;
    for (size_t i = lo; c->nulls && i < hi; i++)
        any |= c->nulls[i];
    for (size_t j = 0; j < c->nchild; j++)
        if (!(c->type->kind == SP_T_TUPLE ? nulls_ok(&c->child[j], lo, hi)
                                          : nulls_ok(&c->child[j], (size_t)c->offsets[lo],
                                                     (size_t)c->offsets[hi])))
            return 0;
    return !c->nulls || any;
}

static inline int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    (void)s;
    (void)err;
    ((sink *)ud)->nschema++;
    return 0;
}

static inline int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    sink *k = ud;
    (void)err;
    k->nbatches++;
    k->rows += b->nrows;
    if (b->nrows > k->maxrows)
        k->maxrows = b->nrows;
    for (size_t c = 0; c < b->ncols; c++)
        k->badnulls += !nulls_ok(&b->cols[c], 0, b->nrows);
    for (size_t i = 0; i < b->nrows; i++)
        for (size_t c = 0; c < b->ncols; c++) {
            render(&k->text, &b->cols[c], i);
            sp_buf_addch(&k->text, c + 1 < b->ncols ? '|' : '\n', NULL);
        }
    return 0;
}

/* read_chunks(chunks, n, batch_rows, k, &code) for the reader of type T
 * and functions P##_new, P##_chunk, P##_finish, P##_rows, P##_free: the
 * chunks read (each from an exact-size heap copy, scribbled over and freed
 * as soon as the call returns); the rows' text, or "ERR <msg>" */
#define SP_CH_FIXTURE_READ_CHUNKS(T, P)                                                         \
    static char *read_chunks(const sp_buf *chunks, size_t n, size_t batch_rows, sink *k,       \
                             int *code)                                                        \
    {                                                                                          \
        memset(k, 0, sizeof *k);                                                               \
        sp_buf_init(&k->text, 1 << 26);                                                        \
        T *r = NULL;                                                                           \
        sp_error err = SP_ERROR_INIT;                                                          \
        int rc = P##_new(batch_rows, on_schema, on_batch, k, &r, &err);                        \
        for (size_t i = 0; !rc && i < n; i++) {                                                \
            char *copy = malloc(chunks[i].len ? chunks[i].len : 1);                            \
            memcpy(copy, chunks[i].data ? chunks[i].data : "", chunks[i].len);                 \
            rc = P##_chunk(r, copy, chunks[i].len, &err);                                      \
            memset(copy, 0xAA, chunks[i].len);                                                 \
            free(copy);                                                                        \
        }                                                                                      \
        if (!rc)                                                                               \
            rc = P##_finish(r, &err);                                                          \
        if (!rc && P##_rows(r) != k->rows)                                                     \
            rc = sp_error_set(&err, SP_EINTERNAL, 0, #P "_rows %llu, on_batch saw %zu",        \
                              P##_rows(r), k->rows);                                           \
        if (!rc && k->badnulls)                                                                \
            rc = sp_error_set(&err, SP_EINTERNAL, 0, "%d columns with nulls but no NULL",      \
                              k->badnulls);                                                    \
        P##_free(r);                                                                           \
        *code = rc;                                                                            \
        char *s = rc ? NULL : sp_buf_detach(&k->text);                                         \
        if (rc) {                                                                              \
            sp_buf t = SP_BUF_INIT(4096);                                                      \
            sp_buf_addf(&t, NULL, "ERR %s", err.msg);                                          \
            s = sp_buf_detach(&t);                                                             \
        }                                                                                      \
        sp_buf_release(&k->text);                                                              \
        return s;                                                                              \
    }

#endif
