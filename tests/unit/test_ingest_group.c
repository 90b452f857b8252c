// sp-deps: all
/* sp_ingest_group: concurrent calls grouped into few inserts; every row
 * stored exactly once; a bad call fails alone and stores nothing.  Runs
 * under ThreadSanitizer too (make tsan). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_engine.h"
#include "sp_error.h"
#include "sp_ingest_group.h"
#include "sp_test.h"

/* ------------------------------------------------------------ fake engine */

/* stores RowBinary of (s String, n UInt64): decodes and counts each n */
typedef struct fake {
    sp_engine base;
    pthread_mutex_t mu;
    int busy; /* one statement at a time: a second one at once is a bug */
    int overlap;
    size_t inserts, qinserts;
    unsigned char seen[4096]; /* times each n was stored */
    size_t nquar;
} fake;

/* one load: the rows (RowBinary) and rejected rows (TabSeparated) are
 * stored together, or neither */
static int f_load_raw(sp_engine *e, const char *ds, const char *data, size_t len,
                      uint64_t nrows, const char *qdata, size_t qlen, uint64_t nqrows,
                      sp_error *err)
{
    (void)ds;
    fake *f = (fake *)e;
    pthread_mutex_lock(&f->mu);
    if (f->busy)
        f->overlap = 1;
    f->busy = 1;
    pthread_mutex_unlock(&f->mu);
    int rc = 0;
    /* all or nothing: a row whose string is "poison" fails the load */
    unsigned ns[4096];
    size_t k = 0;
    for (size_t p = 0; p < len && !rc;) {
        size_t sl = (unsigned char)data[p++]; /* short strings: one-byte LEB128 */
        if (sl == 6 && !memcmp(data + p, "poison", 6))
            rc = sp_error_set(err, SP_ESQL, 0, "clickhouse: poisoned row");
        p += sl;
        uint64_t n = 0;
        memcpy(&n, data + p, 8);
        p += 8;
        if (k < 4096)
            ns[k++] = (unsigned)n;
    }
    size_t lines = 0;
    for (size_t i = 0; i < qlen; i++)
        lines += qdata[i] == '\n';
    if (!rc && (k != nrows || lines != nqrows))
        rc = sp_error_set(err, SP_EINTERNAL, 0, "counts %zu/%llu, %zu/%llu", k,
                          (unsigned long long)nrows, lines, (unsigned long long)nqrows);
    pthread_mutex_lock(&f->mu);
    if (!rc) {
        f->inserts += len > 0;
        for (size_t i = 0; i < k; i++)
            if (ns[i] < sizeof f->seen)
                f->seen[ns[i]]++;
        f->qinserts += qlen > 0;
        f->nquar += lines;
    }
    f->busy = 0;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static int f_eval(sp_engine *e, const char *expr, int64_t now, char **out, sp_error *err)
{
    (void)e, (void)expr, (void)now, (void)err;
    *out = NULL;
    return 0;
}

static const sp_engine_vt fake_vt = { "fake", NULL, NULL,         NULL, f_eval, NULL,
                                      NULL,   f_load_raw, NULL, NULL };

/* ------------------------------------------------------------ callers */

#define THREADS 8
#define CALLS 40
#define ROWS 5

typedef struct worker {
    sp_ingest_group *g;
    const sp_datasource *ds;
    int id;
    int failed, quarantined, loaded;
    int poison; /* this worker's call 7 carries a poisoned row */
} worker;

static void *work(void *ud)
{
    worker *w = ud;
    for (int c = 0; c < CALLS; c++) {
        char body[2048];
        size_t n = 0;
        for (int r = 0; r < ROWS; r++) {
            unsigned v = (unsigned)((w->id * CALLS + c) * ROWS + r);
            const char *s = w->poison && c == 7 && r == 2 ? "poison" : "ok";
            n += (size_t)snprintf(body + n, sizeof body - n, "{\"s\":\"%s\",\"n\":%u}\n", s, v);
        }
        /* and one row that cannot load: quarantined, with the call */
        n += (size_t)snprintf(body + n, sizeof body - n, "{\"s\":\"x\",\"n\":\"no\"}\n");
        sp_append_result res = { 0, 0, 0 };
        sp_error err = SP_ERROR_INIT;
        int rc = sp_ingest_group_append(w->g, w->ds, SP_INGEST_NDJSON, body, n, 1764000000,
                                        &res, &err);
        if (rc) {
            w->failed++;
            if (!strstr(err.msg, "poisoned"))
                fprintf(stderr, "unexpected error: %s\n", err.msg);
        } else {
            w->loaded += (int)res.rows_loaded;
            w->quarantined += (int)res.rows_quarantined;
        }
    }
    return NULL;
}

TEST(grouped_exactly_once)
{
    fake f;
    memset(&f, 0, sizeof f);
    f.base.vt = &fake_vt;
    pthread_mutex_init(&f.mu, NULL);
    sp_datasource *ds = sp_datasource_new(
        "events", &(struct sp_datasource_opts){
                      .schema = SP_COLUMNS({ .name = "s", .type = "String" },
                                           { .name = "n", .type = "UInt64" }) });
    CHECK(ds != NULL);
    sp_ingest_group *g = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_ingest_group_new(&f.base, &g, &err), &err);
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ g, ds, i, 0, 0, 0, i == 3 };
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int failed = 0, loaded = 0, quarantined = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failed += w[i].failed;
        loaded += w[i].loaded;
        quarantined += w[i].quarantined;
    }
    /* exactly the poisoned call failed, and nothing of it was stored */
    CHECK_INT(failed, 1);
    CHECK_INT(w[3].failed, 1);
    CHECK_INT(loaded, (THREADS * CALLS - 1) * ROWS);
    CHECK_INT(quarantined, THREADS * CALLS - 1);
    CHECK_INT((long)f.nquar, THREADS * CALLS - 1);
    int once = 1;
    for (int v = 0; v < THREADS * CALLS * ROWS; v++) {
        int poisoned_call = v / ROWS == 3 * CALLS + 7;
        if (f.seen[v] != (poisoned_call ? 0 : 1)) {
            once = 0;
            fprintf(stderr, "row %d stored %d times\n", v, f.seen[v]);
            break;
        }
    }
    CHECK(once);
    CHECK(!f.overlap); /* the engine never ran two statements at once */
    /* grouped: fewer inserts than calls (not guaranteed per run, but with 8
     * threads on any machine the rounds gather several calls) */
    fprintf(stderr, "%zu inserts for %d calls\n", f.inserts, THREADS * CALLS);
    CHECK(f.inserts < (size_t)(THREADS * CALLS));
    sp_ingest_group_free(g);
    sp_datasource_free(ds);
    pthread_mutex_destroy(&f.mu);
}

int main(void)
{
    RUN(grouped_exactly_once);
    return sp_test_done();
}
