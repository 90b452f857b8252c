/* sp_ingest_conv: column builders and the conversion of input values (JSON
 * values or text) into them, one function per family of types.  See
 * docs/ingest.md for the rules. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_ingest_int.h"
#include "sp_ingest_scan.h"
#include "sp_time.h"
#include "sp_banned.h"

#define SP_ENOMEM_SET(err) sp_error_set((err), SP_ENOMEM, 0, "out of memory")

/* -------------------------------------------------------------- pushes */

static int push_u64(sp__conv *cv, sp__colbuf *cb, uint64_t v, sp_error *err)
{
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    ((uint64_t *)cb->vals)[cb->n] = v;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += 9;
    return 0;
}

static int push_i64(sp__conv *cv, sp__colbuf *cb, int64_t v, sp_error *err)
{
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    ((int64_t *)cb->vals)[cb->n] = v;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += 9;
    return 0;
}

static int push_f64(sp__conv *cv, sp__colbuf *cb, double v, sp_error *err)
{
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    ((double *)cb->vals)[cb->n] = v;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += 9;
    return 0;
}

static int push_str(sp__conv *cv, sp__colbuf *cb, const char *p, size_t n, sp_error *err)
{
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    char *q = sp__arena_dup(cv->arena, p, n);
    if (!q)
        return SP_ENOMEM_SET(err);
    sp_str *s = &((sp_str *)cb->vals)[cb->n];
    s->p = q;
    s->n = n;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += sizeof(sp_str) + 1 + n;
    return 0;
}

int sp__conv_null(sp__conv *cv, sp__colbuf *cb, sp_error *err)
{
    if (!cb->type->nullable) {
        sp_buf_reset(cv->msg);
        sp_buf_addf(cv->msg, NULL, "column '%s': null is not a valid %s", cv->colname,
                    cb->tname);
        return SP_EDATA;
    }
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    size_t es = sp__colbuf_elem_size(cb);
    if (es)
        memset((char *)cb->vals + cb->n * es, 0, es);
    if (cb->st == SP__ST_STR)
        ((sp_str *)cb->vals)[cb->n].p = "";
    if (cb->st == SP__ST_LIST)
        cb->offsets[cb->n + 1] = cb->offsets[cb->n];
    cb->nulls[cb->n++] = 1;
    cb->nnull++;
    *cv->batch_bytes += 9;
    return 0;
}

/* ---------------------------------------------------------- messages */

static int bad(sp__conv *cv, const sp__colbuf *cb, const char *v, size_t n, const char *what)
{
    sp_buf_reset(cv->msg);
    size_t shown = n > 100 ? 100 : n;
    sp_buf_addf(cv->msg, NULL, "column '%s': '%.*s%s' %s %s", cv->colname, (int)shown, v,
                n > shown ? "..." : "", what, cb->tname);
    return SP_EDATA;
}

static int bad_json(sp__conv *cv, const sp__colbuf *cb, json_t *v, const char *what)
{
    if (json_is_string(v))
        return bad(cv, cb, json_string_value(v), json_string_length(v), what);
    sp_buf t = SP_BUF_INIT(4096);
    sp__json_compact_bn(v, &t, cv->bignum, NULL);
    bad(cv, cb, t.data ? t.data : "", t.len, what);
    sp_buf_release(&t);
    return SP_EDATA;
}

#define NOT_VALID "is not a valid"
#define OUT_RANGE "is out of range for"

/* --------------------------------------------------------- numbers */

