// sp-deps: sp_buf sp_error sp_type sp_ingest sp_ingest_conv sp_ingest_colbuf sp_ingest_path sp_ingest_scan sp_dtoa sp_time sp_ch_escape
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_ingest.h"
#include "sp_ingest_int.h"
#include "sp_test.h"

/* ------------------------------------------------------------ fake engine */

typedef struct fake {
    sp_engine base;
    sp_buf rows;  /* one line per appended row: v1|v2|... */
    sp_buf quar;  /* one line per quarantined row: lineno|column|error|raw */
    size_t nbatches, max_batch;
    int fail_append;
} fake;

static int sp_kind_is_unsigned_t(sp_kind k)
{
    return k == SP_T_BOOL || k == SP_T_UINT8 || k == SP_T_UINT16 || k == SP_T_UINT32 ||
           k == SP_T_UINT64;
}

static int sp_kind_is_i64_t(sp_kind k)
{
    return k == SP_T_INT8 || k == SP_T_INT16 || k == SP_T_INT32 || k == SP_T_INT64 ||
           k == SP_T_DATE || k == SP_T_DATE32 || k == SP_T_DATETIME || k == SP_T_DATETIME64;
}

static void render(const sp_column *c, size_t r, sp_buf *o)
{
    if (c->nulls && c->nulls[r]) {
        sp_buf_adds(o, "NULL", NULL);
        return;
    }
    sp_kind k = c->type->kind;
    if (k == SP_T_ARRAY || k == SP_T_MAP) {
        sp_buf_addch(o, k == SP_T_ARRAY ? '[' : '{', NULL);
        for (uint64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++) {
            if (i > c->offsets[r])
                sp_buf_addch(o, ',', NULL);
            render(&c->child[0], (size_t)i, o);
            if (k == SP_T_MAP) {
                sp_buf_addch(o, ':', NULL);
                render(&c->child[1], (size_t)i, o);
            }
        }
        sp_buf_addch(o, k == SP_T_ARRAY ? ']' : '}', NULL);
    } else if (k == SP_T_TUPLE) {
        sp_buf_addch(o, '(', NULL);
        for (size_t i = 0; i < c->nchild; i++) {
            if (i)
                sp_buf_addch(o, ',', NULL);
            render(&c->child[i], r, o);
        }
        sp_buf_addch(o, ')', NULL);
    } else if (sp_kind_is_unsigned_t(k)) {
        sp_buf_addf(o, NULL, "%llu", (unsigned long long)c->v.u64[r]);
    } else if (k == SP_T_FLOAT32 || k == SP_T_FLOAT64) {
        char b[40];
        size_t n = sp__fmt_double(c->v.f64[r], b, sizeof(b));
        sp_buf_add(o, b, n, NULL);
    } else if (sp_kind_is_i64_t(k)) {
        sp_buf_addf(o, NULL, "%lld", (long long)c->v.i64[r]);
    } else {
        sp_buf_add(o, c->v.str[r].p, c->v.str[r].n, NULL);
    }
}

static int f_append(sp_engine *e, const sp_datasource *ds, const sp_schema *s,
                    const sp_batch *b, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds;
    if (f->fail_append)
        return sp_error_set(err, SP_EENGINE, 0, "disk full");
    if (s->ncols != b->ncols)
        return sp_error_set(err, SP_EINTERNAL, 0, "schema/batch mismatch");
    f->nbatches++;
    if (b->nrows > f->max_batch)
        f->max_batch = b->nrows;
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t c = 0; c < b->ncols; c++) {
            if (c)
                sp_buf_addch(&f->rows, '|', NULL);
            if (b->cols[c].type != s->types[c])
                sp_buf_adds(&f->rows, "<type mismatch>", NULL);
            render(&b->cols[c], r, &f->rows);
        }
        sp_buf_addch(&f->rows, '\n', NULL);
    }
    return 0;
}

static int f_quarantine(sp_engine *e, const sp_datasource *ds, const sp_qrow *rows, size_t n,
                        int64_t now, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds, (void)now, (void)err;
    for (size_t i = 0; i < n; i++)
        sp_buf_addf(&f->quar, NULL, "%llu|%s|%s|%.*s\n", (unsigned long long)rows[i].lineno,
                    rows[i].column ? rows[i].column : "-", rows[i].error,
                    (int)rows[i].rawlen, rows[i].raw);
    return 0;
}

/* DEFAULTs: 'x' -> x, NULL -> NULL, now() -> a fixed time, else as written */
static int f_eval(sp_engine *e, const char *expr, int64_t now, char **out, sp_error *err)
{
    (void)e, (void)now, (void)err;
    size_t n = strlen(expr);
    if (!strcmp(expr, "NULL"))
        *out = NULL;
    else if (!strcmp(expr, "now()"))
        *out = strdup("2026-01-02 03:04:05");
    else if (n >= 2 && expr[0] == '\'' && expr[n - 1] == '\'')
        *out = strndup(expr + 1, n - 2);
    else
        *out = strdup(expr);
    return 0;
}

