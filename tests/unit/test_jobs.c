// sp-deps: sp_buf sp_error sp_uuid sp_oplog sp_jobs sp_result sp_time sp_jobs_json sp_jobs_recover sp_jobs_metrics
/* test_jobs: the job table with a fake runner — statuses, results, the
 * journal (started/finished records), cancel of waiting and working jobs,
 * one job per pipe at a time, skip-if-busy, recovery of jobs interrupted by
 * a crash, history across restarts, shutdown with a grace period.  Also
 * run under ThreadSanitizer (make tsan). */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_jobs.h"
#include "sp_oplog.h"
#include "sp_sink.h"
#include "sp_test.h"

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;          /* runners of pipes named "block*" wait for this */
    int running;       /* runners in progress */
    int max_same_pipe; /* most runners of pipe "same" at once */
    int same_now;
    int runs;
    int interrupts;
} gate;

static gate g;

static int fake_run(void *ud, const char *id, const sp_job_spec *spec, atomic_int *cancel,
                    sp_run_result *res, sp_error *err)
{
    (void)ud;
    snprintf(res->job_id, sizeof res->job_id, "%s", id);
    res->pipe = strdup(spec->pipe);
    res->service = strdup("file");
    res->sql = strdup("SELECT 1");
    pthread_mutex_lock(&g.mu);
    g.runs++;
    g.running++;
    if (!strcmp(spec->pipe, "same") && ++g.same_now > g.max_same_pipe)
        g.max_same_pipe = g.same_now;
    pthread_cond_broadcast(&g.cv);
    int rc = 0;
    if (!strncmp(spec->pipe, "block", 5) || !strcmp(spec->pipe, "same")) {
        while (!g.open && !__atomic_load_n(cancel, __ATOMIC_SEQ_CST))
            pthread_cond_wait(&g.cv, &g.mu);
        if (__atomic_load_n(cancel, __ATOMIC_SEQ_CST))
            rc = sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    }
    if (!strcmp(spec->pipe, "same"))
        g.same_now--;
    g.running--;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    if (!strcmp(spec->pipe, "bad"))
        return sp_error_set(err, SP_ESQL, 0, "pipe 'bad': no such table 'x'");
    if (!rc) {
        res->written_rows = 3;
        res->written_bytes = 42;
        res->read_rows = 5;
        sp_run_result_add_object(res, "file:///tmp/x/a.csv", 42, 3);
    }
    return rc;
}

static void fake_interrupt(void *ud, const char *id)
{
    (void)ud;
    (void)id;
    pthread_mutex_lock(&g.mu);
    g.interrupts++;
    pthread_cond_broadcast(&g.cv); /* runners re-check their cancel flag */
    pthread_mutex_unlock(&g.mu);
}

static void gate_reset(void)
{
    pthread_mutex_lock(&g.mu);
    g.open = 0;
    g.running = g.max_same_pipe = g.same_now = g.runs = g.interrupts = 0;
    pthread_mutex_unlock(&g.mu);
}

static void gate_open(void)
{
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

/* wait (deadline 10 s) until n runners are in progress */
static int wait_running(int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&g.mu);
    int rc = 0;
    while (g.running < n && rc == 0)
        rc = pthread_cond_timedwait(&g.cv, &g.mu, &ts);
    int ok = g.running >= n;
    pthread_mutex_unlock(&g.mu);
    return ok;
}

static char g_dir[256];

static sp_jobs *open_jobs(unsigned workers, int recover)
{
    struct sp_jobs_opts o = { g_dir, workers, 0, recover, fake_run, fake_interrupt, NULL, NULL };
    sp_jobs *j = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_jobs_open(&o, &j, &err), &err);
    return j;
}

static const char *status_of(sp_jobs *j, const char *id, char *buf, size_t n)
{
    json_t *job = sp_jobs_get(j, id);
    snprintf(buf, n, "%s", job ? json_string_value(json_object_get(job, "status")) : "(none)");
    json_decref(job);
    return buf;
}

