/* gen_events — deterministic sample rows for the seed's `events` datasource.
 *
 *   gen_events [--rows N] [--end TIME] [--days D] [--seed S]
 *              [--format ndjson|csv] [--no-header]
 *
 * Writes N rows to stdout, oldest first, with the columns of
 * examples/seed/datasources/events.datasource: timestamp, event_type,
 * user_id, session_id, payload, amount, duration, metadata.  The same
 * arguments always give the same bytes.
 *
 * Time: rows cover the D days before TIME (default 2026-11-25T00:00:00Z,
 * UTC, exclusive).  One row in twenty falls in the hour before TIME (so the
 * hourly, 5-minute and "yesterday" pipes of the seed all find rows); the
 * last row is always a purchase with an amount above 1000 a few seconds
 * before TIME.  Timestamps are stratified and never decrease; with N up to
 * D*86400/4 they are distinct (so ORDER BY timestamp is a total order and
 * exports are reproducible); with more rows they repeat.
 *
 * Values: event types click/view/purchase/signup/add_to_cart/logout;
 * amounts only on purchases (a third above 1000); payload and metadata are
 * JSON-ish text, and one in eight is an awkward string: quotes, commas,
 * newlines, tabs, CR, backslashes, '/', non-ASCII, emoji, empty.
 *
 * Fast (10 M rows in a few seconds): a splitmix64 generator, hand-rolled
 * number and date formatting, one large output buffer.  Uses libc only. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- output */

static char obuf[1 << 20];
static size_t olen;

static void flush_out(void)
{
    if (olen && fwrite(obuf, 1, olen, stdout) != olen) {
        fprintf(stderr, "gen_events: write error: %s\n", strerror(errno));
        exit(1);
    }
    olen = 0;
}

/* room for n more bytes (n is small: one value at most ~1 KiB) */
static inline char *reserve(size_t n)
{
    if (olen + n > sizeof obuf)
        flush_out();
    return obuf + olen;
}

static inline void put(const char *s, size_t n)
{
    memcpy(reserve(n), s, n);
    olen += n;
}

#define PUTLIT(s) put(s, sizeof(s) - 1)

static inline void putc_(char c)
{
    *reserve(1) = c;
    olen++;
}

static void put_u64(uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(tmp + i, (size_t)(24 - i));
}

/* v with exactly `width` digits, zero padded */
static void put_pad(uint64_t v, int width)
{
    char *p = reserve((size_t)width);
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    olen += (size_t)width;
}

/* fixed point: v / 10^dec with `dec` decimals, e.g. 123456,2 -> 1234.56 */
static void put_fixed(uint64_t v, int dec)
{
    uint64_t p = 1;
    for (int i = 0; i < dec; i++)
        p *= 10;
    put_u64(v / p);
    putc_('.');
    put_pad(v % p, dec);
}

/* ------------------------------------------------------------------ rand */

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0; the tiny modulo bias does not matter here) */
static inline uint64_t rnd_below(uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rnd() * n) >> 64);
}

/* ------------------------------------------------------------------ time */

/* days since 1970-01-01 from a civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* strict fixed-width digits */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" or with a space instead of T */
static int parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || n < 19 || digits(s + 11, 2, &h) || s[13] != ':' ||
            digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
            return -1;
        if (n > 19 && !(n == 20 && s[19] == 'Z'))
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
        return -1;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

/* "YYYY-MM-DD HH:MM:SS"; the date part is cached per day */
static void put_datetime(int64_t t)
{
    static int64_t cached_day = INT64_MIN;
    static char date[11];
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t sec = t - day * 86400;
    if (day != cached_day) {
        int64_t y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        if (y < 0 || y > 9999)
            y = 0;
        uint64_t yy = (uint64_t)y;
        date[0] = (char)('0' + yy / 1000);
        date[1] = (char)('0' + yy / 100 % 10);
        date[2] = (char)('0' + yy / 10 % 10);
        date[3] = (char)('0' + yy % 10);
        date[4] = '-';
        date[5] = (char)('0' + m / 10);
        date[6] = (char)('0' + m % 10);
        date[7] = '-';
        date[8] = (char)('0' + d / 10);
        date[9] = (char)('0' + d % 10);
        date[10] = ' ';
        cached_day = day;
    }
    put(date, 11);
    put_pad((uint64_t)(sec / 3600), 2);
    putc_(':');
    put_pad((uint64_t)(sec / 60 % 60), 2);
    putc_(':');
    put_pad((uint64_t)(sec % 60), 2);
}

/* ---------------------------------------------------------------- values */

static const char *const event_types[] = { "view", "click", "purchase", "signup",
                                           "add_to_cart", "logout" };
/* cumulative weights out of 100: view 40, click 30, purchase 15, ... */
static const unsigned event_cum[] = { 40, 70, 85, 90, 97, 100 };

