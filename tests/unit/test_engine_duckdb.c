// sp-deps: sp_buf sp_error sp_duck_conv sp_duck_append sp_engine_duckdb sp_sql sp_sql_names sp_sql_nameexpr sp_sql_lex sp_sql_compose sp_sql_macros sp_type sp_batch
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_duck_conv.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_test.h"

/* ------------------------------------------------------------ helpers */

static void render(const sp_column *c, size_t r, sp_buf *o)
{
    if (c->nulls && c->nulls[r]) {
        sp_buf_adds(o, "\\N", NULL);
        return;
    }
    sp_kind k = c->type->kind;
    switch (k) {
    case SP_T_NOTHING: sp_buf_adds(o, "\\N", NULL); return;
    case SP_T_FLOAT32:
    case SP_T_FLOAT64: sp_buf_addf(o, NULL, "%g", c->v.f64[r]); return;
    case SP_T_ARRAY:
    case SP_T_MAP: {
        sp_buf_addch(o, k == SP_T_MAP ? '{' : '[', NULL);
        for (uint64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++) {
            if (i > c->offsets[r])
                sp_buf_addch(o, ',', NULL);
            render(&c->child[0], (size_t)i, o);
            if (k == SP_T_MAP) {
                sp_buf_addch(o, ':', NULL);
                render(&c->child[1], (size_t)i, o);
            }
        }
        sp_buf_addch(o, k == SP_T_MAP ? '}' : ']', NULL);
        return;
    }
    case SP_T_TUPLE:
        sp_buf_addch(o, '(', NULL);
        for (size_t i = 0; i < c->nchild; i++) {
            if (i)
                sp_buf_addch(o, ',', NULL);
            render(&c->child[i], r, o);
        }
        sp_buf_addch(o, ')', NULL);
        return;
    case SP_T_BOOL:
    case SP_T_UINT8:
    case SP_T_UINT16:
    case SP_T_UINT32:
    case SP_T_UINT64: sp_buf_addf(o, NULL, "%llu", (unsigned long long)c->v.u64[r]); return;
    case SP_T_INT8:
    case SP_T_INT16:
    case SP_T_INT32:
    case SP_T_INT64:
    case SP_T_DATE:
    case SP_T_DATE32:
    case SP_T_DATETIME:
    case SP_T_DATETIME64: sp_buf_addf(o, NULL, "%lld", (long long)c->v.i64[r]); return;
    default: sp_buf_add(o, c->v.str[r].p, c->v.str[r].n, NULL); return;
    }
}

typedef struct collect {
    sp_buf text;       /* rows: cols joined by '|', rows by '\n' */
    sp_buf types;      /* kinds of the schema: "k/scale/prec," */
    int nschema;
    size_t rows, batches, max_batch;
    int render;
    volatile int *cancel_at_batch2;
} collect;

static void collect_init(collect *c, int render_rows)
{
    memset(c, 0, sizeof *c);
    sp_buf_init(&c->text, (size_t)1 << 24);
    sp_buf_init(&c->types, 1 << 16);
    c->render = render_rows;
}

static void collect_release(collect *c)
{
    sp_buf_release(&c->text);
    sp_buf_release(&c->types);
}

static const char *const kind_names[] = {
    "Nothing", "Bool", "Int8", "Int16", "Int32", "Int64", "Int128", "Int256", "UInt8",
    "UInt16", "UInt32", "UInt64", "UInt128", "UInt256", "Float32", "Float64", "Decimal",
    "String", "FixedString", "UUID", "Date", "Date32", "DateTime", "DateTime64", "Array",
    "Map", "Tuple", "JSON", "IPv4", "IPv6", "Enum8", "Enum16",
};

