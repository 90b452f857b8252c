// sp-deps: all
/* The Native reader (sp_ch_native) on hand-built blocks: every kind's value
 * as sp_ch_rbread carries it, nested types and their prefixes, junk under
 * NULLs, LowCardinality, blocks per chunk and batches per block (chunks
 * freed right after their call), the 4 MiB flush, header mismatches, bad
 * input and truncation at every byte (exact-size buffers: ASan sees any
 * overread). */
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_ch_fixture.h"
#include "sp_ch_native.h"
#include "sp_error.h"
#include "sp_test.h"
#include "sp_type.h"

/* ------------------------------------------------------------ building */

/* a block's dimensions, then a column's name and type */
static void b_block(sp_buf *b, size_t ncols, size_t nrows)
{
    b_leb(b, ncols);
    b_leb(b, nrows);
}

static void b_col(sp_buf *b, const char *name, const char *type)
{
    b_s(b, name);
    b_s(b, type);
}

/* LowCardinality data: flags (index width 1 << iw, keys follow), the keys
 * (already built), the row count and the indexes */
static void b_lc(sp_buf *b, int iw, const sp_buf *keys, size_t nkeys, const uint64_t *idx,
                 size_t n)
{
    b_le(b, (uint64_t)iw | 1u << 9 | 1u << 10, 8);
    b_le(b, nkeys, 8);
    b_raw(b, keys->data, keys->len);
    b_le(b, n, 8);
    for (size_t i = 0; i < n; i++)
        b_le(b, idx[i], 1 << iw);
}

SP_CH_FIXTURE_READ_CHUNKS(sp_ch_nat, sp_ch_nat)

/* ------------------------------------------------------------ tests */

