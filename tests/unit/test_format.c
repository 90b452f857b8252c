// sp-deps: sp_buf sp_error sp_type sp_batch sp_dtoa sp_format sp_format_* sp_thrift sp_rle sp_date sp_time sp_ch_escape
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_time.h"
#include "sp_test.h"

/* point a hand-built column tree at the parsed type tree */
static void bind(sp_column *c, const sp_type *t)
{
    c->type = t;
    if (t->kind == SP_T_ARRAY && c->nchild == 1)
        bind(&c->child[0], t->elem);
    if (t->kind == SP_T_MAP && c->nchild == 2) {
        bind(&c->child[0], t->key);
        bind(&c->child[1], t->elem);
    }
    if (t->kind == SP_T_TUPLE)
        for (size_t j = 0; j < c->nchild && j < t->nelems; j++)
            bind(&c->child[j], t->elems[j]);
}

/* format the rows of a one-column batch; returns a static copy */
static const char *one(const char *fmt, const char *type, sp_column *col, size_t nrows)
{
    static char out[4096];
    sp_type *t = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_type_parse(type, &t, &err)) {
        snprintf(out, sizeof out, "ERR %.1000s", err.msg);
        return out;
    }
    bind(col, t);
    char *names[1] = {"c"};
    sp_type *types[1] = {t};
    sp_schema s = {1, names, types};
    sp_batch b = {nrows, 1, col};
    const sp_format *f = sp_format_find(fmt);
    sp_buf buf = SP_BUF_INIT(1 << 20);
    int rc = f->header(&buf, &s, &err);
    if (!rc)
        rc = f->rows(&buf, &s, &b, 0, nrows, &err);
    if (rc)
        snprintf(out, sizeof out, "ERR %.1000s", err.msg);
    else
        snprintf(out, sizeof out, "%s", buf.data ? buf.data : "");
    sp_buf_release(&buf);
    sp_type_free(t);
    return out;
}

#define S(lit) {lit, sizeof(lit) - 1}

TEST(registry)
{
    CHECK(sp_format_find("csv") == &sp_format_csv);
    CHECK(sp_format_find("ndjson") == &sp_format_ndjson);
    CHECK(sp_format_find("xml") == NULL);
    CHECK(sp_format_find(NULL) == NULL);
    CHECK_STR(sp_format_names(), "csv, ndjson, parquet");
    CHECK_STR(sp_format_csv.ext, "csv");
    CHECK_STR(sp_format_ndjson.ext, "ndjson");
}

TEST(strings_escaped_like_clickhouse)
{
    sp_str v[] = {S("a\"b"), S("x/y\\z"), S("\t\n\r\b\f\x01\x1f\x7f"), S("h\xc3\xa9llo"),
                  S("\xff" "A"), S("x\xe2\x80\xa8y\xe2\x80\xa9"), S("ab\0\0")};
    sp_column c = {0};
    c.v.str = v;
    CHECK_STR(one("csv", "String", &c, 7),
              "\"c\"\n\"a\"\"b\"\n\"x/y\\z\"\n\"\t\n\r\b\f\x01\x1f\x7f\"\n\"h\xc3\xa9llo\"\n"
              "\"\xff" "A\"\n\"x\xe2\x80\xa8y\xe2\x80\xa9\"\n\"ab"); /* cut at the NUL by %s */
    CHECK_STR(one("ndjson", "String", &c, 7),
              "{\"c\":\"a\\\"b\"}\n{\"c\":\"x\\/y\\\\z\"}\n"
              "{\"c\":\"\\t\\n\\r\\b\\f\\u0001\\u001F\x7f\"}\n{\"c\":\"h\xc3\xa9llo\"}\n"
              "{\"c\":\"\xff" "A\"}\n{\"c\":\"x\\u2028y\\u2029\"}\n{\"c\":\"ab\\u0000\\u0000\"}\n");
}

/* CSV quoting at every length and every position of one or two '"' (the
 * word-at-a-time path for short strings and the memchr path for long ones),
 * against a byte-by-byte reference */
