// sp-deps: sp_buf sp_error sp_crc32c sp_codec sp_codec_*
#include <libdeflate.h>
#include <snappy-c.h>
#include <stdint.h>
#include <zlib.h>
#include <lz4frame.h>
#include <zstd.h>

#include "sp_test.h"
#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_crc32c.h"
#include "sp_error.h"

/* ---- test data ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* text: CSV-like rows, compressible */
static unsigned char *make_text(size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    size_t i = 0;
    rng_state = 0x9e3779b97f4a7c15ull;
    while (i < n) {
        char row[96];
        int k = snprintf(row, sizeof row, "%llu,\"user_%llu\",2024-01-%02llu,%llu.%02llu\n",
                         (unsigned long long)(i / 40),
                         (unsigned long long)(rng() % 1000),
                         (unsigned long long)(rng() % 28 + 1),
                         (unsigned long long)(rng() % 100000),
                         (unsigned long long)(rng() % 100));
        for (int j = 0; j < k && i < n; j++)
            p[i++] = (unsigned char)row[j];
    }
    return p;
}

/* noise: random bytes, incompressible */
static unsigned char *make_noise(size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    rng_state = 0x1234567887654321ull;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(rng() >> 24);
    return p;
}

/* compress `in` with codec c; writes of random sizes in [1, maxw] (maxw 0:
 * one write of everything).  Returns 0 or the failing code. */
static int compress_with(sp_codec_state *st, const sp_codec *c,
                         const unsigned char *in, size_t n, size_t maxw,
                         sp_buf *out, sp_error *err)
{
    size_t off = 0;
    int rc;
    rng_state = 0xabcdef0123456789ull ^ n;
    while (off < n) {
        size_t w = maxw ? 1 + (size_t)(rng() % maxw) : n - off;
        if (w > n - off)
            w = n - off;
        if ((rc = c->write(st, in + off, w, out, err)))
            return rc;
        off += w;
    }
    return c->finish(st, out, err);
}

/* ---- gzip reader: zlib over every member -------------------------------- */

/* gunzip: inflate all members of (p, n) into out; *members gets the count.
 * Returns 0, or -1 on a malformed stream. */
static int gunzip(const unsigned char *p, size_t n, sp_buf *out, int *members)
{
    z_stream z;
    unsigned char tmp[65536];
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    *members = 0;
    int rc = -1;
    for (;;) {
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        int zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        if (sp_buf_add(out, tmp, sizeof tmp - z.avail_out, NULL))
            break;
        if (zr == Z_STREAM_END) {
            (*members)++;
            if (z.avail_in == 0) {
                rc = 0;
                break;
            }
            inflateReset(&z);
        } else if (z.avail_in == 0 && z.avail_out != 0) {
            break; /* truncated */
        }
    }
    inflateEnd(&z);
    return rc;
}

static void gzip_round_trip(const unsigned char *in, size_t n, size_t chunk,
                            size_t maxw, int level, int want_members)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int members = -1;
    CHECK_OK(sp__gzip_open_chunk(&st, level, chunk, &err), &err);
    if (!st)
        return;
    CHECK_OK(compress_with(st, &sp_codec_gzip, in, n, maxw, &out, &err), &err);
    sp_codec_gzip.free(st);
    CHECK(out.len >= 18);
    CHECK_INT(gunzip((unsigned char *)out.data, out.len, &back, &members), 0);
    CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in, n);
    if (want_members >= 0)
        CHECK_INT(members, want_members);
    sp_buf_release(&out);
    sp_buf_release(&back);
}

TEST(gzip_round_trip_small_chunks)
{
    size_t n = 300000;
    unsigned char *in = make_text(n);
    gzip_round_trip(in, n, 4096, 10000, 0, (int)((n + 4095) / 4096));
    gzip_round_trip(in, n, 4096, 4096, 6, (int)((n + 4095) / 4096));
    gzip_round_trip(in, n, 1000, 0, 12, (int)((n + 999) / 1000));
    free(in);
}

TEST(gzip_round_trip_default_chunk)
{
    size_t n = 3 * SP_GZIP_CHUNK_DEFAULT + 12345;
    unsigned char *in = make_text(n);
    gzip_round_trip(in, n, 0, 200000, 0, 4);
    gzip_round_trip(in, n, 0, 0, 1, 4); /* straight from the caller's memory */
    free(in);
}

TEST(gzip_exact_chunk_multiple)
{
    unsigned char *in = make_text(8192);
    gzip_round_trip(in, 8192, 4096, 0, 0, 2);
    gzip_round_trip(in, 8192, 4096, 4096, 0, 2);
    free(in);
}

TEST(gzip_empty_input_is_valid)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int members = 0;
    CHECK_OK(sp_codec_gzip.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_gzip.write(st, "", 0, &out, &err), &err);
    CHECK_OK(sp_codec_gzip.finish(st, &out, &err), &err);
    sp_codec_gzip.free(st);
    CHECK(out.len >= 18);
    CHECK_INT((unsigned char)out.data[0], 0x1f);
    CHECK_INT((unsigned char)out.data[1], 0x8b);
    CHECK_INT(gunzip((unsigned char *)out.data, out.len, &back, &members), 0);
    CHECK_INT(back.len, 0);
    CHECK_INT(members, 1);
    sp_buf_release(&out);
    sp_buf_release(&back);
}

TEST(gzip_one_byte_writes)
{
    unsigned char *in = make_text(20000);
    gzip_round_trip(in, 20000, 3000, 1, 0, 7);
    free(in);
}

TEST(gzip_incompressible)
{
    size_t n = 2 * SP_GZIP_CHUNK_DEFAULT + 77;
    unsigned char *in = make_noise(n);
    gzip_round_trip(in, n, 0, 100000, 0, 3);
    gzip_round_trip(in, 5000, 1024, 700, 9, 5);
    free(in);
}

TEST(gzip_bad_level)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_codec_gzip.open(&st, 13, &err), SP_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "13") != NULL);
    sp_error_clear(&err);
    CHECK_INT(sp_codec_gzip.open(&st, -1, &err), SP_EINVAL);
}

