/* sp_ingest_group: concurrent small appends grouped into one insert (the
 * daemon's Events API), as ClickHouse's asynchronous inserts group them.
 *
 * Each call validates its own rows exactly as `append` does (sp_ingest,
 * through a capturing engine: rows become RowBinary, rejected rows the
 * quarantine's TabSeparated, nothing is stored yet).  Then it joins its
 * datasource's queue: the first caller becomes the leader, takes every
 * call queued so far, stores all their rows with one insert (and their
 * rejected rows with one more) on the group's engine, and wakes them; a
 * call that arrives meanwhile waits for the next round, led by the first
 * of them.  A round is one load of the engine (rows and rejected rows
 * stored all or nothing); a round that fails is stored again call by
 * call, so a call fails only on its own account, and a failed call stores
 * nothing.
 * Every call returns only once its rows are stored (wait=true by design). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_buf.h"
#include "sp_ch_rowbin.h"
#include "sp_error.h"
#include "sp_ingest_group.h"
#include "sp_banned.h"

#define ROUND_MAX_BYTES ((size_t)64 << 20)

typedef struct entry {
    struct entry *next;
    const char *ds;
    sp_buf rows; /* RowBinary */
    sp_buf qrows; /* TabSeparated of <ds>_quarantine */
    uint64_t nrows, nqrows;
    int done, rc;
    sp_error err;
} entry;

typedef struct queue {
    struct queue *next;
    char *ds;
    entry *head, *tail;
    int leading;
} queue;

/* a leader whose round would be small waits this long for calls still
 * being validated to join it (fewer, larger inserts: every insert is a
 * table part for ClickHouse to write and merge) */
#define LINGER_NS 2000000L

struct sp_ingest_group {
    sp_engine *e; /* inserts and DEFAULTs; one statement at a time under mu_e */
    int validating; /* calls between arrival and their queue (under mu) */
    pthread_mutex_t mu_e;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    queue *queues;
};

int sp_ingest_group_new(sp_engine *e, sp_ingest_group **out, sp_error *err)
{
    sp_ingest_group *g = calloc(1, sizeof *g);
    if (!g)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    g->e = e;
    pthread_mutex_init(&g->mu_e, NULL);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    *out = g;
    return 0;
}

void sp_ingest_group_free(sp_ingest_group *g)
{
    if (!g)
        return;
    for (queue *q = g->queues, *n; q; q = n) {
        n = q->next;
        free(q->ds);
        free(q);
    }
    pthread_mutex_destroy(&g->mu_e);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

/* ------------------------------------------------------------ capture */

/* an engine that keeps what sp_ingest would store in the call's entry */
typedef struct capture {
    sp_engine base;
    sp_ingest_group *g;
    entry *en;
} capture;

static int cap_append(sp_engine *base, const sp_datasource *ds, const sp_schema *s,
                      const sp_batch *b, sp_error *err)
{
    (void)ds;
    capture *c = (capture *)base;
    return sp_ch_rowbin_rows(&c->en->rows, s, b, 0, b->nrows, err);
}

static int cap_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                          size_t n, int64_t now_unix, sp_error *err)
{
    (void)ds;
    capture *c = (capture *)base;
    return sp_engine_quarantine_rows(&c->en->qrows, rows, n, now_unix, err);
}

static int cap_eval(sp_engine *base, const char *expr, int64_t now_unix, char **out,
                    sp_error *err)
{
    capture *c = (capture *)base;
    pthread_mutex_lock(&c->g->mu_e);
    int rc = c->g->e->vt->eval_scalar(c->g->e, expr, now_unix, out, err);
    pthread_mutex_unlock(&c->g->mu_e);
    return rc;
}

static const sp_engine_vt cap_vt = { "capture", NULL, cap_append, cap_quarantine, cap_eval,
                                     NULL,      NULL, NULL,       NULL,           NULL };

/* ------------------------------------------------------------ rounds */

/* rows and rejected rows of one or more calls, as one load: all or nothing */
static int store(sp_ingest_group *g, const char *ds, const sp_buf *rows, uint64_t nrows,
                 const sp_buf *qrows, uint64_t nqrows, sp_error *err)
{
    pthread_mutex_lock(&g->mu_e);
    int rc = g->e->vt->load_raw(g->e, ds, rows->data, rows->len, nrows, qrows->data, qrows->len,
                                nqrows, err);
    pthread_mutex_unlock(&g->mu_e);
    if (rc)
        sp_error_prefix(err, "datasource '%s'", ds);
    return rc;
}

