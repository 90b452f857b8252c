/* sp_ch_colbuf: what the two binary result readers share (internal to the
 * engine): sp_ch_native (Native, columnar) and sp_ch_rbread
 * (RowBinaryWithNamesAndTypes) decode a result column into a tree of
 * nodes, one per nested type; each node holds its values in a column
 * buffer, whose arrays are the ones an sp_column (sp_batch.h) points to.
 * Also the little-endian and LEB128 readers of both formats, and a node's
 * children by type. */
#ifndef SP_CH_COLBUF_H
#define SP_CH_COLBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_type.h"

/* the values of one node: n of them, room for cap.  Nothing here is
 * shared: the buffer owns its arrays (sp_ch_colbuf_release frees them). */
typedef struct sp_ch_colbuf {
    size_t n, cap;
    uint8_t *nulls; /* Nullable only: 0 or 1 per value */
    union {
        int64_t *i64;
        uint64_t *u64;
        double *f64;
        sp_str *str;
        void *any;
    } v;               /* values of esz bytes (sp_ch_colbuf_reserve) */
    uint64_t *offsets; /* Array, Map: cap + 1, offsets[0] = 0 */
} sp_ch_colbuf;

/* SP_CH_COLBUF_GROW: realloc ptr to `bytes` (0: left alone), or return -1
 * from the calling function */
#define SP_CH_COLBUF_GROW(ptr, bytes)                                   \
    do {                                                                \
        void *np_ = (bytes) != 0 ? realloc((ptr), (bytes)) : (ptr);     \
        if (!np_ && (bytes) != 0)                                       \
            return -1;                                                  \
        (ptr) = np_;                                                    \
    } while (0)

/* sp_ch_colbuf_reserve: room for `need` values (nothing to do when there
 * is): the arrays grow to at least twice their room (64 at first), values
 * of esz bytes (0: none kept), a null map when nullable, offsets when
 * offsets.  0, or -1 when out of memory (the buffer is left as it was, or
 * with some arrays grown). */
int sp_ch_colbuf_reserve(sp_ch_colbuf *b, size_t need, size_t esz, int nullable, int offsets);
void sp_ch_colbuf_release(sp_ch_colbuf *b);

/* sp_ch_colbuf_nchild: the child nodes of a value of type t (Array: its
 * elements; Map: keys and values; Tuple: each element), and the type of
 * child i (t keeps it). */
size_t sp_ch_colbuf_nchild(const sp_type *t);
const sp_type *sp_ch_colbuf_child(const sp_type *t, size_t i);
/* sp_ch_colbuf_decimal_width: bytes of a Decimal of this precision */
unsigned sp_ch_colbuf_decimal_width(int precision);

/* sp_ch_colbuf_failed: a reader's failure as one line (column names may
 * hold newlines: they become spaces in err's message); returns rc. */
int sp_ch_colbuf_failed(int rc, sp_error *err);

/* the w (1..8) bytes at p as a little-endian unsigned integer */
static inline uint64_t sp_ch_colbuf_le(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    memcpy(&v, p, w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v) >> (64 - 8 * w);
#endif
    return v;
}

/* a LEB128 integer at p (before e) into *out; the byte after it, or NULL
 * when it is cut short or longer than 64 bits */
static inline const uint8_t *sp_ch_colbuf_leb(const uint8_t *p, const uint8_t *e, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned sh = 0; p < e && sh < 64; sh += 7) {
        v |= (uint64_t)(*p & 0x7f) << sh;
        if (!(*p++ & 0x80))
            return (*out = v, p);
    }
    return NULL;
}

#endif