/* parse [+-]digits into sign and magnitude; 0 ok, -1 syntax, -2 overflow */
static int parse_int(const char *s, size_t n, int *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        *neg = s[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0;
    int over = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    *mag = v;
    return over ? -2 : 0;
}

static int int_range(sp_kind k, int64_t *lo, uint64_t *hi)
{
    switch (k) {
    case SP_T_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return 1;
    case SP_T_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return 1;
    case SP_T_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return 1;
    case SP_T_INT64: *lo = INT64_MIN; *hi = INT64_MAX; return 1;
    case SP_T_UINT8: *lo = 0; *hi = UINT8_MAX; return 0;
    case SP_T_UINT16: *lo = 0; *hi = UINT16_MAX; return 0;
    case SP_T_UINT32: *lo = 0; *hi = UINT32_MAX; return 0;
    default: *lo = 0; *hi = UINT64_MAX; return 0;
    }
}

/* an integer given as sign + magnitude into an Int/UInt builder */
static int put_int(sp__conv *cv, sp__colbuf *cb, int neg, uint64_t mag, const char *txt,
                   size_t tn, sp_error *err)
{
    int64_t lo;
    uint64_t hi;
    int is_signed = int_range(cb->type->kind, &lo, &hi);
    if (neg && mag != 0) {
        if (!is_signed || mag > (uint64_t)(-(lo + 1)) + 1)
            return bad(cv, cb, txt, tn, OUT_RANGE);
        return push_i64(cv, cb, mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag,
                        err);
    }
    if (mag > hi)
        return bad(cv, cb, txt, tn, OUT_RANGE);
    return is_signed ? push_i64(cv, cb, (int64_t)mag, err) : push_u64(cv, cb, mag, err);
}

static const char *big_limit(sp_kind k, int neg)
{
    switch (k) {
    case SP_T_INT128:
        return neg ? "170141183460469231731687303715884105728"
                   : "170141183460469231731687303715884105727";
    case SP_T_UINT128:
        return neg ? "0" : "340282366920938463463374607431768211455";
    case SP_T_INT256:
        return neg ? "57896044618658097711785492504343953926634992332820282019728792003956564819968"
                   : "57896044618658097711785492504343953926634992332820282019728792003956564819967";
    default:
        return neg ? "0"
                   : "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    }
}

static int conv_bigint(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return bad(cv, cb, s, n, NOT_VALID);
    for (size_t j = i; j < n; j++)
        if (s[j] < '0' || s[j] > '9')
            return bad(cv, cb, s, n, NOT_VALID);
    while (i + 1 < n && s[i] == '0')
        i++;
    const char *d = s + i;
    size_t dn = n - i;
    if (dn == 1 && d[0] == '0')
        neg = 0;
    const char *lim = big_limit(cb->type->kind, neg);
    size_t ln = strlen(lim);
    if (dn > ln || (dn == ln && memcmp(d, lim, dn) > 0))
        return bad(cv, cb, s, n, OUT_RANGE);
    sp_buf_reset(cv->scratch);
    int rc = neg ? sp_buf_addch(cv->scratch, '-', err) : 0;
    if (!rc)
        rc = sp_buf_add(cv->scratch, d, dn, err);
    return rc ? rc : push_str(cv, cb, cv->scratch->data, cv->scratch->len, err);
}

static int conv_decimal(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    int P = cb->type->precision > 0 ? cb->type->precision : 10;
    int S = cb->type->scale;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t ib = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t ie = i, fb = i, fe = i;
    if (i < n && s[i] == '.') {
        fb = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        fe = i;
    }
    if (i != n || (ie == ib && fe == fb))
        return bad(cv, cb, s, n, NOT_VALID);
    while (ib < ie && s[ib] == '0')
        ib++;
    if ((int)(ie - ib) > P - S)
        return bad(cv, cb, s, n, OUT_RANGE);
    sp_buf *o = cv->scratch;
    sp_buf_reset(o);
    int rc = sp_buf_addch(o, '-', err);
    if (!rc)
        rc = ie > ib ? sp_buf_add(o, s + ib, ie - ib, err) : sp_buf_addch(o, '0', err);
    if (!rc && S > 0)
        rc = sp_buf_addch(o, '.', err);
    int nonzero = ie > ib;
    for (int k = 0; k < S && !rc; k++) {
        char c = fb + (size_t)k < fe ? s[fb + (size_t)k] : '0';
        nonzero |= c != '0';
        rc = sp_buf_addch(o, c, err);
    }
    if (rc)
        return rc;
    size_t skip = (neg && nonzero) ? 0 : 1; /* "-0.00" -> "0.00" */
    return push_str(cv, cb, o->data + skip, o->len - skip, err);
}

static int conv_float(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    char tmp[128];
    if (n == 0 || n >= sizeof(tmp) || s[0] == ' ' || s[0] == '\t' || memchr(s, 'x', n) ||
        memchr(s, 'X', n))
        return bad(cv, cb, s, n, NOT_VALID);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (end != tmp + n)
        return bad(cv, cb, s, n, NOT_VALID);
    if (cb->type->kind == SP_T_FLOAT32) {
        float f = (float)d;
        if (isinf(f) && !isinf(d))
            return bad(cv, cb, s, n, OUT_RANGE);
        d = (double)f;
    }
    return push_f64(cv, cb, d, err);
}

static int conv_bool(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    static const char *const yes[] = { "true", "1", "t", "yes", "y", "on" };
    static const char *const no[] = { "false", "0", "f", "no", "n", "off" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
        if (strlen(yes[i]) == n && !strncasecmp(s, yes[i], n))
            return push_u64(cv, cb, 1, err);
        if (strlen(no[i]) == n && !strncasecmp(s, no[i], n))
            return push_u64(cv, cb, 0, err);
    }
    return bad(cv, cb, s, n, NOT_VALID);
}

/* ------------------------------------------------------- dates and times */

static int digits(const char *s, size_t n, int *v)
{
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return 1;
}

static int parse_date(const char *s, size_t n, int64_t *days)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
        !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1)
        return -1;
    if (d > sp_days_in_month(y, m))
        return -1;
    *days = sp_days_from_civil(y, m, d);
    return 0;
}