static const sp_engine_vt fake_vt = { "fake", NULL, f_append, f_quarantine, f_eval,
                                      NULL, NULL, NULL, NULL, NULL };

static void fake_init(fake *f)
{
    memset(f, 0, sizeof(*f));
    f->base.vt = &fake_vt;
    sp_buf_init(&f->rows, SP_BUF_DEFAULT_MAX);
    sp_buf_init(&f->quar, SP_BUF_DEFAULT_MAX);
}

static void fake_release(fake *f)
{
    sp_buf_release(&f->rows);
    sp_buf_release(&f->quar);
}

/* a datasource from "name|type|jsonpath|default" specs (empty = none) */
typedef struct dsb {
    sp_datasource ds;
    sp_column_def cols[16];
    char *store[16];
} dsb;

static void ds_make(dsb *d, const char *const *specs)
{
    memset(d, 0, sizeof(*d));
    d->ds.name = (char *)"t";
    size_t i = 0;
    for (; specs[i]; i++) {
        d->store[i] = strdup(specs[i]);
        char *parts[4] = { NULL, NULL, NULL, NULL };
        char *s = d->store[i];
        for (int k = 0; k < 4 && s; k++) {
            parts[k] = s;
            s = strchr(s, '|');
            if (s)
                *s++ = '\0';
        }
        d->cols[i].name = parts[0];
        d->cols[i].type = parts[1];
        d->cols[i].jsonpath = parts[2] && *parts[2] ? parts[2] : NULL;
        d->cols[i].default_expr = parts[3] && *parts[3] ? parts[3] : NULL;
    }
    d->ds.cols = d->cols;
    d->ds.ncols = i;
}

static void ds_release(dsb *d)
{
    for (size_t i = 0; i < 16; i++)
        free(d->store[i]);
}

/* load `input` in one feed (or in pieces of `chunk` bytes) */
static int load(fake *f, const char *const *specs, sp_ingest_format fmt, const char *input,
                size_t chunk, sp_append_result *res, sp_error *err)
{
    dsb d;
    ds_make(&d, specs);
    sp_ingest *in = NULL;
    int rc = sp_ingest_new(&f->base, &d.ds, fmt, 1700000000, &in, err);
    size_t len = strlen(input);
    for (size_t pos = 0; !rc && pos < len;) {
        size_t n = chunk && len - pos > chunk ? chunk : len - pos;
        rc = sp_ingest_feed(in, input + pos, n, err);
        pos += n;
    }
    if (!rc)
        rc = sp_ingest_finish(in, res, err);
    sp_ingest_free(in);
    ds_release(&d);
    return rc;
}

#define SPECS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *rows_of(fake *f)
{
    return f->rows.data ? f->rows.data : "";
}

static const char *quar_of(fake *f)
{
    return f->quar.data ? f->quar.data : "";
}

/* one NDJSON line into one column: the stored row text, or "Q:<error>" */
static char one_buf[1024];
static const char *one(const char *type, const char *json_value)
{
    fake f;
    fake_init(&f);
    char spec[128], line[512];
    snprintf(spec, sizeof(spec), "v|%s||", type);
    snprintf(line, sizeof(line), "{\"v\":%s}\n", json_value);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    int rc = load(&f, SPECS(spec), SP_INGEST_NDJSON, line, 0, &res, &err);
    if (rc) {
        snprintf(one_buf, sizeof(one_buf), "E:%.1000s", err.msg);
    } else if (res.rows_quarantined) {
        const char *q = quar_of(&f);
        const char *a = strchr(strchr(q, '|') + 1, '|') + 1; /* skip lineno|column| */
        const char *b = strchr(a, '|');
        snprintf(one_buf, sizeof(one_buf), "Q:%.*s", (int)(b - a), a);
    } else {
        snprintf(one_buf, sizeof(one_buf), "%s", rows_of(&f));
        size_t n = strlen(one_buf);
        if (n && one_buf[n - 1] == '\n')
            one_buf[n - 1] = '\0';
    }
    fake_release(&f);
    return one_buf;
}

