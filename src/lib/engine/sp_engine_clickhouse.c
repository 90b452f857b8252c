/* sp_engine_clickhouse: the engine interface over ClickHouse, embedded
 * (chDB, sp_ch_chdb.c: the default) or a server (HTTP, sp_ch_http.c):
 * opening it (the server's time zone checked, the embedded engine's
 * tinybird.*_ops_log views), close, interrupt and the function tables.
 *
 * Everything about ClickHouse SQL is the engine's, shared by both
 * transports (sp_ch_conn.h), in its parts (sp_ch_engine.h lists them):
 * tables created from the datafiles with their real engine and keys
 * (sp_ch_ddl), materialized views (sp_ch_views), rows inserted as RowBinary
 * through staging tables (sp_ch_load), the logical time and results read
 * back while they stream (sp_ch_query), copies, truncate and delete
 * (sp_ch_ops).  Every query carries the run's settings (max_execution_time,
 * max_memory_usage) and its query id; interrupt() kills that id.
 * docs/engine.md describes the whole. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_ch_conn.h"
#include "sp_ch_ddl.h"
#include "sp_ch_engine.h"
#include "sp_ch_load.h"
#include "sp_ch_ops.h"
#include "sp_ch_query.h"
#include "sp_ch_text.h"
#include "sp_ch_views.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_type.h"
#include "sp_banned.h"

static const sp_engine_vt ch_vt, embedded_vt;

static void ch_free(sp_ch_engine *e)
{
    if (e->conn)
        sp_ch_load_end(e, 0, NULL);
    sp_buf_release(&e->insbuf);
    if (e->conn)
        e->conn->vt->close(e->conn);
    free(e->database);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* an engine over an open connection (taken: closed on failure) */
static int ch_wrap(sp_ch_conn *conn, const char *database, sp_engine **out, sp_error *err)
{
    sp_ch_engine *e = calloc(1, sizeof *e);
    if (!e) {
        conn->vt->close(conn);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_init(&e->mu, NULL);
    e->base.vt = (conn->vt->flags & SP_CH_DOC_CHUNKS) ? &embedded_vt : &ch_vt;
    sp_buf_init(&e->insbuf, SP_CH_INS_PUSH + SP_BUF_DEFAULT_MAX);
    e->conn = conn;
    if (database && *database && !(e->database = strdup(database))) {
        ch_free(e);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    /* one round trip: ClickHouse answers, and its time zone is UTC
     * (DateTime results come as the server's local time) */
    sp_buf tz = SP_BUF_INIT(4096);
    int rc = sp_ch_engine_exec(e, "SELECT timezone()", &tz, err);
    if (!rc) {
        while (tz.len && (tz.data[tz.len - 1] == '\n' || tz.data[tz.len - 1] == '\r'))
            tz.data[--tz.len] = '\0';
        if (!sp_type_tz_is_utc(tz.data ? tz.data : ""))
            rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                              "%s runs in time zone '%.64s': sinkpipe needs a server in UTC "
                              "(<timezone>UTC</timezone>)",
                              conn->vt->where(conn), tz.data ? tz.data : "");
    }
    sp_buf_release(&tz);
    if (rc) {
        ch_free(e);
        return rc;
    }
    *out = &e->base;
    return 0;
}

int sp_engine_clickhouse_open(const sp_clickhouse_opts *o, sp_engine **out, sp_error *err)
{
    *out = NULL;
    sp_ch_conn *c = NULL;
    sp_clickhouse_opts co = *o;
    if (o->create_database)
        co.database = NULL; /* the server's default database, to create it */
    int rc = sp_ch_http_open(&co, &c, err);
    if (!rc && o->create_database && o->database && *o->database) {
        sp_buf q = SP_BUF_INIT(4096);
        sp_ch_stmt st = { 0 };
        rc = sp_buf_adds(&q, "CREATE DATABASE IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_ch_quote_ident(&q, o->database, err);
        st.sql = q.data;
        st.len = q.len;
        if (!rc)
            rc = c->vt->run(c, &st, err);
        sp_buf_release(&q);
        c->vt->close(c);
        c = NULL;
        if (!rc)
            rc = sp_ch_http_open(o, &c, err);
    }
    return rc ? rc : ch_wrap(c, o->database, out, err);
}

/* a view `name` (cols) over the "finished" records of the jobs' journal at
 * path (sp_oplog.h) where `where` holds */
static int oplog_view(sp_ch_engine *e, const char *path, const char *name, const char *cols,
                      const char *where, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1u << 16);
    int rc = sp_buf_addf(&q, err, "CREATE OR REPLACE VIEW %s AS SELECT %s FROM file(", name,
                         cols);
    if (!rc)
        rc = sp_ch_quote_string(&q, path, strlen(path), err);
    if (!rc)
        rc = sp_buf_addf(&q, err,
                         ", 'JSONEachRow', 'event String, `timestamp` String, service "
                         "String, pipe_id String, pipe_name String, result String, error "
                         "Nullable(String), elapsed_time Float64, job_id String, "
                         "read_rows UInt64, read_bytes UInt64, written_rows UInt64, "
                         "written_bytes UInt64, output Array(String), parameters "
                         "Map(String, String), options Map(String, String), token_name "
                         "Nullable(String), cpu_time Float64') WHERE event = 'finished' "
                         "AND %s SETTINGS input_format_skip_unknown_fields = 1, "
                         "input_format_allow_errors_ratio = 1",
                         where);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, NULL, err);
    sp_buf_release(&q);
    return rc;
}

