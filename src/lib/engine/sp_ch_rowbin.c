/* sp_ch_rowbin: RowBinary writer (see sp_ch_rowbin.h). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ch_rowbin.h"
#include "sp_error.h"
#include "sp_type.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

static int put_le(sp_buf *out, uint64_t v, size_t w, sp_error *err)
{
    uint8_t b[8];
    for (size_t i = 0; i < w; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return sp_buf_add(out, b, w, err);
}

static int put_varint(sp_buf *out, uint64_t v, sp_error *err)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        b[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    return sp_buf_add(out, b, n, err);
}

/* decimal text ("-12.5") scaled by 10^scale into a w-byte two's complement
 * little-endian integer; -1 when it is not a number or does not fit */
static int text_to_le(const char *p, size_t n, int scale, uint8_t *out, size_t w)
{
    memset(out, 0, w);
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    int frac = -1, any = 0;
    for (; i < n; i++) {
        if (p[i] == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (frac >= 0 && frac >= scale)
            continue; /* digits past the scale: truncated, as ClickHouse does */
        if (frac >= 0)
            frac++;
        any = 1;
        unsigned carry = (unsigned)(p[i] - '0');
        for (size_t k = 0; k < w; k++) {
            unsigned v = out[k] * 10u + carry;
            out[k] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    if (!any)
        return -1;
    for (int k = frac < 0 ? 0 : frac; k < scale; k++) {
        unsigned carry = 0;
        for (size_t j = 0; j < w; j++) {
            unsigned v = out[j] * 10u + carry;
            out[j] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    /* the magnitude fits the signed width: below 2^(8w-1), or exactly
     * that for the most negative value */
    if (out[w - 1] & 0x80) {
        int min = neg && out[w - 1] == 0x80;
        for (size_t k = 0; min && k + 1 < w; k++)
            min = out[k] == 0;
        if (!min)
            return -1;
    }
    if (neg) {
        unsigned carry = 1;
        for (size_t k = 0; k < w; k++) {
            unsigned v = (uint8_t)~out[k] + carry;
            out[k] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    return 0;
}

/* unsigned text into w bytes (UInt128/256) */
static int utext_to_le(const char *p, size_t n, uint8_t *out, size_t w)
{
    memset(out, 0, w);
    if (!n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned carry = (unsigned)(p[i] - '0');
        for (size_t k = 0; k < w; k++) {
            unsigned v = out[k] * 10u + carry;
            out[k] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    return 0;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int uuid_bytes(const char *p, size_t n, uint8_t out[16])
{
    uint8_t b[16];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '-')
            continue;
        if (k >= 32 || hexv(p[i]) < 0)
            return -1;
        if (k % 2 == 0)
            b[k / 2] = (uint8_t)(hexv(p[i]) << 4);
        else
            b[k / 2] |= (uint8_t)hexv(p[i]);
        k++;
    }
    if (k != 32)
        return -1;
    for (int i = 0; i < 8; i++) {
        out[i] = b[7 - i];
        out[8 + i] = b[15 - i];
    }
    return 0;
}

/* the number of 'name' in an Enum body "'a' = 1, 'b' = 2" */
static int enum_value(const char *body, const char *name, size_t n, long *out)
{
    const char *p = body;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p != '\'')
            return -1;
        p++;
        char nm[512];
        size_t k = 0;
        while (*p && *p != '\'') {
            char c[2];
            size_t m = 1;
            if (*p == '\\')
                p += sp_ch_unesc(p, p + strlen(p), c, &m);
            else
                c[0] = *p++;
            for (size_t j = 0; j < m; j++)
                if (k < sizeof nm)
                    nm[k++] = c[j];
        }
        if (*p != '\'')
            return -1;
        p++;
        while (*p == ' ' || *p == '=')
            p++;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
        if (k == n && !memcmp(nm, name, n)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int value(sp_buf *out, const sp_column *c, size_t i, const char *col, sp_error *err);

static int bad(const sp_column *c, size_t i, const char *col, sp_error *err)
{
    const sp_str *s = &c->v.str[i];
    return sp_error_set(err, SP_EDATA, 0, "column '%s': value '%.*s' does not fit its type", col,
                        (int)(s->n > 60 ? 60 : s->n), s->p);
}

static int nested(sp_buf *out, const sp_column *c, size_t i, const char *col, sp_error *err)
{
    const sp_type *t = c->type;
    int rc = 0;
    if (t->kind == SP_T_TUPLE) {
        for (size_t k = 0; !rc && k < c->nchild; k++)
            rc = value(out, &c->child[k], i, col, err);
        return rc;
    }
    uint64_t a = c->offsets[i], b = c->offsets[i + 1];
    rc = put_varint(out, b - a, err);
    for (uint64_t k = a; !rc && k < b; k++) {
        rc = value(out, &c->child[0], (size_t)k, col, err);
        if (!rc && t->kind == SP_T_MAP)
            rc = value(out, &c->child[1], (size_t)k, col, err);
    }
    return rc;
}

static int value(sp_buf *out, const sp_column *c, size_t i, const char *col, sp_error *err)
{
    const sp_type *t = c->type;
    int rc = 0;
    if (t->nullable) {
        int null = c->nulls && c->nulls[i];
        rc = sp_buf_addch(out, (char)null, err);
        if (rc || null)
            return rc;
    }
    uint8_t wide[32];
    switch (t->kind) {
    case SP_T_BOOL:
    case SP_T_UINT8: return put_le(out, c->v.u64[i], 1, err);
    case SP_T_UINT16: return put_le(out, c->v.u64[i], 2, err);
    case SP_T_UINT32: return put_le(out, c->v.u64[i], 4, err);
    case SP_T_UINT64: return put_le(out, c->v.u64[i], 8, err);
    case SP_T_INT8: return put_le(out, (uint64_t)c->v.i64[i], 1, err);
    case SP_T_INT16: return put_le(out, (uint64_t)c->v.i64[i], 2, err);
    case SP_T_INT32:
    case SP_T_DATE32: return put_le(out, (uint64_t)c->v.i64[i], 4, err);
    case SP_T_INT64:
    case SP_T_DATETIME64: return put_le(out, (uint64_t)c->v.i64[i], 8, err);
    case SP_T_DATE: return put_le(out, (uint64_t)c->v.i64[i], 2, err);
    case SP_T_DATETIME: return put_le(out, (uint64_t)c->v.i64[i], 4, err);
    case SP_T_FLOAT32: {
        float f = (float)c->v.f64[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        return put_le(out, u, 4, err);
    }
    case SP_T_FLOAT64: {
        uint64_t u;
        memcpy(&u, &c->v.f64[i], 8);
        return put_le(out, u, 8, err);
    }
    case SP_T_INT128:
    case SP_T_INT256: {
        size_t w = t->kind == SP_T_INT128 ? 16 : 32;
        if (text_to_le(c->v.str[i].p, c->v.str[i].n, 0, wide, w))
            return bad(c, i, col, err);
        return sp_buf_add(out, wide, w, err);
    }
    case SP_T_UINT128:
    case SP_T_UINT256: {
        size_t w = t->kind == SP_T_UINT128 ? 16 : 32;
        if (utext_to_le(c->v.str[i].p, c->v.str[i].n, wide, w))
            return bad(c, i, col, err);
        return sp_buf_add(out, wide, w, err);
    }
    case SP_T_DECIMAL: {
        size_t w = t->precision <= 9 ? 4 : t->precision <= 18 ? 8 : t->precision <= 38 ? 16 : 32;
        if (text_to_le(c->v.str[i].p, c->v.str[i].n, t->scale, wide, w))
            return bad(c, i, col, err);
        return sp_buf_add(out, wide, w, err);
    }
    case SP_T_OTHER:
        return sp_error_set(err, SP_EUNSUPPORTED, 0,
                            "column '%s': type %s cannot be written by sinkpipe",
                            col ? col : "", t->raw ? t->raw : "?");
    case SP_T_STRING:
    case SP_T_JSON:
        rc = put_varint(out, c->v.str[i].n, err);
        return rc ? rc : sp_buf_add(out, c->v.str[i].p, c->v.str[i].n, err);
    case SP_T_FIXEDSTRING: {
        size_t n = (size_t)t->precision, k = c->v.str[i].n;
        if (k > n)
            return bad(c, i, col, err);
        rc = sp_buf_add(out, c->v.str[i].p, k, err);
        for (; !rc && k < n; k++)
            rc = sp_buf_addch(out, '\0', err);
        return rc;
    }
    case SP_T_UUID:
        if (uuid_bytes(c->v.str[i].p, c->v.str[i].n, wide))
            return bad(c, i, col, err);
        return sp_buf_add(out, wide, 16, err);
    case SP_T_ENUM8:
    case SP_T_ENUM16: {
        long v;
        if (enum_value(t->enum_body, c->v.str[i].p, c->v.str[i].n, &v))
            return bad(c, i, col, err);
        return put_le(out, (uint64_t)v, t->kind == SP_T_ENUM8 ? 1 : 2, err);
    }
    case SP_T_IPV4:
    case SP_T_IPV6: {
        char txt[64];
        size_t n = c->v.str[i].n < sizeof txt - 1 ? c->v.str[i].n : sizeof txt - 1;
        memcpy(txt, c->v.str[i].p, n);
        txt[n] = '\0';
        if (t->kind == SP_T_IPV4) {
            struct in_addr a;
            if (inet_pton(AF_INET, txt, &a) != 1)
                return bad(c, i, col, err);
            return put_le(out, ntohl(a.s_addr), 4, err);
        }
        if (inet_pton(AF_INET6, txt, wide) != 1)
            return bad(c, i, col, err);
        return sp_buf_add(out, wide, 16, err);
    }
    case SP_T_ARRAY:
    case SP_T_MAP:
    case SP_T_TUPLE: return nested(out, c, i, col, err);
    case SP_T_NOTHING: return 0;
    }
    return sp_error_set(err, SP_EUNSUPPORTED, 0, "column '%s': type has no binary form", col);
}

int sp_ch_rowbin_rows(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from, size_t to,
                      sp_error *err)
{
    int rc = 0;
    for (size_t i = from; i < to && !rc; i++)
        for (size_t k = 0; k < b->ncols && !rc; k++)
            rc = value(out, &b->cols[k], i, s->names[k], err);
    return rc;
}