/* the awkward strings: every one must survive CSV and NDJSON round trips */
static const char *const awkward[] = {
    "",
    "plain",
    "with \"double quotes\"",
    "comma, separated, values",
    "line one\nline two",
    "tab\tseparated\tvalues",
    "carriage\r\nreturn",
    "back\\slash and \\n not a newline",
    "path/to/resource",
    "https://example.com/a/b?c=d&e=f#frag",
    "naïve café — ünïçödé",
    "emoji 🚀🔥 👍🏽",
    "日本語テキスト",
    "{\"nested\":\"json\",\"n\":[1,2,3]}",
    "'single quotes'",
    "semi;colon|pipe",
    " leading and trailing spaces ",
    "null",
    "NULL",
    "\\N",
    "\"",
    ",",
    "a \"quoted, comma\"\nand newline",
};
#define NAWKWARD (sizeof awkward / sizeof awkward[0])

static const char *const pages[] = { "/", "/home", "/pricing", "/docs/sinks", "/blog/post-1",
                                     "/checkout", "/cart", "/signup", "/search?q=a%20b" };
static const char *const refs[] = { "google", "direct", "newsletter", "twitter", "partner" };
static const char *const devices[] = { "desktop", "mobile", "tablet" };
static const char *const countries[] = { "ES", "US", "DE", "FR", "JP", "BR", "IN" };

#define PICK(arr) (arr[rnd_below(sizeof arr / sizeof arr[0])])

/* scratch for building one string value before escaping it */
static char sbuf[512];

static size_t sadd(size_t n, const char *s)
{
    size_t l = strlen(s);
    if (n + l > sizeof sbuf)
        l = sizeof sbuf - n;
    memcpy(sbuf + n, s, l);
    return n + l;
}

static size_t sadd_u64(size_t n, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t l = (size_t)(24 - i);
    if (n + l > sizeof sbuf)
        return n;
    memcpy(sbuf + n, tmp + i, l);
    return n + l;
}

/* payload: JSON text with the page, or an awkward string */
static const char *make_payload(size_t *len)
{
    if (rnd_below(8) == 0) {
        const char *s = awkward[rnd_below(NAWKWARD)];
        *len = strlen(s);
        return s;
    }
    size_t n = 0;
    n = sadd(n, "{\"page\":\"");
    n = sadd(n, PICK(pages));
    n = sadd(n, "\",\"ref\":\"");
    n = sadd(n, PICK(refs));
    n = sadd(n, "\",\"scroll\":");
    n = sadd_u64(n, rnd_below(101));
    n = sadd(n, "}");
    *len = n;
    return sbuf;
}

static const char *make_metadata(size_t *len)
{
    uint64_t r = rnd_below(8);
    if (r == 0) {
        const char *s = awkward[rnd_below(NAWKWARD)];
        *len = strlen(s);
        return s;
    }
    if (r == 1) {
        *len = 0;
        return "";
    }
    size_t n = 0;
    n = sadd(n, "device=");
    n = sadd(n, PICK(devices));
    n = sadd(n, ";country=");
    n = sadd(n, PICK(countries));
    n = sadd(n, ";v=");
    n = sadd_u64(n, 1 + rnd_below(3));
    *len = n;
    return sbuf;
}

/* -------------------------------------------------------------- escaping */

static const char hexd[] = "0123456789abcdef";

/* bytes that JSON needs escaped: controls, '"' and '\\' */
static inline int json_special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_json_str(const char *s, size_t n)
{
    char *p = reserve(n * 6 + 2);
    char *o = p;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !json_special((unsigned char)s[run]))
            run++;
        memcpy(o, s + i, run - i); /* the common case: a plain run */
        o += run - i;
        if (run == n)
            break;
        unsigned char c = (unsigned char)s[run];
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hexd[c >> 4];
            o[4] = hexd[c & 15];
            o += 5;
        }
        i = run + 1;
    }
    *o++ = '"';
    olen += (size_t)(o - p);
}

/* always quoted, quotes doubled, as ClickHouse's CSV output writes strings
 * (so that "", \N, NULL and edge spaces keep their meaning) */
static void put_csv_str(const char *s, size_t n)
{
    char *p = reserve(n * 2 + 2);
    char *o = p;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *o++ = '"';
        *o++ = s[i];
    }
    *o++ = '"';
    olen += (size_t)(o - p);
}

/* ------------------------------------------------------------------ main */

enum { FMT_NDJSON, FMT_CSV };