TEST(gzip_output_ceiling_fails_cleanly)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(100);
    unsigned char *in = make_noise(10000);
    CHECK_OK(sp__gzip_open_chunk(&st, 0, 1000, &err), &err);
    CHECK_INT(compress_with(st, &sp_codec_gzip, in, 10000, 0, &out, &err),
              SP_ETOOBIG);
    CHECK_INT(err.code, SP_ETOOBIG);
    sp_codec_gzip.free(st);
    sp_buf_release(&out);
    free(in);
}

/* ---- gzip on the worker thread ------------------------------------------ */

/* gz_run: compress in[0..n) with the given options, writing pieces whose
 * sizes cycle through sizes[0..nsizes) (0 entries: one write of everything);
 * the output goes to out.  Returns 0 or the failing code. */
static int gz_run(const unsigned char *in, size_t n, size_t chunk, int slots,
                  int threaded, const size_t *sizes, size_t nsizes,
                  sp_buf *out, sp_error *err)
{
    sp_codec_state *st = NULL;
    int rc = sp__gzip_open_opts(&st, 0, chunk, slots, threaded, err);
    size_t off = 0, k = 0;
    while (!rc && off < n) {
        size_t w = nsizes ? sizes[k++ % nsizes] : n - off;
        if (w > n - off)
            w = n - off;
        rc = sp_codec_gzip.write(st, in + off, w, out, err);
        off += w;
    }
    if (!rc)
        rc = sp_codec_gzip.finish(st, out, err);
    sp_codec_gzip.free(st);
    return rc;
}

/* reference: the single-threaded codec's output, built straight with
 * libdeflate (level 1): one member per chunk, one empty member for n = 0 */
static void reference(const unsigned char *in, size_t n, size_t chunk,
                      sp_buf *out)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    size_t bound = libdeflate_gzip_compress_bound(c, chunk);
    unsigned char *tmp = malloc(bound);
    size_t off = 0;
    do {
        size_t k = n - off < chunk ? n - off : chunk;
        size_t z = libdeflate_gzip_compress(c, n ? in + off : (const unsigned char *)"",
                                            k, tmp, bound);
        if (!z || sp_buf_add(out, tmp, z, NULL))
            SP_T_FAIL("reference: compressing %zu bytes failed", k);
        off += k;
    } while (off < n);
    free(tmp);
    libdeflate_free_compressor(c);
}

/* same_as_inline: threaded output equals inline output (and both equal the
 * single-threaded reference) and round-trips */
static void same_as_inline(const unsigned char *in, size_t n, size_t chunk,
                           int slots, const size_t *sizes, size_t nsizes)
{
    sp_error err = SP_ERROR_INIT;
    sp_buf a = SP_BUF_INIT(0), b = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    sp_buf r = SP_BUF_INIT(0);
    int members = -1;
    CHECK_OK(gz_run(in, n, chunk, 0, 0, sizes, nsizes, &a, &err), &err);
    CHECK_OK(gz_run(in, n, chunk, slots, 1, sizes, nsizes, &b, &err), &err);
    reference(in, n, chunk, &r);
    if (a.len != r.len || memcmp(a.data, r.data, a.len) != 0)
        SP_T_FAIL("n=%zu chunk=%zu nsizes=%zu: inline %zu bytes differ from "
                  "the reference's %zu", n, chunk, nsizes, a.len, r.len);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        SP_T_FAIL("n=%zu chunk=%zu slots=%d nsizes=%zu: inline %zu bytes, "
                  "threaded %zu bytes, not identical", n, chunk, slots,
                  nsizes, a.len, b.len);
    CHECK_INT(gunzip((unsigned char *)b.data, b.len, &back, &members), 0);
    CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in, n);
    CHECK_INT(members, n ? (int)((n + chunk - 1) / chunk) : 1);
    sp_buf_release(&a);
    sp_buf_release(&b);
    sp_buf_release(&r);
    sp_buf_release(&back);
}

TEST(gzip_threaded_identical_to_inline)
{
    size_t n = 200000, c = 4096;
    unsigned char *in = make_text(n);
    const size_t one[] = {1}, around[] = {c - 1, c, c + 1, 1, 2 * c, 3 * c + 7},
                 odd[] = {4095, 17, 12289, 3, 8192, 0, 5000};
    const int slots[] = {1, 2, 4, 7};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        same_as_inline(in, n, c, slots[i], NULL, 0);
        same_as_inline(in, n, c, slots[i], around, 6);
        same_as_inline(in, n, c, slots[i], odd, 7);
    }
    same_as_inline(in, 30000, 1000, 4, one, 1);
    same_as_inline(in, 3 * c, c, 4, NULL, 0); /* exact multiple */
    same_as_inline(in, c, c, 4, NULL, 0);     /* exactly one chunk */
    same_as_inline(in, c - 1, c, 4, NULL, 0); /* below one chunk */
    same_as_inline(in, 0, c, 4, NULL, 0);     /* empty */
    same_as_inline(in, 100, 1, 3, NULL, 0);   /* 100 one-byte members */
    free(in);
}

TEST(gzip_threaded_identical_default_chunk)
{
    size_t n = 5 * SP_GZIP_CHUNK_DEFAULT + 999;
    unsigned char *in = make_text(n);
    const size_t sizes[] = {65536, 100000, 1};
    same_as_inline(in, n, SP_GZIP_CHUNK_DEFAULT, 4, NULL, 0);
    same_as_inline(in, n, SP_GZIP_CHUNK_DEFAULT, 4, sizes, 3);
    free(in);
}

TEST(gzip_threaded_many_members)
{
    size_t n = 1500000;
    unsigned char *in = make_text(n);
    gzip_round_trip(in, n, 512, 3000, 0, (int)((n + 511) / 512));
    gzip_round_trip(in, n, 512, 0, 0, (int)((n + 511) / 512));
    free(in);
}