/* one CSV field into one column */
static const char *one_csv(const char *type, const char *field)
{
    fake f;
    fake_init(&f);
    char spec[128], line[512];
    snprintf(spec, sizeof(spec), "v|%s||", type);
    snprintf(line, sizeof(line), "%s\n", field);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    int rc = load(&f, SPECS(spec), SP_INGEST_CSV, line, 0, &res, &err);
    if (rc)
        snprintf(one_buf, sizeof(one_buf), "E:%.1000s", err.msg);
    else if (res.rows_quarantined)
        snprintf(one_buf, sizeof(one_buf), "Q:%s", quar_of(&f));
    else
        snprintf(one_buf, sizeof(one_buf), "%.*s", (int)strcspn(rows_of(&f), "\n"),
                 rows_of(&f));
    fake_release(&f);
    return one_buf;
}

/* ------------------------------------------------------------------ tests */

TEST(ints)
{
    CHECK_STR(one("Int8", "-128"), "-128");
    CHECK_STR(one("Int8", "300"), "Q:column 'v': '300' is out of range for Int8");
    CHECK_STR(one("UInt8", "-1"), "Q:column 'v': '-1' is out of range for UInt8");
    CHECK_STR(one("UInt16", "65535"), "65535");
    CHECK_STR(one("Int32", "-2147483648"), "-2147483648");
    CHECK_STR(one("Int32", "2147483648"), "Q:column 'v': '2147483648' is out of range for Int32");
    CHECK_STR(one("Int64", "-9223372036854775808"), "-9223372036854775808");
    /* small ints refuse JSON strings (Tinybird quarantines {"store_id":"3"}) */
    CHECK_STR(one("Int16", "\"3\""), "Q:column 'v': '3' is not a valid Int16");
    /* 64-bit ints take quoted numbers, as ClickHouse writes them */
    CHECK_STR(one("Int64", "\"-42\""), "-42");
    CHECK_STR(one("UInt64", "\"18446744073709551615\""), "18446744073709551615");
    CHECK_STR(one("UInt64", "\"18446744073709551616\""),
              "Q:column 'v': '18446744073709551616' is out of range for UInt64");
    CHECK_STR(one("Int32", "1.5"), "Q:column 'v': '1.5' is not a valid Int32");
    CHECK_STR(one("Int32", "true"), "Q:column 'v': 'true' is not a valid Int32");
    CHECK_STR(one("Int32", "{\"a\":1}"), "Q:column 'v': '{\"a\":1}' is not a valid Int32");
    CHECK_STR(one("Int128", "\"-170141183460469231731687303715884105728\""),
              "-170141183460469231731687303715884105728");
    CHECK_STR(one("Int128", "\"170141183460469231731687303715884105728\""),
              "Q:column 'v': '170141183460469231731687303715884105728' is out of range for Int128");
    CHECK_STR(one("UInt256", "\"007\""), "7");
    CHECK_STR(one("UInt128", "\"-1\""), "Q:column 'v': '-1' is out of range for UInt128");
    CHECK_STR(one("Int256", "12"), "12");
    CHECK_STR(one("Int128", "\"1e5\""), "Q:column 'v': '1e5' is not a valid Int128");
}

/* unquoted integers beyond int64 (jansson's json_int_t) load exactly, as
 * with ClickHouse's JSONEachRow */
TEST(ints_beyond_int64)
{
    CHECK_STR(one("UInt64", "18446744073709551615"), "18446744073709551615");
    CHECK_STR(one("UInt64", "9223372036854775808"), "9223372036854775808");
    CHECK_STR(one("UInt64", "18446744073709551616"),
              "Q:column 'v': '18446744073709551616' is out of range for UInt64");
    CHECK_STR(one("Int64", "9223372036854775808"),
              "Q:column 'v': '9223372036854775808' is out of range for Int64");
    CHECK_STR(one("Int64", "-9223372036854775809"),
              "Q:column 'v': '-9223372036854775809' is out of range for Int64");
    CHECK_STR(one("Int128", "-170141183460469231731687303715884105728"),
              "-170141183460469231731687303715884105728");
    CHECK_STR(one("Int128", "170141183460469231731687303715884105727"),
              "170141183460469231731687303715884105727");
    CHECK_STR(one("Int128", "170141183460469231731687303715884105728"),
              "Q:column 'v': '170141183460469231731687303715884105728' is out of range for Int128");
    CHECK_STR(one("UInt128", "340282366920938463463374607431768211455"),
              "340282366920938463463374607431768211455");
    CHECK_STR(one("UInt256",
                  "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
              "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    CHECK_STR(one("Int256",
                  "-57896044618658097711785492504343953926634992332820282019728792003956564819968"),
              "-57896044618658097711785492504343953926634992332820282019728792003956564819968");
    /* into other kinds: strings keep the text, floats round once */
    CHECK_STR(one("String", "18446744073709551615"), "18446744073709551615");
    CHECK_STR(one("Float64", "18446744073709551615"), "18446744073709552000");
    CHECK_STR(one("Array(UInt64)", "[1, 18446744073709551615]"), "[1,18446744073709551615]");
    CHECK_STR(one("DateTime", "18446744073709551615"),
              "Q:column 'v': '18446744073709551615' is out of range for DateTime");
    /* big numbers inside strings are left alone; a record with a \u0000
     * of its own is not rewritten (jansson's error stays) */
    CHECK_STR(one("String", "\"18446744073709551615 x\""), "18446744073709551615 x");
    CHECK_STR(one("Array(String)", "[\"\\u0000\", 18446744073709551615]"),
              "Q:invalid json: too big integer near '18446744073709551615' at column 36");
}

