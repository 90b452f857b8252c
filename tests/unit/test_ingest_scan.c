// sp-deps: sp_buf sp_error sp_type sp_ingest sp_ingest_conv sp_ingest_colbuf sp_ingest_path sp_ingest_scan sp_dtoa sp_time sp_ch_escape
/* The NDJSON fast path (sp_ingest_scan) against the jansson path it
 * replaces: the same input through both must give byte-identical batches
 * (values, NULLs, batch boundaries), quarantine rows (line, column, reason,
 * raw text) and counts.  Hand-written edge cases, then records generated
 * from a seeded PRNG for every column type, with nested paths, escapes,
 * unicode, big numbers, nulls, missing and repeated keys, wrong types, and
 * mutations that make them invalid JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_ingest.h"
#include "sp_ingest_int.h"
#include "sp_ingest_scan.h"
#include "sp_test.h"

/* ------------------------------------------------------------ fake engine */

typedef struct fake {
    sp_engine base;
    sp_buf out; /* batches and quarantine rows, rendered exactly */
} fake;

static void put_bytes(sp_buf *o, const char *p, size_t n)
{
    sp_buf_addf(o, NULL, "%zu:", n);
    sp_buf_add(o, p, n, NULL);
}

static void render(const sp_column *c, size_t r, sp_buf *o)
{
    if (c->nulls && c->nulls[r]) {
        sp_buf_adds(o, "NULL", NULL);
        return;
    }
    switch (c->type->kind) {
    case SP_T_ARRAY: case SP_T_MAP:
        sp_buf_addch(o, '[', NULL);
        for (uint64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++) {
            sp_buf_addch(o, ' ', NULL);
            render(&c->child[0], (size_t)i, o);
            if (c->type->kind == SP_T_MAP) {
                sp_buf_addch(o, '=', NULL);
                render(&c->child[1], (size_t)i, o);
            }
        }
        sp_buf_addch(o, ']', NULL);
        break;
    case SP_T_TUPLE:
        sp_buf_addch(o, '(', NULL);
        for (size_t i = 0; i < c->nchild; i++) {
            sp_buf_addch(o, ' ', NULL);
            render(&c->child[i], r, o);
        }
        sp_buf_addch(o, ')', NULL);
        break;
    case SP_T_BOOL: case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
        sp_buf_addf(o, NULL, "u%llu", (unsigned long long)c->v.u64[r]);
        break;
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64: case SP_T_DATE:
    case SP_T_DATE32: case SP_T_DATETIME: case SP_T_DATETIME64:
        sp_buf_addf(o, NULL, "i%lld", (long long)c->v.i64[r]);
        break;
    case SP_T_FLOAT32: case SP_T_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &c->v.f64[r], 8); /* exact, -0 and NaN payloads too */
        sp_buf_addf(o, NULL, "f%016llx", (unsigned long long)bits);
        break;
    }
    default:
        put_bytes(o, c->v.str[r].p, c->v.str[r].n);
        break;
    }
}

static int f_append(sp_engine *e, const sp_datasource *ds, const sp_schema *s,
                    const sp_batch *b, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds;
    if (s->ncols != b->ncols)
        return sp_error_set(err, SP_EINTERNAL, 0, "schema/batch mismatch");
    sp_buf_addf(&f->out, NULL, "batch %zu\n", b->nrows);
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t c = 0; c < b->ncols; c++) {
            sp_buf_addch(&f->out, '|', NULL);
            render(&b->cols[c], r, &f->out);
        }
        sp_buf_addch(&f->out, '\n', NULL);
    }
    return 0;
}

static int f_quarantine(sp_engine *e, const sp_datasource *ds, const sp_qrow *rows, size_t n,
                        int64_t now, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds, (void)now, (void)err;
    sp_buf_addf(&f->out, NULL, "quarantine %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        sp_buf_addf(&f->out, NULL, "Q %llu|%s|%s|", (unsigned long long)rows[i].lineno,
                    rows[i].column ? rows[i].column : "-", rows[i].error);
        put_bytes(&f->out, rows[i].raw, rows[i].rawlen);
        sp_buf_addch(&f->out, '\n', NULL);
    }
    return 0;
}

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

/* ------------------------------------------------------------ datasources */

#define MAXC 64

typedef struct dsb {
    sp_datasource ds;
    sp_column_def cols[MAXC];
    char *store[MAXC];
} dsb;

