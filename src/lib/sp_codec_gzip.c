/* sp_codec_gzip: gzip through libdeflate, one gzip member per chunk.
 *
 * libdeflate only compresses whole buffers, so input is gathered into a
 * chunk (1 MiB by default) and each full chunk becomes one complete gzip
 * member (RFC 1952 section 2.2: a gzip file is a series of members).  A
 * write that starts on a chunk boundary with at least a chunk of input is
 * compressed straight from the caller's memory.  Memory: one chunk of input
 * plus one compress bound of output, allocated at open. */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_error.h"

typedef struct gz_state {
    struct libdeflate_compressor *c;
    unsigned char *in; /* chunk bytes of pending input */
    size_t in_len;
    size_t chunk;
    unsigned char *scratch; /* compress bound of `chunk` bytes */
    size_t scratch_cap;
    int members; /* members written so far */
    int finished;
} gz_state;

static void gz_free(sp_codec_state *st)
{
    gz_state *s = (gz_state *)st;
    if (!s)
        return;
    if (s->c)
        libdeflate_free_compressor(s->c);
    free(s->in);
    free(s->scratch);
    free(s);
}

int sp__gzip_open_chunk(sp_codec_state **st, int level, size_t chunk,
                        sp_error *err)
{
    *st = NULL;
    if (level < 0 || level > SP_GZIP_LEVEL_MAX)
        return sp_error_set(err, SP_EINVAL, 0,
                            "gzip: level %d out of range (0..%d)", level,
                            SP_GZIP_LEVEL_MAX);
    if (level == 0)
        level = 1;
    if (chunk == 0)
        chunk = SP_GZIP_CHUNK_DEFAULT;
    gz_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gzip state)");
    s->chunk = chunk;
    s->c = libdeflate_alloc_compressor(level);
    s->in = malloc(chunk);
    if (s->c) {
        s->scratch_cap = libdeflate_gzip_compress_bound(s->c, chunk);
        s->scratch = malloc(s->scratch_cap);
    }
    if (!s->c || !s->in || !s->scratch) {
        gz_free((sp_codec_state *)s);
        return sp_error_set(err, SP_ENOMEM, 0,
                            "out of memory (gzip chunk of %zu bytes)", chunk);
    }
    *st = (sp_codec_state *)s;
    return 0;
}

static int gz_open(sp_codec_state **st, int level, sp_error *err)
{
    return sp__gzip_open_chunk(st, level, 0, err);
}

/* emit: compress n (<= chunk) bytes at p as one member appended to out */
static int gz_emit(gz_state *s, const void *p, size_t n, sp_buf *out,
                   sp_error *err)
{
    static const unsigned char empty[1];
    size_t clen = libdeflate_gzip_compress(s->c, n ? p : empty, n, s->scratch,
                                           s->scratch_cap);
    if (clen == 0)
        return sp_error_set(err, SP_ECODEC, 0,
                            "gzip: compressing %zu bytes failed", n);
    int rc = sp_buf_add(out, s->scratch, clen, err);
    if (rc)
        return rc;
    s->members++;
    return 0;
}

static int gz_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                    sp_error *err)
{
    gz_state *s = (gz_state *)st;
    const unsigned char *p = in;
    int rc;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "gzip: write after finish");
    while (n) {
        if (s->in_len == 0 && n >= s->chunk) {
            if ((rc = gz_emit(s, p, s->chunk, out, err)))
                return rc;
            p += s->chunk;
            n -= s->chunk;
            continue;
        }
        size_t take = s->chunk - s->in_len;
        if (take > n)
            take = n;
        memcpy(s->in + s->in_len, p, take);
        s->in_len += take;
        p += take;
        n -= take;
        if (s->in_len == s->chunk) {
            if ((rc = gz_emit(s, s->in, s->in_len, out, err)))
                return rc;
            s->in_len = 0;
        }
    }
    return 0;
}

static int gz_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    gz_state *s = (gz_state *)st;
    int rc = 0;
    if (s->finished)
        return 0;
    /* an empty input still gets one (empty) member: a valid .gz file */
    if (s->in_len || s->members == 0)
        rc = gz_emit(s, s->in, s->in_len, out, err);
    if (rc == 0) {
        s->in_len = 0;
        s->finished = 1;
    }
    return rc;
}

const sp_codec sp_codec_gzip = {
    .name = "gzip",
    .ext = "gz",
    .open = gz_open,
    .write = gz_write,
    .finish = gz_finish,
    .free = gz_free,
};
