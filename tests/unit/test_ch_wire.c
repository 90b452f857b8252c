// sp-deps: all
/* The ClickHouse engine's wire formats without a server: the streaming
 * TabSeparatedWithNamesAndTypes reader (every chunking gives the same rows;
 * batches of at most 2048 rows; the exception 18.16 appends to a started
 * body fails the read), the RowBinary writer, and the now() rewrite.  The
 * TSV text below is what clickhouse-server 18.16 sent for the query in
 * tests/e2e/engine_clickhouse.sh; the expected NDJSON is its JSONEachRow
 * output (except Date 0, which 18.16 prints as 0000-00-00). */
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_ch_rowbin.h"
#include "sp_ch_tsv.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_ch_escape.h"
#include "sp_test.h"

#include "sp_sql.h"

typedef struct sink {
    sp_buf out;
    const sp_schema *s;
    size_t nbatches, maxrows;
} sink;

static int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    sink *k = ud;
    k->s = s;
    return sp_format_ndjson.header(&k->out, s, err);
}

static int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    sink *k = ud;
    k->nbatches++;
    if (b->nrows > k->maxrows)
        k->maxrows = b->nrows;
    return sp_format_ndjson.rows(&k->out, k->s, b, 0, b->nrows, err);
}

/* read text in chunks of `step` bytes (0 = at once); the NDJSON or "ERR <msg>" */
static char *read_all(const char *text, size_t len, size_t step, sink *k, int *code)
{
    sp_buf_init(&k->out, 1 << 26);
    k->nbatches = k->maxrows = 0;
    sp_ch_tsv *r = NULL;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_ch_tsv_new(2048, on_schema, on_batch, k, &r, &err);
    for (size_t off = 0; !rc && off < len;) {
        size_t n = step && len - off > step ? step : len - off;
        rc = sp_ch_tsv_feed(r, text + off, n, &err);
        off += n;
    }
    if (!rc)
        rc = sp_ch_tsv_finish(r, &err);
    sp_ch_tsv_free(r);
    *code = rc;
    char *s;
    if (rc) {
        s = strdup(err.msg);
    } else {
        s = sp_buf_detach(&k->out);
    }
    sp_buf_release(&k->out);
    return s;
}

static const char SAMPLE[] =
    "a\tt\tdt\tf\tf32\td\tu\ts\tni\tnn\tbig\tsmall\td0\taa\tlc\n"
    "Array(Nullable(String))\tTuple(UInt8, String)\tDateTime\tFloat64\tFloat32\tDecimal(18, 3)"
    "\tUUID\tString\tNullable(Int32)\tNullable(Int32)\tUInt64\tInt64\tDate\tArray(Array(UInt8))"
    "\tArray(String)\n"
    "['a\\'b','c\\\\d','e\\nf\\tg',NULL]\t(1,'x')\t2020-01-01 00:00:00\t1.5e300\t0.1\t-1.500"
    "\t00000000-0000-0000-0000-000000000001\ta\\\\b\\tc\\nd\\'\xc3\xa9\t-7\t\\N"
    "\t18446744073709551615\t-9223372036854775808\t0000-00-00\t[[1,2],[]]\t['x']\n";

static const char SAMPLE_JSON[] =
    "{\"a\":[\"a'b\",\"c\\\\d\",\"e\\nf\\tg\",null],\"t\":[1,\"x\"],\"dt\":\"2020-01-01 "
    "00:00:00\",\"f\":1.5e300,\"f32\":0.1,\"d\":-1.5,\"u\":\"00000000-0000-0000-0000-"
    "000000000001\",\"s\":\"a\\\\b\\tc\\nd'\xc3\xa9\",\"ni\":-7,\"nn\":null,\"big\":"
    "18446744073709551615,\"small\":-9223372036854775808,\"d0\":\"1970-01-01\",\"aa\":[[1,2],"
    "[]],\"lc\":[\"x\"]}\n";

TEST(sample_row_any_chunking)
{
    static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        sink k;
        int rc;
        char *got = read_all(SAMPLE, sizeof SAMPLE - 1, steps[i], &k, &rc);
        CHECK_INT(rc, 0);
        CHECK_STR(got, SAMPLE_JSON);
        free(got);
    }
}