int sp_engine_embedded_open(const sp_embedded_opts *o, sp_engine **out, sp_error *err)
{
    *out = NULL;
    sp_chdb_opts co = { 0 };
    co.library = o ? o->library : NULL;
    co.path = o ? o->path : NULL;
    co.database = o ? o->database : NULL;
    co.drop_on_close = o ? o->scratch : 0;
    co.settings = sp_ch_embedded_settings;
    sp_ch_conn *c = NULL;
    int rc = sp_ch_chdb_open(&co, &c, err);
    if (!rc)
        rc = ch_wrap(c, NULL, out, err);
    if (!rc && o && o->ops_log && *o->ops_log) {
        sp_ch_engine *e = (sp_ch_engine *)*out;
        sp_buf q = SP_BUF_INIT(1u << 16);
        rc = sp_buf_adds(&q, "CREATE DATABASE IF NOT EXISTS tinybird ENGINE = Atomic", err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        sp_buf_reset(&q);
        /* the "finished" records of the jobs' journal (sp_oplog.h), read on
         * every query, so it shows what other processes recorded too */
        if (!rc)
            rc = oplog_view(e, o->ops_log, "tinybird.sinks_ops_log",
                            "parseDateTimeBestEffort(`timestamp`) AS `timestamp`, service, "
                            "pipe_id, pipe_name, result, error, elapsed_time, job_id, "
                            "read_rows, read_bytes, written_rows, written_bytes, output, "
                            "parameters, options, token_name, cpu_time",
                            "service != 'copy'", err);
        /* copy jobs write datasources: Tinybird lists them in
         * datasources_ops_log (event_type copy, the target datasource) */
        if (!rc)
            rc = oplog_view(e, o->ops_log, "tinybird.datasources_ops_log",
                            "parseDateTimeBestEffort(`timestamp`) AS `timestamp`, "
                            "'copy' AS event_type, "
                            "substring(JSONExtractString(arrayElement(output, 1), 'path'), 12) "
                            "AS datasource_id, datasource_id AS datasource_name, result, error, "
                            "elapsed_time, job_id, job_id AS operation_id, written_rows AS rows, "
                            "toUInt64(0) AS rows_quarantine, pipe_id, pipe_name, read_rows, "
                            "read_bytes, written_rows, written_bytes, cpu_time",
                            "service = 'copy'", err);
        if (rc)
            sp_error_prefix(err, "cannot create the tinybird.*_ops_log views");
        sp_buf_release(&q);
        if (rc) {
            ch_free(e);
            *out = NULL;
        }
    }
    return rc;
}

static void ch_close(sp_engine *base)
{
    if (base)
        ch_free((sp_ch_engine *)base);
}

static void ch_interrupt(sp_engine *base)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    atomic_store(&e->interrupted, 1);
    char qid[sizeof e->qid];
    pthread_mutex_lock(&e->mu);
    memcpy(qid, e->qid, sizeof qid);
    pthread_mutex_unlock(&e->mu);
    if (*qid)
        e->conn->vt->kill(e->conn, qid);
}

static const sp_engine_vt ch_vt = {
    "clickhouse",          sp_ch_ddl_ensure,      sp_ch_load_append,    sp_ch_load_quarantine,
    sp_ch_query_eval,      sp_ch_query_run,       sp_ch_load_flush,     sp_ch_load_raw,
    ch_interrupt,          ch_close,              sp_ch_views_ensure,   sp_ch_ops_copy,
    sp_ch_ops_truncate,    sp_ch_ops_delete_rows, sp_ch_load_replace,   sp_ch_load_formatted,
    sp_ch_ops_drop_empty,
};

/* the same engine, named for what holds the data: this process */
static const sp_engine_vt embedded_vt = {
    "embedded",            sp_ch_ddl_ensure,      sp_ch_load_append,    sp_ch_load_quarantine,
    sp_ch_query_eval,      sp_ch_query_run,       sp_ch_load_flush,     sp_ch_load_raw,
    ch_interrupt,          ch_close,              sp_ch_views_ensure,   sp_ch_ops_copy,
    sp_ch_ops_truncate,    sp_ch_ops_delete_rows, sp_ch_load_replace,   sp_ch_load_formatted,
    sp_ch_ops_drop_empty,
};
