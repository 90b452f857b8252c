/* sp_ch_text: ClickHouse binary values as text (see sp_ch_text.h). */
#include <stdlib.h>
#include <string.h>

#include "sp_ch_text.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

static const char D2[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                         "34353637383940414243444546474849505152535455565758596061626364656667"
                         "6869707172737475767778798081828384858687888990919293949596979899";
static const char HEX[] = "0123456789abcdef";

/* the w-byte little-endian unsigned integer at p */
static uint64_t ld(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    for (unsigned i = w; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* the digits of v, written backwards to end at s; returns the first */
static char *digits(uint64_t v, char *s)
{
    for (; v >= 100; v /= 100)
        memcpy(s -= 2, D2 + 2 * (v % 100), 2);
    if (v >= 10)
        memcpy(s -= 2, D2 + 2 * v, 2);
    else
        *--s = (char)('0' + v);
    return s;
}

size_t sp_ch_text_decimal(const uint8_t *p, unsigned w, int sgn, int scale,
                          char out[SP_CH_TEXT_MAX])
{
    uint64_t l[4] = { ld(p, w == 4 ? 4 : 8), 0, 0, 0 };
    unsigned nl = w < 8 ? 1 : w / 8, carry = 1;
    for (unsigned k = 1; k < nl; k++)
        l[k] = ld(p + 8 * k, 8);
    int neg = sgn && (p[w - 1] & 0x80);
    if (neg && w == 4)
        l[0] |= ~(uint64_t)0 << 32;
    for (unsigned k = 0; neg && k < nl; k++) { /* negate */
        l[k] = ~l[k] + carry;
        carry = carry && !l[k];
    }
    char d[SP_CH_TEXT_MAX], *e = d + sizeof d, *s = e, *o = out;
    while (nl > 1 && !l[nl - 1])
        nl--;
    while (nl > 1) { /* the lowest 19 digits */
        unsigned __int128 rem = 0;
        for (unsigned k = nl; k-- > 0;) {
            unsigned __int128 cur = (rem << 64) | l[k];
            l[k] = (uint64_t)(cur / 10000000000000000000ull);
            rem = cur % 10000000000000000000ull;
        }
        char *t = s - 19;
        for (s = digits((uint64_t)rem, s); s > t;)
            *--s = '0';
        while (nl > 1 && !l[nl - 1])
            nl--;
    }
    for (s = digits(l[0], s); *s == '0' && e - s > 1;)
        s++;
    size_t nd = (size_t)(e - s), sc = (size_t)scale;
    for (; sc && nd > 1 && e[-1] == '0'; sc--, nd--)
        e--;
    if (nd == 1 && *s == '0')
        return (*out = '0', 1);
    if (neg)
        *o++ = '-';
    if (sc >= nd) {
        memcpy(o, "0.", 2);
        memset(o + 2, '0', sc - nd);
        o += 2 + sc - nd;
    } else {
        memcpy(o, s, nd - sc);
        o += nd - sc;
        s += nd - sc;
        nd = sc;
        if (sc)
            *o++ = '.';
    }
    memcpy(o, s, nd);
    return (size_t)(o + nd - out);
}

size_t sp_ch_text_uuid(const uint8_t p[16], char o[36])
{
    static const unsigned char at[16] = { 0,  2,  4,  6,  9,  11, 14, 16,
                                          19, 21, 24, 26, 28, 30, 32, 34 };
    for (int i = 0; i < 16; i++) {
        uint8_t b = p[i < 8 ? 7 - i : 23 - i];
        o[at[i]] = HEX[b >> 4];
        o[at[i] + 1] = HEX[b & 15];
    }
    o[8] = o[13] = o[18] = o[23] = '-';
    return 36;
}

static char *ipv4(uint32_t v, char *o)
{
    for (int i = 3; i >= 0; i--) {
        char b[4], *s = digits((v >> (8 * i)) & 255, b + 3);
        memcpy(o, s, (size_t)(b + 3 - s));
        o += b + 3 - s;
        if (i)
            *o++ = '.';
    }
    return o;
}

size_t sp_ch_text_ipv4(uint32_t v, char out[16])
{
    return (size_t)(ipv4(v, out) - out);
}

size_t sp_ch_text_ipv6(const uint8_t p[16], char out[48])
{
    unsigned wd[8];
    int best = -1, blen = 0, cur = -1, clen = 0;
    char *o = out;
    for (int i = 0; i < 8; i++) {
        wd[i] = (unsigned)p[2 * i] << 8 | p[2 * i + 1];
        cur = wd[i] ? -1 : cur < 0 ? (clen = 0, i) : cur;
        if (!wd[i] && ++clen > blen)
            best = cur, blen = clen;
    }
    if (blen < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + blen) {
            if (i == best)
                *o++ = ':';
            continue;
        }
        if (i)
            *o++ = ':';
        if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && wd[5] == 0xffff)))
            return (size_t)(ipv4((uint32_t)wd[6] << 16 | wd[7], o) - out);
        for (int sh = 12, on = 0; sh >= 0; sh -= 4)
            if ((on |= (wd[i] >> sh) & 15) || !sh)
                *o++ = HEX[(wd[i] >> sh) & 15];
    }
    if (best >= 0 && best + blen == 8)
        *o++ = ':';
    return (size_t)(o - out);
}