/* specs: "name|type|jsonpath|default" */
static void ds_make(dsb *d, const char *const *specs)
{
    memset(d, 0, sizeof(*d));
    d->ds.name = (char *)"t";
    size_t i = 0;
    for (; specs[i] && i < MAXC; i++) {
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
    for (size_t i = 0; i < MAXC; i++)
        free(d->store[i]);
}

#define SPECS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------ one load */

typedef struct outcome {
    int rc;
    char msg[1100];
    sp_append_result res;
    sp_buf out;
    int scanning;
    uint64_t fallbacks;
} outcome;

typedef struct opts {
    size_t chunk;                          /* 0: one feed */
    size_t max_rows, max_bytes, max_record; /* 0: defaults */
} opts;

static void load(const dsb *d, const char *in, size_t len, int scan, const opts *o,
                 outcome *res)
{
    fake f;
    memset(&f, 0, sizeof(f));
    f.base.vt = &fake_vt;
    sp_buf_init(&f.out, SP_BUF_DEFAULT_MAX);
    memset(res, 0, sizeof(*res));
    sp_error err = SP_ERROR_INIT;
    sp_ingest *ing = NULL;
    int rc = sp_ingest_new(&f.base, &d->ds, SP_INGEST_NDJSON, 1700000000, &ing, &err);
    if (!rc) {
        sp__ingest_use_scanner(ing, scan);
        sp__ingest_set_limits(ing, o->max_rows, o->max_bytes, o->max_record);
        res->scanning = sp__ingest_scanning(ing);
    }
    for (size_t pos = 0; !rc && pos < len;) {
        size_t n = o->chunk && len - pos > o->chunk ? o->chunk : len - pos;
        rc = sp_ingest_feed(ing, in + pos, n, &err);
        pos += n;
    }
    if (!rc)
        rc = sp_ingest_finish(ing, &res->res, &err);
    if (ing)
        res->fallbacks = sp__ingest_fallbacks(ing);
    sp_ingest_free(ing);
    res->rc = rc;
    snprintf(res->msg, sizeof(res->msg), "%s", rc ? err.msg : "");
    res->out = f.out;
}

/* the first line where a and b differ, for the failure message */
static void show_diff(const sp_buf *a, const sp_buf *b)
{
    size_t i = 0, line = 0;
    size_t n = a->len < b->len ? a->len : b->len;
    while (i < n && a->data[i] == b->data[i])
        i++;
    size_t st = i;
    while (st > 0 && a->data[st - 1] != '\n')
        st--;
    for (size_t k = 0; k < st; k++)
        line += a->data[k] == '\n';
    size_t ea = st, eb = st;
    while (ea < a->len && a->data[ea] != '\n')
        ea++;
    while (eb < b->len && b->data[eb] != '\n')
        eb++;
    SP_T_FAIL("output line %zu differs:\n#   scanner: %.*s\n#   jansson: %.*s", line + 1,
              (int)(ea - st > 600 ? 600 : ea - st), a->data ? a->data + st : "",
              (int)(eb - st > 600 ? 600 : eb - st), b->data ? b->data + st : "");
}

static uint64_t total_fallbacks, total_records;

/* load `in` through both paths and compare everything; returns 1 when
 * they agree.  want_scan: the schema must use the fast path. */
static int same(const dsb *d, const char *in, size_t len, const opts *o, int want_scan)
{
    /* the same feeds for both: a record longer than max_record is
     * reported differently whole or in pieces, by both paths alike */
    outcome a, b;
    load(d, in, len, 1, o, &a);
    load(d, in, len, 0, o, &b);
    int ok = 1;
    if (want_scan && !a.scanning) {
        SP_T_FAIL("the scanner is not in use");
        ok = 0;
    }
    if (a.rc != b.rc || strcmp(a.msg, b.msg)) {
        SP_T_FAIL("rc %d '%s' vs %d '%s'", a.rc, a.msg, b.rc, b.msg);
        ok = 0;
    }
    if (a.res.rows_in != b.res.rows_in || a.res.rows_loaded != b.res.rows_loaded ||
        a.res.rows_quarantined != b.res.rows_quarantined) {
        SP_T_FAIL("counts %llu/%llu/%llu vs %llu/%llu/%llu",
                  (unsigned long long)a.res.rows_in, (unsigned long long)a.res.rows_loaded,
                  (unsigned long long)a.res.rows_quarantined, (unsigned long long)b.res.rows_in,
                  (unsigned long long)b.res.rows_loaded,
                  (unsigned long long)b.res.rows_quarantined);
        ok = 0;
    }
    if (a.out.len != b.out.len || (a.out.len && memcmp(a.out.data, b.out.data, a.out.len))) {
        show_diff(&a.out, &b.out);
        ok = 0;
    }
    total_fallbacks += a.fallbacks;
    total_records += a.res.rows_in;
    sp_buf_release(&a.out);
    sp_buf_release(&b.out);
    return ok;
}

static const opts plain = { 0, 0, 0, 0 };

/* each line of `lines` alone, then all of them together */
static void same_lines(const char *const *specs, const char *const *lines)
{
    dsb d;
    ds_make(&d, specs);
    sp_buf all = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    for (size_t i = 0; lines[i]; i++) {
        size_t n = strlen(lines[i]);
        if (!same(&d, lines[i], n, &plain, 1))
            printf("#   record: %s\n", lines[i]);
        sp_buf_add(&all, lines[i], n, NULL);
        sp_buf_addch(&all, '\n', NULL);
    }
    opts small = { 3, 2, 100, 0 };
    same(&d, all.data, all.len, &small, 1);
    sp_buf_release(&all);
    ds_release(&d);
}

/* --------------------------------------------------------- edge cases */

static const char *const flat[] = {
    "i8|Int8||", "u64|UInt64||", "f64|Nullable(Float64)||", "s|Nullable(String)||",
    "j|Nullable(JSON)||", "m|Map(String, Int32)||{}", "a|Array(Nullable(String))||[]",
    "b|Nullable(Bool)||", NULL,
};

TEST(syntax_edges)
{
    static const char *const lines[] = {
        "{}",
        " \t{\"i8\":1,\"u64\":2}\t \r",
        "{\"i8\" : 1 , \"u64\" :\r2 }",
        "{\"i8\":1,\"u64\":2}x",
        "{\"i8\":1,\"u64\":2}}",
        "{\"i8\":1,\"u64\":2},",
        "{\"i8\":1,\"u64\":2} {}",
        "{\"i8\":1,\"u64\":2,}",
        "{\"i8\":1,,\"u64\":2}",
        "{\"i8\" 1}",
        "{\"i8\":}",
        "{i8:1}",
        "{'i8':1}",
        "{\"i8\":1",
        "{\"i8\":[1,2}",
        "{\"i8\":1,\"a\":[\"x\",]}",
        "{\"i8\":1,\"a\":[,\"x\"]}",
        "[1,2]",
        "1",
        "\"x\"",
        "null",
        "\r",
        "{\"i8\":tru}",
        "{\"i8\":truex}",
        "{\"i8\":True}",
        "{\"i8\":nul}",
        "{\"i8\":1,\"b\":true,\"u64\":2}",
        "{\"i8\":1,\"b\":false,\"u64\":2}",
        "{\"i8\":1,\"b\":null,\"u64\":2}",
        "{\"i8\":1,\"b\":1,\"u64\":2}",
        "{\"i8\":1,\"b\":\"true\",\"u64\":2}",
        "{\"i8\":1 2}",
        "{\"i8\":1}\x00",
        "\xef\xbb\xbf{\"i8\":1,\"u64\":2}",
        NULL,
    };
    same_lines(flat, lines);
}

TEST(number_edges)
{
    static const char *const lines[] = {
        "{\"i8\":-0,\"u64\":0}",
        "{\"i8\":01,\"u64\":0}",
        "{\"i8\":-,\"u64\":0}",
        "{\"i8\":1.,\"u64\":0}",
        "{\"i8\":.5,\"u64\":0}",
        "{\"i8\":+1,\"u64\":0}",
        "{\"i8\":1e,\"u64\":0}",
        "{\"i8\":1e+,\"u64\":0}",
        "{\"i8\":1,\"u64\":9223372036854775807}",
        "{\"i8\":1,\"u64\":9223372036854775808}",
        "{\"i8\":1,\"u64\":18446744073709551615}",
        "{\"i8\":1,\"u64\":18446744073709551616}",
        "{\"i8\":1,\"u64\":-9223372036854775808}",
        "{\"i8\":1,\"u64\":-9223372036854775809}",
        "{\"i8\":1,\"u64\":0,\"f64\":1e400}",
        "{\"i8\":1,\"u64\":0,\"f64\":-1e400}",
        "{\"i8\":1,\"u64\":0,\"f64\":1e-400}",
        "{\"i8\":1,\"u64\":0,\"f64\":-0.0}",
        "{\"i8\":1,\"u64\":0,\"f64\":0e0}",
        "{\"i8\":1,\"u64\":0,\"f64\":0.1}",
        "{\"i8\":1,\"u64\":0,\"f64\":1E22}",
        "{\"i8\":1,\"u64\":0,\"f64\":1e23}",
        "{\"i8\":1,\"u64\":0,\"f64\":9007199254740993}",
        "{\"i8\":1,\"u64\":0,\"f64\":9007199254740993.0}",
        "{\"i8\":1,\"u64\":0,\"f64\":2.2250738585072011e-308}",
        "{\"i8\":1,\"u64\":0,\"f64\":4.9e-324}",
        "{\"i8\":1,\"u64\":0,\"f64\":1.7976931348623157e308}",
        "{\"i8\":1,\"u64\":0,\"f64\":1.7976931348623159e308}",
        "{\"i8\":1,\"u64\":0,\"f64\":179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9}",
        "{\"i8\":1,\"u64\":0,\"f64\":0.1000000000000000055511151231257827021181583404541015625}",
        "{\"i8\":1,\"u64\":0,\"f64\":123456789012345678901234567890}",
        "{\"i8\":1,\"u64\":0,\"f64\":\"nan\"}",
        "{\"i8\":1,\"u64\":0,\"f64\":\"-inf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":12345678901234567890123}",
        "{\"i8\":1,\"u64\":0,\"s\":1.5e300}",
        "{\"i8\":1,\"u64\":0,\"s\":-0.0}",
        "{\"i8\":1,\"u64\":0,\"j\":[1e5,-0,2.50,1E-7]}",
        /* bignums: the rewrite takes tokens of up to 80 characters */
        "{\"i8\":1,\"u64\":0,\"s\":12345678901234567890123456789012345678901234567890123456789012345678901234567890}",
        "{\"i8\":1,\"u64\":0,\"s\":123456789012345678901234567890123456789012345678901234567890123456789012345678901}",
        "{\"i8\":1,\"u64\":0,\"s\":-1234567890123456789012345678901234567890123456789012345678901234567890123456789}",
        "{\"i8\":1,\"u64\":0,\"s\":-12345678901234567890123456789012345678901234567890123456789012345678901234567890}",
        "{\"i8\":1,\"u64\":0,\"j\":[12345678901234567890123456789012345678901234567890123456789012345678901234567890,123456789012345678901234567890123456789012345678901234567890123456789012345678901]}",
        "{\"i8\":1,\"u64\":0,\"a\":[\"x\",99999999999999999999]}",
        "{\"i8\":1,\"u64\":0,\"m\":99999999999999999999}",
        "{\"i8\":1,\"u64\":0,\"m\":{\"k\":99999999999999999999}}",
        "{\"i8\":1,\"u64\":99999999999999999999,\"s\":\"\\u0000\"}",
        "{\"i8\":1,\"u64\":99999999999999999999,\"s\":\"\\\\u0000\"}",
        "{\"i8\":99999999999999999999,\"u64\":0}",
        "{\"i8\":1,\"u64\":0,\"b\":99999999999999999999}",
        "{\"i8\":1,\"u64\":0,\"f64\":-99999999999999999999}",
        "{\"i8\":300,\"u64\":0}",
        "{\"i8\":1.5,\"u64\":0}",
        "{\"i8\":\"1\",\"u64\":\"2\"}",
        "{\"i8\":1,\"u64\":\"-1\"}",
        NULL,
    };
    same_lines(flat, lines);
}