TEST(floats_bools_decimals)
{
    CHECK_STR(one("Float64", "1.5"), "1.5");
    CHECK_STR(one("Float64", "0.1"), "0.1");
    CHECK_STR(one("Float64", "2"), "2");
    CHECK_STR(one("Float64", "\"2.25\""), "2.25");
    CHECK_STR(one("Float64", "\"abc\""), "Q:column 'v': 'abc' is not a valid Float64");
    CHECK_STR(one("Float64", "\"\""), "Q:column 'v': '' is not a valid Float64");
    CHECK_STR(one("Float32", "1e39"), "Q:column 'v': '1e39' is out of range for Float32");
    CHECK_STR(one("Float32", "0.1"), "0.10000000149011612");
    CHECK_STR(one("Bool", "true"), "1");
    CHECK_STR(one("Bool", "false"), "0");
    CHECK_STR(one("Bool", "1"), "1");
    CHECK_STR(one("Bool", "2"), "Q:column 'v': '2' is not a valid Bool");
    CHECK_STR(one_csv("Bool", "true"), "1");
    CHECK_STR(one_csv("Bool", "0"), "0");
    CHECK_STR(one("Decimal(10, 2)", "\"12.345\""), "12.34");
    CHECK_STR(one("Decimal(10, 2)", "1.5"), "1.50");
    CHECK_STR(one("Decimal(10, 2)", "7"), "7.00");
    CHECK_STR(one("Decimal(10, 2)", "\"-0.001\""), "0.00");
    CHECK_STR(one("Decimal(10, 2)", "\"-000123.4\""), "-123.40");
    CHECK_STR(one("Decimal(10, 2)", "\"123456789.1\""),
              "Q:column 'v': '123456789.1' is out of range for Decimal(10, 2)");
    CHECK_STR(one("Decimal(10, 2)", "\"1.2.3\""),
              "Q:column 'v': '1.2.3' is not a valid Decimal(10, 2)");
    CHECK_STR(one("Decimal(38, 0)", "\"12345678901234567890123456789\""),
              "12345678901234567890123456789");
}

TEST(strings_json_uuid_ip_enum)
{
    CHECK_STR(one("String", "\"a\\u00e9\\n\""), "a\xc3\xa9\n");
    CHECK_STR(one("String", "{\"b\":[1,2.5,\"x\"],\"a\":null}"), "{\"b\":[1,2.5,\"x\"],\"a\":null}");
    CHECK_STR(one("String", "0.1"), "0.1");
    CHECK_STR(one("String", "true"), "true");
    CHECK_STR(one("JSON", "{ \"a\" : { \"b\" : 1 } }"), "{\"a\":{\"b\":1}}");
    CHECK_STR(one_csv("JSON", "\"{\"\"a\"\": [1, 2]}\""), "{\"a\":[1,2]}");
    CHECK_STR(one_csv("JSON", "{nope"), "Q:1|v|column 'v': '{nope' is not a valid JSON|{nope\n");
    CHECK_STR(one("FixedString(3)", "\"abc\""), "abc");
    CHECK_STR(one("FixedString(3)", "\"abcd\""),
              "Q:column 'v': 'abcd' is too long for FixedString(3)");
    CHECK_STR(one("UUID", "\"61F0C404-5CB3-11E7-907B-A6006AD3DBA0\""),
              "61f0c404-5cb3-11e7-907b-a6006ad3dba0");
    CHECK_STR(one("UUID", "\"61f0c4045cb311e7907ba6006ad3dba0\""),
              "61f0c404-5cb3-11e7-907b-a6006ad3dba0");
    CHECK_STR(one("UUID", "\"61f0c404-5cb3-11e7-907b-a6006ad3dbaz\""),
              "Q:column 'v': '61f0c404-5cb3-11e7-907b-a6006ad3dbaz' is not a valid UUID");
    CHECK_STR(one("IPv4", "\"10.0.0.1\""), "10.0.0.1");
    CHECK_STR(one("IPv4", "\"10.0.0.256\""), "Q:column 'v': '10.0.0.256' is not a valid IPv4");
    CHECK_STR(one("IPv6", "\"2001:DB8:0:0:0:0:0:1\""), "2001:db8::1");
    CHECK_STR(one("IPv6", "\"1.2.3.4\""), "::ffff:1.2.3.4");
    CHECK_STR(one("Enum8('a' = 1, 'b' = 2)", "\"b\""), "b");
    CHECK_STR(one("Enum8('a' = 1, 'b' = 2)", "1"), "a");
    CHECK_STR(one("Enum8('a' = 1, 'b' = 2)", "\"c\"")[0] == 'Q' ? "Q" : one_buf, "Q");
    /* numbers are compared exactly: no wrap-around of values beyond a long */
    CHECK_STR(one("Enum8('m' = -1, 'a' = 1)", "-1"), "m");
    CHECK_STR(one("Enum8('m' = -1, 'a' = 1)", "\"18446744073709551615\""),
              "Q:column 'v': '18446744073709551615' is not a valid Enum8('m' = -1, 'a' = 1)");
    CHECK_STR(one("Enum8('m' = -1, 'a' = 1)", "-9223372036854775808"),
              "Q:column 'v': '-9223372036854775808' is not a valid Enum8('m' = -1, 'a' = 1)");
}

