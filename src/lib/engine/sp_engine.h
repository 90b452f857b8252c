/* sp_engine: query engines behind a small function table.  The engine is
 * ClickHouse (sp_engine_clickhouse.c): embedded in the process (chDB, the
 * default) or a server reached over HTTP; both share DDL, SQL handling,
 * type mapping and result decoding, and differ only in their transport
 * (sp_ch_conn.h).
 *
 * Engines take ClickHouse SQL (already rendered from its template and
 * composed from the pipe's nodes) and run it as written.  Results stream: on_schema once, then on_batch for each
 * batch of rows; memory does not grow with the result size. */
#ifndef SP_ENGINE_H
#define SP_ENGINE_H

#include <stdint.h>

#include "sp_batch.h"
#include "sp_model.h"

typedef struct sp_engine sp_engine;

typedef struct sp_query_opts {
    int64_t now_unix;      /* logical time: now(), today(), yesterday() */
    atomic_int *cancel;  /* polled between batches; may be NULL */
    const char *query_id;  /* job id, for engines that can kill by id */
    uint64_t max_memory;   /* bytes, 0 = engine default */
    uint64_t timeout_ms;   /* 0 = none */
} sp_query_opts;

typedef struct sp_query_stats {
    uint64_t read_rows;
    uint64_t read_bytes;
    uint64_t result_rows;
} sp_query_stats;

typedef int (*sp_schema_fn)(void *ud, const sp_schema *s, sp_error *err);
typedef int (*sp_batch_fn)(void *ud, const sp_batch *b, sp_error *err);

/* A rejected input row, for <ds>_quarantine. */
typedef struct sp_qrow {
    const char *raw;    /* the input line/record as read */
    size_t rawlen;
    const char *error;  /* why it was rejected: "column 'x': ..." */
    const char *column; /* offending column or NULL */
    uint64_t lineno;    /* 1-based line number in the input */
} sp_qrow;

/* A materialized pipe: its SQL (rendered with default params, other pipes
 * inlined) applied to every insert into the tables it reads, its rows
 * inserted into `target`. */
typedef struct sp_mview {
    const char *pipe;   /* the pipe's name */
    const char *target; /* the datasource it writes (DATASOURCE) */
    const char *sql;
    const char *where;  /* "path:line" of the pipe, for messages */
    /* the pipe's ENGINE keys when it creates its target (Tinybird's older
     * form: DATASOURCE names no datasource file), else NULL */
    const sp_kvlist *engine_keys;
} sp_mview;