TEST(string_edges)
{
    static const char *const lines[] = {
        "{\"i8\":1,\"u64\":0,\"s\":\"a\\u00e9\\n\\t\\\"\\\\\\/\\b\\f\\r\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\u0000x\\u0000\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ud83d\\ude00\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\uD83D\\uDE00\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ud83d\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ude00\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ud83d\\u0041\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ud83d\\ud83d\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\ud83dx\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\u12\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\u12g4\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\x41\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\\'\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"tab\there\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"del\x7f\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xff\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xc0\x80\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xc1\xbf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xe0\x9f\xbf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xed\xa0\x80\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xed\x9f\xbf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xf0\x8f\xbf\xbf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xf4\x8f\xbf\xbf\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xf4\x90\x80\x80\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xf5\x80\x80\x80\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xe2\x82\"}",
        "{\"i8\":1,\"u64\":0,\"s\":\"\xe2\x82",
        "{\"i8\":1,\"u64\":0,\"s\":\"\x80\"}",
        "{\"i8\":1,\"u64\":0}\xc3\xa9",
        "{\"i8\":1,\"u64\":0,\"s\":\"unterminated}",
        "{\"i8\":1,\"u64\":0,\"s\":\"01234567\\\"89abcdef0123456789\\\\\"}",
        "{\"i8\":\"3\",\"u64\":0}",
        "{\"i8\":1,\"u64\":0,\"s\":{\"k\":1,\"k\":[2]}}",
        "{\"i8\":1,\"u64\":0,\"s\":{\"b\":[1,2.5,\"x\"],\"a\":null,\"c\":{\"d\":true}}}",
        "{\"i8\":1,\"u64\":0,\"s\":{\"k\\n\":1}}",
        "{\"i8\":1,\"u64\":0,\"s\":[\"\\u0001\",\"\\u001f\",\"\\u007f\",\"\\\"\"]}",
        "{\"i8\":1,\"u64\":0,\"j\":\"{\\\"a\\\": [1, 2]}\"}",
        "{\"i8\":1,\"u64\":0,\"j\":\"nope\"}",
        "{\"i8\":1,\"u64\":0,\"j\":{ \"x\" : { \"y\" : [ ] } , \"z\" : \"\\u00e9\" }}",
        "{\"i8\":{\"a\":1},\"u64\":0}",
        "{\"i8\":[1,{\"a\":{\"a\":1,\"a\":2}}],\"u64\":0}",
        "{\"i8\":true,\"u64\":0}",
        NULL,
    };
    same_lines(flat, lines);
}