/* seconds since the epoch and the fraction as (digits, count) */
static int parse_datetime(const char *s, size_t n, int64_t *secs, uint64_t *frac, int *fdig)
{
    *frac = 0;
    *fdig = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i > 0 && i < 19 && (i == n || s[i] == '.')) {
        /* a Unix timestamp, optionally with a fraction */
        int64_t v = 0;
        for (size_t k = 0; k < i; k++)
            v = v * 10 + (s[k] - '0');
        size_t k = i;
        if (k < n) {
            for (k++; k < n; k++) {
                if (s[k] < '0' || s[k] > '9')
                    return -1;
                if (*fdig < 18) {
                    *frac = *frac * 10 + (uint64_t)(s[k] - '0');
                    (*fdig)++;
                }
            }
        }
        *secs = v;
        return 0;
    }
    int64_t days;
    if (n < 10 || parse_date(s, 10, &days))
        return -1;
    int64_t t = days * 86400;
    i = 10;
    if (i < n) {
        int h, mi, se;
        if (n < 19 || (s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
            s[16] != ':' || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
            !digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59)
            return -1;
        t += h * 3600 + mi * 60 + se;
        i = 19;
        if (i < n && s[i] == '.') {
            i++;
            size_t b = i;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (*fdig < 18) {
                    *frac = *frac * 10 + (uint64_t)(s[i] - '0');
                    (*fdig)++;
                }
                i++;
            }
            if (i == b)
                return -1;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            i++;
            if (n - i == 5 && s[i + 2] == ':' && digits(s + i, 2, &oh) &&
                digits(s + i + 3, 2, &om))
                i += 5;
            else if (n - i == 4 && digits(s + i, 2, &oh) && digits(s + i + 2, 2, &om))
                i += 4;
            else if (n - i == 2 && digits(s + i, 2, &oh))
                i += 2;
            else
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            t -= sign * (oh * 3600 + om * 60);
        }
        if (i != n)
            return -1;
    }
    *secs = t;
    return 0;
}

static const int64_t pow10s[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                  100000000, 1000000000 };

static int put_time(sp__conv *cv, sp__colbuf *cb, int64_t secs, uint64_t frac, int fdig,
                    const char *txt, size_t tn, sp_error *err)
{
    if (cb->type->kind == SP_T_DATETIME) {
        if (secs < 0 || secs > (int64_t)UINT32_MAX)
            return bad(cv, cb, txt, tn, OUT_RANGE);
        return push_i64(cv, cb, secs, err);
    }
    int p = cb->type->scale;
    if (p < 0 || p > 9)
        p = p < 0 ? 0 : 9;
    static const int64_t lo = -2208988800LL;  /* 1900-01-01 00:00:00 */
    static const int64_t hi = 10413791999LL;  /* 2299-12-31 23:59:59 */
    if (secs < lo || secs > hi)
        return bad(cv, cb, txt, tn, OUT_RANGE);
    while (fdig > p) { /* truncate extra digits */
        frac /= 10;
        fdig--;
    }
    int64_t f = (int64_t)frac * pow10s[p - fdig];
    int64_t ticks;
    if (__builtin_mul_overflow(secs, pow10s[p], &ticks) ||
        __builtin_add_overflow(ticks, f, &ticks))
        return bad(cv, cb, txt, tn, OUT_RANGE);
    return push_i64(cv, cb, ticks, err);
}