TEST(csv_quotes_at_every_position)
{
    char in[160], want[400];
    for (size_t n = 0; n <= 150; n++) {
        for (size_t q = 0; q <= n; q++) {
            for (size_t i = 0; i < n; i++)
                in[i] = (char)('a' + (i % 26));
            if (q < n)
                in[q] = '"';
            if (n > 2 && q + 2 < n)
                in[n - 1] = '"';
            size_t w = 0;
            want[w++] = '"';
            for (size_t i = 0; i < n; i++) {
                want[w++] = in[i];
                if (in[i] == '"')
                    want[w++] = '"';
            }
            want[w++] = '"';
            want[w++] = '\n';
            sp_str v = { in, n };
            sp_column c = {0};
            c.v.str = &v;
            const char *got = one("csv", "String", &c, 1) + 4; /* after "c"\n */
            if (strlen(got) != w || memcmp(got, want, w) != 0) {
                SP_T_FAIL("n=%zu q=%zu: got %s want %.*s", n, q, got, (int)w, want);
                return;
            }
        }
    }
}

TEST(integers_bools_nulls)
{
    int64_t i[] = {0, -1, INT64_MIN, INT64_MAX, 42};
    uint8_t nulls[] = {0, 0, 0, 0, 1};
    sp_column c = {0};
    c.v.i64 = i;
    c.nulls = nulls;
    CHECK_STR(one("csv", "Nullable(Int64)", &c, 5),
              "\"c\"\n0\n-1\n-9223372036854775808\n9223372036854775807\n\\N\n");
    CHECK_STR(one("ndjson", "Nullable(Int64)", &c, 5),
              "{\"c\":0}\n{\"c\":-1}\n{\"c\":-9223372036854775808}\n"
              "{\"c\":9223372036854775807}\n{\"c\":null}\n");
    uint64_t u[] = {UINT64_MAX, 7, 1, 0};
    sp_column cu = {0};
    cu.v.u64 = u;
    CHECK_STR(one("ndjson", "UInt64", &cu, 2), "{\"c\":18446744073709551615}\n{\"c\":7}\n");
    CHECK_STR(one("csv", "Bool", &cu, 4), "\"c\"\ntrue\ntrue\ntrue\nfalse\n");
    CHECK_STR(one("ndjson", "Bool", &cu, 4),
              "{\"c\":true}\n{\"c\":true}\n{\"c\":true}\n{\"c\":false}\n");
    sp_str big[] = {S("-170141183460469231731687303715884105728"), S("-12.500")};
    sp_column cb = {0};
    cb.v.str = big;
    CHECK_STR(one("csv", "Int128", &cb, 1), "\"c\"\n-170141183460469231731687303715884105728\n");
    CHECK_STR(one("ndjson", "Decimal(10, 3)", &cb, 2),
              "{\"c\":-170141183460469231731687303715884105728}\n{\"c\":-12.500}\n");
}

TEST(floats)
{
    double f[] = {0.1, -0.0, 1e21, 1e-7, INFINITY, -INFINITY, NAN, 1.0 / 3};
    sp_column c = {0};
    c.v.f64 = f;
    CHECK_STR(one("csv", "Float64", &c, 8),
              "\"c\"\n0.1\n-0\n1e21\n1e-7\ninf\n-inf\nnan\n0.3333333333333333\n");
    CHECK_STR(one("ndjson", "Float64", &c, 8),
              "{\"c\":0.1}\n{\"c\":-0}\n{\"c\":1e21}\n{\"c\":1e-7}\n{\"c\":null}\n"
              "{\"c\":null}\n{\"c\":null}\n{\"c\":0.3333333333333333}\n");
    double f32[] = {(double)0.1f, (double)(1.0f / 3)};
    c.v.f64 = f32;
    CHECK_STR(one("csv", "Float32", &c, 2), "\"c\"\n0.1\n0.33333334\n");
}