TEST(keys_and_paths)
{
    static const char *const specs[] = {
        "a|Nullable(String)||", "ab|Nullable(String)|$.a.b|", "ac|Nullable(String)|$.a.c|",
        "acd|Nullable(Int64)|$.a.c.d|", "sp|Nullable(String)|$.['x y']|",
        "dot|Nullable(String)|$['p.q']|", "ab2|Nullable(String)|$.a.b|",
        "n|Int32||7", "q|String||'dq'", "t|DateTime||now()", "nn|Nullable(Int8)||NULL",
        NULL,
    };
    static const char *const lines[] = {
        "{\"a\":1,\"a\":2}",
        "{\"a\":{\"b\":1},\"a\":{\"c\":2}}",
        "{\"a\":{\"b\":1},\"a\":5}",
        "{\"a\":{\"b\":1,\"b\":\"x\",\"c\":{\"d\":1,\"d\":2}}}",
        "{\"a\":{\"c\":{\"d\":3}},\"a\":{\"c\":4}}",
        "{\"\\u0061\":{\"\\u0062\":\"esc\"}}",
        "{\"a\\u0000\":1}",
        "{\"\\u0000\":1}",
        "{\"x y\":\"space\",\"p.q\":\"dotted\",\"p\":{\"q\":\"no\"}}",
        "{\"a\":[{\"b\":1}],\"n\":null,\"q\":null,\"t\":null,\"nn\":null}",
        "{\"n\":5,\"q\":\"x\",\"t\":\"2020-01-01 00:00:00\",\"nn\":3}",
        "{\"n\":\"5\"}",
        "{\"a\":{}}",
        "{\"a\":{\"b\":null}}",
        "{\"A\":1,\"ab\":2,\"a.b\":3}",
        NULL,
    };
    same_lines(specs, lines);
}

TEST(composites_and_types)
{
    static const char *const specs[] = {
        "arr|Array(Int32)||[]", "aa|Array(Array(Nullable(Float64)))||[]",
        "m|Map(String, Int64)||{}", "m2|Map(String, Array(String))||{}",
        "tup|Tuple(Int8, String)||(0,'')", "fs|FixedString(4)||''", "e|Enum8('a' = 1, 'b' = 2)||'a'",
        "dec|Decimal(10, 2)||0", "dt64|DateTime64(3)||0", "u|UUID||'00000000-0000-0000-0000-000000000000'",
        "ip|IPv6||'::'", "big|Int128||0", NULL,
    };
    static const char *const lines[] = {
        "{\"arr\":[1,2,3],\"aa\":[[1.5,null],[],[1e3]]}",
        "{\"arr\":[1,null]}",
        "{\"arr\":[1,\"2\"]}",
        "{\"arr\":\"[1,2]\"}",
        "{\"arr\":{\"a\":1}}",
        "{\"m\":{\"a\":1,\"b\":-2}}",
        "{\"m\":{\"a\":1,\"a\":2}}",
        "{\"m\":{\"a\\u0062\":1}}",
        "{\"m\":{\"a\":\"1\"}}",
        "{\"m\":{\"a\":null}}",
        "{\"m\":[1]}",
        "{\"m2\":{\"k\":[\"x\",\"y\"],\"l\":[]}}",
        "{\"tup\":[1,\"x\"]}",
        "{\"tup\":[1]}",
        "{\"tup\":[1,\"x\",2]}",
        "{\"tup\":[null,null]}",
        "{\"fs\":\"abcd\"}",
        "{\"fs\":\"abcde\"}",
        "{\"fs\":12345}",
        "{\"fs\":[1]}",
        "{\"e\":\"b\"}",
        "{\"e\":2}",
        "{\"e\":\"c\"}",
        "{\"e\":3}",
        "{\"dec\":1.5}",
        "{\"dec\":\"12.345\"}",
        "{\"dec\":1e-7}",
        "{\"dec\":1e20}",
        "{\"dec\":123456789.5}",
        "{\"dt64\":1704067200.25}",
        "{\"dt64\":\"2024-01-01T00:00:00.123456Z\"}",
        "{\"dt64\":1e12}",
        "{\"u\":\"61F0C404-5CB3-11E7-907B-A6006AD3DBA0\"}",
        "{\"ip\":\"1.2.3.4\"}",
        "{\"big\":170141183460469231731687303715884105727}",
        "{\"big\":\"-170141183460469231731687303715884105728\"}",
        "{\"big\":1.5}",
        NULL,
    };
    same_lines(specs, lines);
}

/* a value too big for the 4096-byte message text, nesting past the
 * scanner's limits, many keys */
TEST(big_and_deep)
{
    dsb d;
    ds_make(&d, SPECS("i|Int32||0", "s|String||''", "m|Map(String, Int8)||{}"));
    sp_buf b = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    /* an object whose compact text passes 4096 bytes, into an Int32 */
    sp_buf_adds(&b, "{\"i\":{\"a\":1,\"b\":\"", NULL);
    for (int k = 0; k < 5000; k++)
        sp_buf_addch(&b, 'x', NULL);
    sp_buf_adds(&b, "\",\"a\":2}}\n{\"i\":[", NULL);
    for (int k = 0; k < 2000; k++)
        sp_buf_adds(&b, k ? ",12" : "12", NULL);
    sp_buf_adds(&b, "]}\n", NULL);
    /* nesting: 100 (walker limit), 600 (scanner limit), 2100 (jansson's) */
    int depths[] = { 63, 64, 100, 511, 512, 600, 2047, 2100 };
    for (size_t k = 0; k < sizeof(depths) / sizeof(*depths); k++) {
        sp_buf_adds(&b, "{\"s\":", NULL);
        for (int j = 0; j < depths[k]; j++)
            sp_buf_adds(&b, j % 2 ? "{\"k\":" : "[", NULL);
        sp_buf_adds(&b, "1", NULL);
        for (int j = depths[k] - 1; j >= 0; j--)
            sp_buf_adds(&b, j % 2 ? "}" : "]", NULL);
        sp_buf_adds(&b, "}\n", NULL);
    }
    /* maps with 10, 64, 65 and 300 keys */
    int nk[] = { 10, 64, 65, 300 };
    for (size_t k = 0; k < sizeof(nk) / sizeof(*nk); k++) {
        sp_buf_adds(&b, "{\"m\":{", NULL);
        for (int j = 0; j < nk[k]; j++)
            sp_buf_addf(&b, NULL, "%s\"k%d\":%d", j ? "," : "", j, j % 100);
        sp_buf_adds(&b, "}}\n", NULL);
    }
    same(&d, b.data, b.len, &plain, 1);
    opts tiny = { 7, 0, 0, 600 }; /* records past max_record */
    same(&d, b.data, b.len, &tiny, 1);
    sp_buf_release(&b);
    ds_release(&d);
}

