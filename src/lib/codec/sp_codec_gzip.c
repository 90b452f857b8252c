/* sp_codec_gzip: gzip through libdeflate, one gzip member per chunk,
 * compressed on a worker thread.
 *
 * libdeflate only compresses whole buffers, so input is gathered into a
 * chunk (1 MiB by default) and each full chunk becomes one complete gzip
 * member (RFC 1952 section 2.2: a gzip file is a series of members).
 *
 * Threaded mode (the default): a ring of K slots, each an input chunk and an
 * output buffer of the compress bound.  write() fills the current slot and
 * hands each full one to a single worker thread, which compresses slots in
 * submission order with its own compressor.  Finished members are appended
 * to `out` strictly in order: whatever is done is collected without waiting
 * each time a slot is handed over, and the caller blocks only when every
 * slot is busy.  The worker starts lazily with the first full chunk, so an
 * object smaller than a chunk never starts a thread (finish() compresses it
 * inline).  finish() hands over the partial chunk, waits for the rest and
 * joins the worker; free() stops and joins it at any point.
 *
 * Sequence counters (all only grow; slot of sequence q is q % K):
 *   collected <= compressed <= submitted      submitted - collected <= K
 * `submitted` is written by the caller and `compressed` by the worker, both
 * under `mu`; a slot's bytes are handed over by those updates, so slot
 * memory itself needs no lock.  The slot being filled is submitted % K and
 * is always free (the caller waits before filling a busy one).
 *
 * Inline mode (threaded = 0, the pre-thread behaviour) uses one slot and
 * compresses in the caller; a write that starts on a chunk boundary with at
 * least a chunk of input is compressed straight from the caller's memory.
 * Both modes cut members at the same offsets, so their output is
 * byte-identical.
 *
 * Memory: one slot (chunk + bound) and one compressor at open; K slots and
 * a second compressor once the worker starts: K x (chunk + bound). */
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_error.h"
#include "sp_banned.h"

typedef struct gz_slot {
    unsigned char *in; /* chunk bytes of input */
    size_t in_len;
    unsigned char *out; /* compress bound of output */
    size_t out_len;     /* 0: compression failed */
} gz_slot;

typedef struct gz_state {
    int level;
    size_t chunk, bound;
    int nslots;   /* K */
    int threaded; /* 0: inline mode */
    struct libdeflate_compressor *c; /* the caller's (inline compression) */
    gz_slot *slots;                  /* nslots entries; [0] allocated at open */
    size_t fill;                     /* bytes in the slot being filled */
    unsigned long submitted, collected;
    long fail_member; /* test hook: member index reported as failed, or -1 */
    int members;      /* members appended to out */
    int finished, failed;
    /* worker */
    int started, ever_started;
    pthread_t th;
    struct libdeflate_compressor *wc; /* the worker's own */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    unsigned long compressed; /* under mu */
    int stop;                 /* under mu */
} gz_state;

/* compress: one member of n bytes at p into slot out (out_len 0 on failure) */
static void gz_compress(struct libdeflate_compressor *c, const void *p, size_t n,
                     gz_slot *sl, size_t bound)
{
    static const unsigned char empty[1];
    sl->out_len = libdeflate_gzip_compress(c, n ? p : empty, n, sl->out, bound);
}

static void *worker(void *arg)
{
    gz_state *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->compressed == s->submitted)
            pthread_cond_wait(&s->cv_work, &s->mu);
        if (s->stop)
            break;
        unsigned long q = s->compressed;
        gz_slot *sl = &s->slots[q % (unsigned long)s->nslots];
        pthread_mutex_unlock(&s->mu);
        gz_compress(s->wc, sl->in, sl->in_len, sl, s->bound);
        if (s->fail_member >= 0 && q == (unsigned long)s->fail_member)
            sl->out_len = 0;
        pthread_mutex_lock(&s->mu);
        s->compressed = q + 1;
        pthread_cond_signal(&s->cv_done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* stop_worker: stop and join the worker (pending slots are dropped) */
static void stop_worker(gz_state *s)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    s->started = 0;
}

static void gz_free(sp_codec_state *st)
{
    gz_state *s = (gz_state *)st;
    if (!s)
        return;
    stop_worker(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_done);
    if (s->c)
        libdeflate_free_compressor(s->c);
    if (s->wc)
        libdeflate_free_compressor(s->wc);
    for (int i = 0; s->slots && i < s->nslots; i++) {
        free(s->slots[i].in);
        free(s->slots[i].out);
    }
    free(s->slots);
    free(s);
}