TEST(dates_and_times)
{
    int64_t d[] = {0, 20417, -1, 2932896 + 5};
    sp_column c = {0};
    c.v.i64 = d;
    CHECK_STR(one("csv", "Date", &c, 4),
              "\"c\"\n\"1970-01-01\"\n\"2025-11-25\"\n\"1969-12-31\"\n\"9999-12-31\"\n");
    int64_t t[] = {0, 1795597200, -1};
    c.v.i64 = t;
    CHECK_STR(one("csv", "DateTime('UTC')", &c, 3),
              "\"c\"\n\"1970-01-01 00:00:00\"\n\"2026-11-25 09:00:00\"\n\"1969-12-31 23:59:59\"\n");
    CHECK_STR(one("ndjson", "DateTime", &c, 1), "{\"c\":\"1970-01-01 00:00:00\"}\n");
    int64_t t64[] = {1795597200123, -1, 5};
    c.v.i64 = t64;
    CHECK_STR(one("csv", "DateTime64(3)", &c, 3),
              "\"c\"\n\"2026-11-25 09:00:00.123\"\n\"1969-12-31 23:59:59.999\"\n"
              "\"1970-01-01 00:00:00.005\"\n");
    int64_t t0[] = {1795597200};
    c.v.i64 = t0;
    CHECK_STR(one("ndjson", "DateTime64(0)", &c, 1), "{\"c\":\"2026-11-25 09:00:00\"}\n");

    char buf[32];
    CHECK_INT(sp_fmt_date(buf, 20782), 10);
    CHECK_STR(buf, "2026-11-25");
    CHECK_INT(sp_fmt_datetime(buf, 1795597200), 19);
    CHECK_STR(buf, "2026-11-25 09:00:00");
    CHECK_INT(sp_days_from_civil(2026, 11, 25), 20782);
    CHECK_INT(sp_days_from_civil(1900, 1, 1), -25567);
    CHECK_INT(sp_days_from_civil(2000, 3, 1), 11017);
    int y, m, dd;
    for (int64_t day = -800000; day < 3000000; day += 997) {
        sp_civil_from_days(day, &y, &m, &dd);
        if (sp_days_from_civil(y, m, dd) != day) {
            CHECK_INT(sp_days_from_civil(y, m, dd), day);
            break;
        }
    }
    sp_civil_from_days(-1, &y, &m, &dd);
    CHECK_INT(y * 10000 + m * 100 + dd, 19691231);
    /* month lengths (sp_time), leap years by the Gregorian rule */
    CHECK_INT(sp_days_in_month(2024, 2), 29);
    CHECK_INT(sp_days_in_month(1900, 2), 28);
    CHECK_INT(sp_days_in_month(2000, 2), 29);
    CHECK_INT(sp_days_in_month(2026, 4), 30);
    CHECK_INT(sp_days_in_month(2026, 12), 31);
    CHECK_INT(sp_days_in_month(2026, 13), 0);
    CHECK_INT(sp_days_in_month(2026, 0), 0);
    for (int mo = 1; mo <= 12; mo++) /* agrees with the day count */
        CHECK_INT(sp_days_from_civil(2024, mo, sp_days_in_month(2024, mo)) + 1,
                  mo == 12 ? sp_days_from_civil(2025, 1, 1) : sp_days_from_civil(2024, mo + 1, 1));
}