static int usage(void)
{
    fputs("usage: gen_events [--rows N] [--end TIME] [--days D] [--seed S]\n"
          "                  [--format ndjson|csv] [--no-header]\n",
          stderr);
    return 2;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t rows = 1000, days = 3, seed = 42;
    int64_t end = 0;
    int fmt = FMT_NDJSON, header = 1;
    const char *end_s = "2026-11-25T00:00:00Z";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--rows") && v) {
            if (parse_u64(v, UINT64_C(1) << 40, &rows))
                return fprintf(stderr, "gen_events: --rows: '%s' is not a count\n", v), 2;
            i++;
        } else if (!strcmp(a, "--days") && v) {
            if (parse_u64(v, 36500, &days) || days == 0)
                return fprintf(stderr, "gen_events: --days: '%s' is not 1..36500\n", v), 2;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            if (parse_u64(v, UINT64_MAX, &seed))
                return fprintf(stderr, "gen_events: --seed: '%s' is not a number\n", v), 2;
            i++;
        } else if (!strcmp(a, "--end") && v) {
            end_s = v;
            i++;
        } else if (!strcmp(a, "--format") && v) {
            if (!strcmp(v, "ndjson"))
                fmt = FMT_NDJSON;
            else if (!strcmp(v, "csv"))
                fmt = FMT_CSV;
            else
                return fprintf(stderr, "gen_events: --format: '%s' (expected ndjson, csv)\n", v), 2;
            i++;
        } else if (!strcmp(a, "--no-header")) {
            header = 0;
        } else {
            return usage();
        }
    }
    if (parse_time(end_s, &end))
        return fprintf(stderr, "gen_events: --end: '%s' is not YYYY-MM-DDTHH:MM:SSZ\n", end_s), 2;

    rng_state = seed;
    const int64_t span = (int64_t)days * 86400;
    const int64_t recent = span > 3600 ? 3600 : span; /* the last hour */
    /* the last `nrecent` rows fall in the last hour, the rest before it */
    const uint64_t nrecent = rows >= 2 ? (rows / 20 ? rows / 20 : 1) : rows;
    const uint64_t nold = rows - nrecent;
    const uint64_t nusers = rows / 10 < 10 ? 10 : rows / 10;

    if (fmt == FMT_CSV && header)
        PUTLIT("timestamp,event_type,user_id,session_id,payload,amount,duration,metadata\n");

    int64_t prev_t = 0;
    /* distinct seconds only when there is room, else the spread would drift */
    const int strict = rows <= (uint64_t)recent / 4 + (uint64_t)(span - recent) / 4;
    for (uint64_t i = 0; i < rows; i++) {
        /* stratified time: row i gets a random second inside its slot */
        int64_t t;
        if (i < nold) {
            double w = (double)(span - recent) / (double)nold;
            t = end - span + (int64_t)(((double)i + (double)(rnd() >> 11) * 0x1.0p-53) * w);
        } else {
            double w = (double)recent / (double)nrecent;
            t = end - recent + (int64_t)(((double)(i - nold) + (double)(rnd() >> 11) * 0x1.0p-53) * w);
        }
        if (t >= end)
            t = end - 1;
        if (i > 0 && t <= prev_t) /* never older than the previous row */
            t = strict && prev_t + 1 < end ? prev_t + 1 : prev_t;
        int last = i + 1 == rows;
        if (last && end - t > 30)
            t = end - 7; /* the pinned high-value purchase */
        prev_t = t;

        unsigned w100 = (unsigned)rnd_below(100), e = 0;
        while (w100 >= event_cum[e])
            e++;
        if (last)
            e = 2;
        const char *etype = event_types[e];

        uint64_t user = rnd_below(nusers);
        uint64_t sess = rnd();
        uint64_t cents = 0;
        if (e == 2) { /* purchase: a third above 1000 */
            if (last || rnd_below(3) == 0)
                cents = 100000 + 1 + rnd_below(900000);
            else
                cents = 100 + rnd_below(99900);
        }
        uint64_t dur_ms = rnd_below(8) == 0 ? 0 : rnd_below(600000);

        size_t plen, mlen;
        const char *payload = make_payload(&plen);
        char pcopy[sizeof sbuf];
        memcpy(pcopy, payload, plen);
        const char *meta = make_metadata(&mlen);

        if (fmt == FMT_NDJSON) {
            PUTLIT("{\"timestamp\":\"");
            put_datetime(t);
            PUTLIT("\",\"event_type\":\"");
            put(etype, strlen(etype));
            PUTLIT("\",\"user_id\":\"u_");
            put_pad(user, 7);
            PUTLIT("\",\"session_id\":\"s_");
            {
                char *p = reserve(16);
                for (int k = 0; k < 16; k++)
                    p[k] = hexd[(sess >> (60 - 4 * k)) & 15];
                olen += 16;
            }
            PUTLIT("\",\"payload\":");
            put_json_str(pcopy, plen);
            PUTLIT(",\"amount\":");
            put_fixed(cents, 2);
            PUTLIT(",\"duration\":");
            put_fixed(dur_ms, 3);
            PUTLIT(",\"metadata\":");
            put_json_str(meta, mlen);
            PUTLIT("}\n");
        } else {
            putc_('"');
            put_datetime(t);
            PUTLIT("\",\"");
            put(etype, strlen(etype));
            PUTLIT("\",\"u_");
            put_pad(user, 7);
            PUTLIT("\",\"s_");
            {
                char *p = reserve(16);
                for (int k = 0; k < 16; k++)
                    p[k] = hexd[(sess >> (60 - 4 * k)) & 15];
                olen += 16;
            }
            PUTLIT("\",");
            put_csv_str(pcopy, plen);
            putc_(',');
            put_fixed(cents, 2);
            putc_(',');
            put_fixed(dur_ms, 3);
            putc_(',');
            put_csv_str(meta, mlen);
            putc_('\n');
        }
    }
    flush_out();
    if (fflush(stdout) != 0) {
        fprintf(stderr, "gen_events: write error: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