TEST(gzip_small_object_starts_no_thread)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    unsigned char *in = make_text(5000);
    CHECK_OK(sp__gzip_open_chunk(&st, 0, 4096, &err), &err);
    CHECK_OK(sp_codec_gzip.write(st, in, 4095, &out, &err), &err);
    CHECK_INT(sp__gzip_worker_started(st), 0);
    CHECK_OK(sp_codec_gzip.finish(st, &out, &err), &err);
    CHECK_INT(sp__gzip_worker_started(st), 0);
    sp_codec_gzip.free(st);
    CHECK_OK(sp__gzip_open_chunk(&st, 0, 4096, &err), &err);
    CHECK_OK(sp_codec_gzip.write(st, in, 4096, &out, &err), &err);
    CHECK_INT(sp__gzip_worker_started(st), 1); /* the first full chunk */
    sp_codec_gzip.free(st);
    CHECK_OK(sp__gzip_open_opts(&st, 0, 1000, 4, 0, &err), &err);
    CHECK_OK(sp_codec_gzip.write(st, in, 5000, &out, &err), &err);
    CHECK_INT(sp__gzip_worker_started(st), 0); /* inline mode */
    sp_codec_gzip.free(st);
    sp_buf_release(&out);
    free(in);
}

TEST(gzip_free_without_finish)
{
    size_t n = 100000;
    unsigned char *in = make_text(n);
    const int slots[] = {1, 2, 4};
    for (size_t i = 0; i < 3; i++) {
        /* after 0, part of 1, several and a ring's worth of chunks */
        const size_t lens[] = {0, 100, 1000, 3500, 40000, n};
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            sp_codec_state *st = NULL;
            sp_error err = SP_ERROR_INIT;
            sp_buf out = SP_BUF_INIT(0);
            CHECK_OK(sp__gzip_open_opts(&st, 0, 1000, slots[i], 1, &err), &err);
            CHECK_OK(sp_codec_gzip.write(st, in, lens[j], &out, &err), &err);
            sp_codec_gzip.free(st); /* must stop and join the worker */
            sp_buf_release(&out);
        }
    }
    free(in);
}

TEST(gzip_threaded_finish_twice_and_write_after)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int members = 0;
    unsigned char *in = make_text(10500);
    CHECK_OK(sp__gzip_open_chunk(&st, 0, 1000, &err), &err);
    CHECK_OK(sp_codec_gzip.write(st, in, 10500, &out, &err), &err);
    CHECK_OK(sp_codec_gzip.finish(st, &out, &err), &err);
    size_t len = out.len;
    CHECK_OK(sp_codec_gzip.finish(st, &out, &err), &err);
    CHECK_INT(out.len, len);
    CHECK_INT(sp_codec_gzip.write(st, "x", 1, &out, &err), SP_EINTERNAL);
    sp_codec_gzip.free(st);
    CHECK_INT(gunzip((unsigned char *)out.data, out.len, &back, &members), 0);
    CHECK_MEM(back.data, back.len, (const char *)in, 10500);
    CHECK_INT(members, 11);
    sp_buf_release(&out);
    sp_buf_release(&back);
    free(in);
}

TEST(gzip_threaded_empty_input)
{
    for (int threaded = 0; threaded < 2; threaded++) {
        sp_codec_state *st = NULL;
        sp_error err = SP_ERROR_INIT;
        sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
        int members = 0;
        CHECK_OK(sp__gzip_open_opts(&st, 0, 64, 4, threaded, &err), &err);
        CHECK_OK(sp_codec_gzip.write(st, "", 0, &out, &err), &err);
        CHECK_OK(sp_codec_gzip.finish(st, &out, &err), &err);
        sp_codec_gzip.free(st);
        CHECK_INT(gunzip((unsigned char *)out.data, out.len, &back, &members), 0);
        CHECK_INT(back.len, 0);
        CHECK_INT(members, 1);
        sp_buf_release(&out);
        sp_buf_release(&back);
    }
}

/* a member failing to compress surfaces on a later write or on finish, in
 * order: the members before it are in out, none after it */
TEST(gzip_worker_error_surfaces)
{
    unsigned char *in = make_text(20000);
    for (int threaded = 0; threaded < 2; threaded++) {
        const long fail[] = {0, 2, 19};
        for (size_t f = 0; f < 3; f++) {
            sp_codec_state *st = NULL;
            sp_error err = SP_ERROR_INIT;
            sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
            int members = 0, rc = 0;
            size_t off = 0;
            CHECK_OK(sp__gzip_open_opts(&st, 0, 1000, 4, threaded, &err), &err);
            sp__gzip_fail_member(st, fail[f]);
            while (!rc && off < 20000) {
                size_t w = 20000 - off < 700 ? 20000 - off : 700;
                rc = sp_codec_gzip.write(st, in + off, w, &out, &err);
                off += w;
            }
            if (!rc)
                rc = sp_codec_gzip.finish(st, &out, &err);
            CHECK_INT(rc, SP_ECODEC);
            CHECK(strstr(err.msg, "1000 bytes") != NULL);
            sp_error_clear(&err);
            CHECK(sp_codec_gzip.write(st, "x", 1, &out, &err) < 0);
            CHECK(sp_codec_gzip.finish(st, &out, &err) < 0);
            sp_codec_gzip.free(st);
            if (out.len)
                CHECK_INT(gunzip((unsigned char *)out.data, out.len, &back,
                                 &members), 0);
            CHECK_INT(members, (int)fail[f]);
            CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in,
                      1000 * (size_t)fail[f]);
            sp_buf_release(&out);
            sp_buf_release(&back);
        }
    }
    free(in);
}

TEST(gzip_threaded_output_ceiling)
{
    unsigned char *in = make_noise(50000);
    for (int threaded = 0; threaded < 2; threaded++) {
        sp_error err = SP_ERROR_INIT;
        sp_buf out = SP_BUF_INIT(5000); /* room for 4 members of ~1018 bytes */
        const size_t sizes[] = {333};
        CHECK_INT(gz_run(in, 50000, 1000, 3, threaded, sizes, 1, &out, &err),
                  SP_ETOOBIG);
        CHECK_INT(err.code, SP_ETOOBIG);
        CHECK(out.len <= 5000);
        sp_buf_release(&out);
    }
    free(in);
}

