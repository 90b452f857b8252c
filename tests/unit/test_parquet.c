// sp-deps: sp_buf sp_error sp_type sp_batch sp_dtoa sp_format sp_format_* sp_thrift sp_rle sp_date sp_time sp_ch_escape
/* The Parquet writer's pieces: the Thrift compact encoder (bytes checked
 * against the protocol spec), the RLE / bit-packed hybrid (the spec's
 * example, round trips of every bit width), and the writer's framing and
 * refusals.  tests/e2e/parquet.sh reads whole files back with ClickHouse
 * and DuckDB. */
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_rle.h"
#include "sp_test.h"
#include "sp_thrift.h"

#define BYTES(...) ((const unsigned char[]){ __VA_ARGS__ }), sizeof((const unsigned char[]){ __VA_ARGS__ })

static int same(const sp_buf *b, const unsigned char *want, size_t n)
{
    if (b->len == n && !memcmp(b->data, want, n))
        return 1;
    printf("#   got:  ");
    for (size_t i = 0; i < b->len; i++)
        printf("%02x ", (unsigned char)b->data[i]);
    printf("\n#   want: ");
    for (size_t i = 0; i < n; i++)
        printf("%02x ", want[i]);
    printf("\n");
    return 0;
}

TEST(thrift_fields)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    sp_thrift t;
    sp_thrift_init(&t, &b, NULL);
    sp_thrift_i32(&t, 1, 2);      /* delta 1, i32: 0x15, zigzag(2) = 4 */
    sp_thrift_i64(&t, 2, -1);     /* delta 1, i64: 0x16, zigzag(-1) = 1 */
    sp_thrift_bool(&t, 3, 1);     /* 0x11: true in the type nibble */
    sp_thrift_bool(&t, 4, 0);     /* 0x12 */
    sp_thrift_i32(&t, 20, 300);   /* delta 16: long form 0x05, zigzag(20) = 40, zigzag(300) = 600 */
    sp_thrift_string(&t, 21, "ab");
    sp_thrift_byte(&t, 22, 8);
    sp_thrift_struct_end(&t);
    CHECK_INT(t.rc, 0);
    CHECK(same(&b, BYTES(0x15, 0x04, 0x16, 0x01, 0x11, 0x12, 0x05, 0x28, 0xd8, 0x04, 0x18, 0x02,
                         'a', 'b', 0x13, 0x08, 0x00)));
    sp_buf_release(&b);
}

TEST(thrift_nesting_and_lists)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    sp_thrift t;
    sp_thrift_init(&t, &b, NULL);
    sp_thrift_i32(&t, 5, 1);
    sp_thrift_struct_begin(&t, 6); /* 0x1c; field ids restart inside */
    sp_thrift_i32(&t, 1, 0);
    sp_thrift_struct_end(&t);
    sp_thrift_i32(&t, 7, 0); /* delta from 6, not from the inner 1 */
    sp_thrift_list_begin(&t, 8, SP_THRIFT_I32, 3);
    for (int i = 0; i < 3; i++)
        sp_thrift_elem_i32(&t, i);
    sp_thrift_list_begin(&t, 9, SP_THRIFT_STRUCT, 20); /* >= 15: 0xfc + varint */
    for (int i = 0; i < 20; i++) {
        sp_thrift_elem_struct(&t);
        sp_thrift_struct_end(&t);
    }
    sp_thrift_struct_end(&t);
    CHECK_INT(t.rc, 0);
    unsigned char want[64] = { 0x55, 0x02, 0x1c, 0x15, 0x00, 0x00, 0x15, 0x00,
                               0x19, 0x35, 0x00, 0x02, 0x04, 0x19, 0xfc, 20 };
    size_t n = 16;
    for (int i = 0; i < 20; i++)
        want[n++] = 0;
    want[n++] = 0;
    CHECK(same(&b, want, n));
    sp_buf_release(&b);
}