/* paths the scanner does not follow: jansson for every record */
TEST(unsupported_paths_use_jansson)
{
    const char *const *specs[] = {
        SPECS("a|Int32|$.a[0]|"), SPECS("a|Array(Int32)|$.a[:]|"),
        SPECS("a|Array(Int32)|$.a[:].b|"), SPECS("a|Int32|$.a[-1]|"),
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(*specs); i++) {
        dsb d;
        ds_make(&d, specs[i]);
        outcome o;
        load(&d, "{\"a\":[1]}\n", 10, 1, &plain, &o);
        CHECK_INT(o.rc, 0);
        CHECK_INT(o.scanning, 0);
        sp_buf_release(&o.out);
        ds_release(&d);
    }
    dsb d;
    ds_make(&d, SPECS("a|Int32|$.a.b|", "c|String|$['x y']|", "e|String||"));
    outcome o;
    load(&d, "{}\n", 3, 1, &plain, &o);
    CHECK_INT(o.scanning, 1);
    sp_buf_release(&o.out);
    ds_release(&d);
}

/* the generated events (gen_events' shape) never fall back */
TEST(events_do_not_fall_back)
{
    dsb d;
    ds_make(&d, SPECS("timestamp|DateTime|$.timestamp|", "event_type|String|$.event_type|",
                      "user_id|String|$.user_id|", "session_id|String|$.session_id|",
                      "payload|String|$.payload|", "amount|Float64|$.amount|",
                      "duration|Float64|$.duration|", "metadata|String|$.metadata|"));
    const char *in =
        "{\"timestamp\":\"2026-11-23 02:19:31\",\"event_type\":\"view\",\"user_id\":"
        "\"u_0000002\",\"session_id\":\"s_581ce1ff0e4ae394\",\"payload\":\"{\\\"page\\\":"
        "\\\"/home\\\",\\\"ref\\\":\\\"partner\\\",\\\"scroll\\\":34}\",\"amount\":0.00,"
        "\"duration\":0.000,\"metadata\":\"device=desktop;country=FR;v=2\"}\n"
        "{\"timestamp\":\"2026-11-24 23:59:53\",\"event_type\":\"purchase\",\"user_id\":"
        "\"u_0000006\",\"session_id\":\"s_ca376da14213d975\",\"payload\":\"{\\\"page\\\":"
        "\\\"/docs/sinks\\\",\\\"ref\\\":\\\"google\\\",\\\"scroll\\\":26}\",\"amount\":"
        "8564.65,\"duration\":469.293,\"metadata\":\"device=desktop;country=FR;v=1\"}\n";
    outcome o;
    load(&d, in, strlen(in), 1, &plain, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(o.res.rows_loaded, 2);
    CHECK_INT(o.fallbacks, 0);
    sp_buf_release(&o.out);
    same(&d, in, strlen(in), &plain, 1);
    ds_release(&d);
}

/* ------------------------------------------------------ random records */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static int chance(int pct)
{
    return (int)below(100) < pct;
}

static const char *pick(const char *const *v, size_t n)
{
    return v[below(n)];
}

#define PICK(arr) pick(arr, sizeof(arr) / sizeof(*arr))

/* pieces of string bodies, as written in JSON */
static const char *const str_pieces[] = {
    "a", "b", "Z", "0", "9", " ", "-", ":", ".", "/", "x y", "hello", "2024",
    "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u00E9",
    "\\u20ac", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\\u0000", "\\u0001", "\\u001f",
    "\\u007f", "\\u0041", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f", "{", "}",
    "[", "]", ",", "'", "true", "null", "1.5", "-3", "NaN", "inf",
};

static void gen_strbody(sp_buf *b, size_t max)
{
    size_t n = below(max + 1);
    for (size_t i = 0; i < n; i++)
        sp_buf_adds(b, PICK(str_pieces), NULL);
}

static void gen_str(sp_buf *b, size_t max)
{
    sp_buf_addch(b, '"', NULL);
    gen_strbody(b, max);
    sp_buf_addch(b, '"', NULL);
}

static const char *const numbers[] = {
    "0", "-0", "1", "-1", "7", "42", "127", "128", "-128", "-129", "255", "256", "32767",
    "65535", "65536", "2147483647", "2147483648", "-2147483648", "4294967295", "4294967296",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "170141183460469231731687303715884105727", "340282366920938463463374607431768211455",
    "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345",
    "0.0", "-0.0", "0.1", "0.5", "1.5", "-2.25", "1e3", "1E3", "1e+3", "1e-3", "2.5e-7",
    "1e21", "1e22", "1e23", "123456789.125", "3.4028235e38", "3.5e38", "1e39", "1e-50",
    "1e308", "1.7976931348623157e308", "1e309", "-1e309", "1e-400", "4.9e-324",
    "9007199254740993", "9007199254740993.0", "0.30000000000000004", "1704067200",
    "1704067200.25", "1704067200.123456789", "-1704067200", "100000000000", "1e11",
    "99999999999.5",
};

static void gen_number(sp_buf *b)
{
    if (chance(60)) {
        sp_buf_adds(b, PICK(numbers), NULL);
        return;
    }
    /* a random number token: sign, digits, fraction, exponent */
    if (chance(30))
        sp_buf_addch(b, '-', NULL);
    size_t nd = 1 + below(chance(10) ? 40 : 12);
    sp_buf_addch(b, (char)('1' + below(9)), NULL);
    for (size_t i = 1; i < nd; i++)
        sp_buf_addch(b, (char)('0' + below(10)), NULL);
    if (chance(50)) {
        sp_buf_addch(b, '.', NULL);
        size_t nf = 1 + below(chance(10) ? 30 : 8);
        for (size_t i = 0; i < nf; i++)
            sp_buf_addch(b, (char)('0' + below(10)), NULL);
    }
    if (chance(25)) {
        sp_buf_addch(b, chance(50) ? 'e' : 'E', NULL);
        if (chance(50))
            sp_buf_addch(b, chance(50) ? '-' : '+', NULL);
        sp_buf_addf(b, NULL, "%d", (int)below(chance(10) ? 400 : 30));
    }
}

static void gen_key(sp_buf *b)
{
    static const char *const keys[] = { "k", "a", "b", "x", "key", "a\\u0062", "k\\n", "\\u00e9",
                                        "" };
    sp_buf_addch(b, '"', NULL);
    sp_buf_adds(b, chance(80) ? PICK(keys) : "k", NULL);
    if (chance(50))
        sp_buf_addf(b, NULL, "%d", (int)below(4));
    sp_buf_addch(b, '"', NULL);
}

static void ws(sp_buf *b)
{
    static const char *const w[] = { " ", "\t", "\r", "  ", "\n" };
    if (chance(8)) {
        const char *s = PICK(w);
        if (*s != '\n')
            sp_buf_adds(b, s, NULL);
    }
}

static void gen_any(sp_buf *b, int depth)
{
    size_t k = below(depth > 3 ? 5 : 7);
    switch (k) {
    case 0: sp_buf_adds(b, chance(50) ? "null" : (chance(50) ? "true" : "false"), NULL); break;
    case 1: case 2: gen_number(b); break;
    case 3: case 4: gen_str(b, 6); break;
    case 5: {
        size_t n = below(5);
        sp_buf_addch(b, '[', NULL);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sp_buf_addch(b, ',', NULL);
            ws(b);
            gen_any(b, depth + 1);
            ws(b);
        }
        sp_buf_addch(b, ']', NULL);
        break;
    }
    default: {
        size_t n = below(5);
        sp_buf_addch(b, '{', NULL);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sp_buf_addch(b, ',', NULL);
            ws(b);
            gen_key(b);
            ws(b);
            sp_buf_addch(b, ':', NULL);
            ws(b);
            gen_any(b, depth + 1);
        }
        sp_buf_addch(b, '}', NULL);
        break;
    }
    }
}

