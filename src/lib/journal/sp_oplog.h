/* sp_oplog: the durable journal of jobs, <project>/.sinkpipe/ops_log.ndjson.
 *
 * Append-only NDJSON, one record per line, each written with one write()
 * on an O_APPEND descriptor and fsync'd, so that several processes (the
 * daemon, `sinkpipe run`) may append at once and a crash loses at most the
 * line being written.  Records carry "event": "started" (a job was
 * accepted), "finished" (one row of sinks_ops_log), "skipped" (a scheduled
 * fire while the pipe was busy).  The engine exposes the finished records
 * as the view tinybird.sinks_ops_log (sp_engine_clickhouse.c, embedded). */
#ifndef SP_OPLOG_H
#define SP_OPLOG_H

#include <jansson.h>
#include <stdint.h>

#include "sinkpipe.h"

#define SP_OPLOG_FILE "ops_log.ndjson"

typedef struct sp_oplog sp_oplog;

/* sp_oplog_path: "<dir>/.sinkpipe/ops_log.ndjson" into buf (truncated). */
void sp_oplog_path(const char *project_dir, char *buf, size_t n);

/* sp_oplog_open: open (create) the journal of the project in `dir`
 * (creating .sinkpipe/); a torn last line left by a crash is terminated.
 * Free with sp_oplog_close(). */
int sp_oplog_open(const char *dir, sp_oplog **out, sp_error *err);
void sp_oplog_close(sp_oplog *l);

/* sp_oplog_append: one record (borrowed) as one durable line. */
int sp_oplog_append(sp_oplog *l, json_t *rec, sp_error *err);

/* sp_oplog_write_line: rec (borrowed) as one NDJSON line in one write() on
 * fd (O_APPEND keeps concurrent writers' lines whole), fdatasync'd when
 * sync.  `what` names the file in messages ("the ops log"). */
int sp_oplog_write_line(int fd, json_t *rec, int sync, const char *what, sp_error *err);

/* sp_oplog_each: call fn for every well-formed record of the journal at
 * `path` in order (rec is borrowed for the call); malformed lines are
 * skipped.  A missing file has no records.  fn returns non-zero to stop. */
typedef int (*sp_oplog_fn)(void *ud, json_t *rec);
int sp_oplog_each(const char *path, sp_oplog_fn fn, void *ud, sp_error *err);

/* sp_time_text: "YYYY-MM-DD hh:mm:ss" (UTC) of `secs` into buf[20+]. */
const char *sp_time_text(int64_t secs, char *buf, size_t n);

/* sp_time_parse_text: the inverse of sp_time_text; -1 when malformed. */
int sp_time_parse_text(const char *s, int64_t *out);

#endif