TEST(rle_spec_examples)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    /* the spec's bit-packing example: 0..7 in 3 bits */
    uint32_t v[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    CHECK_OK(sp_rle_encode32(v, 8, 3, &b, NULL), NULL);
    CHECK(same(&b, BYTES(0x03, 0x88, 0xc6, 0xfa)));
    /* a run: 10 x 1 in 1 bit -> header 10 << 1, one value byte */
    sp_buf_reset(&b);
    uint8_t ones[10];
    memset(ones, 1, sizeof ones);
    CHECK_OK(sp_rle_encode8(ones, 10, 1, &b, NULL), NULL);
    CHECK(same(&b, BYTES(0x14, 0x01)));
    /* a short tail is bit-packed, padded to a group of 8 */
    sp_buf_reset(&b);
    uint8_t three[3] = { 1, 0, 1 };
    CHECK_OK(sp_rle_encode8(three, 3, 1, &b, NULL), NULL);
    CHECK(same(&b, BYTES(0x03, 0x05)));
    /* 300 equal 2-byte values: varint header, two value bytes */
    sp_buf_reset(&b);
    uint32_t big[300];
    for (int i = 0; i < 300; i++)
        big[i] = 0x1234;
    CHECK_OK(sp_rle_encode32(big, 300, 13, &b, NULL), NULL);
    CHECK(same(&b, BYTES(0xd8, 0x04, 0x34, 0x12)));
    sp_buf_release(&b);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

TEST(rle_round_trips)
{
    enum { N = 5000 };
    uint32_t *v = malloc(N * sizeof *v), *back = malloc(N * sizeof *back);
    sp_buf b = SP_BUF_INIT((size_t)1 << 24);
    for (int bw = 0; bw <= 32; bw++) {
        uint32_t mask = bw == 32 ? 0xffffffffu : (1u << bw) - 1;
        for (int shape = 0; shape < 3; shape++) {
            size_t n = 1 + (size_t)(rng() % N);
            for (size_t i = 0; i < n; i++) {
                if (shape == 0)      /* noise */
                    v[i] = (uint32_t)rng() & mask;
                else if (shape == 1) /* runs of random lengths */
                    v[i] = i && rng() % 13 ? v[i - 1] : (uint32_t)rng() & mask;
                else                 /* runs of 7 and 8: the boundary */
                    v[i] = (uint32_t)((i / (7 + i % 2)) & mask);
            }
            sp_buf_reset(&b);
            int rc = sp_rle_encode32(v, n, bw, &b, NULL);
            memset(back, 0xee, n * sizeof *back);
            if (rc || sp_rle_decode((unsigned char *)b.data, b.len, bw, back, n) ||
                memcmp(v, back, n * sizeof *v)) {
                SP_T_FAIL("bit width %d, shape %d, %zu values: no round trip", bw, shape, n);
                break;
            }
        }
    }
    /* the 8-bit entry point writes the same bytes */
    uint8_t lv[300];
    sp_buf b2 = SP_BUF_INIT(1 << 20);
    for (int i = 0; i < 300; i++)
        v[i] = lv[i] = (uint8_t)(i % 17 < 9 ? 2 : i % 3);
    CHECK_OK(sp_rle_encode32(v, 300, 2, &b, NULL), NULL);
    sp_buf_reset(&b);
    CHECK_OK(sp_rle_encode32(v, 300, 2, &b, NULL), NULL);
    CHECK_OK(sp_rle_encode8(lv, 300, 2, &b2, NULL), NULL);
    CHECK(b.len == b2.len && !memcmp(b.data, b2.data, b.len));
    sp_buf_release(&b);
    sp_buf_release(&b2);
    free(v);
    free(back);
}

/* ---- the writer --------------------------------------------------------- */

static uint32_t le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return u[0] | u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

TEST(writer_framing)
{
    sp_error err = SP_ERROR_INIT;
    sp_type *ti = NULL, *ts = NULL;
    CHECK_OK(sp_type_parse("Int32", &ti, &err), &err);
    CHECK_OK(sp_type_parse("LowCardinality(Nullable(String))", &ts, &err), &err);
    char *names[2] = { "id", "s" };
    sp_type *types[2] = { ti, ts };
    sp_schema s = { 2, names, types };
    int64_t ids[5] = { 1, 2, 3, 4, 5 };
    sp_str strs[5] = { { "a", 1 }, { "b", 1 }, { "", 0 }, { "a", 1 }, { "a", 1 } };
    uint8_t nulls[5] = { 0, 0, 1, 0, 0 };
    sp_column cols[2] = { { .type = ti, .v.i64 = ids }, { .type = ts, .nulls = nulls, .v.str = strs } };
    sp_batch b = { 5, 2, cols };
    const sp_format *f = sp_format_find("parquet");
    CHECK(f == &sp_format_parquet);
    CHECK(f->rows == NULL && f->w_open != NULL);
    sp_buf out = SP_BUF_INIT(1 << 20);
    CHECK_OK(f->header(&out, &s, &err), &err);
    CHECK_MEM(out.data, out.len, "PAR1", 4);
    sp_fmt_writer *w = NULL;
    sp_fmt_opts o = { "none", 2, 0 };
    CHECK_OK(f->w_open(&w, &s, &o, &err), &err);
    /* 5 rows in groups of 2: two groups are out, one row is buffered */
    CHECK_OK(f->w_rows(w, &b, 0, 5, &out, &err), &err);
    size_t after_rows = out.len;
    CHECK(after_rows > 4);
    CHECK(f->w_buffered(w) > 0);
    CHECK_OK(f->w_finish(w, &out, &err), &err);
    CHECK(out.len > after_rows + 8);
    CHECK_MEM(out.data + out.len - 4, 4, "PAR1", 4);
    uint32_t flen = le32(out.data + out.len - 8);
    CHECK(flen > 0 && flen < out.len - 12);
    /* the footer names the writer and the columns */
    CHECK(memmem(out.data + out.len - 8 - flen, flen, "sinkpipe", 8) != NULL);
    CHECK(memmem(out.data + out.len - 8 - flen, flen, "id", 2) != NULL);
    /* rows after the footer are refused */
    sp_error e2 = SP_ERROR_INIT;
    CHECK(f->w_rows(w, &b, 0, 1, &out, &e2) != 0);
    f->w_free(w);
    /* a bad codec name */
    sp_fmt_opts bad = { "brotli", 0, 0 };
    sp_error e3 = SP_ERROR_INIT;
    CHECK(f->w_open(&w, &s, &bad, &e3) != 0);
    CHECK(strstr(e3.msg, "unknown page compression 'brotli' (expected snappy, zstd, gzip, "
                         "lz4, none)") != NULL);
    /* lz4: LZ4_RAW pages */
    sp_fmt_opts lz = { "lz4", 0, 0 };
    CHECK_OK(f->w_open(&w, &s, &lz, &e3), &e3);
    f->w_free(w);
    sp_buf_release(&out);
    sp_type_free(ti);
    sp_type_free(ts);
}

TEST(writer_refuses)
{
    const char *bad[][2] = {
        { "Nullable(Nothing)", "parquet: column 'c': type Nullable(Nothing) (NULL without a type)" },
        { "Array(Nothing)", "parquet: column 'c': type Nothing" },
        { "Variant(String, UInt8)", "has no Parquet mapping" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_error err = SP_ERROR_INIT;
        sp_type *t = NULL;
        if (sp_type_parse(bad[i][0], &t, &err)) {
            SP_T_FAIL("%s does not parse: %s", bad[i][0], err.msg);
            continue;
        }
        char *names[1] = { "c" };
        sp_type *types[1] = { t };
        sp_schema s = { 1, names, types };
        sp_buf out = SP_BUF_INIT(1 << 20);
        int rc = sp_format_parquet.header(&out, &s, &err);
        CHECK(rc == SP_EUNSUPPORTED);
        CHECK_INT((int)out.len, 0);
        if (!strstr(err.msg, bad[i][1]))
            SP_T_FAIL("%s: message '%s' lacks '%s'", bad[i][0], err.msg, bad[i][1]);
        sp_buf_release(&out);
        sp_type_free(t);
    }
}

TEST(writer_bad_value)
{
    sp_error err = SP_ERROR_INIT;
    sp_type *t = NULL;
    CHECK_OK(sp_type_parse("UUID", &t, &err), &err);
    char *names[1] = { "u" };
    sp_type *types[1] = { t };
    sp_schema s = { 1, names, types };
    sp_str v[1] = { { "not-a-uuid", 10 } };
    sp_column c = { .type = t, .v.str = v };
    sp_batch b = { 1, 1, &c };
    sp_fmt_writer *w = NULL;
    sp_buf out = SP_BUF_INIT(1 << 20);
    CHECK_OK(sp_format_parquet.w_open(&w, &s, NULL, &err), &err);
    CHECK(sp_format_parquet.w_rows(w, &b, 0, 1, &out, &err) == SP_EDATA);
    CHECK(strstr(err.msg, "column 'u': cannot convert 'not-a-uuid'") != NULL);
    sp_format_parquet.w_free(w);
    sp_buf_release(&out);
    sp_type_free(t);
}

/* many rows of nested types: pages, row groups, a dictionary that passes
 * its 1 MiB bound and falls back to PLAIN, NULLs at every level (run under
 * ASan by `tests/run.sh --all`; the values are read back by ClickHouse and
 * DuckDB in tests/e2e/parquet.sh) */
TEST(writer_nested_many_rows)
{
    enum { N = 3000, ROUNDS = 40 };
    sp_error err = SP_ERROR_INIT;
    const char *tn[] = { "Array(Nullable(String))", "Map(String, UInt64)",
                         "Tuple(a Int32, b LowCardinality(String))", "Decimal(76, 20)",
                         "Int256", "Nullable(Float64)", "Bool", "Array(Array(UInt8))" };
    enum { NC = sizeof tn / sizeof tn[0] };
    sp_type *t[NC];
    char *names[NC] = { "arr", "m", "t", "d", "i", "f", "b", "aa" };
    for (int j = 0; j < NC; j++)
        CHECK_OK(sp_type_parse(tn[j], &t[j], &err), &err);
    sp_schema s = { NC, names, t };
    /* element data: 2 elements per row for the arrays and the map */
    static char text[N][48], dec[N][48];
    static sp_str estr[2 * N], kstr[2 * N], lcs[N], decs[N], ints[N];
    static uint8_t enull[2 * N], fnull[N], inner_elems[4 * N];
    static uint64_t off[N + 1], mval[2 * N], bools[N], off2[2 * N + 1];
    static int64_t ta[N];
    static double fv[N];
    for (int i = 0; i < N; i++) {
        off[i] = (uint64_t)(2 * i);
        snprintf(text[i], sizeof text[i], "v%d", i);
        snprintf(dec[i], sizeof dec[i], "%s%d.%05d", i % 2 ? "-" : "", i * 7919, i);
        decs[i] = (sp_str){ dec[i], strlen(dec[i]) };
        ints[i] = (sp_str){ text[i] + 1, strlen(text[i] + 1) };
        lcs[i] = (sp_str){ text[i], strlen(text[i]) };
        ta[i] = i;
        fv[i] = i * 0.5;
        fnull[i] = i % 3 == 0;
        bools[i] = i & 1;
        for (int k = 0; k < 2; k++) {
            estr[2 * i + k] = (sp_str){ text[i], strlen(text[i]) };
            kstr[2 * i + k] = (sp_str){ k ? "b" : "a", 1 };
            enull[2 * i + k] = (i + k) % 4 == 0;
            mval[2 * i + k] = (uint64_t)i;
            off2[2 * i + k] = (uint64_t)(2 * i + k) * 2 - (uint64_t)(i % 2 && k ? 0 : 0);
        }
    }
    off[N] = 2 * N;
    off2[2 * N] = 4 * N;
    sp_column ec = { .type = t[0]->elem, .nulls = enull, .v.str = estr };
    sp_column mk[2] = { { .type = t[1]->key, .v.str = kstr }, { .type = t[1]->elem, .v.u64 = mval } };
    sp_column tc[2] = { { .type = t[2]->elems[0], .v.i64 = ta },
                        { .type = t[2]->elems[1], .v.str = lcs } };
    sp_column inner = { .type = t[7]->elem->elem, .v.u64 = (const uint64_t *)NULL };
    static uint64_t inner_vals[4 * N];
    for (int i = 0; i < 4 * N; i++)
        inner_vals[i] = inner_elems[i] = (uint8_t)i;
    inner.v.u64 = inner_vals;
    sp_column mid = { .type = t[7]->elem, .offsets = off2, .child = &inner, .nchild = 1 };
    sp_column cols[NC] = {
        { .type = t[0], .offsets = off, .child = &ec, .nchild = 1 },
        { .type = t[1], .offsets = off, .child = mk, .nchild = 2 },
        { .type = t[2], .child = tc, .nchild = 2 },
        { .type = t[3], .v.str = decs },
        { .type = t[4], .v.str = ints },
        { .type = t[5], .nulls = fnull, .v.f64 = fv },
        { .type = t[6], .v.u64 = bools },
        { .type = t[7], .offsets = off, .child = &mid, .nchild = 1 },
    };
    sp_batch b = { N, NC, cols };
    sp_fmt_writer *w = NULL;
    sp_fmt_opts o = { "zstd", 50000, 0 };
    sp_buf out = SP_BUF_INIT((size_t)1 << 30);
    CHECK_OK(sp_format_parquet.header(&out, &s, &err), &err);
    CHECK_OK(sp_format_parquet.w_open(&w, &s, &o, &err), &err);
    /* the LowCardinality strings differ per round: the dictionary grows
     * past 1 MiB and falls back to PLAIN */
    static char lct[N][64];
    for (int r = 0; r < ROUNDS && !err.code; r++) {
        for (int i = 0; i < N; i++) {
            snprintf(lct[i], sizeof lct[i], "round %d row %d xxxxxxxxxxxxxx", r, i);
            lcs[i] = (sp_str){ lct[i], strlen(lct[i]) };
        }
        CHECK_OK(sp_format_parquet.w_rows(w, &b, 0, r % 2 ? N : N / 2, &out, &err), &err);
        CHECK_OK(sp_format_parquet.w_rows(w, &b, r % 2 ? N : N / 2, N, &out, &err), &err);
        if (r == 7)
            CHECK_OK(sp_format_parquet.w_flush(w, &out, &err), &err);
    }
    CHECK_OK(sp_format_parquet.w_finish(w, &out, &err), &err);
    CHECK(out.len > 1000);
    CHECK_MEM(out.data + out.len - 4, 4, "PAR1", 4);
    sp_format_parquet.w_free(w);
    sp_buf_release(&out);
    for (int j = 0; j < NC; j++)
        sp_type_free(t[j]);
}

int main(void)
{
    RUN(thrift_fields);
    RUN(thrift_nesting_and_lists);
    RUN(rle_spec_examples);
    RUN(rle_round_trips);
    RUN(writer_framing);
    RUN(writer_refuses);
    RUN(writer_bad_value);
    RUN(writer_nested_many_rows);
    return sp_test_done();
}