TEST(dates_and_times)
{
    CHECK_STR(one("Date", "\"1970-01-02\""), "1");
    CHECK_STR(one("Date", "\"2024-02-29\""), "19782");
    CHECK_STR(one("Date", "\"2023-02-29\""), "Q:column 'v': '2023-02-29' is not a valid Date");
    CHECK_STR(one("Date", "\"1969-12-31\""), "Q:column 'v': '1969-12-31' is out of range for Date");
    CHECK_STR(one("Date32", "\"1969-12-31\""), "-1");
    CHECK_STR(one("DateTime", "\"2024-01-01 00:00:00\""), "1704067200");
    CHECK_STR(one("DateTime", "\"2024-01-01T01:00:00+01:00\""), "1704067200");
    CHECK_STR(one("DateTime", "\"2024-01-01T00:00:00.999Z\""), "1704067200");
    CHECK_STR(one("DateTime", "\"2023-12-31T19:00:00-0500\""), "1704067200");
    CHECK_STR(one("DateTime", "\"2024-01-01\""), "1704067200");
    CHECK_STR(one("DateTime", "1704067200"), "1704067200");
    CHECK_STR(one("DateTime", "\"1704067200\""), "1704067200");
    CHECK_STR(one("DateTime", "\"2024-01-01 24:00:00\""),
              "Q:column 'v': '2024-01-01 24:00:00' is not a valid DateTime");
    CHECK_STR(one("DateTime", "\"not a time\""),
              "Q:column 'v': 'not a time' is not a valid DateTime");
    CHECK_STR(one("DateTime", "-1"), "Q:column 'v': '-1' is out of range for DateTime");
    CHECK_STR(one("DateTime64(3)", "\"2024-01-01 00:00:00.123456\""), "1704067200123");
    CHECK_STR(one("DateTime64(6)", "\"2024-01-01T00:00:00.5Z\""), "1704067200500000");
    CHECK_STR(one("DateTime64(3)", "1704067200.25"), "1704067200250");
    CHECK_STR(one("DateTime64(3)", "1704067200"), "1704067200000");
    CHECK_STR(one("DateTime64(0)", "\"1899-12-31 23:59:59\""),
              "Q:column 'v': '1899-12-31 23:59:59' is out of range for DateTime64(0)");
    CHECK_STR(one_csv("DateTime", "2024-01-01 00:00:01"), "1704067201");
}

TEST(composites)
{
    CHECK_STR(one("Array(Int32)", "[1,2,3]"), "[1,2,3]");
    CHECK_STR(one("Array(Int32)", "[]"), "[]");
    CHECK_STR(one("Array(Nullable(Int32))", "[1,null]"), "[1,NULL]");
    CHECK_STR(one("Array(Int32)", "[1,null]"), "Q:column 'v': null is not a valid Int32");
    CHECK_STR(one("Array(Int32)", "[1,\"x\"]"), "Q:column 'v': 'x' is not a valid Int32");
    CHECK_STR(one("Array(Int32)", "5"), "Q:column 'v': '5' is not a valid Array(Int32)");
    CHECK_STR(one("Array(Array(String))", "[[\"a\"],[],[\"b\",\"c\"]]"), "[[a],[],[b,c]]");
    CHECK_STR(one("Map(String, Int32)", "{\"a\":1,\"b\":2}"), "{a:1,b:2}");
    CHECK_STR(one("Map(String, Array(Int8))", "{\"a\":[1],\"b\":[]}"), "{a:[1],b:[]}");
    CHECK_STR(one("Tuple(Int32, String)", "[1,\"x\"]"), "(1,x)");
    CHECK_STR(one("Nullable(Int32)", "null"), "NULL");
    CHECK_STR(one("Nullable(String)", "\"\""), "");
    CHECK_STR(one_csv("Array(Int32)", "\"[1, 2,3]\""), "[1,2,3]");
    CHECK_STR(one_csv("Array(String)", "\"['a','b\\'c']\""), "[a,b'c]");
    CHECK_STR(one_csv("Map(String, UInt8)", "\"{'k':1}\""), "{k:1}");
    CHECK_STR(one_csv("Array(Nullable(String))", "\"[NULL,'x']\""), "[NULL,x]");
    CHECK_STR(one_csv("Array(Int32)", "[1"), "Q:1|v|column 'v': '[1' is not a valid Array(Int32)|[1\n");
}

