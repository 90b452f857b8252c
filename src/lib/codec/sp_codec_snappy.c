/* sp_codec_snappy: the Snappy framing format
 * (https://github.com/google/snappy/blob/main/framing_format.txt).
 *
 * Stream: the stream identifier chunk, then one chunk per <= 64 KiB of input:
 *   type (1 byte) | length of the rest (3 bytes LE) | masked CRC-32C of the
 *   uncompressed data (4 bytes LE) | data
 * type 0x00 holds snappy-compressed data, type 0x01 the data as is; the
 * latter is used when compression saves less than 1/8 (python-snappy's
 * rule), so incompressible input costs 8 bytes per 64 KiB.  Memory: one
 * chunk of input plus one compressed-length bound of output. */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_crc32c.h"
#include "sp_error.h"
#include "sp_banned.h"

#define CHUNK_COMPRESSED 0x00
#define CHUNK_UNCOMPRESSED 0x01

static const unsigned char stream_id[10] = {0xff, 0x06, 0x00, 0x00, 0x73,
                                            0x4e, 0x61, 0x50, 0x70, 0x59};

typedef struct sz_state {
    char *in; /* SP_SNAPPY_CHUNK bytes of pending input */
    size_t in_len;
    char *scratch; /* snappy_max_compressed_length(SP_SNAPPY_CHUNK) */
    size_t scratch_cap;
    int started; /* stream identifier written */
    int finished;
} sz_state;

static void sz_free(sp_codec_state *st)
{
    sz_state *s = (sz_state *)st;
    if (!s)
        return;
    free(s->in);
    free(s->scratch);
    free(s);
}

static int sz_open(sp_codec_state **st, int level, sp_error *err)
{
    (void)level; /* snappy has no levels */
    *st = NULL;
    sz_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (snappy state)");
    s->scratch_cap = snappy_max_compressed_length(SP_SNAPPY_CHUNK);
    s->in = malloc(SP_SNAPPY_CHUNK);
    s->scratch = malloc(s->scratch_cap);
    if (!s->in || !s->scratch) {
        sz_free((sp_codec_state *)s);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (snappy chunk)");
    }
    *st = (sp_codec_state *)s;
    return 0;
}

static int sz_start(sz_state *s, sp_buf *out, sp_error *err)
{
    if (s->started)
        return 0;
    int rc = sp_buf_add(out, stream_id, sizeof stream_id, err);
    if (rc == 0)
        s->started = 1;
    return rc;
}

/* emit: one chunk for n (1..SP_SNAPPY_CHUNK) bytes at p */
static int sz_emit(sz_state *s, const char *p, size_t n, sp_buf *out,
                   sp_error *err)
{
    size_t clen = s->scratch_cap;
    if (snappy_compress(p, n, s->scratch, &clen) != SNAPPY_OK)
        return sp_error_set(err, SP_ECODEC, 0,
                            "snappy: compressing %zu bytes failed", n);
    int compressed = clen <= n - n / 8;
    const char *data = compressed ? s->scratch : p;
    size_t dlen = compressed ? clen : n;
    uint32_t crc = sp__snappy_mask_crc(sp_crc32c(0, p, n));
    size_t body = dlen + 4;
    unsigned char hdr[8] = {
        compressed ? CHUNK_COMPRESSED : CHUNK_UNCOMPRESSED,
        (unsigned char)(body & 0xff),
        (unsigned char)((body >> 8) & 0xff),
        (unsigned char)((body >> 16) & 0xff),
        (unsigned char)(crc & 0xff),
        (unsigned char)((crc >> 8) & 0xff),
        (unsigned char)((crc >> 16) & 0xff),
        (unsigned char)((crc >> 24) & 0xff),
    };
    int rc = sp_buf_grow(out, sizeof hdr + dlen, err);
    if (rc)
        return rc;
    sp_buf_add_unchecked(out, hdr, sizeof hdr);
    sp_buf_add_unchecked(out, data, dlen);
    return 0;
}

static int sz_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                    sp_error *err)
{
    sz_state *s = (sz_state *)st;
    const char *p = in;
    int rc;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "snappy: write after finish");
    if (n == 0)
        return 0;
    if ((rc = sz_start(s, out, err)))
        return rc;
    while (n) {
        if (s->in_len == 0 && n >= SP_SNAPPY_CHUNK) {
            if ((rc = sz_emit(s, p, SP_SNAPPY_CHUNK, out, err)))
                return rc;
            p += SP_SNAPPY_CHUNK;
            n -= SP_SNAPPY_CHUNK;
            continue;
        }
        size_t take = SP_SNAPPY_CHUNK - s->in_len;
        if (take > n)
            take = n;
        memcpy(s->in + s->in_len, p, take);
        s->in_len += take;
        p += take;
        n -= take;
        if (s->in_len == SP_SNAPPY_CHUNK) {
            if ((rc = sz_emit(s, s->in, s->in_len, out, err)))
                return rc;
            s->in_len = 0;
        }
    }
    return 0;
}

/* sz_flush: the partial chunk goes out as a (short) chunk */
static int sz_flush(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    sz_state *s = (sz_state *)st;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "snappy: flush after finish");
    if (!s->in_len)
        return 0;
    int rc = sz_emit(s, s->in, s->in_len, out, err);
    if (!rc)
        s->in_len = 0;
    return rc;
}

static int sz_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    sz_state *s = (sz_state *)st;
    int rc;
    if (s->finished)
        return 0;
    /* an empty input is the stream identifier alone: a valid empty stream */
    if ((rc = sz_start(s, out, err)))
        return rc;
    if (s->in_len && (rc = sz_emit(s, s->in, s->in_len, out, err)))
        return rc;
    s->in_len = 0;
    s->finished = 1;
    return 0;
}

const sp_codec sp_codec_snappy = {
    .name = "snappy",
    .ext = "snappy",
    .content_type = "application/x-snappy-framed",
    .open = sz_open,
    .write = sz_write,
    .flush = sz_flush,
    .finish = sz_finish,
    .free = sz_free,
};
