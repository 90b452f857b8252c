/* sp_jobs_metrics: per-pipe counters of finished jobs (results, rows,
 * bytes, delivery errors, run time histogram, last success) and their
 * Prometheus text for GET /metrics (sp_jobs_metrics in sp_jobs.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_jobs_int.h"
#include "sp_banned.h"

/* run duration histogram buckets (seconds) */
static const double hist_le[] = { 0.1, 0.5, 1, 5, 15, 60, 300, 1800 };
_Static_assert(sizeof hist_le / sizeof hist_le[0] == SP__JOBS_NHIST, "SP__JOBS_NHIST");

static sp__pipe_metrics *metrics_for(sp_jobs *j, const char *pipe)
{
    for (size_t i = 0; i < j->npm; i++)
        if (!strcmp(j->pm[i].pipe, pipe))
            return &j->pm[i];
    sp__pipe_metrics *nv = realloc(j->pm, (j->npm + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    j->pm = nv;
    sp__pipe_metrics *m = &j->pm[j->npm];
    memset(m, 0, sizeof *m);
    m->pipe = strdup(pipe);
    if (!m->pipe)
        return NULL;
    j->npm++;
    return m;
}

void sp__jobs_count(sp_jobs *j, const sp__job *w, const sp_run_result *res, int code)
{
    sp__pipe_metrics *m = metrics_for(j, w->pipe);
    if (!m)
        return;
    int r = w->st == SP_JOB_DONE ? 0 : w->st == SP_JOB_ERROR ? 1 : 2;
    m->by_result[r]++;
    if (res) {
        m->rows += res->written_rows;
        m->bytes += res->written_bytes;
        size_t b = 0;
        while (b < SP__JOBS_NHIST && res->elapsed_s > hist_le[b])
            b++;
        m->hist[b]++;
        m->dur_sum += res->elapsed_s;
    }
    if (code == SP_ESINK || code == SP_ENET || code == SP_EAUTH)
        m->delivery_errors++;
    if (r == 0)
        m->last_ok = w->updated;
}

/* the per-pipe counters after sinkpipe_jobs_total, in their order */
static const struct {
    const char *name, *help;
    size_t off; /* of a uint64_t in sp__pipe_metrics */
} counters[] = {
    { "sinkpipe_written_rows_total", "Rows delivered.", offsetof(sp__pipe_metrics, rows) },
    { "sinkpipe_written_bytes_total", "Bytes delivered.", offsetof(sp__pipe_metrics, bytes) },
    { "sinkpipe_delivery_errors_total", "Jobs failed in delivery.",
      offsetof(sp__pipe_metrics, delivery_errors) },
};

int sp_jobs_metrics(sp_jobs *j, sp_buf *out, sp_error *err)
{
    static const char *const results[3] = { "ok", "error", "cancelled" };
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    rc = sp_buf_adds(out,
                     "# HELP sinkpipe_jobs_total Finished jobs by pipe and result.\n"
                     "# TYPE sinkpipe_jobs_total counter\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        for (int r = 0; !rc && r < 3; r++)
            rc = sp_buf_addf(out, err, "sinkpipe_jobs_total{pipe=\"%s\",result=\"%s\"} %llu\n",
                             j->pm[i].pipe, results[r],
                             (unsigned long long)j->pm[i].by_result[r]);
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
        if (!rc)
            rc = sp_buf_addf(out, err, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name,
                             counters[c].help, counters[c].name);
        for (size_t i = 0; !rc && i < j->npm; i++) {
            const uint64_t *v = (const uint64_t *)((const char *)&j->pm[i] + counters[c].off);
            rc = sp_buf_addf(out, err, "%s{pipe=\"%s\"} %llu\n", counters[c].name, j->pm[i].pipe,
                             (unsigned long long)*v);
        }
    }
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_last_success_timestamp_seconds End of the last "
                         "successful job.\n"
                         "# TYPE sinkpipe_last_success_timestamp_seconds gauge\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        if (j->pm[i].last_ok > 0)
            rc = sp_buf_addf(out, err,
                             "sinkpipe_last_success_timestamp_seconds{pipe=\"%s\"} %.3f\n",
                             j->pm[i].pipe, j->pm[i].last_ok);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_run_duration_seconds Run time of finished jobs.\n"
                         "# TYPE sinkpipe_run_duration_seconds histogram\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++) {
        const sp__pipe_metrics *m = &j->pm[i];
        uint64_t cum = 0;
        for (size_t b = 0; !rc && b < SP__JOBS_NHIST; b++) {
            cum += m->hist[b];
            rc = sp_buf_addf(out, err,
                             "sinkpipe_run_duration_seconds_bucket{pipe=\"%s\",le=\"%g\"} %llu\n",
                             m->pipe, hist_le[b], (unsigned long long)cum);
        }
        cum += m->hist[SP__JOBS_NHIST];
        if (!rc)
            rc = sp_buf_addf(out, err,
                             "sinkpipe_run_duration_seconds_bucket{pipe=\"%s\",le=\"+Inf\"} %llu\n"
                             "sinkpipe_run_duration_seconds_sum{pipe=\"%s\"} %.6f\n"
                             "sinkpipe_run_duration_seconds_count{pipe=\"%s\"} %llu\n",
                             m->pipe, (unsigned long long)cum, m->pipe, m->dur_sum, m->pipe,
                             (unsigned long long)cum);
    }
    if (!rc)
        rc = sp_buf_addf(out, err,
                         "# HELP sinkpipe_jobs_active Jobs waiting or working.\n"
                         "# TYPE sinkpipe_jobs_active gauge\n"
                         "sinkpipe_jobs_active %d\n", sp__jobs_active_count(j, 0));
    pthread_mutex_unlock(&j->mu);
    return rc;
}