/* ------------------------------------------------------------ Enum */

static int enum_parse(sp_ch_text_enum *en, const char *p)
{
    size_t k = 0, cap = 8;
    char *w = en->names = malloc(strlen(p) + 1);
    if (!w || !(en->e = malloc(cap * sizeof *en->e)))
        return -1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p++ != '\'')
            return -1;
        const char *start = w;
        for (; *p != '\'' || p[1] == '\''; p++) {
            if (!*p)
                return -1;
            if (*p == '\\') { /* two bytes at most for the two it reads */
                size_t m;
                p += sp_ch_unesc(p, p + strlen(p), w, &m) - 1;
                w += m;
                continue;
            }
            if (*p == '\'')
                p++;
            *w++ = *p;
        }
        for (p++; *p == ' ' || *p == '=';)
            p++;
        int neg = *p == '-', v = 0;
        if (p[neg] < '0' || p[neg] > '9')
            return -1;
        for (p += neg; *p >= '0' && *p <= '9' && v < 100000; p++)
            v = v * 10 + (*p - '0');
        struct sp_ch_text_ename *ne = k < cap ? en->e : realloc(en->e, (cap *= 2) * sizeof *ne);
        if (!ne)
            return -1;
        en->e = ne;
        ne[k++] = (struct sp_ch_text_ename){ neg ? -v : v, { start, (size_t)(w - start) } };
    }
    for (size_t i = 1; i < k; i++) /* insertion sort: bodies are short */
        for (size_t j = i; j > 0 && en->e[j - 1].v > en->e[j].v; j--) {
            struct sp_ch_text_ename x = en->e[j];
            en->e[j] = en->e[j - 1];
            en->e[j - 1] = x;
        }
    en->n = k;
    return k ? 0 : -1;
}

int sp_ch_text_enum_init(sp_ch_text_enum *e, const char *body)
{
    *e = (sp_ch_text_enum){ NULL, NULL, 0 };
    if (body && !enum_parse(e, body))
        return 0;
    sp_ch_text_enum_release(e);
    return -1;
}

void sp_ch_text_enum_release(sp_ch_text_enum *e)
{
    free(e->names);
    free(e->e);
    *e = (sp_ch_text_enum){ NULL, NULL, 0 };
}

const sp_str *sp_ch_text_enum_name(const sp_ch_text_enum *e, int v)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->e[mid].v < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n && e->e[lo].v == v ? &e->e[lo].s : NULL;
}

