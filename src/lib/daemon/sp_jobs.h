/* sp_jobs: the job table of the daemon — every run is a job.
 *
 *   submit -> waiting -> working -> done | error | cancelled
 *                   \-> cancelled        \-> cancelling -> cancelled
 *
 * A pool of worker threads takes waiting jobs oldest first; a pipe never
 * has two jobs working at once (the later one waits).  Each job is
 * recorded in the ops log (sp_oplog) when accepted and when finished; at
 * open, a job the journal shows accepted but never finished, by a process
 * that is gone, is recorded as error "interrupted".  The last `keep`
 * finished jobs are read back from the journal, so listings survive
 * restarts.  Thread-safe. */
#ifndef SP_JOBS_H
#define SP_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_buf.h"

typedef struct sp_jobs sp_jobs;

typedef enum sp_job_status {
    SP_JOB_WAITING,
    SP_JOB_WORKING,
    SP_JOB_CANCELLING,
    SP_JOB_DONE,
    SP_JOB_ERROR,
    SP_JOB_CANCELLED
} sp_job_status;

const char *sp_job_status_name(sp_job_status s);

/* What to run (copied by sp_jobs_submit). */
typedef struct sp_job_spec {
    const char *pipe;
    int64_t now_unix;        /* logical time; 0 = when it starts */
    const sp_param *params;
    size_t nparams;
    const char *format;      /* overrides, NULL = as defined */
    const char *file_template;
    const char *compression;
    const char *strategy;
    const char *token_name;  /* who asked ("" for the scheduler and the CLI) */
    const char *trigger;     /* "schedule", "api", "cli" */
    const char *max_file_size; /* overrides, NULL = as defined */
    const char *max_file_rows;
} sp_job_spec;

/* The runner: run the job (spec and id borrowed for the call), honouring
 * *cancel; fill *res (released by sp_jobs) and err.  In the daemon this is
 * sp_run on the project; tests pass fakes. */
typedef int (*sp_jobs_run_fn)(void *ud, const char *job_id, const sp_job_spec *spec,
                              atomic_int *cancel, sp_run_result *res, sp_error *err);
/* interrupt: a working job was cancelled (called without sp_jobs' lock) */
typedef void (*sp_jobs_interrupt_fn)(void *ud, const char *job_id);
/* event: a job changed state ("waiting", "working", "done", ...); the job
 * object (borrowed) is its API form; called without sp_jobs' lock */
typedef void (*sp_jobs_event_fn)(void *ud, const char *event, json_t *job);

struct sp_jobs_opts {
    const char *dir;          /* project folder: the journal is under .sinkpipe/ */
    unsigned workers;         /* concurrent jobs (default 2) */
    size_t keep;              /* finished jobs kept in memory (default 1000) */
    int recover;              /* record unfinished jobs of dead processes as interrupted */
    sp_jobs_run_fn run;       /* NULL: read-only table (listing) */
    sp_jobs_interrupt_fn interrupt;
    sp_jobs_event_fn event;
    void *ud;
    int record;               /* no workers, but sp_jobs_begin/_end record runs */
};

/* sp_jobs_open: read the journal (and recover, if asked), start the
 * workers when a runner is given.  Free with sp_jobs_free(). */
int sp_jobs_open(const struct sp_jobs_opts *o, sp_jobs **out, sp_error *err);

/* sp_jobs_submit: a new waiting job; its id into id[40].  With
 * skip_if_busy, a pipe that already has a waiting or working job is not
 * queued again: SP_EEXIST.  SP_ECANCELLED once shutting down. */
int sp_jobs_submit(sp_jobs *j, const sp_job_spec *spec, int skip_if_busy, char id[40],
                   sp_error *err);

/* sp_jobs_begin / sp_jobs_end: a run made by the caller itself (the CLI's
 * `run`), recorded as a job: begin journals it as working (id: spec's
 * given id, or a new UUID, into id[40]); end finishes it with the run's
 * outcome (rc, *res, err borrowed).  A given id already used by a job (kept
 * in memory or only in the journal) is refused: SP_EEXIST. */
int sp_jobs_begin(sp_jobs *j, const sp_job_spec *spec, const char *given_id, char id[40],
                  sp_error *err);
void sp_jobs_end(sp_jobs *j, const char *id, int rc, const sp_run_result *res,
                 const sp_error *err, double cpu);

/* sp_jobs_cancel: a waiting job is dropped (cancelled), a working one is
 * asked to stop (cancelling).  SP_ENOTFOUND for an unknown id, SP_EINVAL
 * for a finished job. */
int sp_jobs_cancel(sp_jobs *j, const char *id, sp_error *err);

/* Listings: new references (caller decrefs); NULL when not found. */
typedef struct sp_jobs_filter {
    const char *status;     /* NULL: any */
    const char *pipe_name;
    int64_t created_after;  /* 0: none (UTC seconds, exclusive) */
    int64_t created_before; /* 0: none */
    size_t limit;           /* 0: all kept */
} sp_jobs_filter;
json_t *sp_jobs_get(sp_jobs *j, const char *id);
json_t *sp_jobs_list(sp_jobs *j, const sp_jobs_filter *f); /* newest first */

/* sp_jobs_note_cleaned: what a recovery undid of (dead) job `id` (item
 * borrowed: {"store","cleaned"}), shown as the job's "cleanup" list — as
 * the ops log's "cleaned" events are at open. */
void sp_jobs_note_cleaned(sp_jobs *j, const char *id, const json_t *item);

/* sp_jobs_pipe_busy: 1 when the pipe has a waiting or working job. */
int sp_jobs_pipe_busy(sp_jobs *j, const char *pipe);

/* sp_jobs_idle_wait: wait until no job is waiting or working, or until
 * `seconds` (real time) passed; 1 when idle. */
int sp_jobs_idle_wait(sp_jobs *j, double seconds);

/* sp_jobs_shutdown: accept no more jobs, drop the waiting ones, let the
 * working ones finish for up to `grace` seconds, then cancel them and wait
 * for their clean end; the workers are joined.  Idempotent. */
void sp_jobs_shutdown(sp_jobs *j, double grace);

/* Counters for /metrics, appended to `out` as Prometheus text. */
int sp_jobs_metrics(sp_jobs *j, sp_buf *out, sp_error *err);

void sp_jobs_free(sp_jobs *j); /* shuts down first */

#endif
