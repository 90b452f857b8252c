/* sp_sched: the scheduler of the daemon.
 *
 * Holds the scheduled pipes (cron expressions, @once) and fires them on an
 * injectable clock (sp_clock).  Each fire's logical time is the scheduled
 * minute.  Firing calls back into the owner (who submits a job); a fire the
 * owner refuses because the pipe is still running is counted as skipped.
 *
 * State kept in `state_path` (JSON, rewritten atomically after every fire):
 * per pipe the last slot handled and the definition hash @once last ran
 * for, so that @once runs once per definition across restarts and fires
 * missed while the daemon was down are known at start-up.  With catch_up,
 * the latest missed slot of each pipe runs once at start-up; without it,
 * missed slots are dropped.  Thread-safe. */
#ifndef SP_SCHED_H
#define SP_SCHED_H

#include <stdint.h>

#include "sinkpipe.h"
#include "sp_clock.h"

typedef struct sp_sched sp_sched;

typedef struct sp_sched_pipe {
    const char *name;
    const char *schedule; /* EXPORT_SCHEDULE */
    const char *def_hash; /* hash of the pipe's definition (for @once) */
} sp_sched_pipe;

/* fire: submit a run of `pipe` at logical time `logical`; `why` is "cron",
 * "catch-up" or "once".  Return 0 when submitted, SP_EEXIST when the pipe
 * is busy (the fire is skipped), another negative code on failure (an
 * @once is then retried a minute later).  Called with the scheduler's lock
 * held: it must not call back into the scheduler. */
typedef int (*sp_sched_fire_fn)(void *ud, const char *pipe, int64_t logical, const char *why);

struct sp_sched_opts {
    sp_clock *clock;        /* borrowed; required */
    const char *state_path; /* NULL: nothing remembered */
    int catch_up;           /* run the latest missed slot at start-up */
    int64_t start;          /* when the daemon started (0: at the first tick):
                             * a pipe never seen before is due from then */
    sp_sched_fire_fn fire;
    void *ud;
};

int sp_sched_new(const struct sp_sched_opts *o, sp_sched **out, sp_error *err);
/* sp_sched_set: replace the scheduled pipes (copied).  Every schedule is
 * parsed first; on an error nothing changes.  Pipes keep their state across
 * calls (a reload).  @on-demand pipes are ignored. */
int sp_sched_set(sp_sched *s, const sp_sched_pipe *v, size_t n, sp_error *err);
/* sp_sched_tick: fire everything due at `now` (UTC seconds); returns the
 * next deadline (INT64_MAX when nothing is scheduled). */
int64_t sp_sched_tick(sp_sched *s, int64_t now);
/* sp_sched_start / sp_sched_stop: a thread that ticks on the clock. */
int sp_sched_start(sp_sched *s, sp_error *err);
void sp_sched_stop(sp_sched *s);
/* sp_sched_next: the next fire of `pipe` (-1: none or not scheduled). */
int64_t sp_sched_next(sp_sched *s, const char *pipe);
/* counters since creation */
uint64_t sp_sched_fired(sp_sched *s);
uint64_t sp_sched_skipped(sp_sched *s);
void sp_sched_free(sp_sched *s); /* stops first */

#endif
