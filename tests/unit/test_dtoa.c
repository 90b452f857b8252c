// sp-deps: sp_dtoa
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_dtoa.h"
#include "sp_test.h"

static const char *d2s(double v)
{
    static char buf[SP_DTOA_BUFSIZE + 1];
    size_t n = sp_dtoa(v, buf);
    buf[n] = '\0';
    return buf;
}

static const char *f2s(float v)
{
    static char buf[SP_DTOA_BUFSIZE + 1];
    size_t n = sp_ftoa(v, buf);
    buf[n] = '\0';
    return buf;
}

/* layouts as clickhouse-server prints them (checked on 18.16 and the same
 * rules in modern ClickHouse) */
TEST(clickhouse_layout)
{
    CHECK_STR(d2s(0.0), "0");
    CHECK_STR(d2s(-0.0), "-0");
    CHECK_STR(d2s(1.0), "1");
    CHECK_STR(d2s(-12.0), "-12");
    CHECK_STR(d2s(0.1), "0.1");
    CHECK_STR(d2s(1.0 / 3), "0.3333333333333333");
    CHECK_STR(d2s(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(d2s(123.456), "123.456");
    CHECK_STR(d2s(1e21), "1e21");
    CHECK_STR(d2s(1e20), "100000000000000000000");
    CHECK_STR(d2s(1e15), "1000000000000000");
    CHECK_STR(d2s(1e16), "10000000000000000");
    CHECK_STR(d2s(1e-7), "1e-7");
    CHECK_STR(d2s(1.5e-7), "1.5e-7");
    CHECK_STR(d2s(1e-6), "0.000001");
    CHECK_STR(d2s(1.25e-6), "0.00000125");
    CHECK_STR(d2s(1e22), "1e22");
    CHECK_STR(d2s(5.184705528587072e21), "5.184705528587072e21");
    CHECK_STR(d2s(123456789012345680000.0), "123456789012345680000");
    CHECK_STR(d2s(5e-324), "5e-324");
    CHECK_STR(d2s(2.2250738585072014e-308), "2.2250738585072014e-308");
    CHECK_STR(d2s(1.7976931348623157e308), "1.7976931348623157e308");
    CHECK_STR(d2s(9007199254740993.0), "9007199254740992");
    CHECK_STR(d2s(2251799813685248.5), "2251799813685248.5");
    CHECK_STR(d2s(1152921504606846976.0), "1152921504606847000"); /* 2^60 */
    CHECK_STR(d2s(INFINITY), "inf");
    CHECK_STR(d2s(-INFINITY), "-inf");
    CHECK_STR(d2s(NAN), "nan");
    CHECK_STR(d2s(-NAN), "nan");
    CHECK_STR(f2s(0.1f), "0.1");
    CHECK_STR(f2s(1e10f), "10000000000");
    CHECK_STR(f2s(3.4028235e38f), "3.4028235e38");
    CHECK_STR(f2s(16777217.0f), "16777216");
    CHECK_STR(f2s(1.0f / 3), "0.33333334");
    CHECK_STR(f2s(1e-45f), "1e-45");
    CHECK_STR(f2s(-0.0f), "-0");
    CHECK_STR(f2s(-INFINITY), "-inf");
    CHECK_STR(f2s(NAN), "nan");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* significant digits of a text (no sign, point, exponent, leading zeros,
 * trailing zeros) into d; returns their count */
static int sig_digits(const char *s, char *d)
{
    int n = 0, started = 0;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0' && !started)
            continue;
        started = 1;
        d[n++] = *s;
    }
    while (n > 0 && d[n - 1] == '0')
        n--;
    d[n] = '\0';
    return n;
}

/* one value: round trip, and digits equal to the shortest %.{p}e that
 * round-trips (or fewer); returns 0 when fine */
static int check_double(double v, int *shorter)
{
    char buf[SP_DTOA_BUFSIZE + 1];
    size_t n = sp_dtoa(v, buf);
    buf[n] = '\0';
    if (strtod(buf, NULL) != v) {
        SP_T_FAIL("%.17g printed as %s does not round-trip", v, buf);
        return 1;
    }
    char ref[40], rd[40], od[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(ref, sizeof ref, "%.*e", p - 1, v);
        if (strtod(ref, NULL) == v)
            break;
    }
    int on = sig_digits(buf, od), rn = sig_digits(ref, rd);
    if (on > rn) {
        SP_T_FAIL("%.17g: %s has %d digits, %s only %d", v, buf, on, ref, rn);
        return 1;
    }
    if (on == rn && strcmp(od, rd) != 0) {
        SP_T_FAIL("%.17g: %s, closest shortest is %s", v, buf, ref);
        return 1;
    }
    if (on < rn)
        (*shorter)++;
    return 0;
}

static int check_float(float v)
{
    char buf[SP_DTOA_BUFSIZE + 1];
    size_t n = sp_ftoa(v, buf);
    buf[n] = '\0';
    if (strtof(buf, NULL) != v) {
        SP_T_FAIL("%.9g printed as %s does not round-trip", (double)v, buf);
        return 1;
    }
    char ref[40], rd[40], od[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(ref, sizeof ref, "%.*e", p - 1, (double)v);
        if (strtof(ref, NULL) == v)
            break;
    }
    int on = sig_digits(buf, od), rn = sig_digits(ref, rd);
    if (on > rn || (on == rn && strcmp(od, rd) != 0)) {
        SP_T_FAIL("%.9g: %s, shortest is %s", (double)v, buf, ref);
        return 1;
    }
    return 0;
}

static long count(long dflt)
{
    const char *s = getenv("SP_DTOA_N"); /* a longer run: SP_DTOA_N=10000000 */
    if (s) {
        char *end;
        long n = strtol(s, &end, 10);
        if (*end == '\0' && n > 0)
            return n;
    }
    return dflt;
}

TEST(random_doubles_are_shortest_round_trip)
{
    long n = count(120000);
    int bad = 0, shorter = 0;
    for (long i = 0; i < n && bad < 10; i++) {
        uint64_t bits = rng();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isnan(v) || isinf(v))
            continue;
        bad += check_double(v, &shorter);
    }
    /* short decimals and integers, the common case in data */
    for (long i = 0; i < n / 4 && bad < 10; i++) {
        double v = (double)(int64_t)(rng() % 2000000001 - 1000000000) / 1000.0;
        bad += check_double(v, &shorter);
        v = (double)(int64_t)(rng() >> (rng() % 64));
        bad += check_double(v, &shorter);
    }
    /* powers of two and boundaries (lower neighbour closer) */
    for (int e = -1074; e <= 1023 && bad < 10; e++) {
        double v = ldexp(1.0, e);
        bad += check_double(v, &shorter);
        bad += check_double(nextafter(v, 0), &shorter);
        bad += check_double(nextafter(v, INFINITY), &shorter);
    }
    if (shorter)
        printf("# %d values shorter than the %%.{p}e search\n", shorter);
    CHECK_INT(bad, 0);
}

TEST(random_floats_are_shortest_round_trip)
{
    long n = count(120000);
    int bad = 0;
    for (long i = 0; i < n && bad < 10; i++) {
        uint32_t bits = (uint32_t)rng();
        float v;
        memcpy(&v, &bits, sizeof v);
        if (isnan(v) || isinf(v))
            continue;
        bad += check_float(v);
    }
    for (int e = -149; e <= 127 && bad < 10; e++) {
        float v = ldexpf(1.0f, e);
        bad += check_float(v);
        bad += check_float(nextafterf(v, 0));
    }
    CHECK_INT(bad, 0);
}

int main(void)
{
    RUN(clickhouse_layout);
    RUN(random_doubles_are_shortest_round_trip);
    RUN(random_floats_are_shortest_round_trip);
    return sp_test_done();
}