TEST(gzip_bad_slots)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp__gzip_open_opts(&st, 0, 0, -1, 1, &err), SP_EINVAL);
    CHECK(st == NULL);
    sp_error_clear(&err);
    CHECK_INT(sp__gzip_open_opts(&st, 0, 0, SP_GZIP_SLOTS_MAX + 1, 1, &err),
              SP_EINVAL);
    CHECK(strstr(err.msg, "slots") != NULL);
}

/* ---- snappy reader: a framing-format decoder ----------------------------- */

typedef struct frame_stats {
    int compressed, uncompressed;
    size_t max_chunk_in;
} frame_stats;

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* unframe: decode a framed snappy stream into out; returns 0, or a negative
 * line-ish code telling which check failed */
static int unframe(const unsigned char *p, size_t n, sp_buf *out,
                   frame_stats *fs)
{
    static const unsigned char id[10] = {0xff, 0x06, 0x00, 0x00, 0x73,
                                         0x4e, 0x61, 0x50, 0x70, 0x59};
    char tmp[SP_SNAPPY_CHUNK];
    memset(fs, 0, sizeof *fs);
    if (n < 10 || memcmp(p, id, 10) != 0)
        return -1;
    size_t off = 10;
    while (off < n) {
        if (n - off < 4)
            return -2;
        unsigned type = p[off];
        size_t len = p[off + 1] | (size_t)p[off + 2] << 8 | (size_t)p[off + 3] << 16;
        off += 4;
        if (len > n - off)
            return -3;
        const unsigned char *d = p + off;
        off += len;
        if (type == 0xff) {
            if (len != 6 || memcmp(d, id + 4, 6) != 0)
                return -4;
            continue;
        }
        if (type >= 0x80)
            continue; /* skippable chunk (padding and such) */
        if (type != 0x00 && type != 0x01)
            return -5; /* reserved unskippable chunk */
        if (len < 4)
            return -6;
        uint32_t want = le32(d);
        size_t ulen;
        const char *data;
        if (type == 0x00) {
            if (snappy_uncompressed_length((const char *)d + 4, len - 4, &ulen) != SNAPPY_OK ||
                ulen > SP_SNAPPY_CHUNK)
                return -7;
            if (snappy_uncompress((const char *)d + 4, len - 4, tmp, &ulen) != SNAPPY_OK)
                return -8;
            data = tmp;
            fs->compressed++;
        } else {
            ulen = len - 4;
            if (ulen > SP_SNAPPY_CHUNK)
                return -9;
            data = (const char *)d + 4;
            fs->uncompressed++;
        }
        if (ulen > fs->max_chunk_in)
            fs->max_chunk_in = ulen;
        if (sp__snappy_mask_crc(sp_crc32c(0, data, ulen)) != want)
            return -10;
        if (sp_buf_add(out, data, ulen, NULL))
            return -11;
    }
    return 0;
}

static void snappy_round_trip(const unsigned char *in, size_t n, size_t maxw,
                              frame_stats *fs)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    CHECK_OK(sp_codec_snappy.open(&st, 0, &err), &err);
    if (!st)
        return;
    CHECK_OK(compress_with(st, &sp_codec_snappy, in, n, maxw, &out, &err), &err);
    sp_codec_snappy.free(st);
    CHECK_INT(unframe((unsigned char *)out.data, out.len, &back, fs), 0);
    CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in, n);
    CHECK(fs->max_chunk_in <= SP_SNAPPY_CHUNK);
    sp_buf_release(&out);
    sp_buf_release(&back);
}

/* ---- zstd: decoded with libzstd's own decompressor ----------------------- */

/* unzstd: decode every frame of (p, n) into out; *frames gets the count of
 * complete frames.  A trailing incomplete frame (a flushed, unfinished
 * stream) is decoded as far as it goes when `partial`; otherwise it is an
 * error.  Returns 0 or -1. */
static int unzstd(const unsigned char *p, size_t n, sp_buf *out, int *frames,
                  int partial)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    unsigned char tmp[65536];
    ZSTD_inBuffer ib = {p, n, 0};
    size_t left = 0;
    int rc = 0;
    *frames = 0;
    while (d && ib.pos < ib.size) {
        ZSTD_outBuffer ob = {tmp, sizeof tmp, 0};
        left = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(left) || sp_buf_add(out, tmp, ob.pos, NULL)) {
            rc = -1;
            break;
        }
        if (left == 0)
            (*frames)++;
    }
    for (;;) { /* drain what the decoder still holds */
        ZSTD_outBuffer ob = {tmp, sizeof tmp, 0};
        if (rc || !d || left == 0)
            break;
        left = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(left) || sp_buf_add(out, tmp, ob.pos, NULL))
            rc = -1;
        if (ob.pos == 0)
            break;
    }
    if (!d || (left != 0 && !partial))
        rc = -1;
    ZSTD_freeDCtx(d);
    return rc;
}

static void zstd_round_trip(const unsigned char *in, size_t n, size_t maxw, int workers,
                            int level)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int frames = -1;
    CHECK_OK(sp__zstd_open_opts(&st, level, workers, &err), &err);
    if (!st)
        return;
    CHECK_OK(compress_with(st, &sp_codec_zstd, in, n, maxw, &out, &err), &err);
    sp_codec_zstd.free(st);
    CHECK_INT(unzstd((unsigned char *)out.data, out.len, &back, &frames, 0), 0);
    CHECK_INT(frames, 1);
    CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in, n);
    /* the frame header descriptor (after the 4-byte magic): bit 2 is the
     * content checksum flag (RFC 8878 3.1.1.1.1) — readers verify it */
    CHECK(out.len > 4 && (((unsigned char)out.data[4] >> 2) & 1) == 1);
    CHECK_INT(ZSTD_findFrameCompressedSize(out.data, out.len), out.len);
    sp_buf_release(&out);
    sp_buf_release(&back);
}

