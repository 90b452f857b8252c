/* sp_journal: what a run has in flight outside the project — temp files,
 * multipart uploads, transactions — written down before it starts them, so
 * that whatever a killed run left can be found and undone later
 * (sp_recover.c does that).
 *
 * One file per run, <project>/.sinkpipe/journal/run-<16 hex>.ndjson,
 * append-only NDJSON:
 *
 *   {"journal":1,"job_id":..,"pipe":..,"pid":..,"started":..,
 *    "connection":..,"bucket_uri":..}               the run (first line)
 *   {"add":N,"store":"file",...}                     entry N starts
 *   {"set":N,"upload_id":"..."}                      entry N learns a field
 *   {"done":N}                                       entry N is over
 *
 * The run holds an exclusive flock() on its file for its whole life; the
 * kernel drops it when the process dies, however it dies.  So "the run is
 * dead" is "its file can be locked" — no pid guessing, and a live run in
 * any process (another CLI run, the daemon's own jobs) is never touched.
 * The file is created under a temporary name, locked, then renamed, so a
 * recoverer never sees an unlocked journal of a live run.
 *
 * add and set are fsync'd before they return (the caller starts the temp
 * file or upload after); done is not (a lost done only makes a later
 * recovery find nothing to undo).  A run whose entries are all done removes
 * its file at close.  Entries never hold credentials: stores write what
 * names the thing (path, bucket, key, upload id, connection name).
 * Thread-safe (the S3 store commits from upload threads). */
#ifndef SP_JOURNAL_H
#define SP_JOURNAL_H

#include <jansson.h>

#include "sinkpipe.h"

#define SP_JOURNAL_DIR "journal"

typedef struct sp_journal sp_journal;

/* What the run writes to (copied into the first line; NULLs allowed). */
typedef struct sp_journal_run {
    const char *job_id;
    const char *pipe;
    const char *connection; /* the sink's connection name */
    const char *bucket_uri; /* objects: EXPORT_BUCKET_URI as resolved */
} sp_journal_run;

/* sp_journal_open: start the journal of a run of the project in `dir`
 * (creates .sinkpipe/journal/).  Close with sp_journal_close. */
int sp_journal_open(const char *dir, const sp_journal_run *run, sp_journal **out,
                    sp_error *err);

/* sp_journal_add: record entry (a JSON object, borrowed; it should carry
 * "store") durably; *id receives its number for set/done. */
int sp_journal_add(sp_journal *j, json_t *entry, long *id, sp_error *err);

/* sp_journal_set: add field key = value to entry id, durably. */
int sp_journal_set(sp_journal *j, long id, const char *key, const char *value,
                   sp_error *err);

/* sp_journal_done: entry id is over (committed or aborted).  j may be NULL
 * (no journal) and id < 0 (never added): nothing happens. */
void sp_journal_done(sp_journal *j, long id);

/* sp_journal_close: release the lock; the file is removed when every entry
 * is done, kept (for recovery) otherwise.  NULL is fine. */
void sp_journal_close(sp_journal *j);

/* ---- recovery -------------------------------------------------------- */

/* One open entry of a dead run.  All borrowed for the callback's time. */
typedef struct sp_leftover {
    const json_t *run;   /* the first line: job_id, pipe, pid, connection, ... */
    const json_t *entry; /* the entry with its set fields merged */
    const char *journal; /* path of the journal file (for messages) */
} sp_leftover;

/* Called for each open entry of each dead run: return 0 when it is undone
 * (or was already gone), non-zero to keep it for a later recovery. */
typedef int (*sp_leftover_fn)(void *ud, const sp_leftover *l);

/* sp_journal_recover: for every journal of a dead run in the project in
 * `dir` (one that can be locked), call fn on each open entry, record the
 * undone ones as done and remove the journal once nothing is left.
 * dry_run = 1 only lists (fn's answer is ignored, nothing changes).
 * Journals of live runs are skipped.  Fails only on an unreadable folder. */
int sp_journal_recover(const char *dir, int dry_run, sp_leftover_fn fn, void *ud,
                       sp_error *err);

/* sp_journal_live_has: 1 when a live run (a journal someone holds locked,
 * other than the one at `skip`, which may be NULL) has an open entry whose
 * field `key` is `value` — e.g. the same Kafka transactional.id, which
 * recovery must then leave alone. */
int sp_journal_live_has(const char *dir, const char *skip, const char *key,
                        const char *value);

#endif