static int conv_time(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    sp_kind k = cb->type->kind;
    if (k == SP_T_DATE || k == SP_T_DATE32) {
        int64_t days;
        if (parse_date(s, n, &days))
            return bad(cv, cb, s, n, NOT_VALID);
        if (k == SP_T_DATE ? (days < 0 || days > 65535) : (days < -25567 || days > 120529))
            return bad(cv, cb, s, n, OUT_RANGE);
        return push_i64(cv, cb, days, err);
    }
    int64_t secs;
    uint64_t frac;
    int fdig;
    if (parse_datetime(s, n, &secs, &frac, &fdig))
        return bad(cv, cb, s, n, NOT_VALID);
    return put_time(cv, cb, secs, frac, fdig, s, n, err);
}

/* ------------------------------------------------------ other scalars */

static int conv_uuid(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    char out[36];
    size_t k = 0, j = 0;
    int dashed = n == 36;
    if (n != 36 && n != 32)
        return bad(cv, cb, s, n, NOT_VALID);
    for (size_t i = 0; i < n; i++) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-')
                return bad(cv, cb, s, n, NOT_VALID);
            continue;
        }
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return bad(cv, cb, s, n, NOT_VALID);
        if (j == 8 || j == 12 || j == 16 || j == 20)
            out[k++] = '-';
        out[k++] = c;
        j++;
    }
    return push_str(cv, cb, out, 36, err);
}

static int conv_ip(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    char tmp[64], out[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    if (n == 0 || n >= sizeof(tmp))
        return bad(cv, cb, s, n, NOT_VALID);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    int af = cb->type->kind == SP_T_IPV4 ? AF_INET : AF_INET6;
    if (inet_pton(af, tmp, addr) != 1) {
        /* an IPv4 address into IPv6 becomes ::ffff:a.b.c.d */
        if (af != AF_INET6 || inet_pton(AF_INET, tmp, addr + 12) != 1)
            return bad(cv, cb, s, n, NOT_VALID);
        memset(addr, 0, 10);
        addr[10] = addr[11] = 0xff;
    }
    if (!inet_ntop(af, addr, out, sizeof(out)))
        return bad(cv, cb, s, n, NOT_VALID);
    return push_str(cv, cb, out, strlen(out), err);
}

/* is the integer given as sign + magnitude the enum number ev?  (exact:
 * no negation of a magnitude that does not fit a long) */
static int enum_num_is(long ev, int neg, uint64_t mag)
{
    if (mag == 0)
        return ev == 0;
    if (neg)
        return ev < 0 && (uint64_t)0 - (uint64_t)ev == mag;
    return ev > 0 && (uint64_t)ev == mag;
}

static int conv_enum(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    if (!cb->nenum)
        return push_str(cv, cb, s, n, err);
    for (size_t i = 0; i < cb->nenum; i++)
        if (strlen(cb->enum_names[i]) == n && !memcmp(cb->enum_names[i], s, n))
            return push_str(cv, cb, s, n, err);
    int neg;
    uint64_t mag;
    if (parse_int(s, n, &neg, &mag) == 0)
        for (size_t i = 0; i < cb->nenum; i++)
            if (enum_num_is(cb->enum_vals[i], neg, mag))
                return push_str(cv, cb, cb->enum_names[i], strlen(cb->enum_names[i]), err);
    return bad(cv, cb, s, n, NOT_VALID);
}

static int conv_jsontext(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v)
        return bad(cv, cb, s, n, NOT_VALID);
    sp_buf_reset(cv->scratch);
    int rc = sp__json_compact(v, cv->scratch, err);
    json_decref(v);
    return rc ? rc : push_str(cv, cb, cv->scratch->data, cv->scratch->len, err);
}