/* a plausible value of type t (written as JSON), or anything */
static void gen_typed(sp_buf *b, const char *t, int depth)
{
    if (chance(12) || depth > 3) {
        gen_any(b, depth);
        return;
    }
    if (chance(5)) {
        sp_buf_adds(b, "null", NULL);
        return;
    }
    if (!strncmp(t, "Nullable(", 9) || !strncmp(t, "LowCardinality(", 15)) {
        const char *in = strchr(t, '(') + 1;
        char inner[256];
        snprintf(inner, sizeof(inner), "%.*s", (int)(strlen(in) - 1), in);
        gen_typed(b, inner, depth);
        return;
    }
    if (!strncmp(t, "Array(", 6)) {
        char inner[256];
        snprintf(inner, sizeof(inner), "%.*s", (int)(strlen(t) - 7), t + 6);
        size_t n = below(5);
        sp_buf_addch(b, '[', NULL);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sp_buf_addch(b, ',', NULL);
            ws(b);
            gen_typed(b, inner, depth + 1);
        }
        sp_buf_addch(b, ']', NULL);
        return;
    }
    if (!strncmp(t, "Map(", 4)) {
        const char *comma = strchr(t, ',');
        char inner[256];
        snprintf(inner, sizeof(inner), "%.*s", (int)(strlen(comma + 2) - 1), comma + 2);
        size_t n = below(5);
        sp_buf_addch(b, '{', NULL);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sp_buf_addch(b, ',', NULL);
            gen_key(b);
            sp_buf_addch(b, ':', NULL);
            gen_typed(b, inner, depth + 1);
        }
        sp_buf_addch(b, '}', NULL);
        return;
    }
    if (!strncmp(t, "Tuple(", 6)) {
        sp_buf_addch(b, '[', NULL);
        gen_number(b);
        sp_buf_addch(b, ',', NULL);
        if (chance(80))
            gen_str(b, 3);
        else
            gen_any(b, depth + 1);
        if (chance(10))
            sp_buf_adds(b, ",1", NULL);
        sp_buf_addch(b, ']', NULL);
        return;
    }
    static const char *const dates[] = {
        "\"2024-01-01\"", "\"1970-01-01\"", "\"1969-12-31\"", "\"2149-06-06\"",
        "\"2149-06-07\"", "\"2024-02-29\"", "\"2023-02-29\"", "\"1900-01-01\"", "\"2299-12-31\"",
        "\"2024-13-01\"", "\"2024-1-1\"",
    };
    static const char *const times[] = {
        "\"2024-01-01 00:00:00\"", "\"2024-01-01T01:00:00+01:00\"",
        "\"2024-01-01T00:00:00.999Z\"", "\"2023-12-31T19:00:00-0500\"", "\"2024-01-01\"",
        "\"1704067200\"", "\"2024-01-01 24:00:00\"", "\"2024-01-01 00:00:00.123456789\"",
        "\"1899-12-31 23:59:59\"", "\"2106-02-07 06:28:15\"", "\"2106-02-07 06:28:16\"",
        "1704067200", "1704067200.5", "-1", "\"not a time\"",
    };
    static const char *const uuids[] = {
        "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"", "\"61F0C404-5CB3-11E7-907B-A6006AD3DBA0\"",
        "\"61f0c4045cb311e7907ba6006ad3dba0\"", "\"61f0c404-5cb3-11e7-907b-a6006ad3dbaz\"",
        "\"\"",
    };
    static const char *const ips[] = {
        "\"10.0.0.1\"", "\"10.0.0.256\"", "\"::1\"", "\"2001:DB8:0:0:0:0:0:1\"",
        "\"::ffff:1.2.3.4\"", "\"1.2.3.4\"", "\"x\"",
    };
    static const char *const bools[] = { "true", "false", "0", "1", "2", "\"true\"", "\"1\"" };
    static const char *const enums[] = { "\"a\"", "\"b\"", "\"c\"", "1", "2", "3", "\"1\"",
                                         "-1000", "1000", "\"x\"" };
    if (!strcmp(t, "Date") || !strcmp(t, "Date32"))
        sp_buf_adds(b, PICK(dates), NULL);
    else if (!strncmp(t, "DateTime", 8))
        sp_buf_adds(b, PICK(times), NULL);
    else if (!strcmp(t, "UUID"))
        sp_buf_adds(b, PICK(uuids), NULL);
    else if (!strncmp(t, "IPv", 3))
        sp_buf_adds(b, PICK(ips), NULL);
    else if (!strcmp(t, "Bool"))
        sp_buf_adds(b, PICK(bools), NULL);
    else if (!strncmp(t, "Enum", 4))
        sp_buf_adds(b, PICK(enums), NULL);
    else if (!strcmp(t, "String") || !strncmp(t, "FixedString", 11))
        chance(85) ? gen_str(b, 5) : gen_any(b, depth);
    else if (!strcmp(t, "JSON"))
        chance(20) ? gen_str(b, 4) : gen_any(b, depth);
    else if (chance(80)) /* numbers, Decimals, big ints */
        gen_number(b);
    else {
        sp_buf_addch(b, '"', NULL);
        gen_number(b);
        sp_buf_addch(b, '"', NULL);
    }
}

