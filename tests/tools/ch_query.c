/* ch_query: run one query through the ClickHouse engine's C API, for
 * tests/e2e/engine_clickhouse.sh (what the CLI cannot reach: query ids,
 * time and memory limits, interrupt() from another thread).
 *
 *   ch_query URL SQL [--query-id ID] [--timeout-ms N] [--max-memory N]
 *                    [--interrupt-after N]
 *
 * Prints "rows N batches N" on success, "error CODE: message" on failure
 * (exit 1).  With --query-id, at the first batch it also prints "running 1"
 * when system.processes shows the id (asked on a second engine).  With
 * --interrupt-after N, a second thread calls interrupt() after N batches;
 * afterwards "killed 1" when the id left system.processes within 20 s. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_engine.h"

typedef struct st {
    const char *url;
    const char *qid;
    sp_engine *e;
    long interrupt_after;
    unsigned long long rows, batches;
    int checked;
} st;

static int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    (void)ud;
    (void)s;
    (void)err;
    return 0;
}

static int count_rows(void *ud, const sp_batch *b, sp_error *err)
{
    (void)err;
    *(unsigned long long *)ud += b->nrows;
    return 0;
}

/* rows of system.processes with our query id, on a second engine */
static long running(const st *s)
{
    sp_clickhouse_opts o = { s->url, NULL, NULL, NULL, NULL };
    sp_engine *e2 = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_engine_clickhouse_open(&o, &e2, &err))
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT query_id FROM system.processes WHERE query_id = '%s'",
             s->qid);
    unsigned long long n = 0;
    sp_query_opts qo = { 0 };
    int rc = e2->vt->query(e2, sql, &qo, on_schema, count_rows, &n, NULL, &err);
    e2->vt->close(e2);
    return rc ? -1 : (long)n;
}

static void *interrupter(void *arg)
{
    st *s = arg;
    s->e->vt->interrupt(s->e);
    return NULL;
}

static int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    (void)err;
    st *s = ud;
    s->rows += b->nrows;
    s->batches++;
    if (s->qid && !s->checked) {
        s->checked = 1;
        printf("running %ld\n", running(s));
        fflush(stdout);
    }
    if (s->interrupt_after && (long)s->batches == s->interrupt_after) {
        pthread_t th;
        if (pthread_create(&th, NULL, interrupter, s) == 0)
            pthread_join(th, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ch_query URL SQL [options]\n");
        return 2;
    }
    st s = { 0 };
    s.url = argv[1];
    sp_query_opts o = { 0 };
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--query-id"))
            s.qid = o.query_id = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout-ms"))
            o.timeout_ms = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--max-memory"))
            o.max_memory = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--interrupt-after"))
            s.interrupt_after = strtol(argv[i + 1], NULL, 10);
    }
    sp_clickhouse_opts co = { s.url, NULL, NULL, NULL, NULL };
    sp_error err = SP_ERROR_INIT;
    if (sp_engine_clickhouse_open(&co, &s.e, &err)) {
        printf("error %d: %s\n", err.code, err.msg);
        return 1;
    }
    sp_query_stats stats;
    int rc = s.e->vt->query(s.e, argv[2], &o, on_schema, on_batch, &s, &stats, &err);
    if (rc)
        printf("error %d: %s\n", err.code, err.msg);
    else
        printf("rows %llu batches %llu\n", s.rows, s.batches);
    if (s.interrupt_after && s.qid) {
        /* the killed query leaves the server's process list */
        time_t end = time(NULL) + 20;
        long n;
        while ((n = running(&s)) != 0 && time(NULL) < end) {
            struct timespec ts = { 0, 50 * 1000000L }; /* polling a condition with a deadline */
            nanosleep(&ts, NULL);
        }
        printf("killed %d\n", n == 0);
    }
    s.e->vt->close(s.e);
    return rc ? 1 : 0;
}