/* ----------------------------------------------------------- dispatch */

int sp__conv_text(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    int neg;
    uint64_t mag;
    switch (cb->type->kind) {
    case SP_T_BOOL:
        return conv_bool(cv, cb, s, n, err);
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64:
    case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64: {
        int r = parse_int(s, n, &neg, &mag);
        if (r)
            return bad(cv, cb, s, n, r == -2 ? OUT_RANGE : NOT_VALID);
        return put_int(cv, cb, neg, mag, s, n, err);
    }
    case SP_T_INT128: case SP_T_INT256: case SP_T_UINT128: case SP_T_UINT256:
        return conv_bigint(cv, cb, s, n, err);
    case SP_T_FLOAT32: case SP_T_FLOAT64:
        return conv_float(cv, cb, s, n, err);
    case SP_T_DECIMAL:
        return conv_decimal(cv, cb, s, n, err);
    case SP_T_FIXEDSTRING:
        if (cb->type->precision > 0 && n > (size_t)cb->type->precision)
            return bad(cv, cb, s, n, "is too long for");
        return push_str(cv, cb, s, n, err);
    case SP_T_UUID:
        return conv_uuid(cv, cb, s, n, err);
    case SP_T_DATE: case SP_T_DATE32: case SP_T_DATETIME: case SP_T_DATETIME64:
        return conv_time(cv, cb, s, n, err);
    case SP_T_IPV4: case SP_T_IPV6:
        return conv_ip(cv, cb, s, n, err);
    case SP_T_ENUM8: case SP_T_ENUM16:
        return conv_enum(cv, cb, s, n, err);
    case SP_T_JSON:
        return conv_jsontext(cv, cb, s, n, err);
    case SP_T_ARRAY: case SP_T_MAP: case SP_T_TUPLE: {
        json_t *v = sp__literal_parse(s, n);
        if (!v || json_is_string(v)) { /* a bare scalar would recurse forever */
            json_decref(v);
            return bad(cv, cb, s, n, NOT_VALID);
        }
        int rc = sp__conv_json(cv, cb, v, 1, err);
        json_decref(v);
        return rc;
    }
    case SP_T_STRING:
    default:
        return push_str(cv, cb, s, n, err);
    }
}

/* JSON strings into these kinds are rejected (Tinybird quarantines
 * {"store_id":"3"} for an Int16 column); wider kinds take quoted numbers,
 * as ClickHouse itself quotes 64-bit integers in JSON output. */
static int string_refused(sp_kind k)
{
    return k == SP_T_BOOL || k == SP_T_INT8 || k == SP_T_INT16 || k == SP_T_INT32 ||
           k == SP_T_UINT8 || k == SP_T_UINT16 || k == SP_T_UINT32;
}

static int conv_list(sp__conv *cv, sp__colbuf *cb, json_t *v, int from_text, sp_error *err)
{
    sp_kind k = cb->type->kind;
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    if (k == SP_T_ARRAY && json_is_array(v)) {
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            rc = json_is_null(el) ? sp__conv_null(cv, &cb->child[0], err)
                                  : sp__conv_json(cv, &cb->child[0], el, from_text, err);
            if (rc)
                return rc;
        }
    } else if (k == SP_T_MAP && json_is_object(v)) {
        const char *key;
        json_t *el;
        json_object_foreach(v, key, el) {
            rc = sp__conv_text(cv, &cb->child[0], key, strlen(key), err);
            if (!rc)
                rc = json_is_null(el) ? sp__conv_null(cv, &cb->child[1], err)
                                      : sp__conv_json(cv, &cb->child[1], el, from_text, err);
            if (rc)
                return rc;
        }
    } else if (k == SP_T_TUPLE && json_is_array(v) && json_array_size(v) == cb->nchild) {
        for (size_t i = 0; i < cb->nchild; i++) {
            json_t *el = json_array_get(v, i);
            rc = json_is_null(el) ? sp__conv_null(cv, &cb->child[i], err)
                                  : sp__conv_json(cv, &cb->child[i], el, from_text, err);
            if (rc)
                return rc;
        }
        cb->nulls[cb->n++] = 0;
        *cv->batch_bytes += 1;
        return 0;
    } else {
        return bad_json(cv, cb, v, NOT_VALID);
    }
    cb->offsets[cb->n + 1] = (uint64_t)cb->child[0].n;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += 9;
    return 0;
}