TEST(batches_of_2048)
{
    sp_buf t = SP_BUF_INIT(1 << 24);
    sp_buf_adds(&t, "number\nUInt64\n", NULL);
    for (int i = 0; i < 5000; i++)
        sp_buf_addf(&t, NULL, "%d\n", i);
    sink k;
    int rc;
    char *got = read_all(t.data, t.len, 4096, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(k.nbatches, 3);
    CHECK_INT(k.maxrows, 2048);
    CHECK(got && strstr(got, "{\"number\":4999}\n") != NULL);
    free(got);
    sp_buf_release(&t);
}

TEST(empty_result_has_schema)
{
    sink k;
    int rc;
    char *got = read_all("x\tString\n", 9, 0, &k, &rc);
    CHECK_INT(rc, SP_EENGINE); /* names without types */
    free(got);
    got = read_all("x\nString\n", 9, 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, "");
    CHECK_INT(k.nbatches, 0);
    free(got);
}

TEST(appended_exception_fails)
{
    static const char *bodies[] = {
        /* 18.16: after complete rows */
        "n\tx\nUInt64\tUInt8\n1\t0\n2\t0\nCode: 395, e.displayText() = DB::Exception: Value "
        "passed to 'throwIf' function is non zero, e.what() = DB::Exception\n",
        /* no final newline */
        "n\tx\nUInt64\tUInt8\n1\t0\nCode: 395, e.displayText() = DB::Exception: Value passed to "
        "'throwIf' function is non zero, e.what() = DB::Exception",
        /* inside a row */
        "n\tx\nUInt64\tUInt8\n1\t0\n2\tCode: 395, e.displayText() = DB::Exception: Value passed "
        "to 'throwIf' function is non zero, e.what() = DB::Exception\n",
        /* newer servers */
        "n\tx\nUInt64\tUInt8\n1\t0\nCode: 395. DB::Exception: Value passed to 'throwIf' function "
        "is non zero: while executing 'FUNCTION throwIf(x)'. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO)"
        " (version 23.8.1.1)\n",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        for (size_t step = 0; step < 3; step++) {
            sink k;
            int rc;
            char *got = read_all(bodies[i], strlen(bodies[i]), step, &k, &rc);
            CHECK_INT(rc, SP_ESQL);
            CHECK(got && strstr(got, "Value passed to 'throwIf' function is non zero") != NULL);
            CHECK(got && strstr(got, "(code 395)") != NULL);
            CHECK(got && !strstr(got, "e.what()"));
            free(got);
        }
    }
    /* after a partial row that would still parse (one String column) */
    const char *partial = "s\nString\nok\nabcCode: 395, e.displayText() = DB::Exception: boom, "
                          "e.what() = DB::Exception\n";
    {
        sink k;
        int rc;
        char *got = read_all(partial, strlen(partial), 0, &k, &rc);
        CHECK_INT(rc, SP_ESQL);
        CHECK(got && strstr(got, "boom (code 395)") != NULL);
        free(got);
    }
    /* a single String column holding that text is taken as an error too */
    const char *one = "s\nString\nok\nCode: 1, e.displayText() = DB::Exception: x, e.what() = y\n";
    sink k;
    int rc;
    char *got = read_all(one, strlen(one), 0, &k, &rc);
    CHECK_INT(rc, SP_ESQL);
    free(got);
}

TEST(cut_and_malformed_rows_fail)
{
    sink k;
    int rc;
    const char *cut = "n\nUInt64\n1\n2";
    char *got = read_all(cut, strlen(cut), 0, &k, &rc);
    CHECK_INT(rc, SP_ENET);
    free(got);
    const char *fields = "a\tb\nUInt8\tUInt8\n1\n";
    got = read_all(fields, strlen(fields), 0, &k, &rc);
    CHECK_INT(rc, SP_EENGINE);
    free(got);
    const char *null = "a\nUInt8\n\\N\n";
    got = read_all(null, strlen(null), 0, &k, &rc);
    CHECK_INT(rc, SP_EENGINE);
    free(got);
    const char *num = "a\nUInt8\nx1\n";
    got = read_all(num, strlen(num), 0, &k, &rc);
    CHECK_INT(rc, SP_EENGINE);
    free(got);
    /* a DateTime in another zone is carried as ClickHouse's text of it */
    const char *tz = "a\nDateTime('Europe/Berlin')\n2020-01-01 00:00:00\n";
    got = read_all(tz, strlen(tz), 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, "{\"a\":\"2020-01-01 00:00:00\"}\n");
    free(got);
    const char *utc = "a\nDateTime(\\'UTC\\')\n2020-01-01 00:00:00\n";
    got = read_all(utc, strlen(utc), 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, "{\"a\":\"2020-01-01 00:00:00\"}\n");
    free(got);
}

TEST(exception_text)
{
    char msg[256];
    const char *e = "Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position "
                    "1: SELEC 1. Expected one of: A, B, C, e.what() = DB::Exception\n";
    CHECK_INT(sp_ch_exception(e, strlen(e), msg, sizeof msg), 62);
    CHECK_STR(msg, "Syntax error: failed at position 1: SELEC 1. Expected one of: A, B, C (code 62)");
    CHECK_INT(sp_ch_exception("hello", 5, msg, sizeof msg), 0);
}

TEST(tsv_escape_roundtrip)
{
    const char raw[] = "a\tb\nc\\d'e\0f";
    sp_buf esc = SP_BUF_INIT(1024), back = SP_BUF_INIT(1024);
    CHECK_INT(sp_ch_escape(raw, sizeof raw - 1, &esc, NULL), 0);
    CHECK_STR(esc.data, "a\\tb\\nc\\\\d\\'e\\0f");
    CHECK_INT(sp_ch_unescape(esc.data, esc.len, &back, NULL), 0);
    CHECK_MEM(back.data, back.len, raw, sizeof raw - 1);
    sp_buf_release(&esc);
    sp_buf_release(&back);
}

/* ClickHouse's escapes as chDB reads them in a string literal, measured
 * with tests/tools/chdb_query (SELECT hex('...')): control escapes, \xHH,
 * the characters that drop their backslash, and the rest that keep it */
TEST(ch_unescape_like_chdb)
{
    static const struct {
        const char *lit; /* the literal as written in SQL */
        const char *hex; /* hex() of what chDB made of it */
    } cases[] = {
        { "'\\a\\b\\e\\f\\n\\r\\t\\v\\0\\x41\\q\\'\\\\'", "07081B0C0A0D090B00415C71275C" },
        { "'a''b'", "612762" },
        { "'\\\"'", "22" },
        { "'\\`'", "60" },
        { "'\\/'", "2F" },
        { "'\\='", "3D" },
        { "'\\X41'", "5C583431" },
        { "'\\01'", "0031" },
        { "'\\?'", "5C3F" },
        { "'\\%'", "5C25" },
        { "'\\z'", "5C7A" },
        { "'\\ '", "5C20" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_buf b = SP_BUF_INIT(1024);
        const char *p = cases[i].lit, *end = p + strlen(p);
        CHECK_INT(sp_ch_unquote(&p, end, &b, NULL), 0);
        CHECK_INT(p == end, 1);
        char hex[128] = "";
        for (size_t j = 0; j < b.len && 2 * j + 2 < sizeof hex; j++)
            snprintf(hex + 2 * j, 3, "%02X", (unsigned char)b.data[j]);
        CHECK_STR(hex, cases[i].hex);
        sp_buf_release(&b);
    }
    /* unterminated */
    sp_buf b = SP_BUF_INIT(1024);
    const char *p = "'ab\\'";
    CHECK_INT(sp_ch_unquote(&p, p + strlen(p), &b, NULL), SP_EDATA);
    sp_buf_release(&b);
    /* quoting: only ' and \ in a literal, ` and \ in an identifier */
    sp_buf q = SP_BUF_INIT(1024);
    CHECK_INT(sp_ch_quote_string(&q, "a'b\\c\nd", 7, NULL), 0);
    CHECK_STR(q.data, "'a\\'b\\\\c\nd'");
    sp_buf_reset(&q);
    CHECK_INT(sp_ch_quote_ident(&q, "a`b\\c", NULL), 0);
    CHECK_STR(q.data, "`a\\`b\\\\c`");
    sp_buf_release(&q);
}

TEST(rowbin_values)
{
    /* one row of UInt16, String, Nullable(Int32) NULL, Decimal(18, 3), Array(UInt8), UUID */
    const char *types[] = { "UInt16", "String", "Nullable(Int32)", "Decimal(18, 3)",
                            "Array(UInt8)", "UUID" };
    sp_type *t[6];
    for (int i = 0; i < 6; i++)
        CHECK_INT(sp_type_parse(types[i], &t[i], NULL), 0);
    uint64_t u16 = 300, elems[2] = { 1, 2 }, offs[2] = { 0, 2 };
    int64_t i32 = 0;
    uint8_t isnull = 1;
    sp_str s = { "ab", 2 }, dec = { "-1.5", 4 },
           uu = { "00112233-4455-6677-8899-aabbccddeeff", 36 };
    sp_column child = { t[4]->elem, NULL, { .u64 = elems }, NULL, NULL, 0 };
    sp_column cols[6] = {
        { t[0], NULL, { .u64 = &u16 }, NULL, NULL, 0 },
        { t[1], NULL, { .str = &s }, NULL, NULL, 0 },
        { t[2], &isnull, { .i64 = &i32 }, NULL, NULL, 0 },
        { t[3], NULL, { .str = &dec }, NULL, NULL, 0 },
        { t[4], NULL, { .u64 = NULL }, offs, &child, 1 },
        { t[5], NULL, { .str = &uu }, NULL, NULL, 0 },
    };
    char *names[6] = { "a", "b", "c", "d", "e", "f" };
    sp_schema sc = { 6, names, t };
    sp_batch b = { 1, 6, cols };
    sp_buf out = SP_BUF_INIT(1024);
    CHECK_INT(sp_ch_rowbin_rows(&out, &sc, &b, 0, 1, NULL), 0);
    static const unsigned char want[] = {
        0x2c, 0x01,                                     /* 300 */
        0x02, 'a', 'b',                                 /* "ab" */
        0x01,                                           /* NULL */
        0x24, 0xfa, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1500 */
        0x02, 0x01, 0x02,                               /* [1,2] */
        0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, /* UUID high half */
        0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, /* low half */
    };
    CHECK_MEM(out.data, out.len, want, sizeof want);
    sp_buf_release(&out);
    for (int i = 0; i < 6; i++)
        sp_type_free(t[i]);
}

TEST(now_rewrite)
{
    sp_buf out = SP_BUF_INIT(4096);
    /* 2026-11-25T01:00:00Z */
    CHECK_INT(sp_sql_logical_time("SELECT now(), today( ), yesterday() AS y, x.now(), 'now()', "
                                 "NOW() -- now()\n;",
                                 1795568400, &out, NULL),
              0);
    CHECK_STR(out.data,
              "SELECT (toDateTime('2026-11-25 01:00:00') AS `now()`), (toDate('2026-11-25') AS "
              "`today()`), (toDate('2026-11-24') AS `yesterday()`) AS y, x.now(), 'now()', "
              "(toDateTime('2026-11-25 01:00:00') AS `NOW()`) -- now()\n");
    sp_buf_reset(&out);
    CHECK_INT(sp_sql_logical_time("SELECT 1 FORMAT JSON;", 0, &out, NULL), 0);
    CHECK_STR(out.data, "SELECT 1 ");
    sp_buf_reset(&out);
    CHECK_INT(sp_sql_logical_time("SELECT format FROM t", 0, &out, NULL), 0);
    CHECK_STR(out.data, "SELECT format FROM t");
    sp_buf_release(&out);
}

int main(void)
{
    RUN(sample_row_any_chunking);
    RUN(batches_of_2048);
    RUN(empty_result_has_schema);
    RUN(appended_exception_fails);
    RUN(cut_and_malformed_rows_fail);
    RUN(exception_text);
    RUN(tsv_escape_roundtrip);
    RUN(ch_unescape_like_chdb);
    RUN(rowbin_values);
    RUN(now_rewrite);
    return sp_test_done();
}