/* a path's keys: "$.a.b" -> a, b; "$.['x y']" -> x y */
typedef struct gpath {
    char keys[4][32];
    size_t n;
} gpath;

static void split_path(const char *jp, const char *name, gpath *g)
{
    g->n = 0;
    if (!jp) {
        snprintf(g->keys[0], sizeof(g->keys[0]), "%s", name);
        g->n = 1;
        return;
    }
    const char *s = jp + 1;
    while (*s && g->n < 4) {
        if (*s == '.' && s[1] == '[')
            s++;
        if (*s == '.') {
            s++;
            size_t n = strcspn(s, ".[");
            snprintf(g->keys[g->n++], sizeof(g->keys[0]), "%.*s", (int)n, s);
            s += n;
        } else if (*s == '[') {
            s += 2;
            size_t n = strcspn(s, "'\"");
            snprintf(g->keys[g->n++], sizeof(g->keys[0]), "%.*s", (int)n, s);
            s += n + 2;
        } else {
            break;
        }
    }
}

/* a key as JSON text, sometimes with an escaped letter */
static void put_key(sp_buf *b, const char *k)
{
    sp_buf_addch(b, '"', NULL);
    for (const char *c = k; *c; c++) {
        if (chance(3))
            sp_buf_addf(b, NULL, "\\u%04x", (unsigned char)*c);
        else
            sp_buf_addch(b, *c, NULL);
    }
    sp_buf_addch(b, '"', NULL);
}

/* the members at `level` of the paths sharing keys[0..level) with col */
static void gen_members(sp_buf *b, const dsb *d, const gpath *gp, size_t col, size_t level,
                        int *first);

static void gen_member(sp_buf *b, const dsb *d, const gpath *gp, size_t col, size_t level,
                       int *first)
{
    if (!*first)
        sp_buf_addch(b, ',', NULL);
    *first = 0;
    ws(b);
    put_key(b, gp[col].keys[level]);
    ws(b);
    sp_buf_addch(b, ':', NULL);
    ws(b);
    if (level + 1 == gp[col].n || chance(5)) {
        gen_typed(b, d->cols[col].type, 0);
    } else {
        sp_buf_addch(b, '{', NULL);
        int f2 = 1;
        gen_members(b, d, gp, col, level + 1, &f2);
        sp_buf_addch(b, '}', NULL);
    }
    ws(b);
}

static void gen_members(sp_buf *b, const dsb *d, const gpath *gp, size_t col, size_t level,
                        int *first)
{
    /* every column whose path shares col's prefix up to `level` */
    for (size_t c = 0; c < d->ds.ncols; c++) {
        if (gp[c].n <= level)
            continue;
        int same_prefix = 1;
        for (size_t k = 0; k < level; k++)
            same_prefix &= !strcmp(gp[c].keys[k], gp[col].keys[k]);
        if (!same_prefix || chance(8))
            continue;
        /* only the first column naming this key at this level */
        int seen = 0;
        for (size_t e = 0; e < c && !seen; e++) {
            if (gp[e].n <= level)
                continue;
            int sp = 1;
            for (size_t k = 0; k <= level; k++)
                sp &= !strcmp(gp[e].keys[k], gp[c].keys[k]);
            seen = sp;
        }
        if (seen)
            continue;
        gen_member(b, d, gp, c, level, first);
        if (chance(4)) /* the same key again: the last wins */
            gen_member(b, d, gp, c, level, first);
    }
    if (chance(20)) { /* a key no column asks for */
        if (!*first)
            sp_buf_addch(b, ',', NULL);
        *first = 0;
        gen_key(b);
        sp_buf_addch(b, ':', NULL);
        gen_any(b, 1);
    }
}

/* make a record invalid (or, by chance, still valid) */
static void mutate(sp_buf *b, size_t start)
{
    static const char junk[] = "{}[]\",:\\ 0-.eE+tfnux\x01\x7f\x80\xc3\xff";
    size_t n = b->len - start;
    if (!n)
        return;
    size_t at = start + below(n);
    switch (below(6)) {
    case 0: /* replace a byte */
        b->data[at] = junk[below(sizeof(junk) - 1)];
        break;
    case 1: /* drop a byte */
        memmove(b->data + at, b->data + at + 1, b->len - at - 1);
        b->len--;
        break;
    case 2: /* cut the record */
        b->len = at;
        break;
    case 3: { /* insert a byte */
        char c = junk[below(sizeof(junk) - 1)];
        sp_buf_addch(b, ' ', NULL);
        memmove(b->data + at + 1, b->data + at, b->len - at - 1);
        b->data[at] = c;
        break;
    }
    case 4: /* garbage after the object */
        sp_buf_adds(b, chance(50) ? " x" : "}", NULL);
        break;
    default: /* invalid UTF-8 */
        b->data[at] = chance(50) ? '\xc0' : '\xed';
        break;
    }
    b->data[b->len] = '\0';
}