/* poll (deadline 10 s) until a job reaches status want */
static int wait_status(sp_jobs *j, const char *id, const char *want)
{
    char b[32];
    for (int i = 0; i < 10000; i++) {
        if (!strcmp(status_of(j, id, b, sizeof b), want))
            return 1;
        if (i % 100 == 99)
            sp_jobs_idle_wait(j, 0.01);
        else
            usleep(1000);
    }
    SP_T_FAIL("job %s: status %s, want %s", id, b, want);
    return 0;
}

static void submit(sp_jobs *j, const char *pipe, char id[40])
{
    sp_param params[] = { { "day", "2026-11-30" } };
    sp_job_spec s = { pipe, 1796000000, params, 1, "ndjson", NULL, NULL, NULL, "t1", "api" };
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_jobs_submit(j, &s, 0, id, &err), &err);
}

typedef struct count_ud {
    int started, finished;
    char last_error[256];
} count_ud;

static int count_rec(void *ud, json_t *rec)
{
    count_ud *c = ud;
    const char *ev = json_string_value(json_object_get(rec, "event"));
    if (ev && !strcmp(ev, "started"))
        c->started++;
    if (ev && !strcmp(ev, "finished")) {
        c->finished++;
        snprintf(c->last_error, sizeof c->last_error, "%s",
                 json_string_value(json_object_get(rec, "error")));
    }
    return 0;
}

static count_ud journal(void)
{
    char path[512];
    sp_oplog_path(g_dir, path, sizeof path);
    count_ud c = { 0, 0, "" };
    sp_oplog_each(path, count_rec, &c, NULL);
    return c;
}

TEST(runs_and_records)
{
    gate_reset();
    sp_jobs *j = open_jobs(2, 1);
    char id[40], bad[40];
    submit(j, "ok", id);
    submit(j, "bad", bad);
    CHECK_INT(strlen(id), 36);
    CHECK(id[14] == '4');
    CHECK(sp_jobs_idle_wait(j, 10));
    json_t *job = sp_jobs_get(j, id);
    CHECK_STR(json_string_value(json_object_get(job, "status")), "done");
    CHECK_STR(json_string_value(json_object_get(job, "kind")), "sink");
    CHECK_STR(json_string_value(json_object_get(json_object_get(job, "pipe"), "name")), "ok");
    CHECK_STR(json_string_value(json_object_get(job, "query_sql")), "SELECT 1");
    CHECK_STR(json_string_value(json_object_get(job, "logical_time")), "2026-11-30 00:53:20");
    CHECK_STR(json_string_value(json_object_get(json_object_get(job, "parameters"), "day")),
              "2026-11-30");
    CHECK_STR(json_string_value(json_object_get(json_object_get(job, "options"), "format")),
              "ndjson");
    json_t *st = json_object_get(job, "statistics");
    CHECK_INT(json_integer_value(json_object_get(st, "written_rows")), 3);
    CHECK_INT(json_array_size(json_object_get(job, "output")), 1);
    CHECK(json_is_false(json_object_get(job, "is_cancellable")));
    json_decref(job);
    job = sp_jobs_get(j, bad);
    CHECK_STR(json_string_value(json_object_get(job, "status")), "error");
    CHECK_STR(json_string_value(json_object_get(job, "error")), "pipe 'bad': no such table 'x'");
    json_decref(job);
    CHECK(sp_jobs_get(j, "nope") == NULL);
    /* listing: newest first, filters */
    json_t *all = sp_jobs_list(j, NULL);
    CHECK_INT(json_array_size(all), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(all, 0), "id")), bad);
    json_decref(all);
    sp_jobs_filter f = { "error", NULL, 0, 0, 0 };
    json_t *errs = sp_jobs_list(j, &f);
    CHECK_INT(json_array_size(errs), 1);
    json_decref(errs);
    sp_jobs_filter f2 = { NULL, "ok", 0, 0, 0 };
    json_t *oks = sp_jobs_list(j, &f2);
    CHECK_INT(json_array_size(oks), 1);
    json_decref(oks);
    sp_buf m = SP_BUF_INIT(1 << 20);
    CHECK_OK(sp_jobs_metrics(j, &m, NULL), NULL);
    CHECK(strstr(m.data, "sinkpipe_jobs_total{pipe=\"ok\",result=\"ok\"} 1") != NULL);
    CHECK(strstr(m.data, "sinkpipe_jobs_total{pipe=\"bad\",result=\"error\"} 1") != NULL);
    CHECK(strstr(m.data, "sinkpipe_written_rows_total{pipe=\"ok\"} 3") != NULL);
    sp_buf_release(&m);
    sp_jobs_free(j);
    count_ud c = journal();
    CHECK_INT(c.started, 2);
    CHECK_INT(c.finished, 2);
    /* history survives a restart */
    j = open_jobs(1, 1);
    char b[32];
    CHECK_STR(status_of(j, id, b, sizeof b), "done");
    CHECK_STR(status_of(j, bad, b, sizeof b), "error");
    sp_jobs_free(j);
}