/* the values of test_ch_rbread's every_scalar_kind, and a second row */
TEST(every_scalar_kind)
{
    sp_buf d = SP_BUF_INIT(1 << 20);
    b_block(&d, 37, 2);
    b_col(&d, "b", "Bool"), b_le(&d, 1, 1), b_le(&d, 0, 1);
    b_col(&d, "i8", "Int8"), b_le(&d, (uint64_t)-5, 1), b_le(&d, 127, 1);
    b_col(&d, "i16", "Int16"), b_le(&d, (uint64_t)-300, 2), b_le(&d, 32767, 2);
    b_col(&d, "i32", "Int32"), b_le(&d, (uint64_t)-70000, 4), b_le(&d, 2147483647, 4);
    b_col(&d, "i64", "Int64"), b_le(&d, (uint64_t)1 << 63, 8), b_le(&d, INT64_MAX, 8);
    b_col(&d, "u8", "UInt8"), b_le(&d, 255, 1), b_le(&d, 0, 1);
    b_col(&d, "u16", "UInt16"), b_le(&d, 65535, 2), b_le(&d, 1, 2);
    b_col(&d, "u32", "UInt32"), b_le(&d, 4294967295u, 4), b_le(&d, 2, 4);
    b_col(&d, "u64", "UInt64"), b_le(&d, UINT64_MAX, 8), b_le(&d, 3, 8);
    float f[2] = { 0.1f, -0.0f };
    b_col(&d, "f32", "Float32"), b_raw(&d, f, 8);
    double g[2] = { -2.5, 1e308 };
    b_col(&d, "f64", "Float64"), b_raw(&d, g, 16);
    b_col(&d, "d", "Date"), b_le(&d, 18262, 2), b_le(&d, 65535, 2);
    b_col(&d, "d32", "Date32"), b_le(&d, (uint64_t)-25567, 4), b_le(&d, 0, 4);
    b_col(&d, "dt", "DateTime"), b_le(&d, 1577836800, 4), b_le(&d, 4294967295u, 4);
    b_col(&d, "dt64", "DateTime64(3)"), b_le(&d, (uint64_t)-1, 8), b_le(&d, 123, 8);
    b_col(&d, "dtu", "DateTime('UTC')"), b_le(&d, 1, 4), b_le(&d, 2, 4);
    b_col(&d, "s", "String"), b_str(&d, "a\tb\0c", 5), b_s(&d, "");
    b_col(&d, "fs", "FixedString(3)"), b_raw(&d, "ab\0xyz", 6);
    b_col(&d, "u", "UUID"), b_le(&d, 0x61f0c4045cb311e7ull, 8), b_le(&d, 0x907ba6006ad3dba0ull, 8);
    b_le(&d, 0, 8), b_le(&d, 0, 8);
    b_col(&d, "ip4", "IPv4"), b_le(&d, 0x01020304, 4), b_le(&d, 0, 4);
    b_col(&d, "ip6", "IPv6"), b_raw(&d, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x01\x02\x03\x04", 16);
    b_raw(&d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    b_col(&d, "ip6b", "IPv6"), b_raw(&d, "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01", 16);
    b_raw(&d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    b_col(&d, "e8", "Enum8('a' = 1, 'b\\'c' = 2, 'x''y' = -3, 'back\\\\slash' = 4)");
    b_le(&d, 2, 1), b_le(&d, 4, 1);
    b_col(&d, "e8b", "Enum8('it''s' = -128, 'q' = 127)"), b_le(&d, 0x80, 1), b_le(&d, 127, 1);
    b_col(&d, "e16", "Enum16('neg' = -1000, 'pos' = 1000)");
    b_le(&d, (uint64_t)-1000, 2), b_le(&d, 1000, 2);
    b_col(&d, "d9", "Decimal(9, 2)"), b_big(&d, "-12345", 4), b_big(&d, "0", 4);
    b_col(&d, "d18", "Decimal(18, 4)"), b_big(&d, "15000", 8), b_big(&d, "-1", 8);
    b_col(&d, "d38", "Decimal(38, 10)"), b_big(&d, "-1428571428", 16), b_big(&d, "0", 16);
    b_col(&d, "d38b", "Decimal(38, 10)"), b_big(&d, "-12345678901234567890123456789", 16);
    b_big(&d, "1", 16);
    b_col(&d, "d76", "Decimal(76, 5)");
    b_big(&d, "-1000000000000000000000000000000000000000000000000000000000000000000000000005", 32);
    b_big(&d, "100000", 32);
    b_col(&d, "i128", "Int128"), b_big(&d, "-170141183460469231731687303715884105728", 16);
    b_big(&d, "0", 16);
    b_col(&d, "i256", "Int256");
    b_big(&d, "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
          32);
    b_big(&d, "-1", 32);
    b_col(&d, "u128", "UInt128"), b_big(&d, "340282366920938463463374607431768211455", 16);
    b_big(&d, "7", 16);
    b_col(&d, "u256", "UInt256");
    b_big(&d, "115792089237316195423570985008687907853269984665640564039457584007913129639935",
          32);
    b_big(&d, "0", 32);
    b_col(&d, "j", "JSON"), b_le(&d, 1, 8), b_s(&d, "{\"a\":1}"), b_s(&d, "{}");
    b_col(&d, "n", "Nullable(Nothing)"), b_raw(&d, "\x01\x01" "00", 4);
    b_col(&d, "z", "Decimal(18, 3)"), b_big(&d, "0", 8), b_big(&d, "-2500", 8);
    sink k;
    int rc;
    char *got = read_chunks(&d, 1, 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(k.nschema, 1);
    CHECK_STR(got, "1|-5|-300|-70000|-9223372036854775808|255|65535|4294967295|"
                   "18446744073709551615|0.10000000149011612|-2.5|18262|-25567|1577836800|-1|1|"
                   "a\\x09b\\x00c|ab\\x00|61f0c404-5cb3-11e7-907b-a6006ad3dba0|1.2.3.4|"
                   "::ffff:1.2.3.4|2001:db8::1:0:0:1|b'c|it's|neg|-123.45|1.5|-0.1428571428|"
                   "-1234567890123456789.0123456789|"
                   "-10000000000000000000000000000000000000000000000000000000000000000000000."
                   "00005|-170141183460469231731687303715884105728|"
                   "-57896044618658097711785492504343953926634992332820282019728792003956564819968|"
                   "340282366920938463463374607431768211455|"
                   "115792089237316195423570985008687907853269984665640564039457584007913129639935|"
                   "{\"a\":1}|NULL|0\n"
                   "0|127|32767|2147483647|9223372036854775807|0|1|2|3|-0|1e+308|65535|0|"
                   "4294967295|123|2||xyz|00000000-0000-0000-0000-000000000000|0.0.0.0|::|::1|"
                   "back\\slash|q|pos|0|-0.0001|0|0.0000000001|1|0|-1|7|0|{}|NULL|-2.5\n");
    free(got);
    sp_buf_release(&d);
}

TEST(nested_kinds_prefixes_and_nulls)
{
    sp_buf d = SP_BUF_INIT(4096), keys = SP_BUF_INIT(256);
    b_block(&d, 16, 2);
    b_col(&d, "a", "Array(Nullable(String))");
    b_le(&d, 3, 8), b_le(&d, 3, 8);                       /* offsets: 3, 0 more */
    b_raw(&d, "\0\x01\0", 3), b_s(&d, "x"), b_s(&d, "junk"), b_s(&d, "");
    b_col(&d, "m", "Map(String, Array(UInt8))");
    b_le(&d, 2, 8), b_le(&d, 2, 8);                       /* the map: 2 pairs, then 0 */
    b_s(&d, "k"), b_s(&d, "l");                           /* keys */
    b_le(&d, 2, 8), b_le(&d, 2, 8), b_raw(&d, "\x01\x02", 2); /* values */
    b_col(&d, "t", "Tuple(UInt8, String, Array(Int16))");
    b_raw(&d, "\x07\0", 2), b_s(&d, "q"), b_s(&d, "");
    b_le(&d, 1, 8), b_le(&d, 1, 8), b_le(&d, (uint64_t)-1, 2);
    b_col(&d, "lc", "LowCardinality(Nullable(String))");
    b_le(&d, 1, 8);                                       /* prefix: version 1 */
    b_s(&keys, ""), b_s(&keys, ""), b_s(&keys, "v");
    b_lc(&d, 0, &keys, 3, (const uint64_t[]){ 2, 0 }, 2);
    b_col(&d, "aa", "Array(Array(UInt8))");
    b_le(&d, 2, 8), b_le(&d, 3, 8), b_le(&d, 1, 8), b_le(&d, 3, 8), b_le(&d, 3, 8);
    b_raw(&d, "\x01\x02\x03", 3);
    b_col(&d, "nd", "Nullable(Decimal(18, 2))");
    b_raw(&d, "\x01\0", 2), b_big(&d, "-99", 8), b_big(&d, "150", 8);
    b_col(&d, "at", "Array(Tuple(s String, n Nullable(UInt32)))");
    b_le(&d, 2, 8), b_le(&d, 2, 8);
    b_s(&d, "a"), b_s(&d, "b"), b_raw(&d, "\0\x01", 2), b_le(&d, 1, 4), b_le(&d, 9, 4);
    b_col(&d, "ne", "Array(Nullable(Enum8('x' = 1)))");
    b_le(&d, 2, 8), b_le(&d, 2, 8), b_raw(&d, "\0\x01\x01\x00", 4); /* 0: no Enum value */
    b_col(&d, "mlc", "Map(LowCardinality(String), Array(LowCardinality(String)))");
    b_le(&d, 1, 8), b_le(&d, 1, 8);                       /* the key's prefix, the value's */
    b_le(&d, 1, 8), b_le(&d, 1, 8);                       /* one pair, then none */
    sp_buf_reset(&keys), b_s(&keys, ""), b_s(&keys, "key");
    b_lc(&d, 0, &keys, 2, (const uint64_t[]){ 1 }, 1);
    b_le(&d, 0, 8);                                       /* an empty array: no LC data */
    b_col(&d, "aj", "Array(JSON)");
    b_le(&d, 1, 8), b_le(&d, 1, 8), b_le(&d, 2, 8), b_s(&d, "{\"x\":1}"), b_s(&d, "{}");
    /* under a NULL, whatever the block holds: an Enum's 0, a NaN, bytes */
    b_col(&d, "e", "Nullable(Enum8('a' = 1))"), b_raw(&d, "\x01\0\x00\x01", 4);
    double g[2] = { __builtin_nan(""), 2.5 };
    b_col(&d, "f", "Nullable(Float64)"), b_raw(&d, "\x01\0", 2), b_raw(&d, g, 16);
    b_col(&d, "s", "Nullable(FixedString(2))"), b_raw(&d, "\x01\0" "xxyy", 6);
    b_col(&d, "u", "Nullable(UUID)"), b_raw(&d, "\0\x01", 2), b_le(&d, 1, 8), b_le(&d, 2, 8);
    b_le(&d, 3, 8), b_le(&d, 4, 8);
    b_col(&d, "i", "Nullable(Int16)"), b_raw(&d, "\x01\x01", 2), b_le(&d, 7, 2), b_le(&d, 8, 2);
    b_col(&d, "x", "Nullable(String)"), b_raw(&d, "\0\x01", 2), b_s(&d, "kept"), b_s(&d, "junk");
    sink k;
    int rc;
    char *got = read_chunks(&d, 1, 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, "[x,NULL,]|{k:[1,2],l:[]}|(7,q,[-1])|v|[[1],[2,3]]|NULL|[(a,1),(b,NULL)]|"
                   "[x,NULL]|{key:[]}|[{\"x\":1}]|"
                   "NULL|NULL|NULL|00000000-0000-0001-0000-000000000002|NULL|kept\n"
                   "[]|{}|(0,,[])|NULL|[[]]|1.5|[]|[]|{}|[{}]|a|2.5|yy|NULL|NULL|NULL\n");
    free(got);
    sp_buf_release(&d);
    sp_buf_release(&keys);
}

/* a key of each index width; keys of 8 bytes; a NULL key in the middle */
TEST(low_cardinality_widths)
{
    for (int iw = 0; iw < 4; iw++) {
        sp_buf d = SP_BUF_INIT(4096), keys = SP_BUF_INIT(256);
        b_block(&d, 4, 4);
        b_col(&d, "s", "LowCardinality(Nullable(String))");
        b_le(&d, 1, 8);
        b_s(&keys, ""), b_s(&keys, "a"), b_s(&keys, "bb");
        b_lc(&d, iw, &keys, 3, (const uint64_t[]){ 1, 0, 2, 1 }, 4);
        b_col(&d, "n", "LowCardinality(UInt64)");
        b_le(&d, 1, 8);
        sp_buf_reset(&keys), b_le(&keys, 0, 8), b_le(&keys, UINT64_MAX, 8);
        b_lc(&d, iw, &keys, 2, (const uint64_t[]){ 1, 1, 0, 1 }, 4);
        /* key 0 (NULL) not the zero value: zero under the NULLs all the same */
        b_col(&d, "z", "LowCardinality(Nullable(UInt64))");
        b_le(&d, 1, 8);
        sp_buf_reset(&keys), b_le(&keys, 5, 8), b_le(&keys, 7, 8);
        b_lc(&d, iw, &keys, 2, (const uint64_t[]){ 0, 1, 1, 0 }, 4);
        b_col(&d, "y", "LowCardinality(Nullable(String))");
        b_le(&d, 1, 8);
        sp_buf_reset(&keys), b_s(&keys, "junk"), b_s(&keys, "b");
        b_lc(&d, iw, &keys, 2, (const uint64_t[]){ 1, 0, 0, 0 }, 4);
        sink k;
        int rc;
        char *got = read_chunks(&d, 1, 0, &k, &rc);
        CHECK_INT(rc, 0);
        CHECK_STR(got, "a|18446744073709551615|NULL|b\nNULL|18446744073709551615|7|NULL\n"
                       "bb|0|7|NULL\na|18446744073709551615|NULL|NULL\n");
        free(got);
        sp_buf_release(&d);
        sp_buf_release(&keys);
    }
}

/* a block of `rows` rows (n UInt64, s Nullable(String) = n, NULL every
 * 1000th, a Array(LowCardinality(String)) of n % 3 "x") from row `from` */
static void numbers_block(sp_buf *b, size_t from, size_t rows)
{
    b_block(b, 3, rows);
    b_col(b, "n", "UInt64");
    for (size_t r = from; r < from + rows; r++)
        b_le(b, r, 8);
    b_col(b, "s", "Nullable(String)");
    for (size_t r = from; r < from + rows; r++)
        b_le(b, r % 1000 == 999, 1);
    for (size_t r = from; r < from + rows; r++) {
        char t[24];
        b_str(b, t, r % 1000 == 999 ? 0 : (size_t)snprintf(t, sizeof t, "%zu", r));
    }
    b_col(b, "a", "Array(LowCardinality(String))");
    if (!rows)
        return;
    b_le(b, 1, 8);
    size_t total = 0;
    for (size_t r = from; r < from + rows; r++)
        b_le(b, total += r % 3, 8);
    if (!total)
        return;
    sp_buf keys = SP_BUF_INIT(64);
    b_s(&keys, ""), b_s(&keys, "x");
    b_le(b, 1u << 9, 8), b_le(b, 2, 8), b_raw(b, keys.data, keys.len), b_le(b, total, 8);
    for (size_t i = 0; i < total; i++)
        b_le(b, 1, 1);
    sp_buf_release(&keys);
}

static char *numbers_want(void)
{
    sp_buf want = SP_BUF_INIT(1 << 20);
    for (int r = 0; r < 5000; r++) {
        if (r % 1000 == 999)
            sp_buf_addf(&want, NULL, "%d|NULL|", r);
        else
            sp_buf_addf(&want, NULL, "%d|%d|", r, r);
        sp_buf_adds(&want, r % 3 == 0 ? "[]\n" : r % 3 == 1 ? "[x]\n" : "[x,x]\n", NULL);
    }
    return sp_buf_detach(&want);
}

TEST(blocks_chunks_and_batches)
{
    /* rows per block, blocks per chunk, batch rows, batches wanted */
    static const struct { size_t per, bpc, batch, nb, most; } cases[] = {
        { 5000, 1, 2048, 3, 2048 }, { 5000, 1, 0, 3, 2048 }, { 333, 4, 2048, 16, 333 },
        { 7, 100, 3, 2143, 3 },     { 1, 50, 2048, 5000, 1 }, { 2500, 2, 1000, 6, 1000 },
    };
    char *want = numbers_want();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sp_buf chunks[5001];
        size_t n = 0;
        for (size_t row = 0; row < 5000; n++) {
            sp_buf_init(&chunks[n], 1 << 22);
            if (i == 2) /* an empty block first: no prefixes, no data */
                numbers_block(&chunks[n], row, 0);
            for (size_t b = 0; b < cases[i].bpc && row < 5000; b++, row += cases[i].per)
                numbers_block(&chunks[n], row, 5000 - row < cases[i].per ? 5000 - row
                                                                          : cases[i].per);
        }
        sink k;
        int rc;
        char *got = read_chunks(chunks, n, cases[i].batch, &k, &rc);
        CHECK_INT(rc, 0);
        CHECK_INT(k.nschema, 1);
        CHECK_INT(k.nbatches, cases[i].nb);
        CHECK_INT(k.maxrows, cases[i].most);
        CHECK_INT(k.rows, 5000);
        if (!got || strcmp(got, want))
            SP_T_FAIL("case %zu: the values differ: %.200s", i, got ? got : "");
        free(got);
        for (size_t c = 0; c < n; c++)
            sp_buf_release(&chunks[c]);
    }
    free(want);
    /* no chunk at all (or only empty ones): no schema, no error */
    sink k;
    int rc;
    sp_buf empty = SP_BUF_INIT(16);
    char *got = read_chunks(&empty, 1, 0, &k, &rc);
    CHECK(rc == 0 && k.nschema == 0 && got && !*got);
    free(got);
}

TEST(flush_past_4mib_of_text)
{
    sp_buf d = SP_BUF_INIT(1 << 26);
    char *big = malloc(1 << 20);
    memset(big, 'x', 1 << 20);
    b_block(&d, 2, 10);
    b_col(&d, "n", "UInt8");
    for (int i = 0; i < 10; i++)
        b_le(&d, (uint64_t)i, 1);
    b_col(&d, "a", "Array(String)");
    for (int i = 0; i < 10; i++)
        b_le(&d, (uint64_t)i + 1, 8);
    for (int i = 0; i < 10; i++)
        b_str(&d, big, 1 << 20);
    sink k;
    int rc;
    char *got = read_chunks(&d, 1, 0, &k, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(k.nbatches, 3); /* as sp_ch_rbread: 4, 4, 2 */
    CHECK_INT(k.maxrows, 4);
    CHECK_INT(k.rows, 10);
    CHECK(got && got[0] == '0' && strstr(got, "\n9|[x") != NULL);
    free(got);
    free(big);
    sp_buf_release(&d);
}

TEST(header_mismatch_fails)
{
    static const char *const second[][2] = { { "n", "UInt32" }, { "m", "UInt64" },
                                             { "n", "UInt64 " } };
    for (int i = 0; i < 4; i++) {
        sp_buf c[2] = { SP_BUF_INIT(4096), SP_BUF_INIT(4096) };
        b_block(&c[0], 1, 1), b_col(&c[0], "n", "UInt64"), b_le(&c[0], 1, 8);
        sp_buf *at = i == 0 ? &c[0] : &c[1]; /* in the same chunk, or the next */
        if (i == 3) {
            b_block(at, 2, 0), b_col(at, "n", "UInt64"), b_col(at, "x", "UInt8");
        } else {
            b_block(at, 1, 1), b_col(at, second[i][0], second[i][1]);
            b_le(at, 2, 8);
        }
        sink k;
        int rc;
        char *got = read_chunks(c, 2, 0, &k, &rc);
        CHECK_INT(rc, SP_EDATA);
        CHECK(got && strstr(got, "names and types are not the first block's"));
        free(got);
        sp_buf_release(&c[0]);
        sp_buf_release(&c[1]);
    }
}

TEST(unsupported_types_name_the_column)
{
    static const char *const types[] = { "Variant(String, UInt8)", "DateTime('Europe/Berlin')",
                                         "Tuple()", "Array(DateTime64(3, 'Asia/Tokyo'))",
                                         "Nothing", "BFloat16", "Dynamic" };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        sp_buf d = SP_BUF_INIT(4096);
        b_block(&d, 2, 1);
        b_col(&d, "ok", "UInt8"), b_le(&d, 1, 1);
        b_col(&d, "col\nx", types[i]);
        sink k;
        int rc;
        char *got = read_chunks(&d, 1, 0, &k, &rc);
        CHECK_INT(rc, SP_EUNSUPPORTED);
        CHECK_INT(k.nschema, 0); /* found before on_schema: the engine can fall back */
        CHECK(got && strstr(got, "'col x'") && !strchr(got, '\n'));
        free(got);
        sp_type *t = NULL;
        if (!sp_type_parse(types[i], &t, NULL))
            CHECK_INT(sp_ch_nat_supported(t), 0);
        sp_type_free(t);
        sp_buf_release(&d);
    }
}

TEST(malformed_values_fail)
{
    struct { const char *type, *data; size_t n, rows; const char *msg; } cases[] = {
        { "Enum8('a' = 1)", "\x05", 1, 1, "column 'c', rows 1-1: a number that is none" },
        { "Array(UInt8)", "\x02\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x01", 17, 2, "go backwards" },
        { "Array(UInt32)", "\xff\xff\0\0\0\0\0\0\x01", 9, 1, "element count past the end" },
        { "String", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11, 1, "ends inside" },
        { "String", "\x05" "abc", 4, 1, "column 'c', rows 1-1: the data ends inside" },
        { "JSON", "\x00\0\0\0\0\0\0\0\x02{}", 11, 1, "output_format_native_write_json_as_string=1" },
        { "LowCardinality(String)", "\x02\0\0\0\0\0\0\0", 8, 1, "an unknown version" },
        { "LowCardinality(String)", "\x01\0\0\0\0\0\0\0" "\0\x03\0\0\0\0\0\0" "\x01\0\0\0\0\0\0\0"
          "\0" "\x01\0\0\0\0\0\0\0" "\x01", 34, 1, "shared dictionary" },
        { "LowCardinality(String)", "\x01\0\0\0\0\0\0\0" "\0\x02\0\0\0\0\0\0" "\x01\0\0\0\0\0\0\0"
          "\0" "\x01\0\0\0\0\0\0\0" "\x01", 34, 1, "an index past the LowCardinality keys" },
        { "LowCardinality(String)", "\x01\0\0\0\0\0\0\0" "\0\x02\0\0\0\0\0\0" "\x01\0\0\0\0\0\0\0"
          "\0" "\x02\0\0\0\0\0\0\0" "\0", 34, 1, "row count is not its block's" },
        { "LowCardinality(String)", "\x01\0\0\0\0\0\0\0" "\0\x02\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0"
          "\x01\0\0\0\0\0\0\0" "\0", 33, 1, "an index past the LowCardinality keys" },
        { "UInt64", "\x01", 1, 1000000000000ull, "the data ends inside" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sp_buf d = SP_BUF_INIT(4096);
        b_block(&d, 1, cases[i].rows);
        b_col(&d, "c", cases[i].type);
        b_raw(&d, cases[i].data, cases[i].n);
        sink k;
        int rc;
        char *got = read_chunks(&d, 1, 0, &k, &rc);
        CHECK_INT(rc, SP_EDATA);
        if (!got || !strstr(got, cases[i].msg))
            SP_T_FAIL("case %zu: got '%s', want '%s'", i, got ? got : "", cases[i].msg);
        free(got);
        sp_buf_release(&d);
    }
    /* a block without columns; after an error the reader refuses */
    sp_ch_nat *r = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_ch_nat_new(0, NULL, NULL, NULL, &r, &err), &err);
    CHECK_INT(sp_ch_nat_chunk(r, "\x00\x05", 2, &err), SP_EDATA);
    CHECK(strstr(err.msg, "without columns") != NULL);
    sp_error e2 = SP_ERROR_INIT;
    CHECK_INT(sp_ch_nat_chunk(r, "\x00", 1, &e2), SP_EINVAL);
    CHECK_INT(sp_ch_nat_finish(r, &e2), SP_EINVAL);
    sp_ch_nat_free(r);
}

TEST(truncated_at_every_byte)
{
    sp_buf d = SP_BUF_INIT(4096), keys = SP_BUF_INIT(64);
    b_s(&keys, ""), b_s(&keys, ""), b_s(&keys, "k");
    size_t ends[3] = { 0, 0, 0 };
    for (int blk = 0; blk < 2; blk++) {
        b_block(&d, 7, 2);
        b_col(&d, "n", "UInt16"), b_le(&d, 7, 2), b_le(&d, 8, 2);
        b_col(&d, "s", "Nullable(String)"), b_raw(&d, "\0\x01", 2), b_s(&d, "hello"), b_s(&d, "");
        b_col(&d, "a", "Array(Tuple(UInt8, String))"), b_le(&d, 2, 8), b_le(&d, 2, 8);
        b_raw(&d, "\x01\x02", 2), b_s(&d, "ab"), b_s(&d, "");
        b_col(&d, "d", "Decimal(9, 2)"), b_big(&d, "-5", 4), b_big(&d, "5", 4);
        b_col(&d, "u", "UUID"), b_le(&d, 1, 8), b_le(&d, 2, 8), b_le(&d, 3, 8), b_le(&d, 4, 8);
        b_col(&d, "m", "Map(String, Int64)"), b_le(&d, 1, 8), b_le(&d, 1, 8), b_s(&d, "k");
        b_le(&d, 3, 8);
        b_col(&d, "l", "LowCardinality(Nullable(String))"), b_le(&d, 1, 8);
        b_lc(&d, 0, &keys, 3, (const uint64_t[]){ 2, 0 }, 2);
        ends[blk + 1] = d.len;
    }
    for (size_t cut = 1; cut <= d.len; cut++) {
        sp_buf c = SP_BUF_INIT(4096);
        b_raw(&c, d.data, cut);
        sink k;
        int rc;
        char *got = read_chunks(&c, 1, 0, &k, &rc);
        int whole = cut == ends[1] || cut == ends[2];
        size_t rows = cut >= ends[2] ? 4 : cut >= ends[1] ? 2 : 0;
        if (whole ? rc != 0 || k.rows != rows : rc != SP_EDATA)
            SP_T_FAIL("cut at %zu of %zu: rc %d, %zu rows: %s", cut, d.len, rc, k.rows,
                      got ? got : "");
        if (!whole && got && !strstr(got, "header is cut short") && !strstr(got, ", rows "))
            SP_T_FAIL("cut at %zu: message '%s'", cut, got);
        free(got);
        sp_buf_release(&c);
    }
    sp_buf_release(&d);
    sp_buf_release(&keys);
}

int main(void)
{
    RUN(every_scalar_kind);
    RUN(nested_kinds_prefixes_and_nulls);
    RUN(low_cardinality_widths);
    RUN(blocks_chunks_and_batches);
    RUN(flush_past_4mib_of_text);
    RUN(header_mismatch_fails);
    RUN(unsupported_types_name_the_column);
    RUN(malformed_values_fail);
    RUN(truncated_at_every_byte);
    return sp_test_done();
}