TEST(zstd_library_has_threads)
{
    /* Debian's libzstd is built with threads; the codec uses them */
    CHECK(sp__zstd_workers_max() >= SP_ZSTD_WORKERS_DEFAULT);
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_codec_zstd.open(&st, 0, &err), &err);
    CHECK_INT(sp__zstd_workers(st), SP_ZSTD_WORKERS_DEFAULT);
    sp_codec_zstd.free(st);
}

TEST(zstd_round_trip_text)
{
    size_t n = (size_t)9 << 20; /* several of libzstd's jobs */
    unsigned char *in = make_text(n);
    zstd_round_trip(in, n, 200000, 2, 0);
    zstd_round_trip(in, n, 0, 2, 3);
    zstd_round_trip(in, n, 70000, 0, 0);
    free(in);
}

TEST(zstd_small_writes_and_noise)
{
    unsigned char *in = make_text(20000);
    zstd_round_trip(in, 20000, 1, 2, 0);
    free(in);
    in = make_noise(3 << 20);
    zstd_round_trip(in, 3 << 20, 100000, 2, 0);
    zstd_round_trip(in, 3 << 20, 100000, 0, 19);
    free(in);
}

TEST(zstd_empty_input_is_a_frame)
{
    for (int w = 0; w <= 2; w += 2) {
        sp_codec_state *st = NULL;
        sp_error err = SP_ERROR_INIT;
        sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
        int frames = 0;
        CHECK_OK(sp__zstd_open_opts(&st, 0, w, &err), &err);
        CHECK_OK(sp_codec_zstd.finish(st, &out, &err), &err);
        size_t len = out.len;
        CHECK_OK(sp_codec_zstd.finish(st, &out, &err), &err); /* idempotent */
        CHECK_INT(out.len, len);
        CHECK_INT(sp_codec_zstd.write(st, "x", 1, &out, &err), SP_EINTERNAL);
        sp_codec_zstd.free(st);
        CHECK(out.len >= 9); /* magic, header, empty last block */
        CHECK_INT(unzstd((unsigned char *)out.data, out.len, &back, &frames, 0), 0);
        CHECK_INT(frames, 1);
        CHECK_INT(back.len, 0);
        sp_buf_release(&out);
        sp_buf_release(&back);
    }
}

/* two states one after the other (the sink reopens a codec after evicting
 * it) make two frames; a decoder reads both as one stream */
TEST(zstd_multi_frame)
{
    size_t n = (size_t)3 << 20;
    unsigned char *in = make_text(n);
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    sp_error err = SP_ERROR_INIT;
    size_t cut[] = {0, 1000, n / 3, n};
    for (int f = 0; f < 3; f++) {
        sp_codec_state *st = NULL;
        CHECK_OK(sp__zstd_open_opts(&st, 0, f == 1 ? 0 : 2, &err), &err);
        CHECK_OK(compress_with(st, &sp_codec_zstd, in + cut[f], cut[f + 1] - cut[f], 50000,
                               &out, &err),
                 &err);
        sp_codec_zstd.free(st);
    }
    int frames = 0;
    CHECK_INT(unzstd((unsigned char *)out.data, out.len, &back, &frames, 0), 0);
    CHECK_INT(frames, 3);
    CHECK_MEM(back.data, back.len, (const char *)in, n);
    sp_buf_release(&out);
    sp_buf_release(&back);
    free(in);
}

TEST(zstd_bad_level_and_workers)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_codec_zstd.open(&st, -1, &err), SP_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "level -1") != NULL);
    sp_error_clear(&err);
    CHECK_INT(sp_codec_zstd.open(&st, SP_ZSTD_LEVEL_MAX + 1, &err), SP_EINVAL);
    sp_error_clear(&err);
    CHECK_INT(sp__zstd_open_opts(&st, 0, SP_ZSTD_WORKERS_MAX + 1, &err), SP_EINVAL);
    CHECK(strstr(err.msg, "workers") != NULL);
    CHECK(st == NULL);
}

/* libzstd failing (sp__zstd_break) surfaces as SP_ECODEC on the write it
 * failed, with libzstd's reason; the state then refuses more */
TEST(zstd_failure_surfaces)
{
    size_t n = (size_t)5 << 20;
    unsigned char *in = make_text(n);
    for (int w = 0; w <= 2; w += 2) {
        for (size_t maxw = 1000; maxw <= 1000000; maxw *= 1000) {
            sp_codec_state *st = NULL;
            sp_error err = SP_ERROR_INIT;
            sp_buf out = SP_BUF_INIT(0);
            CHECK_OK(sp__zstd_open_opts(&st, 0, w, &err), &err);
            CHECK_INT(sp__zstd_break(st), 0);
            int rc = compress_with(st, &sp_codec_zstd, in, n, maxw, &out, &err);
            CHECK_INT(rc, SP_ECODEC);
            CHECK(strstr(err.msg, "zstd: compressing failed") != NULL);
            sp_error_clear(&err);
            CHECK_INT(sp_codec_zstd.write(st, "x", 1, &out, &err), SP_EINTERNAL);
            sp_error_clear(&err);
            CHECK_INT(sp_codec_zstd.finish(st, &out, &err), SP_EINTERNAL);
            sp_codec_zstd.free(st);
            sp_buf_release(&out);
        }
    }
    free(in);
}

TEST(zstd_output_ceiling_fails_cleanly)
{
    unsigned char *in = make_noise(1 << 20);
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(100000);
    CHECK_OK(sp__zstd_open_opts(&st, 0, 2, &err), &err);
    CHECK_INT(compress_with(st, &sp_codec_zstd, in, 1 << 20, 65536, &out, &err),
              SP_ETOOBIG);
    CHECK(out.len <= 100000);
    sp_codec_zstd.free(st); /* joins libzstd's workers mid-frame */
    sp_buf_release(&out);
    free(in);
}