/* an integer outside int64 (a bignum marker's digits): exact into the
 * integer, Decimal and float kinds; its text into strings */
static int conv_bignum(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err)
{
    switch (cb->type->kind) {
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64:
    case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
    case SP_T_INT128: case SP_T_INT256: case SP_T_UINT128: case SP_T_UINT256:
    case SP_T_FLOAT32: case SP_T_FLOAT64: case SP_T_DECIMAL: case SP_T_FIXEDSTRING:
        return sp__conv_text(cv, cb, s, n, err);
    case SP_T_STRING: case SP_T_JSON:
        return push_str(cv, cb, s, n, err);
    default:
        return bad(cv, cb, s, n, OUT_RANGE);
    }
}

/* a Float column's value given as a double (not text); txt, when NULL,
 * is d's shortest text, for the message */
static int push_float(sp__conv *cv, sp__colbuf *cb, double d, const char *txt, size_t tn,
                      sp_error *err)
{
    if (cb->type->kind == SP_T_FLOAT32) {
        float f = (float)d;
        if (isinf(f) && !isinf(d)) {
            char num[48];
            if (!txt) {
                tn = sp__fmt_double(d, num, sizeof(num));
                txt = num;
            }
            return bad(cv, cb, txt, tn, OUT_RANGE);
        }
        d = (double)f;
    }
    return push_f64(cv, cb, d, err);
}

/* A JSON integer (not a string) into any scalar kind but the text ones.
 * direct: a Float takes (double)iv, else the text goes through strtod
 * (the same value: the text is exact and both round to nearest). */
static int conv_intval(sp__conv *cv, sp__colbuf *cb, int64_t iv, int direct, sp_error *err)
{
    char num[48];
    size_t n = sp__fmt_i64(iv, num);
    num[n] = '\0';
    switch (cb->type->kind) {
    case SP_T_BOOL:
        if (iv != 0 && iv != 1)
            return bad(cv, cb, num, n, NOT_VALID);
        return push_u64(cv, cb, (uint64_t)iv, err);
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64:
    case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
        return put_int(cv, cb, iv < 0, iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv, num,
                       n, err);
    case SP_T_FLOAT32: case SP_T_FLOAT64:
        if (direct)
            return push_float(cv, cb, (double)iv, num, n, err);
        return conv_float(cv, cb, num, n, err);
    case SP_T_INT128: case SP_T_INT256: case SP_T_UINT128: case SP_T_UINT256:
    case SP_T_DECIMAL: case SP_T_ENUM8: case SP_T_ENUM16:
        return sp__conv_text(cv, cb, num, n, err);
    case SP_T_DATETIME: case SP_T_DATETIME64:
        return put_time(cv, cb, iv, 0, 0, num, n, err);
    default:
        return bad(cv, cb, num, n, NOT_VALID);
    }
}

/* A JSON real.  direct: a Float takes d itself, else its shortest text
 * goes through strtod (the same value: that text reads back as d). */
static int conv_realval(sp__conv *cv, sp__colbuf *cb, double d, int direct, sp_error *err)
{
    sp_kind k = cb->type->kind;
    if (direct && (k == SP_T_FLOAT32 || k == SP_T_FLOAT64))
        return push_float(cv, cb, d, NULL, 0, err);
    char num[48], txt[48];
    size_t n = sp__fmt_double(d, num, sizeof(num));
    memcpy(txt, num, n + 1); /* the value's text for messages */
    size_t tn = n;
    switch (k) {
    case SP_T_FLOAT32: case SP_T_FLOAT64:
        return conv_float(cv, cb, num, n, err);
    case SP_T_DECIMAL:
        if (memchr(num, 'e', n)) {
            int m = snprintf(num, sizeof(num), "%.*f", cb->type->scale, d);
            if (m < 0 || (size_t)m >= sizeof(num))
                return bad(cv, cb, txt, tn, OUT_RANGE);
            n = (size_t)m;
        }
        return conv_decimal(cv, cb, num, n, err);
    case SP_T_DATETIME: case SP_T_DATETIME64: {
        if (!(d > -1e11 && d < 1e11))
            return bad(cv, cb, txt, tn, OUT_RANGE);
        double fl = floor(d);
        uint64_t frac = (uint64_t)llround((d - fl) * 1e9);
        int64_t secs = (int64_t)fl;
        if (frac >= 1000000000ULL) {
            secs++;
            frac -= 1000000000ULL;
        }
        return put_time(cv, cb, secs, frac, 9, num, n, err);
    }
    default:
        return bad(cv, cb, txt, tn, NOT_VALID);
    }
}

