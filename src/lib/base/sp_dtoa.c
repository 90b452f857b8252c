/* sp_dtoa: shortest round-trip float text (see sp_dtoa.h).
 *
 * Digits: Schubfach (R. Giulietti, "The Schubfach way to render doubles",
 * 2020), written here from the paper: the decimal interval of values that
 * round to v is scaled by a 128-bit approximation of 10^-k with
 * round-to-odd, which is exact enough to decide the shortest candidate.
 * Layout: as ClickHouse prints floats (double-conversion's ToShortest with
 * decimal_in_shortest_low = -6, decimal_in_shortest_high = 21, exponent
 * character 'e' without '+'): 0.000001, 1e-7, 100000000000000000000, 1e21,
 * 0.1, 1.5e-10, integers without ".0", "-0", "inf", "-inf", "nan". */
#include "sp_dtoa.h"

#include <stdint.h>
#include <string.h>

#include "sp_dtoa_pow10.h"
#include "sp_banned.h"

typedef unsigned __int128 u128;

const char sp_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* floor(log10(2^e)), floor(log10(3/4 * 2^e)), floor(log2(10^e)) for the
 * exponent ranges used here (|e| <= 1650); arithmetic shifts */
static inline int flog10pow2(int e)
{
    return (int)(((int64_t)e * 1262611) >> 22);
}

static inline int flog10threequarterspow2(int e)
{
    return (int)(((int64_t)e * 1262611 - 524031) >> 22);
}

static inline int flog2pow10(int e)
{
    return (int)(((int64_t)e * 1741647) >> 19);
}

/* the upper 64 bits of g * cp (g 128-bit), rounded to odd */
static inline uint64_t round_to_odd(const uint64_t g[2], uint64_t cp)
{
    u128 x = (u128)g[1] * cp;
    u128 y = (u128)g[0] * cp + (x >> 64);
    uint64_t hi = (uint64_t)(y >> 64);
    uint64_t lo = (uint64_t)y;
    return hi | (lo > 1);
}

/* shortest decimal d * 10^e for c * 2^q (c, q as in IEEE decoding);
 * lower_closer: the lower neighbour is at half the distance */
static void schubfach(uint64_t c, int q, int lower_closer, uint64_t *digits, int *exp10)
{
    int even = (c & 1) == 0;
    uint64_t cbl = 4 * c - 2 + (uint64_t)lower_closer;
    uint64_t cb = 4 * c;
    uint64_t cbr = 4 * c + 2;
    int k = lower_closer ? flog10threequarterspow2(q) : flog10pow2(q);
    int h = q + flog2pow10(-k) + 1;
    const uint64_t *g = sp_dtoa_pow10[-k - SP_DTOA_POW10_MIN];
    uint64_t vbl = round_to_odd(g, cbl << h);
    uint64_t vb = round_to_odd(g, cb << h);
    uint64_t vbr = round_to_odd(g, cbr << h);
    uint64_t lower = vbl + !even;
    uint64_t upper = vbr - !even;
    uint64_t s = vb / 4;
    if (s >= 10) {
        uint64_t sp = s / 10;
        int up_in = lower <= 40 * sp;
        int wp_in = 40 * sp + 40 <= upper;
        if (up_in != wp_in) {
            *digits = sp + (uint64_t)wp_in;
            *exp10 = k + 1;
            return;
        }
    }
    int u_in = lower <= 4 * s;
    int w_in = 4 * s + 4 <= upper;
    if (u_in != w_in) {
        *digits = s + (uint64_t)w_in;
        *exp10 = k;
        return;
    }
    uint64_t mid = 4 * s + 2;
    int up = vb > mid || (vb == mid && (s & 1) != 0);
    *digits = s + (uint64_t)up;
    *exp10 = k;
}