static void type_sig(const sp_type *t, sp_buf *o)
{
    sp_buf_adds(o, kind_names[t->kind], NULL);
    if (t->kind == SP_T_DECIMAL || t->kind == SP_T_DATETIME64)
        sp_buf_addf(o, NULL, "(%d,%d)", t->precision, t->scale);
    if (t->kind == SP_T_ARRAY) {
        sp_buf_addch(o, '[', NULL);
        type_sig(t->elem, o);
        sp_buf_addch(o, ']', NULL);
    }
    if (t->kind == SP_T_MAP) {
        sp_buf_addch(o, '{', NULL);
        type_sig(t->key, o);
        sp_buf_addch(o, ':', NULL);
        type_sig(t->elem, o);
        sp_buf_addch(o, '}', NULL);
    }
    if (t->kind == SP_T_TUPLE) {
        sp_buf_addch(o, '(', NULL);
        for (size_t i = 0; i < t->nelems; i++) {
            sp_buf_addf(o, NULL, "%s%s=", i ? "," : "", t->names[i] ? t->names[i] : "?");
            type_sig(t->elems[i], o);
        }
        sp_buf_addch(o, ')', NULL);
    }
}

static int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    (void)err;
    collect *c = ud;
    c->nschema++;
    for (size_t i = 0; i < s->ncols; i++) {
        if (i)
            sp_buf_addch(&c->types, ' ', NULL);
        type_sig(s->types[i], &c->types);
    }
    return 0;
}

static int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    (void)err;
    collect *c = ud;
    c->batches++;
    c->rows += b->nrows;
    if (b->nrows > c->max_batch)
        c->max_batch = b->nrows;
    if (c->cancel_at_batch2 && c->batches == 2)
        *c->cancel_at_batch2 = 1;
    if (!c->render)
        return 0;
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t i = 0; i < b->ncols; i++) {
            if (i)
                sp_buf_addch(&c->text, '|', NULL);
            render(&b->cols[i], r, &c->text);
        }
        sp_buf_addch(&c->text, '\n', NULL);
    }
    return 0;
}

static int run_query(sp_engine *e, const char *sql, collect *c, sp_error *err)
{
    sp_query_opts o = { 1700000000, NULL, NULL, 0, 0 };
    sp_query_stats st;
    return e->vt->query(e, sql, &o, on_schema, on_batch, c, &st, err);
}

/* the rendered result of a query ("" on failure, printed) */
static char *q1(sp_engine *e, const char *sql)
{
    collect c;
    collect_init(&c, 1);
    sp_error err = SP_ERROR_INIT;
    int rc = run_query(e, sql, &c, &err);
    if (rc)
        printf("#   query failed: %s: %s\n", sql, err.msg);
    char *s = strdup(c.text.data ? c.text.data : "");
    collect_release(&c);
    return s;
}

static sp_engine *open_mem(void)
{
    sp_engine *e = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_engine_duckdb_open(NULL, &e, &err) != 0) {
        printf("#   open failed: %s\n", err.msg);
        exit(1);
    }
    return e;
}

typedef struct ds_spec {
    const char *name, *type;
} ds_spec;

static sp_datasource *make_ds(const char *name, const ds_spec *cols, size_t n)
{
    sp_datasource *d = calloc(1, sizeof *d);
    d->name = strdup(name);
    d->cols = calloc(n, sizeof *d->cols);
    d->ncols = n;
    for (size_t i = 0; i < n; i++) {
        d->cols[i].name = strdup(cols[i].name);
        d->cols[i].type = strdup(cols[i].type);
    }
    return d;
}

static void free_ds(sp_datasource *d)
{
    for (size_t i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].type);
    }
    free(d->cols);
    free(d->name);
    free(d);
}

#define CHECK_Q(e, sql, want)                  \
    do {                                       \
        char *got_ = q1((e), (sql));           \
        CHECK_STR(got_, (want));               \
        free(got_);                            \
    } while (0)


/* ------------------------------------------------------------ tests */

static void check_type_text(const char *ch, const char *want)
{
    sp_type *t = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf b = SP_BUF_INIT(4096);
    CHECK_OK(sp_type_parse(ch, &t, &err), &err);
    if (!t)
        return;
    int rc = sp__duck_type_text(t, 1, "c", &b, &err);
    if (want) {
        CHECK_INT(rc, 0);
        CHECK_STR(b.data ? b.data : "", want);
    } else {
        CHECK_INT(rc, SP_EDEF);
        CHECK(strstr(err.msg, "column 'c'") != NULL);
    }
    sp_type_free(t);
    sp_buf_release(&b);
}