int sp__conv_json(sp__conv *cv, sp__colbuf *cb, json_t *v, int from_text, sp_error *err)
{
    sp_kind k = cb->type->kind;
    if (json_is_null(v))
        return sp__conv_null(cv, cb, err);
    if (k == SP_T_ARRAY || k == SP_T_MAP || k == SP_T_TUPLE) {
        if (json_is_string(v) && from_text)
            return sp__conv_text(cv, cb, json_string_value(v), json_string_length(v), err);
        return conv_list(cv, cb, v, from_text, err);
    }
    size_t bn;
    const char *big = sp__bignum_text(v, cv->bignum, &bn);
    if (big)
        return conv_bignum(cv, cb, big, bn, err);
    if (json_is_string(v)) {
        if (!from_text && string_refused(k))
            return bad_json(cv, cb, v, NOT_VALID);
        return sp__conv_text(cv, cb, json_string_value(v), json_string_length(v), err);
    }
    if (k == SP_T_STRING || k == SP_T_FIXEDSTRING || k == SP_T_JSON) {
        sp_buf_reset(cv->scratch);
        int rc = sp__json_compact_bn(v, cv->scratch, cv->bignum, err);
        if (rc)
            return rc;
        if (k == SP_T_FIXEDSTRING)
            return sp__conv_text(cv, cb, cv->scratch->data, cv->scratch->len, err);
        return push_str(cv, cb, cv->scratch->data, cv->scratch->len, err);
    }
    if (json_is_integer(v))
        return conv_intval(cv, cb, json_integer_value(v), 0, err);
    if (json_is_real(v))
        return conv_realval(cv, cb, json_real_value(v), 0, err);
    if (json_is_boolean(v) && k == SP_T_BOOL)
        return push_u64(cv, cb, json_is_true(v) ? 1 : 0, err);
    return bad_json(cv, cb, v, NOT_VALID);
}

/* ------------------------------------------- scanned values (fast path) */

/* The same conversions from a value of a record the scanner validated
 * (sp_ingest_scan.h), step for step as sp__conv_json does them for
 * jansson's tree of it (from_text 0).  SP__FALLBACK when the value needs
 * jansson after all (its object keys repeat). */

static int jv_bad(sp__conv *cv, const sp__colbuf *cb, const sp__jv *v, const char *what,
                  sp_error *err)
{
    const char *s;
    size_t n;
    if (v->t == SP__JV_STR) {
        int rc = sp__jv_str(v, cv->ubuf, &s, &n, err);
        return rc ? rc : bad(cv, cb, s, n, what);
    }
    if (v->t == SP__JV_BIG) { /* jansson's bignum marker string, as it is */
        char mark[96];
        mark[0] = '\0';
        memcpy(mark + 1, v->p, v->n);
        return bad(cv, cb, mark, v->n + 1, what);
    }
    sp_buf t = SP_BUF_INIT(4096); /* as bad_json: a long text is cut */
    int rc = sp__jv_compact(v, &t, cv->ubuf, NULL);
    if (rc != SP__FALLBACK)
        bad(cv, cb, t.data ? t.data : "", t.len, what);
    sp_buf_release(&t);
    return rc == SP__FALLBACK ? rc : SP_EDATA;
}

static int jv_elem(sp__conv *cv, sp__colbuf *cb, const sp__jv *el, sp_error *err)
{
    return el->t == SP__JV_NULL ? sp__conv_null(cv, cb, err) : sp__conv_jv(cv, cb, el, err);
}

