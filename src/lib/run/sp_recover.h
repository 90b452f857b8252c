/* sp_recover: undo what dead runs of a project left behind — the open
 * entries of their journals (sp_journal.h) — through the backend that wrote
 * each entry, and say what was done.
 *
 *   "store": "file" | "s3"   the object store is opened again from the
 *                            run's bucket URI and connection (by name,
 *                            resolved now: credentials are never in the
 *                            journal) and its vt->recover() undoes it
 *   "store": "kafka"         sp_sink_kafka_recover(): the transactional.id
 *                            is fenced, which aborts the open transaction
 *
 * Each entry undone is appended to the ops log as an event "cleaned"
 * (job_id = the dead run's), which `sinkpipe jobs` and /v0/jobs show as the
 * job's "cleanup" list.  Called before every run (sp_run) and at daemon
 * start; `sinkpipe check` lists what is pending without touching it. */
#ifndef SP_RECOVER_H
#define SP_RECOVER_H

#include <jansson.h>

#include "sinkpipe.h"

/* sp_recover_dead_runs: clean every leftover of dead runs of p.  *report
 * (optional, new reference) receives an array of
 *   {"job_id","pipe","store","cleaned": "<what was done>"}  or
 *   {"job_id","pipe","store","error": "<why it is kept>"}
 * A leftover that cannot be undone now (a store that does not answer, a
 * connection no longer defined) is kept for the next time; that is not a
 * failure of the call, which fails only when the journal folder cannot be
 * read. */
int sp_recover_dead_runs(sp_project *p, json_t **report, sp_error *err);

/* sp_recover_pending: the leftovers of dead runs, listed without touching
 * them: an array of {"job_id","pipe","store","object"} (new reference). */
json_t *sp_recover_pending(const char *dir);

#endif