typedef struct sp_engine_vt {
    const char *name; /* "clickhouse" */
    /* ensure_datasource: create the table (and <ds>_quarantine) if missing;
     * SP_EDEF with a clear message when an existing table's columns differ */
    int (*ensure_datasource)(sp_engine *e, const sp_datasource *ds, sp_error *err);
    /* append: validated rows (schema = the datasource's columns, in
     * order) of the load of ds; a load (every append and quarantine call
     * until flush) is stored all or nothing */
    int (*append)(sp_engine *e, const sp_datasource *ds, const sp_schema *s,
                  const sp_batch *b, sp_error *err);
    /* quarantine: rejected rows for <ds>_quarantine, in the load of ds */
    int (*quarantine)(sp_engine *e, const sp_datasource *ds, const sp_qrow *rows,
                      size_t n, int64_t now_unix, sp_error *err);
    /* eval_scalar: evaluate a constant ClickHouse expression (a column's
     * DEFAULT) to its text form; *out is heap (caller frees); NULL for NULL */
    int (*eval_scalar)(sp_engine *e, const char *expr, int64_t now_unix, char **out,
                       sp_error *err);
    int (*query)(sp_engine *e, const char *sql, const sp_query_opts *o,
                 sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                 sp_query_stats *stats, sp_error *err);
    /* flush: commit (commit = 1: every row of the load is stored, or on
     * failure none) or abandon (nothing of it is stored) the load that
     * append and quarantine calls opened; may be NULL (each call stored
     * at once) */
    int (*flush)(sp_engine *e, int commit, sp_error *err);
    /* load_raw: rows already encoded, nrows rows of RowBinary of ds's
     * columns and nqrows TabSeparated rows of <ds>_quarantine
     * (sp_engine_quarantine_rows), stored as one load: all or nothing
     * (either may be empty) */
    int (*load_raw)(sp_engine *e, const char *ds, const char *rows, size_t rowslen,
                    uint64_t nrows, const char *qrows, size_t qlen, uint64_t nqrows,
                    sp_error *err);
    /* interrupt: from another thread, stop the running query */
    void (*interrupt)(sp_engine *e);
    void (*close)(sp_engine *e);
    /* ensure_views: make the engine's materialized views exactly `v` (in
     * order: a view reading another's target comes after it): a new or
     * changed one is (re)created, one no longer listed is dropped.  A view
     * created for the first time (no earlier version of its pipe's view)
     * whose target held no rows is populated: its SQL over the rows already
     * stored is inserted into the target.  Each output column must be a
     * column of the target.  May be NULL (an engine without views). */
    int (*ensure_views)(sp_engine *e, const sp_mview *v, size_t n, sp_error *err);
    /* copy: the rows of `sql` (a pipe's SELECT, checked as pipe SQL is,
     * logical time o->now_unix, query id o->query_id) into table `target`:
     * appended (replace = 0; views reading the target see the insert) or
     * replacing its rows atomically (readers see the old rows or the new,
     * never part).  All or nothing: a failure leaves the target as it was.
     * *rows: rows copied.  May be NULL (an engine without copies). */
    int (*copy)(sp_engine *e, const char *target, const char *sql, int replace,
                const sp_query_opts *o, uint64_t *rows, sp_error *err);
    /* truncate: remove every row of datasource `ds` (its quarantine kept).
     * May be NULL. */
    int (*truncate)(sp_engine *e, const char *ds, sp_error *err);
    /* delete_rows: *rows = the rows of `ds` where `condition` (a ClickHouse
     * boolean expression, checked as pipe SQL is) holds; unless dry_run,
     * delete them, waiting until they are gone.  May be NULL. */
    int (*delete_rows)(sp_engine *e, const char *ds, const char *condition, int dry_run,
                       uint64_t *rows, sp_error *err);
    /* replace: commit the open load of `ds` (append calls since the last
     * flush; none: an empty load) so that its rows replace the table's in
     * one step (readers see the old rows or the new); its rejected rows are
     * added to <ds>_quarantine.  On failure nothing changes.  Views reading
     * the table are not fed by a replace.  May be NULL. */
    int (*replace)(sp_engine *e, const char *ds, sp_error *err);
    /* load_formatted: data in ClickHouse's input format `format` (Parquet:
     * columns matched by name; ClickHouse converts and refuses what does
     * not fit, so no row is quarantined) into the open load of `ds` (opened
     * as needed; a MergeTree-family table); *rows: the rows the load holds
     * now.  Committed by flush or replace.  May be NULL. */
    int (*load_formatted)(sp_engine *e, const char *ds, const char *format, const char *data,
                          size_t len, uint64_t *rows, sp_error *err);
    /* drop_empty: drop the table of datasource `ds` (not its quarantine)
     * if it holds no row; else nothing changes, SP_EDATA and *rows = its
     * rows.  May be NULL. */
    int (*drop_empty)(sp_engine *e, const char *ds, uint64_t *rows, sp_error *err);
} sp_engine_vt;

struct sp_engine {
    const sp_engine_vt *vt;
};

/* The embedded ClickHouse (chDB's libchdb.so, loaded on first use).
 * path: the storage folder (NULL: the folder this process already uses,
 * else in memory; "" in memory).  One process uses one folder at a time,
 * and a folder is used by one process at a time: SP_EBUSY otherwise, with
 * a message naming the other process.  database: the database to work in
 * (created; NULL = "sinkpipe"); scratch: drop it on close (`check`'s
 * throw-away tables).  ops_log: the jobs' journal (sp_oplog), shown to
 * queries as the view tinybird.sinks_ops_log; NULL: no such view. */
