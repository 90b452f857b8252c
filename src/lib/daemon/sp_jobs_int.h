/* sp_jobs_int: the pieces of the job table (internal).
 *
 *   sp_jobs.c          the table, its workers and the API of sp_jobs.h
 *                      (submit, begin/end, cancel, list, shutdown)
 *   sp_jobs_json.c     a job's API form and its ops-log records
 *   sp_jobs_recover.c  the journal read back at open: finished jobs
 *                      listed again, jobs of dead processes recorded as
 *                      interrupted, what recovery cleaned
 *   sp_jobs_metrics.c  the per-pipe counters and their Prometheus text
 *
 * Everything in struct sp_jobs is guarded by its mutex `mu`, except what
 * sp_jobs_open sets before the table is shared. */
#ifndef SP_JOBS_INT_H
#define SP_JOBS_INT_H

#include <stdatomic.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "sp_jobs.h"
#include "sp_oplog.h"

#define SP__JOBS_MAX_WORKERS 64
#define SP__JOBS_NHIST 8 /* run duration histogram buckets (sp_jobs_metrics.c) */

typedef struct sp__job {
    char id[40];
    char *pipe;
    sp_job_status st;
    double created;    /* unix seconds (real time) */
    double updated;
    double started;
    atomic_int cancel;
    int foreign;       /* run by another live process (seen in the journal) */
    sp_job_spec spec;  /* owned copies (spec.pipe == pipe) */
    sp_param *params;
    json_t *done;      /* API form once finished (then the spec is freed) */
} sp__job;

typedef struct sp__pipe_metrics {
    char *pipe;
    uint64_t by_result[3]; /* ok, error, cancelled */
    uint64_t rows, bytes, delivery_errors;
    uint64_t hist[SP__JOBS_NHIST + 1];
    double dur_sum;
    double last_ok;
} sp__pipe_metrics;

struct sp_jobs {
    struct sp_jobs_opts o;
    char *dir;
    sp_oplog *log;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a job became waiting or finished; shutdown */
    sp__job **v;             /* oldest first */
    size_t n, cap;
    size_t nfinished;
    int accepting;
    int stop_workers;
    int shut;
    pthread_t th[SP__JOBS_MAX_WORKERS];
    unsigned nth;
    sp__pipe_metrics *pm;
    size_t npm;
    char boot_id[64];
    json_t *cleaned;     /* job id -> what recovery undid of it (ops log "cleaned") */
};

/* ---- sp_jobs.c ---- */

/* sp__jobs_wall: the real time, unix seconds */
double sp__jobs_wall(void);
/* sp__job_free: w with its spec and API form (NULL: nothing) */
void sp__job_free(sp__job *w);
/* sp__jobs_push: append w (the table owns it then); -1 out of memory */
int sp__jobs_push(sp_jobs *j, sp__job *w);
/* sp__job_finished: done, error or cancelled */
int sp__job_finished(const sp__job *w);
/* sp__jobs_trim: drop the oldest finished jobs beyond o.keep */
void sp__jobs_trim(sp_jobs *j);
/* sp__jobs_finalize: move w to final state st, journal it, count it;
 * returns the API form (a new reference) */
json_t *sp__jobs_finalize(sp_jobs *j, sp__job *w, sp_job_status st, const sp_run_result *res,
                          const char *error, int code, double cpu);
/* sp__jobs_active_count: jobs of this process waiting or working
 * (working_only: working or cancelling) */
int sp__jobs_active_count(const sp_jobs *j, int working_only);

/* ---- sp_jobs_json.c ---- */

/* sp__jobs_jtime: t as the API's time text, null when t <= 0 */
json_t *sp__jobs_jtime(double t);
/* sp__job_active_json: the API form of a job not yet finished */
json_t *sp__job_active_json(const sp__job *w);
/* sp__job_finish_json: the final API form of finished job w (returned)
 * and its ops-log "finished" record (*row) */
json_t *sp__job_finish_json(sp__job *w, const sp_run_result *res, const char *error, double cpu,
                            json_t **row);

/* ---- sp_jobs_recover.c ---- */

/* sp__jobs_replay: read the journal back into the table (at open) */
int sp__jobs_replay(sp_jobs *j, sp_error *err);

/* ---- sp_jobs_metrics.c ---- */

/* sp__jobs_count: count finished job w (its result, code) in its pipe's
 * metrics */
void sp__jobs_count(sp_jobs *j, const sp__job *w, const sp_run_result *res, int code);

#endif