TEST(jsonpaths)
{
    fake f;
    fake_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    const char *in =
        "{\"a\":{\"b\":\"x\"},\"l\":[10,20,30],\"sp ace\":7,"
        "\"o\":[{\"b\":\"p\"},{\"c\":1},{\"b\":\"q\"}],\"name\":\"n\"}\n";
    int rc = load(&f,
                  SPECS("ab|String|$.a.b|", "l0|Int32|$.l[0]|", "llast|Int32|$.l[-1]|",
                        "sp|Int32|$.['sp ace']|", "sp2|Int32|$['sp ace']|",
                        "all|Array(Int32)|$.l[:]|", "bs|Array(String)|$.o[:].b|",
                        "name|String||", "miss|Nullable(String)|$.a.zz|"),
                  SP_INGEST_NDJSON, in, 0, &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "x|10|30|7|7|[10,20,30]|[p,q]|n|NULL\n");
    fake_release(&f);

    dsb d;
    ds_make(&d, SPECS("x|String|a.b|"));
    sp_ingest *ing = NULL;
    fake_init(&f);
    rc = sp_ingest_new(&f.base, &d.ds, SP_INGEST_NDJSON, 0, &ing, &err);
    CHECK_INT(rc, SP_EDEF);
    CHECK(strstr(err.msg, "jsonpath 'a.b'") != NULL);
    CHECK(strstr(err.msg, "column 'x'") != NULL);
    ds_release(&d);
    fake_release(&f);
}

TEST(defaults_and_missing)
{
    fake f;
    fake_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    const char *in = "{\"id\":1}\n{\"id\":2,\"n\":null,\"s\":null,\"ns\":null,\"t\":null}\n"
                     "{\"id\":3,\"n\":5,\"s\":\"z\",\"ns\":\"y\",\"t\":\"2020-01-01 00:00:00\"}\n";
    int rc = load(&f,
                  SPECS("id|Int32||", "n|Int32||42", "s|String||'dflt'",
                        "ns|Nullable(String)||'d2'", "t|DateTime||now()",
                        "a|Array(String)||['u','v']", "nn|Nullable(Int8)||"),
                  SP_INGEST_NDJSON, in, 0, &res, &err);
    CHECK_INT(rc, 0);
    /* missing -> DEFAULT; explicit null -> NULL in a Nullable column, else DEFAULT */
    CHECK_STR(rows_of(&f), "1|42|dflt|d2|1767323045|[u,v]|NULL\n"
                           "2|42|dflt|NULL|1767323045|[u,v]|NULL\n"
                           "3|5|z|y|1577836800|[u,v]|NULL\n");
    CHECK_INT(res.rows_in, 3);
    CHECK_INT(res.rows_loaded, 3);
    fake_release(&f);

    /* no DEFAULT, not Nullable: the row goes to the quarantine */
    fake_init(&f);
    rc = load(&f, SPECS("id|Int32||", "s|String||"), SP_INGEST_NDJSON,
              "{\"id\":1}\n{\"id\":2,\"s\":null}\n{\"id\":3,\"s\":\"ok\"}\n", 0, &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "3|ok\n");
    CHECK_STR(quar_of(&f),
              "1|s|column 's': missing value (the column is not Nullable and has no DEFAULT)|{\"id\":1}\n"
              "2|s|column 's': missing value (the column is not Nullable and has no DEFAULT)|{\"id\":2,\"s\":null}\n");
    fake_release(&f);

    /* a DEFAULT that does not convert is a definition error */
    fake_init(&f);
    sp_error_clear(&err);
    rc = load(&f, SPECS("n|Int32||'abc'"), SP_INGEST_NDJSON, "", 0, &res, &err);
    CHECK_INT(rc, SP_EDEF);
    CHECK_STR(err.msg, "datasource 't': column 'n': DEFAULT 'abc': column 'n': 'abc' is not a "
                       "valid Int32");
    fake_release(&f);
}