TEST(zstd_free_without_finish)
{
    unsigned char *in = make_text(6 << 20);
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    CHECK_OK(sp_codec_zstd.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_zstd.write(st, in, 6 << 20, &out, &err), &err);
    sp_codec_zstd.free(st);
    sp_buf_release(&out);
    free(in);
}

/* ---- flush: every codec's output holds everything written so far -------- */

/* ---- lz4: decoded with liblz4's own frame decompressor ------------------- */

/* unlz4: decode the frames of (p, n) into out; *frames gets the count of
 * complete frames (LZ4F_decompress returns 0 at a frame's end, after its
 * checksum was verified).  A trailing incomplete frame (a flushed,
 * unfinished stream) is decoded as far as it goes when `partial`; otherwise
 * it is an error.  Returns 0 or -1. */
static int unlz4(const unsigned char *p, size_t n, sp_buf *out, int *frames, int partial)
{
    LZ4F_dctx *d = NULL;
    unsigned char tmp[65536];
    size_t hint = 1;
    int rc = LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)) ? -1 : 0;
    *frames = 0;
    while (!rc && n) {
        size_t dst = sizeof tmp, src = n;
        hint = LZ4F_decompress(d, tmp, &dst, p, &src, NULL);
        if (LZ4F_isError(hint) || sp_buf_add(out, tmp, dst, NULL))
            rc = -1;
        if (!rc && hint == 0)
            (*frames)++;
        p += src;
        n -= src;
    }
    for (size_t dst = sizeof tmp; !rc && hint && dst; ) { /* held output */
        size_t src = 0;
        dst = sizeof tmp;
        hint = LZ4F_decompress(d, tmp, &dst, p, &src, NULL);
        if (LZ4F_isError(hint) || sp_buf_add(out, tmp, dst, NULL))
            rc = -1;
    }
    if (hint != 0 && !partial)
        rc = -1;
    LZ4F_freeDecompressionContext(d);
    return rc;
}

static void lz4_round_trip(const unsigned char *in, size_t n, size_t maxw, int level)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int frames = -1;
    CHECK_OK(sp_codec_lz4.open(&st, level, &err), &err);
    if (!st)
        return;
    CHECK_OK(compress_with(st, &sp_codec_lz4, in, n, maxw, &out, &err), &err);
    sp_codec_lz4.free(st);
    CHECK_INT(unlz4((unsigned char *)out.data, out.len, &back, &frames, 0), 0);
    CHECK_INT(frames, 1);
    CHECK_MEM(back.data ? back.data : "", back.len, (const char *)in, n);
    /* magic 0x184D2204, then FLG: version 01, block independence 0 (linked),
     * content checksum bit 2 set; BD: 64 KiB blocks (4 << 4) */
    CHECK(out.len > 6 && le32((const unsigned char *)out.data) == 0x184D2204u);
    if (out.len > 6) {
        CHECK_INT((unsigned char)out.data[4] & 0xec, 0x44);
        CHECK_INT((unsigned char)out.data[5], 0x40);
    }
    sp_buf_release(&out);
    sp_buf_release(&back);
}

TEST(lz4_round_trip_text_and_noise)
{
    size_t n = (size_t)3 << 20;
    unsigned char *in = make_text(n);
    lz4_round_trip(in, n, 200000, 0);
    lz4_round_trip(in, n, 0, 9); /* one write; LZ4HC */
    lz4_round_trip(in, 70000, 1, 0);
    free(in);
    in = make_noise(1 << 20);
    lz4_round_trip(in, 1 << 20, 100000, 0);
    free(in);
}

TEST(lz4_compresses_text)
{
    size_t n = (size_t)1 << 20;
    unsigned char *in = make_text(n);
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    CHECK_OK(sp_codec_lz4.open(&st, 0, &err), &err);
    CHECK_OK(compress_with(st, &sp_codec_lz4, in, n, 50000, &out, &err), &err);
    sp_codec_lz4.free(st);
    CHECK(out.len > 0 && out.len < n / 2);
    sp_buf_release(&out);
    free(in);
}

TEST(lz4_empty_input_is_a_frame)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0), back = SP_BUF_INIT(0);
    int frames = 0;
    CHECK_OK(sp_codec_lz4.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_lz4.finish(st, &out, &err), &err);
    sp_codec_lz4.free(st);
    CHECK_INT(out.len, 15); /* magic, FLG, BD, HC, end mark, checksum */
    CHECK_INT(unlz4((unsigned char *)out.data, out.len, &back, &frames, 0), 0);
    CHECK_INT(frames, 1);
    CHECK_INT(back.len, 0);
    sp_buf_release(&out);
    sp_buf_release(&back);
}

TEST(lz4_bad_level_and_ceiling)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_codec_lz4.open(&st, 13, &err), SP_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "lz4: level 13") != NULL);
    sp_error_clear(&err);
    CHECK_INT(sp_codec_lz4.open(&st, -1, &err), SP_EINVAL);
    sp_error_clear(&err);
    /* an output ceiling fails the write cleanly; the state then refuses more */
    unsigned char *in = make_noise(1 << 20);
    sp_buf out = SP_BUF_INIT(100000);
    CHECK_OK(sp_codec_lz4.open(&st, 0, &err), &err);
    CHECK_INT(sp_codec_lz4.write(st, in, 1 << 20, &out, &err), SP_ETOOBIG);
    sp_error_clear(&err);
    CHECK_INT(sp_codec_lz4.write(st, "x", 1, &out, &err), SP_EINTERNAL);
    CHECK(strstr(err.msg, "after a failure") != NULL);
    sp_codec_lz4.free(st);
    sp_buf_release(&out);
    free(in);
}

static int decode_any(const sp_codec *c, const sp_buf *z, sp_buf *back)
{
    int k = 0;
    frame_stats fs;
    if (c == &sp_codec_gzip)
        return gunzip((const unsigned char *)z->data, z->len, back, &k);
    if (c == &sp_codec_snappy)
        return unframe((const unsigned char *)z->data, z->len, back, &fs);
    if (c == &sp_codec_zstd)
        return unzstd((const unsigned char *)z->data, z->len, back, &k, 1);
    if (c == &sp_codec_lz4)
        return unlz4((const unsigned char *)z->data, z->len, back, &k, 1);
    return sp_buf_add(back, z->data, z->len, NULL) ? -1 : 0;
}

