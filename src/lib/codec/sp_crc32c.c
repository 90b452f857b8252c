/* sp_crc32c: CRC-32C, slice-by-8 tables plus the SSE4.2 instruction. */
#include "sp_crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define SP_CRC32C_HW 1
#endif
#include "sp_banned.h"

#define POLY 0x82F63B78u /* reflected Castagnoli */

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_tab[0][i];
        for (int t = 1; t < 8; t++) {
            c = (c >> 8) ^ crc_tab[0][c & 0xff];
            crc_tab[t][i] = c;
        }
    }
}

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint32_t sp_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (n && ((uintptr_t)s & 7)) {
        crc = (crc >> 8) ^ crc_tab[0][(crc ^ *s++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t v = load_le64(s) ^ crc;
        crc = crc_tab[7][v & 0xff] ^ crc_tab[6][(v >> 8) & 0xff] ^
              crc_tab[5][(v >> 16) & 0xff] ^ crc_tab[4][(v >> 24) & 0xff] ^
              crc_tab[3][(v >> 32) & 0xff] ^ crc_tab[2][(v >> 40) & 0xff] ^
              crc_tab[1][(v >> 48) & 0xff] ^ crc_tab[0][v >> 56];
        s += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_tab[0][(crc ^ *s++) & 0xff];
    return ~crc;
}

#ifdef SP_CRC32C_HW
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc,
                                                         const void *p,
                                                         size_t n)
{
    const unsigned char *s = p;
    uint64_t c = ~crc;
    while (n && ((uintptr_t)s & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *s++);
        n--;
    }
    /* three independent streams would hide the instruction's latency; one
     * stream already runs at several GB/s, far beyond snappy's speed */
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        c = _mm_crc32_u64(c, v);
        s += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *s++);
    return ~(uint32_t)c;
}

static int have_hw = -1; /* -1 unknown; racing initialisers agree */

uint32_t sp_crc32c(uint32_t crc, const void *p, size_t n)
{
    int hw = __atomic_load_n(&have_hw, __ATOMIC_RELAXED);
    if (hw < 0) {
        __builtin_cpu_init();
        hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&have_hw, hw, __ATOMIC_RELAXED);
    }
    return hw ? crc_hw(crc, p, n) : sp_crc32c_sw(crc, p, n);
}
#else
uint32_t sp_crc32c(uint32_t crc, const void *p, size_t n)
{
    return sp_crc32c_sw(crc, p, n);
}
#endif