TEST(cancel_waiting_and_working)
{
    gate_reset();
    sp_jobs *j = open_jobs(1, 1);
    char a[40], b[40];
    submit(j, "block_a", a);
    CHECK(wait_running(1));
    submit(j, "block_b", b); /* one worker: waits */
    char s[32];
    CHECK_STR(status_of(j, b, s, sizeof s), "waiting");
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_jobs_cancel(j, b, &err), &err);
    CHECK_STR(status_of(j, b, s, sizeof s), "cancelled");
    CHECK_OK(sp_jobs_cancel(j, a, &err), &err);
    CHECK(wait_status(j, a, "cancelled"));
    CHECK_INT(g.interrupts, 1);
    CHECK_INT(g.runs, 1); /* b never ran */
    sp_error e2 = SP_ERROR_INIT;
    CHECK_INT(sp_jobs_cancel(j, a, &e2), SP_EINVAL);
    sp_error e3 = SP_ERROR_INIT;
    CHECK_INT(sp_jobs_cancel(j, "00000000-0000-4000-8000-000000000000", &e3), SP_ENOTFOUND);
    sp_jobs_free(j);
}

TEST(one_job_per_pipe)
{
    gate_reset();
    sp_jobs *j = open_jobs(3, 1);
    char a[40], b[40], c[40];
    submit(j, "same", a);
    CHECK(wait_running(1));
    submit(j, "same", b);
    sp_job_spec s = { "same", 0, NULL, 0, NULL, NULL, NULL, NULL, "", "schedule" };
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_jobs_submit(j, &s, 1, c, &err), SP_EEXIST);
    CHECK_INT(sp_jobs_pipe_busy(j, "same"), 1);
    CHECK_INT(sp_jobs_pipe_busy(j, "other"), 0);
    char st[32];
    CHECK_STR(status_of(j, b, st, sizeof st), "waiting");
    gate_open();
    CHECK(sp_jobs_idle_wait(j, 10));
    CHECK_INT(g.max_same_pipe, 1);
    CHECK_STR(status_of(j, a, st, sizeof st), "done");
    CHECK_STR(status_of(j, b, st, sizeof st), "done");
    sp_jobs_free(j);
}

TEST(crash_recovery)
{
    /* a "started" record by a process that is gone */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    sp_oplog *l = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_oplog_open(g_dir, &l, &err), &err);
    char boot[64] = "";
    FILE *bf = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (bf) {
        if (fgets(boot, sizeof boot, bf))
            boot[strcspn(boot, "\n")] = '\0';
        fclose(bf);
    }
    json_t *rec = json_pack("{s:s,s:s,s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:{s:s}}}", "event",
                            "started", "job_id", "11111111-2222-4333-8444-555555555555",
                            "pipe_name", "crashed", "pid", (json_int_t)pid, "boot_id", boot,
                            "job", "id", "11111111-2222-4333-8444-555555555555", "pipe_name",
                            "crashed", "status", "working", "created_at",
                            "2026-11-30 10:00:00", "token_name", "admin", "parameters", "x", "1");
    CHECK_OK(sp_oplog_append(l, rec, &err), &err);
    json_decref(rec);
    /* and a torn line, as a crash mid-write leaves it */
    char path[512];
    sp_oplog_path(g_dir, path, sizeof path);
    FILE *f = fopen(path, "a");
    fputs("{\"event\":\"fini", f);
    fclose(f);
    sp_oplog_close(l);
    count_ud before = journal();
    sp_jobs *j = open_jobs(1, 1);
    char st[32];
    CHECK_STR(status_of(j, "11111111-2222-4333-8444-555555555555", st, sizeof st), "error");
    json_t *job = sp_jobs_get(j, "11111111-2222-4333-8444-555555555555");
    CHECK_STR(json_string_value(json_object_get(job, "error")), "interrupted");
    CHECK_STR(json_string_value(json_object_get(json_object_get(job, "parameters"), "x")), "1");
    json_decref(job);
    sp_jobs_free(j);
    count_ud after = journal();
    CHECK_INT(after.finished, before.finished + 1);
    CHECK_STR(after.last_error, "interrupted");
    /* recorded once: a second start adds nothing */
    j = open_jobs(1, 1);
    sp_jobs_free(j);
    CHECK_INT(journal().finished, after.finished);
}