TEST(arrays_maps_tuples)
{
    /* Array(Nullable(String)): ['a', NULL, 'b\'c"'] then [] */
    sp_str es[] = {S("a"), S(""), S("b'c\"\t")};
    uint8_t en[] = {0, 1, 0};
    sp_column child = {0};
    child.v.str = es;
    child.nulls = en;
    uint64_t off[] = {0, 3, 3};
    sp_column c = {0};
    c.offsets = off;
    c.child = &child;
    c.nchild = 1;
    CHECK_STR(one("csv", "Array(Nullable(String))", &c, 2),
              "\"c\"\n\"['a',NULL,'b\\'c\"\"\\t']\"\n\"[]\"\n");
    CHECK_STR(one("ndjson", "Array(Nullable(String))", &c, 2),
              "{\"c\":[\"a\",null,\"b'c\\\"\\t\"]}\n{\"c\":[]}\n");

    /* Array(Float64) with non-finite values, and Array(Date) */
    double ef[] = {INFINITY, NAN, 1.5};
    sp_column fc = {0};
    fc.v.f64 = ef;
    c.child = &fc;
    CHECK_STR(one("csv", "Array(Float64)", &c, 1), "\"c\"\n\"[inf,nan,1.5]\"\n");
    CHECK_STR(one("ndjson", "Array(Float64)", &c, 1), "{\"c\":[null,null,1.5]}\n");

    /* Map(String, UInt64) and Map(UInt8, String) */
    sp_str mk[] = {S("k1"), S("k\"2")};
    uint64_t mv[] = {1, 2};
    sp_column mch[2] = {{0}, {0}};
    mch[0].v.str = mk;
    mch[1].v.u64 = mv;
    uint64_t moff[] = {0, 2};
    sp_column mc = {0};
    mc.offsets = moff;
    mc.child = mch;
    mc.nchild = 2;
    CHECK_STR(one("csv", "Map(String, UInt64)", &mc, 1), "\"c\"\n\"{'k1':1,'k\"\"2':2}\"\n");
    CHECK_STR(one("ndjson", "Map(String, UInt64)", &mc, 1), "{\"c\":{\"k1\":1,\"k\\\"2\":2}}\n");
    sp_column mch2[2] = {{0}, {0}};
    mch2[0].v.u64 = mv;
    mch2[1].v.str = mk;
    mc.child = mch2;
    CHECK_STR(one("ndjson", "Map(UInt8, String)", &mc, 1), "{\"c\":{\"1\":\"k1\",\"2\":\"k\\\"2\"}}\n");

    /* Tuple: named -> JSON object, unnamed -> array; CSV spreads it */
    int64_t ti[] = {1};
    sp_str ts[] = {S("x")};
    sp_column tch[2] = {{0}, {0}};
    tch[0].v.i64 = ti;
    tch[1].v.str = ts;
    sp_column tc = {0};
    tc.child = tch;
    tc.nchild = 2;
    /* CSVWithNames names each element (ClickHouse 26.7) */
    CHECK_STR(one("csv", "Tuple(Int8, String)", &tc, 1), "\"c.1\",\"c.2\"\n1,\"x\"\n");
    CHECK_STR(one("csv", "Tuple(a Int8, b String)", &tc, 1), "\"c.a\",\"c.b\"\n1,\"x\"\n");
    CHECK_STR(one("ndjson", "Tuple(Int8, String)", &tc, 1), "{\"c\":[1,\"x\"]}\n");
    CHECK_STR(one("ndjson", "Tuple(a Int8, b String)", &tc, 1), "{\"c\":{\"a\":1,\"b\":\"x\"}}\n");

    /* Array(Tuple(Int8, String)) in CSV: text form */
    uint64_t aoff[] = {0, 1};
    sp_column ac = {0};
    ac.offsets = aoff;
    ac.child = &tc;
    ac.nchild = 1;
    CHECK_STR(one("csv", "Array(Tuple(Int8, String))", &ac, 1), "\"c\"\n\"[(1,'x')]\"\n");
    CHECK_STR(one("ndjson", "Array(Tuple(Int8, String))", &ac, 1), "{\"c\":[[1,\"x\"]]}\n");
}

