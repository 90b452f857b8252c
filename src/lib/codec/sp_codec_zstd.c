/* sp_codec_zstd: Zstandard (RFC 8878) through libzstd's streaming API.
 *
 * One zstd frame per codec state, with a content checksum (as the zstd CLI
 * writes by default).  Compression is multi-threaded by libzstd itself
 * (ZSTD_c_nbWorkers): write() hands input to libzstd, whose worker threads
 * compress jobs of a few MiB in the background while the caller keeps
 * formatting rows; libzstd joins them in finish()/free().  When the library
 * was built without threads (ZSTD_cParam_getBounds(ZSTD_c_nbWorkers) says
 * 0..0) the state compresses in the caller's thread instead.
 *
 * flush() ends the current block (ZSTD_e_flush), so that every byte written
 * so far is in the output: the size-bounded sink uses it to measure a file.
 * The frame stays open; finish() ends it (ZSTD_e_end).
 *
 * Memory per state at level 1 with 2 workers: about 2 job buffers of 2 MiB
 * per worker plus the workers' match tables (well under 1 MiB each): about
 * 10-20 MiB (docs/codecs.md has the measured figure). */
#include <stdlib.h>
#include <zstd.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_error.h"
#include "sp_banned.h"

typedef struct zs_state {
    ZSTD_CCtx *cc;
    unsigned char *scratch; /* ZSTD_CStreamOutSize() bytes of output */
    size_t scap;
    int workers; /* as applied (0: inline) */
    int finished, failed;
} zs_state;

static void zs_free(sp_codec_state *st)
{
    zs_state *s = (zs_state *)st;
    if (!s)
        return;
    ZSTD_freeCCtx(s->cc); /* joins libzstd's workers */
    free(s->scratch);
    free(s);
}

int sp__zstd_workers_max(void)
{
    ZSTD_bounds b = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers);
    return ZSTD_isError(b.error) ? 0 : b.upperBound;
}

static int zs_param(zs_state *s, ZSTD_cParameter p, int v, const char *what, sp_error *err)
{
    size_t r = ZSTD_CCtx_setParameter(s->cc, p, v);
    if (ZSTD_isError(r))
        return sp_error_set(err, SP_ECODEC, 0, "zstd: %s %d: %s", what, v,
                            ZSTD_getErrorName(r));
    return 0;
}

int sp__zstd_open_opts(sp_codec_state **st, int level, int workers, sp_error *err)
{
    *st = NULL;
    if (level < 0 || level > SP_ZSTD_LEVEL_MAX)
        return sp_error_set(err, SP_EINVAL, 0, "zstd: level %d out of range (0..%d)", level,
                            SP_ZSTD_LEVEL_MAX);
    if (workers < 0 || workers > SP_ZSTD_WORKERS_MAX)
        return sp_error_set(err, SP_EINVAL, 0, "zstd: %d workers out of range (0..%d)",
                            workers, SP_ZSTD_WORKERS_MAX);
    zs_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (zstd state)");
    s->scap = ZSTD_CStreamOutSize();
    s->cc = ZSTD_createCCtx();
    s->scratch = malloc(s->scap);
    int rc = 0;
    if (!s->cc || !s->scratch)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (zstd state)");
    int max = sp__zstd_workers_max();
    s->workers = workers < max ? workers : max;
    if (!rc)
        rc = zs_param(s, ZSTD_c_compressionLevel, level ? level : SP_ZSTD_LEVEL_DEFAULT,
                      "level", err);
    if (!rc)
        rc = zs_param(s, ZSTD_c_checksumFlag, 1, "checksum", err);
    if (!rc && s->workers)
        rc = zs_param(s, ZSTD_c_nbWorkers, s->workers, "workers", err);
    if (rc) {
        zs_free((sp_codec_state *)s);
        return rc;
    }
    *st = (sp_codec_state *)s;
    return 0;
}

static int zs_open(sp_codec_state **st, int level, sp_error *err)
{
    return sp__zstd_open_opts(st, level, SP_ZSTD_WORKERS_DEFAULT, err);
}

int sp__zstd_break(sp_codec_state *st)
{
    /* ZSTD_c_stableInBuffer (experimental parameter 9): the caller promises
     * one input buffer for the whole frame, which write() does not keep */
    zs_state *s = (zs_state *)st;
    return ZSTD_isError(ZSTD_CCtx_setParameter(s->cc, ZSTD_c_experimentalParam9, 1)) ? -1
                                                                                      : 0;
}

int sp__zstd_workers(const sp_codec_state *st)
{
    return ((const zs_state *)st)->workers;
}

/* run: feed n bytes at in to libzstd with directive `op`, appending output
 * to out, until the input is consumed and (flush/end) the output is out */
static int run(zs_state *s, const void *in, size_t n, ZSTD_EndDirective op, sp_buf *out,
               sp_error *err)
{
    ZSTD_inBuffer ib = { in, n, 0 };
    for (;;) {
        ZSTD_outBuffer ob = { s->scratch, s->scap, 0 };
        size_t left = ZSTD_compressStream2(s->cc, &ob, &ib, op);
        if (ZSTD_isError(left)) {
            s->failed = 1;
            return sp_error_set(err, SP_ECODEC, 0, "zstd: compressing failed: %s",
                                ZSTD_getErrorName(left));
        }
        int rc = ob.pos ? sp_buf_add(out, s->scratch, ob.pos, err) : 0;
        if (rc) {
            s->failed = 1;
            return rc;
        }
        if (op == ZSTD_e_continue ? ib.pos == ib.size : left == 0)
            return 0;
    }
}

static int zs_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                    sp_error *err)
{
    zs_state *s = (zs_state *)st;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "zstd: write after finish");
    if (s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "zstd: write after a failure");
    return n ? run(s, in, n, ZSTD_e_continue, out, err) : 0;
}

static int zs_flush(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    zs_state *s = (zs_state *)st;
    if (s->finished || s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "zstd: flush after %s",
                            s->finished ? "finish" : "a failure");
    return run(s, NULL, 0, ZSTD_e_flush, out, err);
}

static int zs_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    zs_state *s = (zs_state *)st;
    if (s->finished)
        return 0;
    if (s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "zstd: finish after a failure");
    int rc = run(s, NULL, 0, ZSTD_e_end, out, err); /* empty input: a valid empty frame */
    if (!rc)
        s->finished = 1;
    return rc;
}

const sp_codec sp_codec_zstd = {
    .name = "zstd",
    .alias = "zst",
    .ext = "zst",
    .content_encoding = "zstd",
    .open = zs_open,
    .write = zs_write,
    .flush = zs_flush,
    .finish = zs_finish,
    .free = zs_free,
};