/* write n (< 10^17) as decimal digits into buf, return the count */
static int write_digits(uint64_t n, char *buf)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    while (n >= 100) {
        unsigned r = (unsigned)(n % 100);
        n /= 100;
        p -= 2;
        memcpy(p, sp_digit_pairs + 2 * r, 2);
    }
    if (n >= 10) {
        p -= 2;
        memcpy(p, sp_digit_pairs + 2 * n, 2);
    } else {
        *--p = (char)('0' + n);
    }
    int len = (int)(tmp + sizeof tmp - p);
    memcpy(buf, p, (size_t)len);
    return len;
}

/* lay out digits * 10^e10 (digits without trailing zeros) after the sign */
static size_t layout(char *out, uint64_t digits, int e10)
{
    while (digits >= 10 && digits % 10 == 0) {
        digits /= 10;
        e10++;
    }
    char d[24];
    int n = write_digits(digits, d);
    int point = n + e10; /* position of the decimal point after the first digit run */
    int exponent = point - 1;
    char *p = out;
    if (exponent >= -6 && exponent < 21) {
        if (point <= 0) {
            *p++ = '0';
            *p++ = '.';
            memset(p, '0', (size_t)-point);
            p += -point;
            memcpy(p, d, (size_t)n);
            p += n;
        } else if (point >= n) {
            memcpy(p, d, (size_t)n);
            p += n;
            memset(p, '0', (size_t)(point - n));
            p += point - n;
        } else {
            memcpy(p, d, (size_t)point);
            p += point;
            *p++ = '.';
            memcpy(p, d + point, (size_t)(n - point));
            p += n - point;
        }
    } else {
        *p++ = d[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)(n - 1));
            p += n - 1;
        }
        *p++ = 'e';
        if (exponent < 0) {
            *p++ = '-';
            exponent = -exponent;
        }
        p += write_digits((uint64_t)exponent, p);
    }
    return (size_t)(p - out);
}

size_t sp_dtoa(double v, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    int bexp = (int)((bits >> 52) & 0x7ff);
    char *p = buf;
    if (bexp == 0x7ff) {
        if (frac) {
            memcpy(buf, "nan", 3);
            return 3;
        }
        if (bits >> 63)
            *p++ = '-';
        memcpy(p, "inf", 3);
        return (size_t)(p - buf) + 3;
    }
    if (bits >> 63)
        *p++ = '-';
    if (bexp == 0 && frac == 0) {
        *p++ = '0';
        return (size_t)(p - buf);
    }
    uint64_t c;
    int q;
    if (bexp) {
        c = frac | (UINT64_C(1) << 52);
        q = bexp - 1075;
        /* small integers: exact, no search needed */
        if (q <= 0 && q > -53 && (c & ((UINT64_C(1) << -q) - 1)) == 0)
            return (size_t)(p - buf) + layout(p, c >> -q, 0);
    } else {
        c = frac;
        q = -1074;
    }
    uint64_t digits;
    int e10;
    schubfach(c, q, frac == 0 && bexp > 1, &digits, &e10);
    return (size_t)(p - buf) + layout(p, digits, e10);
}

size_t sp_ftoa(float v, char *buf)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint32_t frac = bits & ((UINT32_C(1) << 23) - 1);
    int bexp = (int)((bits >> 23) & 0xff);
    char *p = buf;
    if (bexp == 0xff) {
        if (frac) {
            memcpy(buf, "nan", 3);
            return 3;
        }
        if (bits >> 31)
            *p++ = '-';
        memcpy(p, "inf", 3);
        return (size_t)(p - buf) + 3;
    }
    if (bits >> 31)
        *p++ = '-';
    if (bexp == 0 && frac == 0) {
        *p++ = '0';
        return (size_t)(p - buf);
    }
    uint64_t c;
    int q;
    if (bexp) {
        c = frac | (UINT32_C(1) << 23);
        q = bexp - 150;
        if (q <= 0 && q > -24 && (c & ((UINT64_C(1) << -q) - 1)) == 0)
            return (size_t)(p - buf) + layout(p, c >> -q, 0);
    } else {
        c = frac;
        q = -149;
    }
    uint64_t digits;
    int e10;
    schubfach(c, q, frac == 0 && bexp > 1, &digits, &e10);
    return (size_t)(p - buf) + layout(p, digits, e10);
}
