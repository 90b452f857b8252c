/* sp_rle: Parquet's RLE / bit-packed hybrid encoding of small unsigned
 * integers (definition and repetition levels, dictionary indices).
 *
 * Spec: https://parquet.apache.org/docs/file-format/data-pages/encodings/
 * (section "Run Length Encoding / Bit-Packing Hybrid").  Runs of 8 or more
 * equal values become RLE runs; everything else is bit-packed in groups of
 * 8 (the last group padded with zeros).  No length prefix is written: data
 * page levels put a 4-byte one in front, dictionary indices a bit-width
 * byte. */
#ifndef SP_RLE_H
#define SP_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"

/* the bits needed for values up to max (0 for max 0) */
static inline int sp_rle_bit_width(uint32_t max)
{
    return max ? 32 - __builtin_clz(max) : 0;
}

/* sp_rle_encode32 / sp_rle_encode8: append v[0..n) (each < 2^bw, bw 0..32)
 * to out.  0, or SP_ENOMEM / SP_ETOOBIG from the buffer. */
int sp_rle_encode32(const uint32_t *v, size_t n, int bw, sp_buf *out, sp_error *err);
int sp_rle_encode8(const uint8_t *v, size_t n, int bw, sp_buf *out, sp_error *err);

/* sp_rle_decode: read n values of bw bits from p[0..len) into v (tests and
 * tools).  0, or -1 when the input ends early or is malformed. */
int sp_rle_decode(const unsigned char *p, size_t len, int bw, uint32_t *v, size_t n);

#endif