static int slot_alloc(gz_state *s, gz_slot *sl, sp_error *err)
{
    if (!sl->in)
        sl->in = malloc(s->chunk);
    if (!sl->out)
        sl->out = malloc(s->bound);
    if (!sl->in || !sl->out)
        return sp_error_set(err, SP_ENOMEM, 0,
                            "out of memory (gzip chunk of %zu bytes)", s->chunk);
    return 0;
}

int sp__gzip_open_opts(sp_codec_state **st, int level, size_t chunk,
                       int slots, int threaded, sp_error *err)
{
    *st = NULL;
    if (level < 0 || level > SP_GZIP_LEVEL_MAX)
        return sp_error_set(err, SP_EINVAL, 0,
                            "gzip: level %d out of range (0..%d)", level,
                            SP_GZIP_LEVEL_MAX);
    if (slots < 0 || slots > SP_GZIP_SLOTS_MAX)
        return sp_error_set(err, SP_EINVAL, 0,
                            "gzip: %d slots out of range (0..%d)", slots,
                            SP_GZIP_SLOTS_MAX);
    gz_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gzip state)");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_work, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    s->level = level ? level : 1;
    s->chunk = chunk ? chunk : SP_GZIP_CHUNK_DEFAULT;
    s->threaded = threaded != 0;
    s->nslots = threaded ? (slots ? slots : SP_GZIP_SLOTS_DEFAULT) : 1;
    s->fail_member = -1;
    s->c = libdeflate_alloc_compressor(s->level);
    s->slots = calloc((size_t)s->nslots, sizeof *s->slots);
    int rc = 0;
    if (!s->c || !s->slots)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (gzip state)");
    if (!rc) {
        s->bound = libdeflate_gzip_compress_bound(s->c, s->chunk);
        rc = slot_alloc(s, &s->slots[0], err);
    }
    if (rc) {
        gz_free((sp_codec_state *)s);
        return rc;
    }
    *st = (sp_codec_state *)s;
    return 0;
}

int sp__gzip_open_chunk(sp_codec_state **st, int level, size_t chunk,
                        sp_error *err)
{
    return sp__gzip_open_opts(st, level, chunk, 0, 1, err);
}

void sp__gzip_fail_member(sp_codec_state *st, long member)
{
    ((gz_state *)st)->fail_member = member;
}

int sp__gzip_worker_started(const sp_codec_state *st)
{
    return ((const gz_state *)st)->ever_started;
}

static int gz_open(sp_codec_state **st, int level, sp_error *err)
{
    return sp__gzip_open_opts(st, level, 0, 0, 1, err);
}

/* append: add a compressed slot (member number q) to out */
static int append(gz_state *s, const gz_slot *sl, sp_buf *out, sp_error *err)
{
    if (sl->out_len == 0)
        return sp_error_set(err, SP_ECODEC, 0,
                            "gzip: compressing %zu bytes failed", sl->in_len);
    int rc = sp_buf_add(out, sl->out, sl->out_len, err);
    if (rc)
        return rc;
    s->members++;
    return 0;
}

/* collect: append members the worker has finished, in order; with `wait`,
 * block until at least one more is done (the caller ensures one is due) */
static int collect(gz_state *s, int wait, sp_buf *out, sp_error *err)
{
    pthread_mutex_lock(&s->mu);
    if (wait)
        while (s->compressed == s->collected)
            pthread_cond_wait(&s->cv_done, &s->mu);
    unsigned long done = s->compressed;
    pthread_mutex_unlock(&s->mu);
    while (s->collected < done) {
        int rc = append(s, &s->slots[s->collected % (unsigned long)s->nslots],
                        out, err);
        if (rc)
            return rc;
        s->collected++;
    }
    return 0;
}

/* start: allocate the other slots and the worker's compressor, start it.
 * If no thread can be created, the state falls back to inline mode. */
