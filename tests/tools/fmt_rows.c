/* fmt_rows: a fixed table of awkward values, printed through sinkpipe's
 * formatters, plus the ClickHouse query that produces the same table.
 *
 *   fmt_rows csv      the table as CSVWithNames
 *   fmt_rows ndjson   the table as JSONEachRow
 *   fmt_rows sql      a SELECT (ClickHouse 18.16 dialect) giving the same
 *                     rows in the same order; floats are built from their
 *                     bits so the server parses nothing approximately
 *
 * Used by tests/e2e/format_vs_clickhouse.sh.  Built by the Makefile (make tools). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_format.h"

#define N 12

static const char *const s_vals[N] = {
    "plain", "a\"b,c", "x/y\\z", "\t\n\r\b\f\x01\x1f\x7f", "h\xc3\xa9llo \xe2\x82\xac",
    "\xff\xfe" "A", "x\xe2\x80\xa8y\xe2\x80\xa9", "", "'quoted'", "\\N", "line\r\nbreak",
    "emoji \xf0\x9f\x98\x80",
};
static const int64_t i_vals[N] = {0, -1, INT64_MIN, INT64_MAX, 42, -1000000007, 1, 99,
                                  -9, 100, 1000000, -2147483648LL};
static const uint64_t u_vals[N] = {UINT64_MAX, 0, 1, 10000000000000000000ULL, 7, 255,
                                   65536, 4294967296ULL, 9007199254740993ULL, 10, 99, 100};
static double f_vals[N]; /* set in main: some are not constant expressions */
static const float f32_vals[N] = {0.1f, 1e10f, 3.4028235e38f, 16777216.0f, 1.0f / 3,
                                  1e-45f, -2.5f, 0.0f, 1e-7f, 123456.79f, 7e22f, 0.3f};
static const int64_t d_vals[N] = {1, 20782, 49709, 10957, 11016, 17532, 365, 2932,
                                  19000, 20000, 30000, 40000};
static const int64_t dt_vals[N] = {1, 1795597200, 951782400, 4102444799LL, 86399,
                                   1234567890, 2000000000, 59, 3600, 1700000000,
                                   946684799, 4000000000LL};
/* Array(String): offsets into a_elems */
static const char *const a_elems[] = {"a", "b'c", "d\"e", "t\tn\n\\", "", "x", "y", "z",
                                      "\xc3\xa9", "\x01"};
static const uint64_t a_off[N + 1] = {0, 0, 1, 3, 4, 5, 5, 8, 9, 10, 10, 10, 10};
/* Array(Nullable(Int32)) */
static const int64_t ai_elems[] = {1, 0, -3, 2147483647, -2147483647 - 1, 5};
static const uint8_t ai_nulls[] = {0, 1, 0, 0, 0, 0};
static const uint64_t ai_off[N + 1] = {0, 0, 3, 3, 5, 6, 6, 6, 6, 6, 6, 6, 6};
/* Nullable(String) */
static const uint8_t n_nulls[N] = {1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0};
/* Decimal(18, 3) as canonical text */
static const char *const dec_vals[N] = {
    "-12.500", "0.000", "0.001", "123456789012345.678", "-0.001", "1.000", "99.990",
    "-999999999999999.999", "3.142", "10.000", "0.500", "-7.250",
};
/* Array(Float64) */
static double af_elems[8];
static const uint64_t af_off[N + 1] = {0, 3, 3, 5, 6, 7, 8, 8, 8, 8, 8, 8, 8};

/* a ClickHouse string literal with every byte that is not alphanumeric as
 * \xNN, so the server reads exactly these bytes */
static void sql_string(const char *s)
{
    putchar('\'');
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') || (*u >= '0' && *u <= '9'))
            putchar(*u);
        else
            printf("\\x%02X", *u);
    }
    putchar('\'');
}

static void sql_f64(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    printf("reinterpretAsFloat64(unhex('");
    for (int b = 0; b < 8; b++)
        printf("%02X", (unsigned)(bits >> (8 * b)) & 0xff);
    printf("'))");
}

static void sql_f32(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    printf("reinterpretAsFloat32(unhex('");
    for (int b = 0; b < 4; b++)
        printf("%02X", (unsigned)(bits >> (8 * b)) & 0xff);
    printf("'))");
}

static void print_sql(void)
{
    printf("SELECT * FROM (");
    for (int r = 0; r < N; r++) {
        if (r)
            printf(" UNION ALL ");
        printf("SELECT toUInt32(%d) AS id, ", r + 1);
        sql_string(s_vals[r]);
        printf(" AS s, toInt64('%lld') AS i, toUInt64('%llu') AS u, ", (long long)i_vals[r],
               (unsigned long long)u_vals[r]);
        sql_f64(f_vals[r]);
        printf(" AS f, ");
        sql_f32(f32_vals[r]);
        printf(" AS f32, toDate(toDateTime(%lld)) AS d, toDateTime(%lld) AS dt, ",
               (long long)d_vals[r] * 86400, (long long)dt_vals[r]);
        printf("CAST([");
        for (uint64_t j = a_off[r]; j < a_off[r + 1]; j++) {
            if (j > a_off[r])
                putchar(',');
            sql_string(a_elems[j]);
        }
        printf("] AS Array(String)) AS a, CAST([");
        for (uint64_t j = ai_off[r]; j < ai_off[r + 1]; j++) {
            if (j > ai_off[r])
                putchar(',');
            if (ai_nulls[j])
                printf("NULL");
            else
                printf("toInt32(%lld)", (long long)ai_elems[j]);
        }
        printf("] AS Array(Nullable(Int32))) AS ai, ");
        if (n_nulls[r]) {
            printf("CAST(NULL AS Nullable(String))");
        } else {
            printf("toNullable(");
            sql_string(s_vals[r]);
            printf(")");
        }
        printf(" AS n, toDecimal64('%s', 3) AS dec, CAST([", dec_vals[r]);
        for (uint64_t j = af_off[r]; j < af_off[r + 1]; j++) {
            if (j > af_off[r])
                putchar(',');
            sql_f64(af_elems[j]);
        }
        printf("] AS Array(Float64)) AS af");
    }
    printf(") ORDER BY id\n");
}