typedef struct sp_embedded_opts {
    const char *library; /* libchdb.so (SINKPIPE_LIBCHDB), NULL: the default */
    const char *path;
    const char *database;
    int scratch;
    const char *ops_log;
} sp_embedded_opts;

int sp_engine_embedded_open(const sp_embedded_opts *o, sp_engine **out, sp_error *err);

/* The ClickHouse engine (sp_engine_clickhouse.c): a server reached over its
 * HTTP interface.  url is http:// or https:// (required); user, password,
 * database may be NULL or "" (the server's defaults).  The strings are
 * copied; the password never appears in any message.  Opening asks the
 * server for its time zone (it must be UTC).  One request at a time per
 * engine; interrupt() may come from another thread. */
typedef struct sp_clickhouse_opts {
    const char *url;
    const char *user;
    const char *password;
    const char *database;
    /* extra settings for every query, "name=value&name=value" (e.g.
     * "max_threads=4&distributed_product_mode=global"), or NULL */
    const char *settings;
    /* reach url through this unix socket (a running daemon's embedded
     * ClickHouse, sp_ch_local.c), or NULL */
    const char *unix_socket;
    /* create `database` when it does not exist (a per-project database) */
    int create_database;
} sp_clickhouse_opts;

int sp_engine_clickhouse_open(const sp_clickhouse_opts *o, sp_engine **out, sp_error *err);

/* sp_project_engine: the project's engine, opened on first use with every
 * datasource ensured: embedded ClickHouse in <dir>/.sinkpipe/clickhouse/, or
 * the ClickHouse server named by SINKPIPE_CLICKHOUSE_URL when
 * SINKPIPE_ENGINE is "clickhouse" (environment or the project's .env
 * files). */
int sp_project_engine(sp_project *p, sp_engine **out, sp_error *err);
/* sp_engine_quarantine_rows: rejected rows as TabSeparated rows of a
 * <ds>_quarantine table (insertion_date, c__error, c__error_column, c__line,
 * c__raw), appended to out; now_unix 0 = the current time. */
int sp_engine_quarantine_rows(sp_buf *out, const sp_qrow *rows, size_t n, int64_t now_unix,
                              sp_error *err);

/* sp_project_engine_extra: another handle on the project's data (the same
 * embedded folder, or the same server), for a second thread of work beside
 * the project's engine (the daemon's grouped inserts); the caller closes
 * it.  The project's engine must be open. */
int sp_project_engine_extra(sp_project *p, sp_engine **out, sp_error *err);

/* sp_project_engine_share: a daemon's: serve the project's embedded engine
 * to the project's other processes on <dir>/.sinkpipe/engine.sock (they
 * open the engine through it while the daemon holds the database); *out
 * stays NULL when the engine is a server (every process reaches it
 * directly).  sp_project_engine_unshare stops and removes the socket. */
struct sp_ch_local;
int sp_project_engine_share(sp_project *p, struct sp_ch_local **out, sp_error *err);
void sp_project_engine_unshare(sp_project *p, struct sp_ch_local *l);
/* sp_project_ensure_views: the project's materialized pipes as e's views
 * (vt->ensure_views), rendered with default params, views reading another
 * view's target after it. */
int sp_project_ensure_views(sp_project *p, sp_engine *e, sp_error *err);
/* sp_project_engine_adopt: move from's open engine (if any) to `to` (a
 * reloaded project) and ensure to's datasources and views on it. */
int sp_project_engine_adopt(sp_project *to, sp_project *from, sp_error *err);
/* sp_project_engine_close: close the project's engine if open (the next
 * sp_project_engine opens it again); no query may be running. */
void sp_project_engine_close(sp_project *p);

#endif