TEST(quarantine_reasons)
{
    fake f;
    fake_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    const char *in = "{\"amount\":1.5,\"n\":1}\r\n"
                     "\n"
                     "   \n"
                     "{\"amount\":\"abc\",\"n\":2}\n"
                     "{\"amount\":2,\"n\":300}\n"
                     "{not json\n"
                     "[1,2]\n"
                     "{\"amount\":3,\"n\":4}";
    int rc = load(&f, SPECS("amount|Float64||", "n|UInt8||"), SP_INGEST_NDJSON, in, 0, &res,
                  &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "1.5|1\n3|4\n");
    CHECK_STR(quar_of(&f),
              "4|amount|column 'amount': 'abc' is not a valid Float64|{\"amount\":\"abc\",\"n\":2}\n"
              "5|n|column 'n': '300' is out of range for UInt8|{\"amount\":2,\"n\":300}\n"
              "6|-|invalid json: string or '}' expected near 'not' at column 4|{not json\n"
              "7|-|invalid json: the line is not a JSON object|[1,2]\n");
    CHECK_INT(res.rows_in, 6);
    CHECK_INT(res.rows_loaded, 2);
    CHECK_INT(res.rows_quarantined, 4);
    fake_release(&f);
}

TEST(csv)
{
    fake f;
    fake_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    const char *specs[] = { "id|Int32||", "s|String||", "x|Nullable(Float64)||", NULL };
    /* header in the same order, quotes, "" escapes, newline inside quotes, \N */
    int rc = load(&f, specs, SP_INGEST_CSV,
                  "id,s,x\r\n1,plain,1.5\r\n2,\"a,\"\"b\"\"\nc\",\\N\n3,,\n\n4,\"\",2\n", 0,
                  &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "1|plain|1.5\n2|a,\"b\"\nc|NULL\n3||NULL\n4||2\n");
    CHECK_INT(res.rows_in, 4);
    fake_release(&f);

    /* a header in another order maps by name */
    fake_init(&f);
    rc = load(&f, specs, SP_INGEST_CSV, "x,id,s\n2.5,7,seven\n", 0, &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "7|seven|2.5\n");
    fake_release(&f);

    /* no header; bad rows */
    fake_init(&f);
    rc = load(&f, specs, SP_INGEST_CSV,
              "1,a,1\n2,b\n3,c,d,e\nx,y,1\n\"4,z,1\n5,\"q\"r,1\n", 0, &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "1|a|1\n");
    CHECK_STR(quar_of(&f), "2|-|expected 3 fields, got 2|2,b\n"
                           "3|-|expected 3 fields, got 4|3,c,d,e\n"
                           "4|id|column 'id': 'x' is not a valid Int32|x,y,1\n"
                           "5|-|malformed csv: bad quoting|\"4,z,1\n5,\"q\"r,1\n\n");
    fake_release(&f);

    /* an empty field: DEFAULT, NULL, or the empty text itself */
    fake_init(&f);
    rc = load(&f, SPECS("a|Float64||", "b|Int32||9", "c|String||"), SP_INGEST_CSV,
              ",,\n1,,\n", 0, &res, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(rows_of(&f), "1|9|\n");
    CHECK_STR(quar_of(&f), "1|a|column 'a': '' is not a valid Float64|,,\n");
    fake_release(&f);
}

/* every split point (and byte by byte) gives the same result as one feed */
static void split_everywhere(const char *const *specs, sp_ingest_format fmt, const char *input)
{
    fake ref;
    fake_init(&ref);
    sp_error err = SP_ERROR_INIT;
    sp_append_result r0 = { 0, 0, 0 }, r1;
    CHECK_INT(load(&ref, specs, fmt, input, 0, &r0, &err), 0);
    size_t len = strlen(input);
    dsb d;
    ds_make(&d, specs);
    for (size_t cut = 0; cut <= len + 1; cut++) {
        fake f;
        fake_init(&f);
        sp_ingest *in = NULL;
        CHECK_INT(sp_ingest_new(&f.base, &d.ds, fmt, 1700000000, &in, &err), 0);
        if (cut <= len) {
            CHECK_INT(sp_ingest_feed(in, input, cut, &err), 0);
            CHECK_INT(sp_ingest_feed(in, input + cut, len - cut, &err), 0);
        } else {
            for (size_t i = 0; i < len; i++)
                CHECK_INT(sp_ingest_feed(in, input + i, 1, &err), 0);
        }
        CHECK_INT(sp_ingest_finish(in, &r1, &err), 0);
        CHECK_STR(rows_of(&f), rows_of(&ref));
        CHECK_STR(quar_of(&f), quar_of(&ref));
        CHECK_INT(r1.rows_in, r0.rows_in);
        CHECK_INT(r1.rows_quarantined, r0.rows_quarantined);
        sp_ingest_free(in);
        fake_release(&f);
    }
    ds_release(&d);
    fake_release(&ref);
}

TEST(split_feeds)
{
    split_everywhere(SPECS("a|Int32||", "b|Array(String)|$.b[:].c|", "s|String||"),
                     SP_INGEST_NDJSON,
                     "{\"a\":1,\"b\":[{\"c\":\"x\"}],\"s\":\"\xc3\xa9\"}\r\n\n"
                     "{\"a\":\"bad\",\"s\":\"q\"}\n{\"a\":3,\"s\":\"t\"}");
    split_everywhere(SPECS("id|Int32||", "s|String||", "x|Nullable(Float64)||"), SP_INGEST_CSV,
                     "id,s,x\r\n1,\"a,\"\"b\"\"\r\nc\",\\N\n2,x\n3,\"\n\",4.5\n4,z,");
}

TEST(large_input_bounded_memory)
{
    fake f;
    fake_init(&f);
    dsb d;
    ds_make(&d, SPECS("id|UInt64||", "s|String||", "l|Array(Int32)||"));
    sp_error err = SP_ERROR_INIT;
    sp_ingest *in = NULL;
    CHECK_INT(sp_ingest_new(&f.base, &d.ds, SP_INGEST_NDJSON, 0, &in, &err), 0);
    sp__ingest_set_limits(in, 1000, 64 * 1024, 4096);
    char line[256];
    sp_buf chunk = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    size_t peak = 0, nrows = 200000;
    char big[6000];
    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i < nrows; i++) {
        int n = snprintf(line, sizeof(line), "{\"id\":%zu,\"s\":\"row %zu\",\"l\":[1,2,3]}\n", i,
                         i);
        sp_buf_add(&chunk, line, (size_t)n, NULL);
        if (i == 777) { /* one record beyond max_record, fed in pieces */
            sp_buf_adds(&chunk, "{\"s\":\"", NULL);
            sp_buf_add(&chunk, big, sizeof(big), NULL);
            sp_buf_adds(&chunk, "\"}\n", NULL);
        }
        if (chunk.len >= 1000 || i + 1 == nrows) {
            for (size_t p = 0; p < chunk.len; p += 700) {
                size_t k = chunk.len - p < 700 ? chunk.len - p : 700;
                if (sp_ingest_feed(in, chunk.data + p, k, &err)) {
                    CHECK_STR(err.msg, "");
                    break;
                }
            }
            sp_buf_reset(&chunk);
            size_t m = sp__ingest_mem(in);
            if (m > peak)
                peak = m;
            /* the fake keeps what it receives: drop it to stay small */
            sp_buf_reset(&f.rows);
        }
    }
    sp_append_result res;
    CHECK_INT(sp_ingest_finish(in, &res, &err), 0);
    CHECK_INT(res.rows_in, nrows + 1);
    CHECK_INT(res.rows_loaded, nrows);
    CHECK_INT(res.rows_quarantined, 1);
    CHECK(f.max_batch <= 1000);
    CHECK(f.nbatches >= nrows / 1000);
    if (peak > 1024 * 1024)
        SP_T_FAIL("peak memory %zu bytes", peak);
    CHECK(strstr(quar_of(&f), "|row too large: more than 4096 bytes|{\"s\":\"xxx") != NULL);
    CHECK(f.quar.len < 4096 + 200);
    sp_buf_release(&chunk);
    sp_ingest_free(in);
    ds_release(&d);
    fake_release(&f);
}