int main(int argc, char **argv)
{
    const double fv[N] = {0.1, -0.0, 1e21, 1e20, 1e-7, 0.000001, 1.0 / 3, 5e-324,
                          1.7976931348623157e308, 123.456, 0.1 + 0.2, 2.5e-310};
    memcpy(f_vals, fv, sizeof fv);
    const double afv[8] = {INFINITY, NAN, 1.5, 0.1, 1e21, -INFINITY, -1e-300, 4e15};
    memcpy(af_elems, afv, sizeof afv);
    if (argc != 2) {
        fprintf(stderr, "usage: fmt_rows csv|ndjson|sql\n");
        return 2;
    }
    if (!strcmp(argv[1], "sql")) {
        print_sql();
        return 0;
    }
    const sp_format *fmt = sp_format_find(argv[1]);
    if (!fmt) {
        fprintf(stderr, "fmt_rows: unknown format '%s' (expected %s, sql)\n", argv[1],
                sp_format_names());
        return 2;
    }

    static const char *const names[] = {"id", "s", "i", "u", "f", "f32", "d",
                                        "dt", "a", "ai", "n", "dec", "af"};
    static const char *const types[] = {
        "UInt32", "String", "Int64", "UInt64", "Float64", "Float32", "Date", "DateTime",
        "Array(String)", "Array(Nullable(Int32))", "Nullable(String)", "Decimal(18, 3)",
        "Array(Float64)"};
    enum { NC = 13 };
    sp_schema *s = sp_schema_new(NC);
    if (!s)
        return 1;
    sp_error err = SP_ERROR_INIT;
    for (int c = 0; c < NC; c++) {
        s->names[c] = strdup(names[c]);
        if (!s->names[c] || sp_type_parse(types[c], &s->types[c], &err)) {
            fprintf(stderr, "fmt_rows: %s\n", err.msg);
            return 1;
        }
    }

    uint64_t id[N], u[N];
    int64_t i64[N], d[N], dt[N], aie[6];
    double f[N], f32[N], afe[8];
    sp_str str[N], dec[N], ae[10];
    for (int r = 0; r < N; r++) {
        id[r] = (uint64_t)r + 1;
        str[r] = (sp_str){s_vals[r], strlen(s_vals[r])};
        i64[r] = i_vals[r];
        u[r] = u_vals[r];
        f[r] = f_vals[r];
        f32[r] = (double)f32_vals[r];
        d[r] = d_vals[r];
        dt[r] = dt_vals[r];
        dec[r] = (sp_str){dec_vals[r], strlen(dec_vals[r])};
    }
    for (int j = 0; j < 10; j++)
        ae[j] = (sp_str){a_elems[j], strlen(a_elems[j])};
    for (int j = 0; j < 6; j++)
        aie[j] = ai_elems[j];
    for (int j = 0; j < 8; j++)
        afe[j] = af_elems[j];

    sp_column kids[3] = {{0}, {0}, {0}};
    kids[0].type = s->types[8]->elem;
    kids[0].v.str = ae;
    kids[1].type = s->types[9]->elem;
    kids[1].v.i64 = aie;
    kids[1].nulls = ai_nulls;
    kids[2].type = s->types[12]->elem;
    kids[2].v.f64 = afe;

    sp_column cols[NC];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < NC; c++)
        cols[c].type = s->types[c];
    cols[0].v.u64 = id;
    cols[1].v.str = str;
    cols[2].v.i64 = i64;
    cols[3].v.u64 = u;
    cols[4].v.f64 = f;
    cols[5].v.f64 = f32;
    cols[6].v.i64 = d;
    cols[7].v.i64 = dt;
    cols[8].offsets = a_off;
    cols[8].child = &kids[0];
    cols[8].nchild = 1;
    cols[9].offsets = ai_off;
    cols[9].child = &kids[1];
    cols[9].nchild = 1;
    cols[10].v.str = str;
    cols[10].nulls = n_nulls;
    cols[11].v.str = dec;
    cols[12].offsets = af_off;
    cols[12].child = &kids[2];
    cols[12].nchild = 1;

    sp_batch b = {N, NC, cols};
    sp_buf out = SP_BUF_INIT(1 << 20);
    int rc = fmt->header(&out, s, &err);
    if (!rc)
        rc = fmt->rows(&out, s, &b, 0, N, &err);
    if (rc) {
        fprintf(stderr, "fmt_rows: %s\n", err.msg);
        return 1;
    }
    fwrite(out.data, 1, out.len, stdout);
    sp_buf_release(&out);
    sp_schema_free(s);
    return 0;
}