/* the leader's round: every entry from `first` on */
static void run_round(sp_ingest_group *g, const char *ds, entry *first)
{
    sp_buf rows = SP_BUF_INIT(ROUND_MAX_BYTES * 2), qrows = SP_BUF_INIT(ROUND_MAX_BYTES * 2);
    sp_error err = SP_ERROR_INIT;
    int rc = 0, n = 0;
    uint64_t nrows = 0, nqrows = 0;
    for (entry *e = first; e && !rc; e = e->next, n++) {
        rc = sp_buf_add(&rows, e->rows.data, e->rows.len, &err);
        if (!rc)
            rc = sp_buf_add(&qrows, e->qrows.data, e->qrows.len, &err);
        nrows += e->nrows;
        nqrows += e->nqrows;
    }
    if (!rc)
        rc = store(g, ds, &rows, nrows, &qrows, nqrows, &err);
    sp_buf_release(&rows);
    sp_buf_release(&qrows);
    for (entry *e = first; e; e = e->next) {
        if (rc && n > 1) /* alone, so that a bad call fails on its own */
            e->rc = store(g, ds, &e->rows, e->nrows, &e->qrows, e->nqrows, &e->err);
        else if (rc) {
            e->rc = rc;
            e->err = err;
        }
    }
}

static queue *queue_of(sp_ingest_group *g, const char *ds)
{
    for (queue *q = g->queues; q; q = q->next)
        if (!strcmp(q->ds, ds))
            return q;
    queue *q = calloc(1, sizeof *q);
    if (!q || !(q->ds = strdup(ds))) {
        free(q);
        return NULL;
    }
    q->next = g->queues;
    g->queues = q;
    return q;
}

static int submit(sp_ingest_group *g, entry *en, sp_error *err)
{
    pthread_mutex_lock(&g->mu);
    g->validating--;
    pthread_cond_broadcast(&g->cv);
    queue *q = queue_of(g, en->ds);
    if (!q) {
        pthread_mutex_unlock(&g->mu);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    if (q->tail)
        q->tail->next = en;
    else
        q->head = en;
    q->tail = en;
    for (;;) {
        if (en->done)
            break;
        if (!q->leading && q->head == en) {
            /* lead a round: everything queued now, up to the byte limit;
             * calls still being validated are given a moment to join */
            q->leading = 1;
            if (g->validating > 0) {
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += LINGER_NS;
                if (until.tv_nsec >= 1000000000L) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000L;
                }
                while (g->validating > 0 &&
                       pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
                    ;
            }
            entry *last = en;
            size_t bytes = en->rows.len + en->qrows.len;
            while (last->next && bytes + last->next->rows.len + last->next->qrows.len <=
                                     ROUND_MAX_BYTES) {
                last = last->next;
                bytes += last->rows.len + last->qrows.len;
            }
            q->head = last->next;
            if (!q->head)
                q->tail = NULL;
            last->next = NULL;
            pthread_mutex_unlock(&g->mu);
            run_round(g, q->ds, en);
            pthread_mutex_lock(&g->mu);
            for (entry *e = en; e; e = e->next)
                e->done = 1;
            q->leading = 0;
            pthread_cond_broadcast(&g->cv);
            continue;
        }
        pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    if (en->rc && err && !err->code)
        *err = en->err;
    return en->rc;
}

int sp_ingest_group_append(sp_ingest_group *g, const sp_datasource *ds, sp_ingest_format fmt,
                           const char *data, size_t len, int64_t now_unix,
                           sp_append_result *res, sp_error *err)
{
    entry en;
    memset(&en, 0, sizeof en);
    en.ds = ds->name;
    sp_buf_init(&en.rows, ROUND_MAX_BYTES);
    sp_buf_init(&en.qrows, ROUND_MAX_BYTES);
    capture cap = { { &cap_vt }, g, &en };
    sp_ingest *in = NULL;
    pthread_mutex_lock(&g->mu);
    g->validating++;
    pthread_mutex_unlock(&g->mu);
    sp_append_result r = { 0, 0, 0 };
    int rc = sp_ingest_new(&cap.base, ds, fmt, now_unix, &in, err);
    if (!rc)
        rc = sp_ingest_feed(in, data, len, err);
    if (!rc)
        rc = sp_ingest_finish(in, &r, err);
    sp_ingest_free(in);
    en.nrows = r.rows_loaded;
    en.nqrows = r.rows_quarantined;
    if (!rc && (en.rows.len || en.qrows.len)) {
        rc = submit(g, &en, err);
    } else {
        pthread_mutex_lock(&g->mu);
        g->validating--;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
    }
    sp_buf_release(&en.rows);
    sp_buf_release(&en.qrows);
    if (res)
        *res = rc ? (sp_append_result){ r.rows_in, 0, 0 } : r;
    return rc;
}