TEST(engine_error_stops)
{
    fake f;
    fake_init(&f);
    f.fail_append = 1;
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    int rc = load(&f, SPECS("a|Int32||"), SP_INGEST_NDJSON, "{\"a\":1}\n", 0, &res, &err);
    CHECK_INT(rc, SP_EENGINE);
    CHECK_STR(err.msg, "disk full");
    CHECK_INT(res.rows_loaded, 0);
    fake_release(&f);

    /* an unknown type is a definition error naming the column */
    fake_init(&f);
    sp_error_clear(&err);
    rc = load(&f, SPECS("a|Nope||"), SP_INGEST_NDJSON, "", 0, &res, &err);
    CHECK(rc < 0);
    CHECK(strstr(err.msg, "column 'a'") != NULL);
    fake_release(&f);
}

int main(void)
{
    RUN(ints);
    RUN(ints_beyond_int64);
    RUN(floats_bools_decimals);
    RUN(strings_json_uuid_ip_enum);
    RUN(dates_and_times);
    RUN(composites);
    RUN(jsonpaths);
    RUN(defaults_and_missing);
    RUN(quarantine_reasons);
    RUN(csv);
    RUN(split_feeds);
    RUN(large_input_bounded_memory);
    RUN(engine_error_stops);
    return sp_test_done();
}
