/* sp_codec_lz4: the LZ4 frame format (lz4's ".lz4" files) through liblz4's
 * LZ4F streaming API.
 *
 * One frame per codec state: 64 KiB linked blocks (the best ratio: each
 * block may refer to the previous 64 KiB), a content checksum (XXH32) at
 * the end, as the lz4 CLI writes by default.  The frame is what `lz4 -d`,
 * `lz4cat`, Python's lz4.frame, Spark and ClickHouse (file(..., 'lz4'),
 * or any `.lz4` name) read.
 *
 * Input is fed to liblz4 in slices of at most SLICE bytes, so the bound of
 * one call's output (LZ4F_compressBound) stays small; output goes straight
 * into the caller's sp_buf.  flush() ends the current block (LZ4F_flush):
 * everything written so far is then in the output, the frame goes on.
 * finish() writes the end mark and the checksum (LZ4F_compressEnd).
 *
 * Memory per state: liblz4's context (~16 KiB at the fast levels, ~256 KiB
 * for LZ4HC levels 3..12) plus one block of buffered input (64 KiB). */
#include <lz4frame.h>
#include <stdlib.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_error.h"
#include "sp_banned.h"

#define SLICE ((size_t)64 << 10) /* input bytes per LZ4F_compressUpdate call */
#define LZ4_LEVEL_MAX 12         /* LZ4HC's maximum (LZ4HC_CLEVEL_MAX) */

typedef struct lz_state {
    LZ4F_cctx *cc;
    LZ4F_preferences_t prefs;
    int started, finished, failed;
} lz_state;

static void lz_free(sp_codec_state *st)
{
    lz_state *s = (lz_state *)st;
    if (!s)
        return;
    LZ4F_freeCompressionContext(s->cc);
    free(s);
}

/* level: 0 = liblz4's fast default; 1..2 fast (same as 0), 3..12 LZ4HC */
static int lz_open(sp_codec_state **st, int level, sp_error *err)
{
    *st = NULL;
    if (level < 0 || level > LZ4_LEVEL_MAX)
        return sp_error_set(err, SP_EINVAL, 0, "lz4: level %d out of range (0..%d)", level,
                            LZ4_LEVEL_MAX);
    lz_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (lz4 state)");
    LZ4F_errorCode_t e = LZ4F_createCompressionContext(&s->cc, LZ4F_VERSION);
    if (LZ4F_isError(e)) {
        free(s);
        return sp_error_set(err, SP_ECODEC, 0, "lz4: cannot create a context: %s",
                            LZ4F_getErrorName(e));
    }
    s->prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    s->prefs.frameInfo.blockMode = LZ4F_blockLinked;
    s->prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    s->prefs.compressionLevel = level;
    *st = (sp_codec_state *)s;
    return 0;
}

/* reserve: room for `need` more bytes at the end of out; *p = where */
static int reserve(lz_state *s, sp_buf *out, size_t need, unsigned char **p, sp_error *err)
{
    int rc = sp_buf_grow(out, need, err);
    s->failed |= rc != 0;
    *p = rc ? NULL : (unsigned char *)out->data + out->len;
    return rc;
}

/* done: account for r bytes written by liblz4 (or its error) */
static int done(lz_state *s, sp_buf *out, size_t r, const char *what, sp_error *err)
{
    if (LZ4F_isError(r)) {
        s->failed = 1;
        return sp_error_set(err, SP_ECODEC, 0, "lz4: %s failed: %s", what,
                            LZ4F_getErrorName(r));
    }
    out->len += r;
    out->data[out->len] = '\0';
    return 0;
}

/* start: the frame header, before the first byte of output */
static int start(lz_state *s, sp_buf *out, sp_error *err)
{
    if (s->started)
        return 0;
    unsigned char *p;
    int rc = reserve(s, out, LZ4F_HEADER_SIZE_MAX, &p, err);
    if (rc)
        return rc;
    rc = done(s, out, LZ4F_compressBegin(s->cc, p, LZ4F_HEADER_SIZE_MAX, &s->prefs),
                  "starting the frame", err);
    s->started = !rc;
    return rc;
}

static int check(const lz_state *s, const char *op, sp_error *err)
{
    if (s->finished || s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "lz4: %s after %s", op,
                            s->finished ? "finish" : "a failure");
    return 0;
}

static int lz_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                    sp_error *err)
{
    lz_state *s = (lz_state *)st;
    int rc = check(s, "write", err);
    if (!rc)
        rc = start(s, out, err);
    const unsigned char *src = in;
    while (!rc && n) {
        size_t k = n < SLICE ? n : SLICE;
        size_t bound = LZ4F_compressBound(k, &s->prefs);
        unsigned char *p;
        rc = reserve(s, out, bound, &p, err);
        if (rc)
            return rc;
        rc = done(s, out, LZ4F_compressUpdate(s->cc, p, bound, src, k, NULL), "compressing",
                  err);
        src += k;
        n -= k;
    }
    return rc;
}

/* end: LZ4F_flush (finish = 0) or LZ4F_compressEnd (finish = 1) */
static int end(lz_state *s, int finish, sp_buf *out, sp_error *err)
{
    size_t bound = LZ4F_compressBound(0, &s->prefs);
    unsigned char *p;
    int rc = start(s, out, err);
    if (!rc)
        rc = reserve(s, out, bound, &p, err);
    if (rc)
        return rc;
    return finish ? done(s, out, LZ4F_compressEnd(s->cc, p, bound, NULL), "ending the frame", err)
                  : done(s, out, LZ4F_flush(s->cc, p, bound, NULL), "flushing", err);
}

static int lz_flush(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    lz_state *s = (lz_state *)st;
    int rc = check(s, "flush", err);
    return rc ? rc : end(s, 0, out, err);
}

static int lz_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    lz_state *s = (lz_state *)st;
    if (s->finished)
        return 0;
    int rc = check(s, "finish", err);
    if (!rc)
        rc = end(s, 1, out, err); /* empty input: a valid empty frame */
    s->finished = !rc;
    return rc;
}

const sp_codec sp_codec_lz4 = {
    .name = "lz4",
    .ext = "lz4",
    /* no Content-Encoding: HTTP has no lz4 coding; the type says what it is */
    .content_type = "application/x-lz4",
    .open = lz_open,
    .write = lz_write,
    .flush = lz_flush,
    .finish = lz_finish,
    .free = lz_free,
};