TEST(json_uuid_enum_and_header)
{
    sp_str j[] = {S("{\"a\":[1,2]}"), S("")};
    sp_column c = {0};
    c.v.str = j;
    CHECK_STR(one("ndjson", "JSON", &c, 2), "{\"c\":{\"a\":[1,2]}}\n{\"c\":{}}\n");
    CHECK_STR(one("csv", "JSON", &c, 1), "\"c\"\n\"{\"\"a\"\":[1,2]}\"\n");
    sp_str u[] = {S("61f0c404-5cb3-11e7-907b-a6006ad3dba0")};
    c.v.str = u;
    CHECK_STR(one("ndjson", "UUID", &c, 1), "{\"c\":\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"}\n");

    char *names[2] = {"we\"ird,name", "a/b"};
    sp_type *types[2] = {NULL, NULL};
    sp_type_parse("Int8", &types[0], NULL);
    sp_type_parse("Int8", &types[1], NULL);
    sp_schema s = {2, names, types};
    int64_t v[] = {1};
    sp_column cols[2] = {{0}, {0}};
    cols[0].type = types[0];
    cols[0].v.i64 = v;
    cols[1].type = types[1];
    cols[1].v.i64 = v;
    sp_batch b = {1, 2, cols};
    sp_buf buf = SP_BUF_INIT(1 << 16);
    CHECK_OK(sp_format_csv.header(&buf, &s, NULL), (sp_error *)NULL);
    CHECK_OK(sp_format_csv.row(&buf, &s, &b, 0, NULL), (sp_error *)NULL);
    CHECK_STR(buf.data, "\"we\"\"ird,name\",\"a/b\"\n1,1\n");
    sp_buf_reset(&buf);
    CHECK_OK(sp_format_ndjson.header(&buf, &s, NULL), (sp_error *)NULL);
    CHECK_OK(sp_format_ndjson.row(&buf, &s, &b, 0, NULL), (sp_error *)NULL);
    CHECK_STR(buf.data, "{\"we\\\"ird,name\":1,\"a\\/b\":1}\n");
    sp_buf_release(&buf);

    /* the ceiling: a row that does not fit fails cleanly */
    sp_buf small = SP_BUF_INIT(8);
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_format_ndjson.rows(&small, &s, &b, 0, 1, &err), SP_ETOOBIG);
    CHECK_INT(small.len, 0);
    sp_buf_release(&small);
    sp_type_free(types[0]);
    sp_type_free(types[1]);
}

TEST(value_text)
{
    sp_type *ts = NULL, *tdt = NULL, *tf = NULL, *ta = NULL;
    sp_type_parse("String", &ts, NULL);
    sp_type_parse("DateTime64(3)", &tdt, NULL);
    sp_type_parse("Float64", &tf, NULL);
    sp_type_parse("Array(String)", &ta, NULL);
    sp_buf b = SP_BUF_INIT(1024);
    sp_str s[] = {S("a/b \"c\"")};
    uint8_t nul[] = {1};
    sp_column c = {0};
    c.type = ts;
    c.v.str = s;
    CHECK_OK(sp_fmt_value_text(&b, &c, 0, NULL), (sp_error *)NULL);
    CHECK_STR(b.data, "a/b \"c\"");
    sp_buf_reset(&b);
    c.nulls = nul;
    CHECK_OK(sp_fmt_value_text(&b, &c, 0, NULL), (sp_error *)NULL);
    CHECK_STR(b.data, "null");
    sp_buf_reset(&b);
    int64_t t[] = {1795597200123};
    sp_column cd = {0};
    cd.type = tdt;
    cd.v.i64 = t;
    CHECK_OK(sp_fmt_value_text(&b, &cd, 0, NULL), (sp_error *)NULL);
    CHECK_STR(b.data, "2026-11-25 09:00:00.123");
    sp_buf_reset(&b);
    double f[] = {1e21};
    sp_column cf = {0};
    cf.type = tf;
    cf.v.f64 = f;
    CHECK_OK(sp_fmt_value_text(&b, &cf, 0, NULL), (sp_error *)NULL);
    CHECK_STR(b.data, "1e21");
    sp_buf_reset(&b);
    uint64_t off[] = {0, 1};
    sp_column ch = {0};
    ch.type = ts;
    ch.v.str = s;
    sp_column ca = {0};
    ca.type = ta;
    ca.offsets = off;
    ca.child = &ch;
    ca.nchild = 1;
    CHECK_OK(sp_fmt_value_text(&b, &ca, 0, NULL), (sp_error *)NULL);
    CHECK_STR(b.data, "['a/b \"c\"']");
    sp_buf_release(&b);
    sp_type_free(ts);
    sp_type_free(tdt);
    sp_type_free(tf);
    sp_type_free(ta);
}

int main(void)
{
    RUN(registry);
    RUN(strings_escaped_like_clickhouse);
    RUN(csv_quotes_at_every_position);
    RUN(integers_bools_nulls);
    RUN(floats);
    RUN(dates_and_times);
    RUN(arrays_maps_tuples);
    RUN(json_uuid_enum_and_header);
    RUN(value_text);
    return sp_test_done();
}