TEST(clickhouse_to_duckdb_types)
{
    static const char *const m[][2] = {
        { "Int8", "TINYINT" }, { "Int16", "SMALLINT" }, { "Int32", "INTEGER" },
        { "Int64", "BIGINT" }, { "UInt8", "UTINYINT" }, { "UInt16", "USMALLINT" },
        { "UInt32", "UINTEGER" }, { "UInt64", "UBIGINT" }, { "Int128", "HUGEINT" },
        { "UInt128", "UHUGEINT" }, { "Int256", "VARCHAR" }, { "UInt256", "VARCHAR" },
        { "Float32", "FLOAT" }, { "Float64", "DOUBLE" }, { "Decimal(18, 4)", "DECIMAL(18,4)" },
        { "Decimal(38, 0)", "DECIMAL(38,0)" }, { "String", "VARCHAR" },
        { "FixedString(3)", "VARCHAR" }, { "Enum8('a' = 1)", "VARCHAR" }, { "IPv4", "VARCHAR" },
        { "IPv6", "VARCHAR" }, { "LowCardinality(String)", "VARCHAR" },
        { "Nullable(Int32)", "INTEGER" }, { "Bool", "BOOLEAN" }, { "Date", "DATE" },
        { "Date32", "DATE" }, { "DateTime", "TIMESTAMP_S" },
        { "DateTime('Europe/Madrid')", "TIMESTAMP_S" }, { "DateTime64(0)", "TIMESTAMP_MS" },
        { "DateTime64(3)", "TIMESTAMP_MS" }, { "DateTime64(4)", "TIMESTAMP" },
        { "DateTime64(6)", "TIMESTAMP" }, { "DateTime64(7)", "TIMESTAMP_NS" },
        { "DateTime64(9, 'UTC')", "TIMESTAMP_NS" }, { "UUID", "UUID" },
        { "Array(String)", "VARCHAR[]" }, { "Array(Array(Nullable(Int64)))", "BIGINT[][]" },
        { "Map(String, UInt64)", "MAP(VARCHAR, UBIGINT)" },
        { "Tuple(a Int32, b String)", "STRUCT(\"a\" INTEGER, \"b\" VARCHAR)" },
        { "JSON", "JSON" }, { "Decimal(40, 2)", NULL },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        check_type_text(m[i][0], m[i][1]);
}

TEST(decimal_text)
{
    char b[48];
    sp__duck_i128_text(-1250, 2, b);
    CHECK_STR(b, "-12.5");
    sp__duck_i128_text(300, 2, b);
    CHECK_STR(b, "3");
    sp__duck_i128_text(-5, 3, b);
    CHECK_STR(b, "-0.005");
    sp__duck_i128_text(0, 4, b);
    CHECK_STR(b, "0");
    __int128 v = 0;
    CHECK_INT(sp__duck_parse_decimal("-12.345", 7, 2, &v), 0);
    CHECK_INT((long long)v, -1234);
    CHECK_INT(sp__duck_parse_decimal("7", 1, 3, &v), 0);
    CHECK_INT((long long)v, 7000);
    CHECK_INT(sp__duck_parse_decimal("1x", 2, 0, &v), -1);
    CHECK_INT(sp__duck_parse_decimal("", 0, 0, &v), -1);
}

TEST(result_types_and_values)
{
    sp_engine *e = open_mem();
    collect c;
    collect_init(&c, 1);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(run_query(e,
                       "SELECT true, -5::TINYINT, -300::SMALLINT, 70000::INTEGER, "
                       "-9000000000::BIGINT, 200::UTINYINT, 60000::USMALLINT, "
                       "4000000000::UINTEGER, 18446744073709551615::UBIGINT, "
                       "(-170141183460469231731687303715884105727)::HUGEINT - 1, "
                       "340282366920938463463374607431768211455::UHUGEINT, 1.5::FLOAT, "
                       "2.25::DOUBLE, -12.50::DECIMAL(10,2), "
                       "123456789012345678901234.5::DECIMAL(38,1), 0.05::DECIMAL(4,3), "
                       "'short', 'a string longer than twelve', NULL::VARCHAR, "
                       "'550e8400-e29b-41d4-a716-446655440000'::UUID, DATE '1969-12-31', "
                       "TIMESTAMP_S '1960-01-01 00:00:01', TIMESTAMP_MS '2024-01-02 03:04:05.678', "
                       "TIMESTAMP '2024-01-02 03:04:05.678901', "
                       "TIMESTAMP_NS '2024-01-02 03:04:05.123456789', "
                       "TIMESTAMPTZ '2024-01-02 03:04:05+00', TIME '12:34:56', "
                       "INTERVAL 90 SECOND, [1, NULL, 3], MAP {'k1': 1, 'k2': 2}, "
                       "{'a': 1, 'b': 'x'}, NULL, '{\"a\":1}'::JSON, 'y'::ENUM('x', 'y'), "
                       "'\\x41\\x42'::BLOB, [[1, 2], [3, 4]]::INTEGER[2][]",
                       &c, &err),
             &err);
    CHECK_INT(c.nschema, 1);
    CHECK_STR(c.types.data,
              "Bool Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Int128 UInt128 Float32 "
              "Float64 Decimal(10,2) Decimal(38,1) Decimal(4,3) String String String UUID Date "
              "DateTime DateTime64(0,3) DateTime64(0,6) DateTime64(0,9) DateTime64(0,6) String "
              "Int64 Array[Int32] Map{String:Int32} Tuple(a=Int32,b=String) Int32 JSON String "
              "String Array[Array[Int32]]");
    CHECK_STR(c.text.data,
              "1|-5|-300|70000|-9000000000|200|60000|4000000000|18446744073709551615|"
              "-170141183460469231731687303715884105728|"
              "340282366920938463463374607431768211455|1.5|2.25|-12.5|"
              "123456789012345678901234.5|0.05|short|a string longer than twelve|\\N|"
              "550e8400-e29b-41d4-a716-446655440000|-1|-315619199|1704164645678|"
              "1704164645678901|1704164645123456789|1704164645000000|12:34:56|90|[1,\\N,3]|"
              "{k1:1,k2:2}|(1,x)|\\N|{\"a\":1}|y|AB|[[1,2],[3,4]]\n");
    collect_release(&c);
    e->vt->close(e);
}

TEST(strings_nulls_and_lists_over_rows)
{
    sp_engine *e = open_mem();
    CHECK_Q(e,
            "SELECT CASE WHEN range % 3 = 0 THEN NULL ELSE repeat('ab', range::INT) END, "
            "CASE WHEN range % 2 = 0 THEN [range, range + 1] ELSE NULL END, [7, 8], "
            "CASE WHEN range = 1 THEN NULL ELSE MAP {'k': range} END "
            "FROM range(6) ORDER BY range",
            "\\N|[0,1]|[7,8]|{k:0}\n"
            "ab|\\N|[7,8]|\\N\n"
            "abab|[2,3]|[7,8]|{k:2}\n"
            "\\N|\\N|[7,8]|{k:3}\n"
            "abababab|[4,5]|[7,8]|{k:4}\n"
            "ababababab|\\N|[7,8]|{k:5}\n");
    /* lists filtered after construction: entries need not be contiguous */
    CHECK_Q(e,
            "SELECT l FROM (SELECT range AS r, [r, r * 10, r * 100] AS l FROM range(5)) "
            "WHERE r % 2 = 1 ORDER BY r",
            "[1,10,100]\n[3,30,300]\n");
    CHECK_Q(e, "SELECT [] :: INTEGER[], ['a string longer than twelve', NULL]",
            "[]|[a string longer than twelve,\\N]\n");
    e->vt->close(e);
}

TEST(empty_result_still_has_schema)
{
    sp_engine *e = open_mem();
    collect c;
    collect_init(&c, 1);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(run_query(e, "SELECT range AS x FROM range(10) WHERE range > 100", &c, &err), &err);
    CHECK_INT(c.nschema, 1);
    CHECK_INT(c.rows, 0);
    CHECK_STR(c.types.data, "Int64");
    collect_release(&c);
    e->vt->close(e);
}

TEST(streams_large_result)
{
    sp_engine *e = open_mem();
    collect c;
    collect_init(&c, 0);
    sp_error err = SP_ERROR_INIT;
    sp_query_opts o = { 0, NULL, NULL, 0, 0 };
    sp_query_stats st;
    CHECK_OK(e->vt->query(e, "SELECT range FROM range(3000000)", &o, on_schema, on_batch, &c,
                          &st, &err),
             &err);
    CHECK_INT(c.rows, 3000000);
    CHECK_INT(st.result_rows, 3000000);
    CHECK(c.max_batch <= 2048);
    CHECK(c.batches >= 3000000 / 2048);
    collect_release(&c);
    e->vt->close(e);
}

TEST(cancel_from_callback)
{
    sp_engine *e = open_mem();
    collect c;
    collect_init(&c, 0);
    volatile int cancel = 0;
    c.cancel_at_batch2 = &cancel;
    sp_error err = SP_ERROR_INIT;
    sp_query_opts o = { 0, &cancel, NULL, 0, 0 };
    int rc = e->vt->query(e, "SELECT range FROM range(3000000)", &o, on_schema, on_batch, &c,
                          NULL, &err);
    CHECK_INT(rc, SP_ECANCELLED);
    CHECK_INT(c.batches, 2);
    collect_release(&c);
    /* the engine still works afterwards */
    CHECK_Q(e, "SELECT 1", "1\n");
    e->vt->close(e);
}

static int interrupt_batch(void *ud, const sp_batch *b, sp_error *err)
{
    (void)b;
    (void)err;
    sp_engine *e = ud;
    e->vt->interrupt(e);
    return 0;
}

TEST(interrupt_stops_the_query)
{
    sp_engine *e = open_mem();
    sp_error err = SP_ERROR_INIT;
    sp_query_opts o = { 0, NULL, NULL, 0, 0 };
    int rc = e->vt->query(e, "SELECT range FROM range(3000000)", &o, NULL, interrupt_batch, e,
                          NULL, &err);
    CHECK_INT(rc, SP_ECANCELLED);
    CHECK_STR(err.msg, "query cancelled");
    CHECK_Q(e, "SELECT 2", "2\n");
    e->vt->close(e);
}

TEST(bad_query_errors)
{
    sp_engine *e = open_mem();
    collect c;
    collect_init(&c, 0);
    sp_error err = SP_ERROR_INIT;
    int rc = run_query(e, "SELECT * FROM no_such_table", &c, &err);
    CHECK_INT(rc, SP_ESQL);
    CHECK(strstr(err.msg, "no_such_table") != NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK_INT(c.nschema, 0);
    sp_error err2 = SP_ERROR_INIT;
    rc = run_query(e, "SELECT CAST('x' AS INTEGER) FROM range(3)", &c, &err2);
    CHECK_INT(rc, SP_ESQL);
    CHECK(strstr(err2.msg, "'x'") != NULL);
    collect_release(&c);
    e->vt->close(e);
}

static const ds_spec all_cols[] = {
    { "i8", "Int8" }, { "u64", "UInt64" }, { "i128", "Int128" }, { "f32", "Float32" },
    { "d", "Decimal(10, 2)" }, { "s", "String" }, { "n", "Nullable(String)" }, { "u", "UUID" },
    { "dt", "Date" }, { "ts", "DateTime" }, { "t3", "DateTime64(3)" }, { "t6", "DateTime64(6)" },
    { "t9", "DateTime64(9)" }, { "arr", "Array(Int32)" }, { "m", "Map(String, UInt64)" },
    { "tup", "Tuple(a Int32, b String)" }, { "b", "Bool" }, { "big", "Int256" },
    { "j", "JSON" },
};
#define NALL (sizeof all_cols / sizeof all_cols[0])

/* a 3-row batch for all_cols (arrays static: single-threaded test) */
static int append_all(sp_engine *e, const sp_datasource *ds, sp_schema *s, int null_in_s,
                      sp_error *err)
{
    static int64_t i8[] = { -1, 0, 127 }, dt[] = { -1, 0, 19724 },
                   ts[] = { -315619199, 0, 1704164645 },
                   t3[] = { 1704164645678, 0, -1 }, t6[] = { 1704164645678901, 1, 2 },
                   t9[] = { 1704164645123456789, 3, 4 }, ai[] = { 1, 2, 3, 4 },
                   ta[] = { 10, 20, 30 };
    static uint64_t u64[] = { 18446744073709551615u, 0, 5 }, mv[] = { 1, 2 },
                    bo[] = { 1, 0, 1 }, offs[] = { 0, 2, 2, 4 }, moffs[] = { 5, 6, 6, 7 };
    static double f32[] = { 1.5, -0.25, 0 };
    static sp_str i128[] = { { "-170141183460469231731687303715884105728", 40 }, { "0", 1 },
                             { "12345678901234567890123", 23 } },
                  d[] = { { "-12.5", 5 }, { "0", 1 }, { "99999999.99", 11 } },
                  str[] = { { "short", 5 }, { "a string longer than twelve", 27 }, { "", 0 } },
                  n[] = { { "x", 1 }, { "", 0 }, { "z", 1 } },
                  u[] = { { "550e8400-e29b-41d4-a716-446655440000", 36 },
                          { "00000000-0000-0000-0000-000000000000", 36 },
                          { "ffffffff-ffff-ffff-ffff-ffffffffffff", 36 } },
                  mk[] = { { "pad", 3 }, { "pad", 3 }, { "pad", 3 }, { "pad", 3 }, { "pad", 3 },
                           { "k1", 2 }, { "k2", 2 } },
                  tb[] = { { "p", 1 }, { "q", 1 }, { "r", 1 } },
                  big[] = { { "-57896044618658097711785492504343953926634992332820282019728792003956564819968", 78 },
                            { "1", 1 }, { "2", 1 } },
                  j[] = { { "{\"a\":1}", 7 }, { "[]", 2 }, { "null", 4 } };
    static uint64_t mvals[] = { 0, 0, 0, 0, 0, 1, 2 };
    static uint8_t nn[] = { 0, 1, 0 }, sn[] = { 0, 1, 0 };
    (void)mv;
    sp_column cols[NALL];
    static sp_column arr_child, map_kids[2], tup_kids[2];
    memset(cols, 0, sizeof cols);
    for (size_t i = 0; i < NALL; i++)
        cols[i].type = s->types[i];
    cols[0].v.i64 = i8;
    cols[1].v.u64 = u64;
    cols[2].v.str = i128;
    cols[3].v.f64 = f32;
    cols[4].v.str = d;
    cols[5].v.str = str;
    if (null_in_s)
        cols[5].nulls = sn;
    cols[6].v.str = n;
    cols[6].nulls = nn;
    cols[7].v.str = u;
    cols[8].v.i64 = dt;
    cols[9].v.i64 = ts;
    cols[10].v.i64 = t3;
    cols[11].v.i64 = t6;
    cols[12].v.i64 = t9;
    arr_child = (sp_column){ .type = s->types[13]->elem, .v.i64 = ai };
    cols[13].offsets = offs;
    cols[13].child = &arr_child;
    cols[13].nchild = 1;
    map_kids[0] = (sp_column){ .type = s->types[14]->key, .v.str = mk };
    map_kids[1] = (sp_column){ .type = s->types[14]->elem, .v.u64 = mvals };
    cols[14].offsets = moffs;
    cols[14].child = map_kids;
    cols[14].nchild = 2;
    tup_kids[0] = (sp_column){ .type = s->types[15]->elems[0], .v.i64 = ta };
    tup_kids[1] = (sp_column){ .type = s->types[15]->elems[1], .v.str = tb };
    cols[15].child = tup_kids;
    cols[15].nchild = 2;
    cols[16].v.u64 = bo;
    cols[17].v.str = big;
    cols[18].v.str = j;
    sp_batch b = { 3, NALL, cols };
    return e->vt->append(e, ds, s, &b, err);
}

static sp_schema *schema_of(const ds_spec *cols, size_t n)
{
    sp_schema *s = sp_schema_new(n);
    sp_error err = SP_ERROR_INIT;
    for (size_t i = 0; i < n; i++) {
        s->names[i] = strdup(cols[i].name);
        if (sp_type_parse(cols[i].type, &s->types[i], &err))
            printf("#   parse %s: %s\n", cols[i].type, err.msg);
    }
    return s;
}

#define ALL_ROWS                                                                             \
    "-1|18446744073709551615|-170141183460469231731687303715884105728|1.5|-12.5|short|x|"    \
    "550e8400-e29b-41d4-a716-446655440000|-1|-315619199|1704164645678|1704164645678901|"     \
    "1704164645123456789|[1,2]|{k1:1}|(10,p)|1|"                                             \
    "-57896044618658097711785492504343953926634992332820282019728792003956564819968|"        \
    "{\"a\":1}\n"                                                                            \
    "0|0|0|-0.25|0|a string longer than twelve|\\N|00000000-0000-0000-0000-000000000000|0|0|" \
    "0|1|3|[]|{}|(20,q)|0|1|[]\n"                                                            \
    "127|5|12345678901234567890123|0|99999999.99||z|ffffffff-ffff-ffff-ffff-ffffffffffff|"   \
    "19724|1704164645|-1|2|4|[3,4]|{k2:2}|(30,r)|1|2|null\n"

TEST(append_and_read_back_every_kind)
{
    sp_engine *e = open_mem();
    sp_datasource *ds = make_ds("events", all_cols, NALL);
    sp_schema *s = schema_of(all_cols, NALL);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err);
    CHECK_OK(append_all(e, ds, s, 0, &err), &err);
    CHECK_Q(e, "SELECT * FROM events ORDER BY i8", ALL_ROWS);
    /* a NULL in a NOT NULL column fails the whole call: nothing more stored */
    sp_error err2 = SP_ERROR_INIT;
    int rc = append_all(e, ds, s, 1, &err2);
    CHECK(rc != 0);
    CHECK(strstr(err2.msg, "events") != NULL);
    CHECK_Q(e, "SELECT count(*) FROM events", "3\n");
    /* a bad decimal names the column and the value */
    sp_schema_free(s);
    free_ds(ds);
    e->vt->close(e);
}

TEST(bad_values_are_rejected_with_the_column)
{
    sp_engine *e = open_mem();
    static const ds_spec spec[] = { { "amount", "Decimal(4, 2)" }, { "id", "UUID" } };
    sp_datasource *ds = make_ds("pay", spec, 2);
    sp_schema *s = schema_of(spec, 2);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err);
    sp_str a[] = { { "1.5", 3 }, { "123.4", 5 } };
    sp_str id[] = { { "550e8400-e29b-41d4-a716-446655440000", 36 }, { "nope", 4 } };
    sp_column cols[2] = { { .type = s->types[0], .v.str = a }, { .type = s->types[1], .v.str = id } };
    sp_batch b = { 2, 2, cols };
    int rc = e->vt->append(e, ds, s, &b, &err);
    CHECK_INT(rc, SP_EDATA);
    CHECK_STR(err.msg, "datasource 'pay': column 'amount': '123.4' is not a valid Decimal(4, 2)");
    a[1] = (sp_str){ "12.34", 5 };
    sp_error err2 = SP_ERROR_INIT;
    rc = e->vt->append(e, ds, s, &b, &err2);
    CHECK_INT(rc, SP_EDATA);
    CHECK_STR(err2.msg, "datasource 'pay': column 'id': 'nope' is not a valid UUID");
    CHECK_Q(e, "SELECT count(*) FROM pay", "0\n");
    sp_schema_free(s);
    free_ds(ds);
    e->vt->close(e);
}