static void gen_records(sp_buf *b, const dsb *d, const gpath *gp, size_t nrec)
{
    if (chance(10))
        sp_buf_adds(b, "\xef\xbb\xbf", NULL);
    for (size_t r = 0; r < nrec; r++) {
        size_t start = b->len;
        if (chance(3)) {
            sp_buf_adds(b, chance(50) ? "" : " \t", NULL); /* a blank line */
        } else {
            ws(b);
            sp_buf_addch(b, '{', NULL);
            int first = 1;
            gen_members(b, d, gp, 0, 0, &first);
            sp_buf_addch(b, '}', NULL);
            ws(b);
            if (chance(12))
                mutate(b, start);
            /* a newline inside a record would split it: keep it one line */
            for (size_t i = start; i < b->len; i++)
                if (b->data[i] == '\n')
                    b->data[i] = ' ';
        }
        sp_buf_adds(b, chance(5) ? "\r\n" : "\n", NULL);
    }
}

static const char *const schema_all[] = {
    "i8|Int8||", "i16|Nullable(Int16)||", "i32|Int32||0", "i64|Int64||",
    "u8|UInt8||", "u16|UInt16||1", "u32|Nullable(UInt32)||", "u64|UInt64||",
    "b|Bool||false", "f32|Float32||", "f64|Nullable(Float64)||", "dec|Decimal(18, 4)||",
    "s|String||", "lc|LowCardinality(String)||'dflt'", "ns|Nullable(String)||",
    "fs|FixedString(4)||", NULL,
};
static const char *const schema_big[] = {
    "i128|Int128||", "u128|UInt128||", "i256|Int256||", "u256|UInt256||",
    "dec38|Decimal(38, 10)||", "f|Float64||", "s|String||", "j|JSON||", NULL,
};
static const char *const schema_time[] = {
    "d|Date||", "d32|Date32||", "dt|DateTime||now()", "dt64|DateTime64(3)||",
    "dt9|Nullable(DateTime64(9))||", "u|UUID||", "ip4|IPv4||", "ip6|IPv6||",
    "e8|Enum8('a' = 1, 'b' = 2)||", "e16|Enum16('x' = -1000, 'y' = 1000)||", NULL,
};
static const char *const schema_comp[] = {
    "arr|Array(Int32)||", "arrs|Array(Nullable(String))||[]",
    "aa|Array(Array(Float64))||", "m|Map(String, Int64)||", "m2|Map(String, Array(String))||{}",
    "tup|Tuple(Int8, String)||", "j|Nullable(JSON)||", "ns|Nullable(String)||", NULL,
};
static const char *const schema_nested[] = {
    "ab|String|$.a.b|", "ac|Nullable(Int32)|$.a.c|", "acd|Nullable(String)|$.a.c.d|",
    "a|Nullable(String)|$.a|", "xy|Nullable(Float64)|$.['x y']|", "pq|Nullable(UInt8)|$['p.q']|",
    "ab2|Array(String)|$.a.b|[]", "deep|Nullable(String)|$.r.s.t.u|", "top|Int64||7",
    "s|String|$.s|'d'", NULL,
};

/* rounds of nrec records, each round over 1-6 columns of `pool` in a
 * random order (a wide schema would quarantine most rows at one of its
 * first columns, leaving the others unexercised) */
static void fuzz_pool(const char *const *pool, uint64_t seed, size_t rounds, size_t nrec)
{
    size_t np = 0;
    while (pool[np])
        np++;
    rng_state = seed;
    for (size_t round = 0; round < rounds && !sp_t_cur_failed; round++) {
        const char *pickd[8];
        size_t k = 1 + below(np < 6 ? np : 6), n = 0;
        while (n < k) {
            const char *c = pool[below(np)];
            int dup = 0;
            for (size_t i = 0; i < n; i++)
                dup |= pickd[i] == c;
            if (!dup)
                pickd[n++] = c;
        }
        pickd[n] = NULL;
        dsb d;
        ds_make(&d, pickd);
        gpath gp[MAXC];
        for (size_t c = 0; c < d.ds.ncols; c++)
            split_path(d.cols[c].jsonpath, d.cols[c].name, &gp[c]);
        sp_buf in = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
        gen_records(&in, &d, gp, nrec);
        static const size_t chunks[] = { 0, 1, 7, 64, 4093 };
        opts o = { chunks[below(5)], chance(30) ? 1 + below(20) : 0,
                   chance(20) ? 64 + below(2000) : 0, chance(10) ? 32 + below(300) : 0 };
        if (!same(&d, in.data ? in.data : "", in.len, &o, 1)) {
            printf("#   seed %llu round %zu, columns:", (unsigned long long)seed, round);
            for (size_t i = 0; pickd[i]; i++)
                printf(" %s", pickd[i]);
            printf("\n");
        }
        sp_buf_release(&in);
        ds_release(&d);
    }
}

TEST(random_scalars)
{
    fuzz_pool(schema_all, 1, 1500, 30);
}

TEST(random_big_numbers)
{
    fuzz_pool(schema_big, 2, 800, 30);
}

TEST(random_times_and_addresses)
{
    fuzz_pool(schema_time, 3, 800, 30);
}

TEST(random_composites)
{
    fuzz_pool(schema_comp, 4, 800, 30);
}

TEST(random_nested_paths)
{
    fuzz_pool(schema_nested, 5, 800, 30);
}

int main(void)
{
    RUN(syntax_edges);
    RUN(number_edges);
    RUN(string_edges);
    RUN(keys_and_paths);
    RUN(composites_and_types);
    RUN(big_and_deep);
    RUN(unsupported_paths_use_jansson);
    RUN(events_do_not_fall_back);
    RUN(random_scalars);
    RUN(random_big_numbers);
    RUN(random_times_and_addresses);
    RUN(random_composites);
    RUN(random_nested_paths);
    printf("# %llu records, %llu left to jansson by the scanner\n",
           (unsigned long long)total_records, (unsigned long long)total_fallbacks);
    return sp_test_done();
}
