/* sp_rle: the RLE / bit-packed hybrid encoding (see sp_rle.h). */
#include "sp_rle.h"

#include <string.h>

#include "sp_error.h"
#include "sp_banned.h"

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* An upper bound of the encoded size: every value bit-packed, plus one
 * header per 8 values (a run header never costs more than the group it
 * replaces plus its own 10 bytes) */
static size_t bound(size_t n, int bw)
{
    return (n + 7) / 8 * ((size_t)bw + 10) + 16;
}

/* The encoder body, shared by the 8- and 32-bit inputs.  `run(i, cap)`
 * counts equal values from i, at most cap. */
#define SP_RLE_ENCODE_BODY(T)                                                              \
    size_t cap_ = bound(n, bw);                                                            \
    int rc_ = sp_buf_grow(out, cap_, err);                                                 \
    if (rc_)                                                                               \
        return rc_;                                                                        \
    unsigned char *p = (unsigned char *)out->data + out->len;                              \
    unsigned char *start = p;                                                              \
    int vbytes = (bw + 7) / 8;                                                             \
    size_t i = 0;                                                                          \
    while (i < n) {                                                                        \
        T x = v[i];                                                                        \
        size_t r = 1;                                                                      \
        while (i + r < n && v[i + r] == x)                                                 \
            r++;                                                                           \
        if (r >= 8) {                                                                      \
            p += put_varint(p, (uint64_t)r << 1);                                          \
            for (int b = 0; b < vbytes; b++)                                               \
                *p++ = (unsigned char)((uint32_t)x >> (8 * b));                            \
            i += r;                                                                        \
            continue;                                                                      \
        }                                                                                  \
        /* literal groups of 8 until a run of 8 starts at a group boundary */             \
        size_t j = i + 8;                                                                  \
        while (j < n) {                                                                    \
            size_t k = 1;                                                                  \
            while (k < 8 && j + k < n && v[j + k] == v[j])                                 \
                k++;                                                                       \
            if (k >= 8)                                                                    \
                break;                                                                     \
            j += 8;                                                                        \
        }                                                                                  \
        size_t groups = (j - i) / 8;                                                       \
        p += put_varint(p, (uint64_t)groups << 1 | 1);                                     \
        uint64_t acc = 0;                                                                  \
        int nbits = 0;                                                                     \
        for (size_t k = i; k < j; k++) {                                                   \
            acc |= (uint64_t)(k < n ? (uint32_t)v[k] : 0) << nbits;                        \
            nbits += bw;                                                                   \
            while (nbits >= 8) {                                                           \
                *p++ = (unsigned char)acc;                                                 \
                acc >>= 8;                                                                 \
                nbits -= 8;                                                                \
            }                                                                              \
        }                                                                                  \
        /* 8 values of bw bits are whole bytes: nothing is left over */                   \
        i = j;                                                                             \
    }                                                                                      \
    out->len += (size_t)(p - start);                                                       \
    out->data[out->len] = '\0';                                                            \
    return 0;

int sp_rle_encode32(const uint32_t *v, size_t n, int bw, sp_buf *out, sp_error *err)
{
    SP_RLE_ENCODE_BODY(uint32_t)
}

int sp_rle_encode8(const uint8_t *v, size_t n, int bw, sp_buf *out, sp_error *err)
{
    SP_RLE_ENCODE_BODY(uint8_t)
}

static int get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int s = 0; s < 64; s += 7) {
        if (*pos >= len)
            return -1;
        unsigned char c = p[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int sp_rle_decode(const unsigned char *p, size_t len, int bw, uint32_t *v, size_t n)
{
    size_t pos = 0, got = 0;
    int vbytes = (bw + 7) / 8;
    uint32_t mask = bw >= 32 ? 0xffffffffu : (1u << bw) - 1;
    while (got < n) {
        uint64_t h;
        if (get_varint(p, len, &pos, &h))
            return -1;
        if (h & 1) { /* bit-packed groups */
            size_t cnt = (size_t)(h >> 1) * 8;
            if (cnt == 0 || pos + (h >> 1) * (uint64_t)bw > len)
                return -1;
            uint64_t acc = 0;
            int nbits = 0;
            for (size_t k = 0; k < cnt; k++) {
                while (nbits < bw) {
                    acc |= (uint64_t)p[pos++] << nbits;
                    nbits += 8;
                }
                if (got < n)
                    v[got++] = (uint32_t)acc & mask;
                acc >>= bw;
                nbits -= bw;
            }
        } else {
            size_t cnt = (size_t)(h >> 1);
            uint32_t x = 0;
            if (cnt == 0 || pos + (size_t)vbytes > len)
                return -1;
            for (int b = 0; b < vbytes; b++)
                x |= (uint32_t)p[pos++] << (8 * b);
            for (size_t k = 0; k < cnt && got < n; k++)
                v[got++] = x;
        }
    }
    return 0;
}