TEST(large_append_in_chunks)
{
    sp_engine *e = open_mem();
    static const ds_spec spec[] = { { "x", "Int64" }, { "s", "String" } };
    sp_datasource *ds = make_ds("big", spec, 2);
    sp_schema *s = schema_of(spec, 2);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err);
    enum { N = 10000 };
    static int64_t x[N];
    static sp_str str[N];
    for (int i = 0; i < N; i++) {
        x[i] = i;
        str[i] = (sp_str){ i % 2 ? "odd value longer than 12" : "even", i % 2 ? 24 : 4 };
    }
    sp_column cols[2] = { { .type = s->types[0], .v.i64 = x },
                          { .type = s->types[1], .v.str = str } };
    sp_batch b = { N, 2, cols };
    CHECK_OK(e->vt->append(e, ds, s, &b, &err), &err);
    CHECK_OK(e->vt->append(e, ds, s, &b, &err), &err);
    CHECK_Q(e, "SELECT count(*), sum(x), count(DISTINCT s), max(length(s)) FROM big",
            "20000|99990000|2|24\n");
    sp_schema_free(s);
    free_ds(ds);
    e->vt->close(e);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

TEST(persists_across_reopen)
{
    char dir[] = "/tmp/sp-engine-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/sub/dir/db.duckdb", dir);
    sp_engine *e = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_engine_duckdb_open(path, &e, &err), &err);
    if (!e)
        return;
    sp_datasource *ds = make_ds("events", all_cols, NALL);
    sp_schema *s = schema_of(all_cols, NALL);
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err);
    CHECK_OK(append_all(e, ds, s, 0, &err), &err);
    e->vt->close(e);
    e = NULL;
    CHECK_OK(sp_engine_duckdb_open(path, &e, &err), &err);
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err); /* same layout: fine */
    CHECK_Q(e, "SELECT * FROM events ORDER BY i8", ALL_ROWS);
    /* the datafile changed a type: a clear definition error */
    free(ds->cols[1].type);
    ds->cols[1].type = strdup("Int32");
    sp_error err2 = SP_ERROR_INIT;
    CHECK_INT(e->vt->ensure_datasource(e, ds, &err2), SP_EDEF);
    CHECK_STR(err2.msg, "datasource 'events': table has column u64 UBIGINT NOT NULL but the "
                        "datafile says u64 INTEGER NOT NULL (column 2)");
    /* a column added to the datafile */
    free(ds->cols[1].type);
    ds->cols[1].type = strdup("UInt64");
    ds->ncols--;
    sp_error err3 = SP_ERROR_INIT;
    CHECK_INT(e->vt->ensure_datasource(e, ds, &err3), SP_EDEF);
    CHECK_STR(err3.msg, "datasource 'events': table has column j JSON NOT NULL but the datafile does "
                        "not");
    ds->ncols++;
    e->vt->close(e);
    sp_schema_free(s);
    free_ds(ds);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