TEST(flush_outputs_everything_written)
{
    size_t n = (size_t)3 << 20;
    unsigned char *in = make_text(n);
    const sp_codec *cs[] = {&sp_codec_none, &sp_codec_gzip, &sp_codec_snappy,
                            &sp_codec_zstd, &sp_codec_lz4};
    size_t cut[] = {777, (size_t)1 << 20, ((size_t)5 << 19) + 3, n};
    for (int i = 0; i < 5; i++) {
        sp_codec_state *st = NULL;
        sp_error err = SP_ERROR_INIT;
        sp_buf out = SP_BUF_INIT(0);
        CHECK_OK(cs[i]->open(&st, 0, &err), &err);
        size_t off = 0;
        for (int k = 0; k < 4; k++) {
            CHECK_OK(cs[i]->write(st, in + off, cut[k] - off, &out, &err), &err);
            off = cut[k];
            CHECK_OK(cs[i]->flush(st, &out, &err), &err);
            CHECK_OK(cs[i]->flush(st, &out, &err), &err); /* twice: nothing held */
            sp_buf back = SP_BUF_INIT(0);
            CHECK_INT(decode_any(cs[i], &out, &back), 0);
            if (back.len != off)
                fprintf(stderr, "  codec %s, after %zu bytes\n", cs[i]->name, off);
            CHECK_MEM(back.data, back.len, (const char *)in, off);
            sp_buf_release(&back);
        }
        CHECK_OK(cs[i]->finish(st, &out, &err), &err);
        CHECK_INT(cs[i]->flush(st, &out, &err) < 0, cs[i] != &sp_codec_none);
        cs[i]->free(st);
        sp_buf back = SP_BUF_INIT(0);
        CHECK_INT(decode_any(cs[i], &out, &back), 0);
        CHECK_MEM(back.data, back.len, (const char *)in, n);
        sp_buf_release(&back);
        sp_buf_release(&out);
    }
    free(in);
}