static int start(gz_state *s, sp_error *err)
{
    int rc;
    for (int i = 1; i < s->nslots; i++)
        if ((rc = slot_alloc(s, &s->slots[i], err)))
            return rc;
    if (!s->wc && !(s->wc = libdeflate_alloc_compressor(s->level)))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gzip compressor)");
    if (pthread_create(&s->th, NULL, worker, s) != 0) {
        s->threaded = 0; /* keep going in the caller's thread */
        return 0;
    }
    s->started = s->ever_started = 1;
    return 0;
}

/* inline_member: compress n bytes at p in the caller and append them */
static int inline_member(gz_state *s, const void *p, size_t n, sp_buf *out,
                         sp_error *err)
{
    gz_slot *sl = &s->slots[s->submitted % (unsigned long)s->nslots];
    gz_compress(s->c, p, n, sl, s->bound);
    sl->in_len = n;
    if (s->fail_member >= 0 && s->submitted == (unsigned long)s->fail_member)
        sl->out_len = 0;
    int rc = append(s, sl, out, err);
    if (rc)
        return rc;
    s->submitted++;
    s->collected++;
    return 0;
}

/* submit: hand the filling slot (s->fill bytes) over and move to the next */
static int submit(gz_state *s, sp_buf *out, sp_error *err)
{
    int rc;
    if (s->threaded && !s->started && (rc = start(s, err)))
        return rc;
    if (!s->threaded) {
        gz_slot *sl = &s->slots[s->submitted % (unsigned long)s->nslots];
        rc = inline_member(s, sl->in, s->fill, out, err);
        s->fill = 0;
        return rc;
    }
    s->slots[s->submitted % (unsigned long)s->nslots].in_len = s->fill;
    s->fill = 0;
    pthread_mutex_lock(&s->mu);
    s->submitted++;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    if ((rc = collect(s, 0, out, err)))
        return rc;
    /* the next slot to fill must be free */
    if (s->submitted - s->collected == (unsigned long)s->nslots)
        rc = collect(s, 1, out, err);
    return rc;
}

static int gz_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                    sp_error *err)
{
    gz_state *s = (gz_state *)st;
    const unsigned char *p = in;
    int rc = 0;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "gzip: write after finish");
    if (s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "gzip: write after a failure");
    while (n && !rc) {
        if (!s->threaded && s->fill == 0 && n >= s->chunk) {
            rc = inline_member(s, p, s->chunk, out, err); /* no copy */
            p += s->chunk;
            n -= s->chunk;
            continue;
        }
        gz_slot *sl = &s->slots[s->submitted % (unsigned long)s->nslots];
        size_t take = s->chunk - s->fill;
        if (take > n)
            take = n;
        memcpy(sl->in + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill == s->chunk)
            rc = submit(s, out, err);
    }
    if (rc)
        s->failed = 1;
    return rc;
}

/* gz_flush: the partial chunk becomes a member (starting the worker if it
 * has not started) and every member due is appended */
static int gz_flush(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    gz_state *s = (gz_state *)st;
    if (s->finished || s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "gzip: flush after %s",
                            s->finished ? "finish" : "a failure");
    int rc = s->fill ? submit(s, out, err) : 0;
    while (!rc && s->started && s->collected < s->submitted)
        rc = collect(s, 1, out, err);
    if (rc)
        s->failed = 1;
    return rc;
}

static int gz_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    gz_state *s = (gz_state *)st;
    int rc = 0;
    if (s->finished)
        return 0;
    if (s->failed)
        return sp_error_set(err, SP_EINTERNAL, 0, "gzip: finish after a failure");
    if (!s->started) {
        /* inline: a small object never starts a thread.  An empty input
         * still gets one (empty) member: a valid .gz file */
        if (s->fill || s->submitted == 0) {
            gz_slot *sl = &s->slots[s->submitted % (unsigned long)s->nslots];
            rc = inline_member(s, sl->in, s->fill, out, err);
        }
    } else {
        if (s->fill)
            rc = submit(s, out, err);
        while (!rc && s->collected < s->submitted)
            rc = collect(s, 1, out, err);
        stop_worker(s);
    }
    s->fill = 0;
    if (rc)
        s->failed = 1;
    else
        s->finished = 1;
    return rc;
}

const sp_codec sp_codec_gzip = {
    .name = "gzip",
    .alias = "gz",
    .ext = "gz",
    .content_encoding = "gzip",
    .open = gz_open,
    .write = gz_write,
    .flush = gz_flush,
    .finish = gz_finish,
    .free = gz_free,
};