TEST(quarantine_rows)
{
    sp_engine *e = open_mem();
    static const ds_spec spec[] = { { "x", "Int64" } };
    sp_datasource *ds = make_ds("q", spec, 1);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(e->vt->ensure_datasource(e, ds, &err), &err);
    sp_qrow rows[] = {
        { "{\"x\":\"abc\"}", 11, "column 'x': 'abc' is not a valid Int64", "x", 1 },
        { "a,b\nc", 5, "wrong number of fields", NULL, 7 },
    };
    CHECK_OK(e->vt->quarantine(e, ds, rows, 2, 1700000000, &err), &err);
    CHECK_Q(e,
            "SELECT insertion_date, c__error, c__error_column, c__line, replace(c__raw, "
            "chr(10), '~') FROM q_quarantine ORDER BY c__line",
            "1700000000|column 'x': 'abc' is not a valid Int64|x|1|{\"x\":\"abc\"}\n"
            "1700000000|wrong number of fields|\\N|7|a,b~c\n");
    CHECK_Q(e, "SELECT count(*) FROM q", "0\n");
    free_ds(ds);
    e->vt->close(e);
}

TEST(eval_scalar)
{
    sp_engine *e = open_mem();
    sp_error err = SP_ERROR_INIT;
    char *out = NULL;
    CHECK_OK(e->vt->eval_scalar(e, "1 + 2", 0, &out, &err), &err);
    CHECK_STR(out, "3");
    free(out);
    out = (char *)"x";
    CHECK_OK(e->vt->eval_scalar(e, "NULL", 0, &out, &err), &err);
    CHECK(out == NULL);
    CHECK_OK(e->vt->eval_scalar(e, "now()", 1700000000, &out, &err), &err);
    CHECK_STR(out, "2023-11-14 22:13:20");
    free(out);
    out = NULL;
    sp_error err2 = SP_ERROR_INIT;
    CHECK_INT(e->vt->eval_scalar(e, "no_such_function(1)", 0, &out, &err2), SP_ESQL);
    CHECK(strstr(err2.msg, "no_such_function") != NULL);
    CHECK(out == NULL);
    e->vt->close(e);
}

int main(void)
{
    RUN(clickhouse_to_duckdb_types);
    RUN(decimal_text);
    RUN(result_types_and_values);
    RUN(strings_nulls_and_lists_over_rows);
    RUN(empty_result_still_has_schema);
    RUN(streams_large_result);
    RUN(cancel_from_callback);
    RUN(interrupt_stops_the_query);
    RUN(bad_query_errors);
    RUN(append_and_read_back_every_kind);
    RUN(bad_values_are_rejected_with_the_column);
    RUN(large_append_in_chunks);
    RUN(persists_across_reopen);
    RUN(quarantine_rows);
    RUN(eval_scalar);
    return sp_test_done();
}