TEST(crc32c_known_vectors)
{
    unsigned char b[32];
    CHECK_INT(sp_crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_INT(sp_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    CHECK_INT(sp_crc32c(0, NULL, 0), 0);
    memset(b, 0, sizeof b); /* RFC 3720 B.4 */
    CHECK_INT(sp_crc32c(0, b, 32), 0x8A9136AAu);
    CHECK_INT(sp_crc32c_sw(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    CHECK_INT(sp_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    CHECK_INT(sp_crc32c(0, b, 32), 0x46DD794Eu);
    CHECK_INT(sp_crc32c_sw(0, b, 32), 0x46DD794Eu);
    /* pieces: crc(a + b) == crc(crc(a), b) */
    CHECK_INT(sp_crc32c(sp_crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
    /* framing-format mask (computed with python-snappy's formula) */
    CHECK_INT(sp__snappy_mask_crc(0xE3069283u), 0xC78AB0E5u);
}

TEST(crc32c_hw_matches_table)
{
    unsigned char *buf = make_noise(5000);
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n < 300; n += 7) {
            uint32_t a = sp_crc32c(0, buf + off, n), b = sp_crc32c_sw(0, buf + off, n);
            if (a != b) {
                CHECK_INT(a, b);
                free(buf);
                return;
            }
        }
    CHECK_INT(sp_crc32c(0, buf, 5000), sp_crc32c_sw(0, buf, 5000));
    free(buf);
}

TEST(snappy_round_trip_text)
{
    frame_stats fs;
    size_t n = 1000000;
    unsigned char *in = make_text(n);
    snappy_round_trip(in, n, 30000, &fs);
    CHECK_INT(fs.compressed + fs.uncompressed, (n + 65535) / 65536);
    CHECK(fs.compressed > 0);
    CHECK_INT(fs.max_chunk_in, 65536);
    snappy_round_trip(in, n, 0, &fs); /* straight from the caller's memory */
    CHECK_INT(fs.compressed + fs.uncompressed, (n + 65535) / 65536);
    snappy_round_trip(in, 65536 * 3, 65536, &fs);
    CHECK_INT(fs.compressed + fs.uncompressed, 3);
    free(in);
}

TEST(snappy_incompressible_uses_raw_chunks)
{
    frame_stats fs;
    size_t n = 200000;
    unsigned char *in = make_noise(n);
    snappy_round_trip(in, n, 50000, &fs);
    CHECK_INT(fs.compressed, 0);
    CHECK_INT(fs.uncompressed, 4);
    free(in);
}

TEST(snappy_one_byte_writes)
{
    frame_stats fs;
    unsigned char *in = make_text(70000);
    snappy_round_trip(in, 70000, 1, &fs);
    CHECK_INT(fs.compressed + fs.uncompressed, 2);
    free(in);
}

TEST(snappy_empty_input_is_stream_identifier)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    CHECK_OK(sp_codec_snappy.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_snappy.write(st, "", 0, &out, &err), &err);
    CHECK_OK(sp_codec_snappy.finish(st, &out, &err), &err);
    sp_codec_snappy.free(st);
    CHECK_MEM(out.data, out.len, "\xff\x06\x00\x00sNaPpY", 10);
    sp_buf_release(&out);
}

TEST(snappy_known_small_frame)
{
    /* "aaaa...": 100 'a' -> one compressed chunk, CRC over the raw bytes */
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    char a[100];
    memset(a, 'a', sizeof a);
    CHECK_OK(sp_codec_snappy.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_snappy.write(st, a, sizeof a, &out, &err), &err);
    CHECK_OK(sp_codec_snappy.finish(st, &out, &err), &err);
    sp_codec_snappy.free(st);
    CHECK(out.len > 18);
    if (out.len > 18) {
        const unsigned char *c = (const unsigned char *)out.data + 10;
        CHECK_INT(c[0], 0x00);
        CHECK_INT(c[1] | c[2] << 8 | c[3] << 16, out.len - 14);
        CHECK_INT(le32(c + 4), sp__snappy_mask_crc(sp_crc32c(0, a, sizeof a)));
    }
    sp_buf_release(&out);
}

TEST(none_passes_through)
{
    sp_codec_state *st = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_buf out = SP_BUF_INIT(0);
    CHECK_OK(sp_codec_none.open(&st, 0, &err), &err);
    CHECK_OK(sp_codec_none.write(st, "ab", 2, &out, &err), &err);
    CHECK_OK(sp_codec_none.write(st, "", 0, &out, &err), &err);
    CHECK_OK(sp_codec_none.write(st, "c", 1, &out, &err), &err);
    CHECK_OK(sp_codec_none.finish(st, &out, &err), &err);
    CHECK_INT(sp_codec_none.write(st, "d", 1, &out, &err), SP_EINTERNAL);
    sp_codec_none.free(st);
    CHECK_MEM(out.data, out.len, "abc", 3);
    sp_buf_release(&out);
}

TEST(write_after_finish_fails)
{
    const sp_codec *cs[] = {&sp_codec_gzip, &sp_codec_snappy, &sp_codec_zstd, &sp_codec_lz4};
    for (int i = 0; i < 4; i++) {
        sp_codec_state *st = NULL;
        sp_error err = SP_ERROR_INIT;
        sp_buf out = SP_BUF_INIT(0);
        CHECK_OK(cs[i]->open(&st, 0, &err), &err);
        CHECK_OK(cs[i]->finish(st, &out, &err), &err);
        size_t len = out.len;
        CHECK_OK(cs[i]->finish(st, &out, &err), &err); /* idempotent */
        CHECK_INT(out.len, len);
        CHECK_INT(cs[i]->write(st, "x", 1, &out, &err), SP_EINTERNAL);
        cs[i]->free(st);
        sp_buf_release(&out);
    }
}

TEST(find_and_names)
{
    CHECK(sp_codec_find("none") == &sp_codec_none);
    CHECK(sp_codec_find("gzip") == &sp_codec_gzip);
    CHECK(sp_codec_find("snappy") == &sp_codec_snappy);
    CHECK(sp_codec_find("zstd") == &sp_codec_zstd);
    CHECK(sp_codec_find("gz") == &sp_codec_gzip); /* aliases */
    CHECK(sp_codec_find("zst") == &sp_codec_zstd);
    CHECK(sp_codec_find("GZIP") == NULL);
    CHECK(sp_codec_find("lz4") == &sp_codec_lz4);
    CHECK(sp_codec_find("xz") == NULL);
    CHECK(sp_codec_find("") == NULL);
    CHECK(sp_codec_find(NULL) == NULL);
    CHECK_STR(sp_codec_names(), "none, gzip, snappy, zstd, lz4");
    char aliases[32];
    CHECK_STR(sp_codec_aliases(aliases, sizeof aliases), "gz, zst");
    CHECK_STR(sp_codec_aliases(aliases, 4), "gz,");
    CHECK_STR(sp_codec_lz4.ext, "lz4");
    CHECK(sp_codec_lz4.content_encoding == NULL);
    CHECK_STR(sp_codec_lz4.content_type, "application/x-lz4");
    CHECK_STR(sp_codec_zstd.ext, "zst");
    CHECK_STR(sp_codec_zstd.content_encoding, "zstd");
    CHECK_STR(sp_codec_gzip.content_encoding, "gzip");
    CHECK(sp_codec_none.content_encoding == NULL);
    CHECK(sp_codec_snappy.content_encoding == NULL);
    CHECK_STR(sp_codec_snappy.content_type, "application/x-snappy-framed");
    CHECK_STR(sp_codec_gzip.ext, "gz");
    CHECK_STR(sp_codec_snappy.ext, "snappy");
    CHECK_STR(sp_codec_none.ext, "");
}

int main(void)
{
    RUN(crc32c_known_vectors);
    RUN(crc32c_hw_matches_table);
    RUN(gzip_round_trip_small_chunks);
    RUN(gzip_round_trip_default_chunk);
    RUN(gzip_exact_chunk_multiple);
    RUN(gzip_empty_input_is_valid);
    RUN(gzip_one_byte_writes);
    RUN(gzip_incompressible);
    RUN(gzip_bad_level);
    RUN(gzip_output_ceiling_fails_cleanly);
    RUN(gzip_threaded_identical_to_inline);
    RUN(gzip_threaded_identical_default_chunk);
    RUN(gzip_threaded_many_members);
    RUN(gzip_small_object_starts_no_thread);
    RUN(gzip_free_without_finish);
    RUN(gzip_threaded_finish_twice_and_write_after);
    RUN(gzip_threaded_empty_input);
    RUN(gzip_worker_error_surfaces);
    RUN(gzip_threaded_output_ceiling);
    RUN(gzip_bad_slots);
    RUN(snappy_round_trip_text);
    RUN(snappy_incompressible_uses_raw_chunks);
    RUN(snappy_one_byte_writes);
    RUN(snappy_empty_input_is_stream_identifier);
    RUN(snappy_known_small_frame);
    RUN(zstd_library_has_threads);
    RUN(zstd_round_trip_text);
    RUN(zstd_small_writes_and_noise);
    RUN(zstd_empty_input_is_a_frame);
    RUN(zstd_multi_frame);
    RUN(zstd_bad_level_and_workers);
    RUN(zstd_failure_surfaces);
    RUN(zstd_output_ceiling_fails_cleanly);
    RUN(zstd_free_without_finish);
    RUN(flush_outputs_everything_written);
    RUN(lz4_round_trip_text_and_noise);
    RUN(lz4_compresses_text);
    RUN(lz4_empty_input_is_a_frame);
    RUN(lz4_bad_level_and_ceiling);
    RUN(none_passes_through);
    RUN(write_after_finish_fails);
    RUN(find_and_names);
    return sp_test_done();
}