TEST(shutdown_cancels_after_grace)
{
    gate_reset();
    sp_jobs *j = open_jobs(2, 1);
    char a[40], b[40];
    submit(j, "block_a", a);
    CHECK(wait_running(1));
    submit(j, "ok", b);
    CHECK(sp_jobs_idle_wait(j, 0.05) == 0);
    sp_jobs_shutdown(j, 0.05);
    char st[32];
    CHECK_STR(status_of(j, a, st, sizeof st), "cancelled");
    char c[40];
    sp_job_spec s = { "ok", 0, NULL, 0, NULL, NULL, NULL, NULL, "", "api" };
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_jobs_submit(j, &s, 0, c, &err), SP_ECANCELLED);
    sp_jobs_free(j);
}

/* issue 13: a given job id names one job only, even once trimmed from
 * memory (it is still in the journal) */
TEST(given_id_used_once)
{
    struct sp_jobs_opts o = { g_dir, 0, 1, 0, NULL, NULL, NULL, NULL, 1 };
    sp_jobs *j = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_jobs_open(&o, &j, &err), &err);
    sp_job_spec s = { "p1", 0, NULL, 0, NULL, NULL, NULL, NULL, "", "cli" };
    char id[40];
    sp_run_result res = { 0 };
    CHECK_OK(sp_jobs_begin(j, &s, "nightly-1", id, &err), &err);
    CHECK_STR(id, "nightly-1");
    sp_error e2 = SP_ERROR_INIT;
    CHECK_INT(sp_jobs_begin(j, &s, "nightly-1", id, &e2), SP_EEXIST); /* still working */
    CHECK_STR(e2.msg, "job id 'nightly-1' is already used (a job of pipe 'p1'): give a new one");
    sp_jobs_end(j, "nightly-1", 0, &res, NULL, 0);
    CHECK_OK(sp_jobs_begin(j, &s, "nightly-2", id, &err), &err); /* trims nightly-1 (keep 1) */
    sp_jobs_end(j, "nightly-2", 0, &res, NULL, 0);
    sp_jobs_free(j);
    CHECK_OK(sp_jobs_open(&o, &j, &err), &err);
    CHECK(sp_jobs_get(j, "nightly-1") == NULL); /* not in memory */
    sp_error_clear(&e2);
    CHECK_INT(sp_jobs_begin(j, &s, "nightly-1", id, &e2), SP_EEXIST);
    CHECK(strstr(e2.msg, "'nightly-1' is already used") != NULL);
    CHECK_OK(sp_jobs_begin(j, &s, "nightly-3", id, &err), &err);
    sp_jobs_end(j, "nightly-3", 0, &res, NULL, 0);
    sp_jobs_free(j);
}

int main(void)
{
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    snprintf(g_dir, sizeof g_dir, "/tmp/sp-test-jobs-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    RUN(runs_and_records);
    RUN(cancel_waiting_and_working);
    RUN(one_job_per_pipe);
    RUN(crash_recovery);
    RUN(shutdown_cancels_after_grace);
    RUN(given_id_used_once);
    char path[512];
    sp_oplog_path(g_dir, path, sizeof path);
    unlink(path);
    snprintf(path, sizeof path, "%s/.sinkpipe", g_dir);
    rmdir(path);
    rmdir(g_dir);
    return sp_test_done();
}