static int jv_list(sp__conv *cv, sp__colbuf *cb, const sp__jv *v, sp_error *err)
{
    sp_kind k = cb->type->kind;
    int rc = sp__colbuf_ensure(cb, err);
    if (rc)
        return rc;
    sp__jit it;
    sp__jv key, el;
    if (k == SP_T_ARRAY && v->t == SP__JV_ARR) {
        sp__jit_init(&it, v);
        while (sp__jit_next(&it, NULL, &el))
            if ((rc = jv_elem(cv, &cb->child[0], &el, err)))
                return rc;
    } else if (k == SP_T_MAP && v->t == SP__JV_OBJ) {
        if (!sp__jv_distinctkeys(v, cv->ubuf))
            return SP__FALLBACK; /* jansson's members differ from the text's */
        sp__jit_init(&it, v);
        while (sp__jit_next(&it, &key, &el)) {
            const char *ks;
            size_t kn;
            rc = sp__jv_str(&key, cv->ubuf, &ks, &kn, err);
            if (!rc)
                rc = sp__conv_text(cv, &cb->child[0], ks, kn, err);
            if (!rc)
                rc = jv_elem(cv, &cb->child[1], &el, err);
            if (rc)
                return rc;
        }
    } else if (k == SP_T_TUPLE && v->t == SP__JV_ARR) {
        size_t n = 0;
        sp__jit_init(&it, v);
        while (sp__jit_next(&it, NULL, &el))
            n++;
        if (n != cb->nchild)
            return jv_bad(cv, cb, v, NOT_VALID, err);
        sp__jit_init(&it, v);
        for (size_t i = 0; i < cb->nchild && sp__jit_next(&it, NULL, &el); i++)
            if ((rc = jv_elem(cv, &cb->child[i], &el, err)))
                return rc;
        cb->nulls[cb->n++] = 0;
        *cv->batch_bytes += 1;
        return 0;
    } else {
        return jv_bad(cv, cb, v, NOT_VALID, err);
    }
    cb->offsets[cb->n + 1] = (uint64_t)cb->child[0].n;
    cb->nulls[cb->n++] = 0;
    *cv->batch_bytes += 9;
    return 0;
}

int sp__conv_jv(sp__conv *cv, sp__colbuf *cb, const sp__jv *v, sp_error *err)
{
    sp_kind k = cb->type->kind;
    int rc;
    if (v->t == SP__JV_NULL)
        return sp__conv_null(cv, cb, err);
    if (k == SP_T_ARRAY || k == SP_T_MAP || k == SP_T_TUPLE)
        return jv_list(cv, cb, v, err);
    if (v->t == SP__JV_BIG)
        return conv_bignum(cv, cb, v->p, v->n, err);
    if (v->t == SP__JV_STR) {
        const char *s;
        size_t n;
        if ((rc = sp__jv_str(v, cv->ubuf, &s, &n, err)))
            return rc;
        if (string_refused(k))
            return bad(cv, cb, s, n, NOT_VALID);
        if (k == SP_T_STRING)
            return push_str(cv, cb, s, n, err);
        return sp__conv_text(cv, cb, s, n, err);
    }
    if (k == SP_T_STRING || k == SP_T_FIXEDSTRING || k == SP_T_JSON) {
        sp_buf_reset(cv->scratch);
        if ((rc = sp__jv_compact(v, cv->scratch, cv->ubuf, err)))
            return rc;
        if (k == SP_T_FIXEDSTRING)
            return sp__conv_text(cv, cb, cv->scratch->data, cv->scratch->len, err);
        return push_str(cv, cb, cv->scratch->data, cv->scratch->len, err);
    }
    if (v->t == SP__JV_INT)
        return conv_intval(cv, cb, v->i, 1, err);
    if (v->t == SP__JV_REAL) {
        double d;
        if ((rc = sp__jv_real(v, &d, err)))
            return rc;
        return conv_realval(cv, cb, d, 1, err);
    }
    if ((v->t == SP__JV_TRUE || v->t == SP__JV_FALSE) && k == SP_T_BOOL)
        return push_u64(cv, cb, v->t == SP__JV_TRUE, err);
    return jv_bad(cv, cb, v, NOT_VALID, err);
}
