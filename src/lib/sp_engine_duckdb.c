/* sp_engine_duckdb: the embedded engine (DuckDB through its C API).
 *
 * One database, one connection.  The connection runs with TimeZone UTC and
 * the ClickHouse-compatibility macros of sp_sql_duckdb_prelude().  Queries
 * arrive in the ClickHouse dialect, are rewritten by sp_sql_to_duckdb and
 * stream: chunks of at most duckdb_vector_size() rows become sp_batches
 * (sp_duck_conv.c).  Appends build data chunks for the appender
 * (sp_duck_append.c) inside one transaction per call.  docs/engine.md has
 * the type mapping and the table layout. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <duckdb.h>

#include "sp_buf.h"
#include "sp_duck_conv.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_sql.h"
#include "sp_type.h"

typedef struct duck_engine {
    sp_engine base;
    duckdb_database db;
    duckdb_connection con;
    int json_ok;
    atomic_int interrupted;
} duck_engine;

#define SQL_MAX ((size_t)64 << 20)

/* ------------------------------------------------------------ helpers */

/* one line of DuckDB's message into err */
static int duck_err(sp_error *err, int code, const char *what, const char *msg)
{
    char line[900];
    snprintf(line, sizeof line, "%s", msg ? msg : "unknown error");
    /* DuckDB's "LINE n: <excerpt> ^" points into the translated statement,
     * which the user never wrote: drop it */
    char *excerpt = strstr(line, "\nLINE ");
    if (excerpt)
        *excerpt = '\0';
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t n = strlen(line);
    while (n && line[n - 1] == ' ')
        line[--n] = '\0';
    if (what)
        return sp_error_set(err, code, 0, "%s: %s", what, line);
    return sp_error_set(err, code, 0, "%s", line);
}

static int exec(duck_engine *e, const char *sql, int code, const char *what, sp_error *err)
{
    duckdb_result r;
    int rc = 0;
    if (duckdb_query(e->con, sql, &r) != DuckDBSuccess)
        rc = duck_err(err, code, what, duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return rc;
}

static int set_now(duck_engine *e, int64_t now_unix, sp_error *err)
{
    time_t t = now_unix ? (time_t)now_unix : time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return sp_error_set(err, SP_EINVAL, 0, "logical time %lld is out of range",
                            (long long)now_unix);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SET VARIABLE sp_now = TIMESTAMP_S '%04d-%02d-%02d %02d:%02d:%02d'",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return exec(e, sql, SP_EENGINE, "cannot set the logical time", err);
}

/* ------------------------------------------------------------ open */

static const sp_engine_vt duck_vt;

/* tinybird.sinks_ops_log: the "finished" records of the jobs' journal
 * (sp_oplog.h), read on every query, so it shows what other processes
 * recorded too; the one file the restricted engine may still read */
static int ops_log_view(duck_engine *e, const char *path, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1u << 16);
    int rc = sp_buf_adds(&q, "ATTACH ':memory:' AS tinybird;"
                             "CREATE VIEW tinybird.sinks_ops_log AS SELECT "
                             "CAST(\"timestamp\" AS TIMESTAMP_S) AS \"timestamp\", "
                             "service, pipe_id, pipe_name, result, error, elapsed_time, "
                             "job_id, read_rows, read_bytes, written_rows, written_bytes, "
                             "output, parameters, options, token_name, cpu_time "
                             "FROM read_json(", err);
    if (!rc)
        rc = sp_sql_quote_string(&q, path, strlen(path), err);
    if (!rc)
        rc = sp_buf_adds(&q, ", format = 'newline_delimited', ignore_errors = true, "
                             "columns = {'event': 'VARCHAR', 'timestamp': 'TIMESTAMP', "
                             "'service': 'VARCHAR', 'pipe_id': 'VARCHAR', "
                             "'pipe_name': 'VARCHAR', 'result': 'VARCHAR', "
                             "'error': 'VARCHAR', 'elapsed_time': 'DOUBLE', "
                             "'job_id': 'VARCHAR', 'read_rows': 'UBIGINT', "
                             "'read_bytes': 'UBIGINT', 'written_rows': 'UBIGINT', "
                             "'written_bytes': 'UBIGINT', 'output': 'VARCHAR[]', "
                             "'parameters': 'MAP(VARCHAR, VARCHAR)', "
                             "'options': 'MAP(VARCHAR, VARCHAR)', 'token_name': 'VARCHAR', "
                             "'cpu_time': 'DOUBLE'}) WHERE event = 'finished';"
                             "SET allowed_paths = [", err);
    if (!rc)
        rc = sp_sql_quote_string(&q, path, strlen(path), err);
    if (!rc)
        rc = sp_buf_adds(&q, "]", err);
    if (!rc)
        rc = exec(e, q.data, SP_EENGINE, "cannot create tinybird.sinks_ops_log", err);
    sp_buf_release(&q);
    return rc;
}

static int make_parent(const char *path, sp_error *err)
{
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s", path);
    if (n < 0 || (size_t)n >= sizeof dir)
        return sp_error_set(err, SP_EINVAL, 0, "database path too long '%.64s...'", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", dir,
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", dir,
                            strerror(errno));
    return 0;
}

int sp_engine_duckdb_open(const char *path, sp_engine **out, sp_error *err)
{
    return sp_engine_duckdb_open_opts(path, NULL, out, err);
}

int sp_engine_duckdb_open_opts(const char *path, const sp_duckdb_opts *o, sp_engine **out,
                               sp_error *err)
{
    *out = NULL;
    int mem = !path || !*path || !strcmp(path, ":memory:");
    if (!mem) {
        int rc = make_parent(path, err);
        if (rc)
            return rc;
    }
    duck_engine *e = calloc(1, sizeof *e);
    if (!e)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    e->base.vt = &duck_vt;
    duckdb_config cfg = NULL;
    char *oerr = NULL;
    int rc = 0;
    if (duckdb_create_config(&cfg) != DuckDBSuccess) {
        free(e);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    /* never reach the network for extensions */
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    if (o && o->memory_limit && *o->memory_limit &&
        duckdb_set_config(cfg, "memory_limit", o->memory_limit) != DuckDBSuccess) {
        duckdb_destroy_config(&cfg);
        free(e);
        return sp_error_set(err, SP_EINVAL, 0,
                            "SINKPIPE_DUCKDB_MEMORY_LIMIT: '%s' is not a size (e.g. 2GB)",
                            o->memory_limit);
    }
    if (o && o->threads && *o->threads &&
        duckdb_set_config(cfg, "threads", o->threads) != DuckDBSuccess) {
        duckdb_destroy_config(&cfg);
        free(e);
        return sp_error_set(err, SP_EINVAL, 0,
                            "SINKPIPE_DUCKDB_THREADS: '%s' is not a thread count", o->threads);
    }
    if (duckdb_open_ext(mem ? NULL : path, &e->db, cfg, &oerr) != DuckDBSuccess) {
        rc = duck_err(err, SP_EENGINE, mem ? "cannot open the in-memory database" : NULL, oerr);
        if (!mem)
            sp_error_prefix(err, "cannot open database '%s'", path);
        duckdb_free(oerr);
        duckdb_destroy_config(&cfg);
        free(e);
        return rc;
    }
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(e->db, &e->con) != DuckDBSuccess) {
        duckdb_close(&e->db);
        free(e);
        return sp_error_set(err, SP_EENGINE, 0, "cannot connect to database '%s'",
                            mem ? ":memory:" : path);
    }
    rc = exec(e, "SET TimeZone = 'UTC'", SP_EENGINE, "cannot set the time zone", err);
    if (!rc) {
        duckdb_result r;
        e->json_ok = duckdb_query(e->con, "SELECT NULL::JSON", &r) == DuckDBSuccess;
        duckdb_destroy_result(&r);
        rc = set_now(e, 0, err);
    }
    const char *prelude = sp_sql_duckdb_prelude();
    if (!rc && prelude && *prelude)
        rc = exec(e, prelude, SP_EENGINE, "sql prelude", err);
    if (!rc && o && o->ops_log && *o->ops_log)
        rc = ops_log_view(e, o->ops_log, err);
    /* queries are pipes' and users' SQL: no reading or writing of other
     * files (read_csv('/etc/…'), COPY, ATTACH); one-way */
    if (!rc)
        rc = exec(e, "SET enable_external_access = false", SP_EENGINE,
                  "cannot restrict file access", err);
    if (rc) {
        duckdb_disconnect(&e->con);
        duckdb_close(&e->db);
        free(e);
        return rc;
    }
    *out = &e->base;
    return 0;
}

static void duck_close(sp_engine *base)
{
    duck_engine *e = (duck_engine *)base;
    if (!e)
        return;
    duckdb_disconnect(&e->con);
    duckdb_close(&e->db);
    free(e);
}

static void duck_interrupt(sp_engine *base)
{
    duck_engine *e = (duck_engine *)base;
    atomic_store(&e->interrupted, 1);
    duckdb_interrupt(e->con);
}

/* ------------------------------------------------------------ datasource */

typedef struct colinfo {
    char **v; /* "name TYPE[ NOT NULL]" */
    size_t n;
} colinfo;

static void colinfo_free(colinfo *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

/* the columns of database.main.table, in order */
static int table_columns(duck_engine *e, const char *database, const char *table, colinfo *out,
                         sp_error *err)
{
    memset(out, 0, sizeof *out);
    sp_buf q = SP_BUF_INIT(SQL_MAX);
    int rc = sp_buf_adds(&q,
                         "SELECT column_name || ' ' || data_type || CASE WHEN is_nullable THEN "
                         "'' ELSE ' NOT NULL' END FROM duckdb_columns() WHERE database_name = ",
                         err);
    if (!rc)
        rc = sp_sql_quote_string(&q, database, strlen(database), err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND schema_name = 'main' AND table_name = ", err);
    if (!rc)
        rc = sp_sql_quote_string(&q, table, strlen(table), err);
    if (!rc)
        rc = sp_buf_adds(&q, " ORDER BY column_index", err);
    duckdb_result r;
    if (!rc && duckdb_query(e->con, q.data, &r) != DuckDBSuccess) {
        rc = duck_err(err, SP_EENGINE, "cannot read the table layout", duckdb_result_error(&r));
        duckdb_destroy_result(&r);
    } else if (!rc) {
        idx_t n = duckdb_row_count(&r);
        out->v = calloc(n ? n : 1, sizeof *out->v);
        if (!out->v)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        for (idx_t i = 0; !rc && i < n; i++) {
            out->v[i] = duckdb_value_varchar(&r, 0, i);
            if (!out->v[i]) {
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
                break;
            }
            /* duckdb_malloc'd: copy into plain heap for uniform freeing */
            char *c = strdup(out->v[i]);
            duckdb_free(out->v[i]);
            out->v[i] = c;
            if (!c)
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            else
                out->n++;
        }
        duckdb_destroy_result(&r);
    }
    sp_buf_release(&q);
    if (rc)
        colinfo_free(out);
    return rc;
}

/* "(\"a\" BIGINT NOT NULL, ...)" for the datasource's columns */
static int table_body(duck_engine *e, const sp_datasource *ds, sp_buf *q, sp_error *err)
{
    int rc = sp_buf_addch(q, '(', err);
    for (size_t i = 0; !rc && i < ds->ncols; i++) {
        const sp_column_def *c = &ds->cols[i];
        sp_type *t = NULL;
        rc = sp_type_parse(c->type, &t, err);
        if (rc) {
            sp_error_prefix(err, "datasource '%s': column '%s'", ds->name, c->name);
            break;
        }
        if (i)
            rc = sp_buf_adds(q, ", ", err);
        if (!rc)
            rc = sp_sql_quote_ident(q, c->name, err);
        if (!rc)
            rc = sp_buf_addch(q, ' ', err);
        if (!rc) {
            rc = sp__duck_type_text(t, e->json_ok, c->name, q, err);
            if (rc)
                sp_error_prefix(err, "datasource '%s'", ds->name);
        }
        if (!rc && !t->nullable)
            rc = sp_buf_adds(q, " NOT NULL", err);
        sp_type_free(t);
    }
    if (!rc)
        rc = sp_buf_addch(q, ')', err);
    return rc;
}

static int compare_layout(const sp_datasource *ds, const colinfo *have, const colinfo *want,
                          sp_error *err)
{
    size_t n = have->n < want->n ? have->n : want->n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(have->v[i], want->v[i]) != 0)
            return sp_error_set(err, SP_EDEF, 0,
                                "datasource '%s': table has column %s but the datafile says %s "
                                "(column %zu)",
                                ds->name, have->v[i], want->v[i], i + 1);
    if (have->n > want->n)
        return sp_error_set(err, SP_EDEF, 0,
                            "datasource '%s': table has column %s but the datafile does not",
                            ds->name, have->v[n]);
    if (want->n > have->n)
        return sp_error_set(err, SP_EDEF, 0,
                            "datasource '%s': table has no column %s but the datafile says so",
                            ds->name, want->v[n]);
    return 0;
}

static int duck_ensure(sp_engine *base, const sp_datasource *ds, sp_error *err)
{
    duck_engine *e = (duck_engine *)base;
    if (!ds->ncols)
        return sp_error_set(err, SP_EDEF, 0, "datasource '%s': no columns", ds->name);
    sp_buf body = SP_BUF_INIT(SQL_MAX), q = SP_BUF_INIT(SQL_MAX);
    colinfo have = { 0 }, want = { 0 };
    char dbname[256] = "memory";
    int rc = table_body(e, ds, &body, err);
    if (!rc) {
        duckdb_result r;
        if (duckdb_query(e->con, "SELECT current_database()", &r) == DuckDBSuccess) {
            char *s = duckdb_value_varchar(&r, 0, 0);
            if (s)
                snprintf(dbname, sizeof dbname, "%s", s);
            duckdb_free(s);
        }
        duckdb_destroy_result(&r);
        rc = table_columns(e, dbname, ds->name, &have, err);
    }
    if (!rc && have.n == 0) {
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_sql_quote_ident(&q, ds->name, err);
        if (!rc)
            rc = sp_buf_add(&q, body.data, body.len, err);
        if (!rc)
            rc = exec(e, q.data, SP_EENGINE, NULL, err);
        if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the table", ds->name);
    } else if (!rc) {
        /* let DuckDB spell the expected layout: a temporary twin table */
        rc = exec(e, "DROP TABLE IF EXISTS temp.main.__sp_expect", SP_EENGINE, NULL, err);
        if (!rc)
            rc = sp_buf_adds(&q, "CREATE TEMP TABLE __sp_expect", err);
        if (!rc)
            rc = sp_buf_add(&q, body.data, body.len, err);
        if (!rc)
            rc = exec(e, q.data, SP_EENGINE, NULL, err);
        if (!rc)
            rc = table_columns(e, "temp", "__sp_expect", &want, err);
        exec(e, "DROP TABLE IF EXISTS temp.main.__sp_expect", SP_EENGINE, NULL, NULL);
        if (!rc)
            rc = compare_layout(ds, &have, &want, err);
    }
    if (!rc) {
        sp_buf_reset(&q);
        char qname[600];
        snprintf(qname, sizeof qname, "%s_quarantine", ds->name);
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_sql_quote_ident(&q, qname, err);
        if (!rc)
            rc = sp_buf_adds(&q,
                             " (insertion_date TIMESTAMP_S, c__error VARCHAR, "
                             "c__error_column VARCHAR, c__line UBIGINT, c__raw VARCHAR)",
                             err);
        if (!rc)
            rc = exec(e, q.data, SP_EENGINE, NULL, err);
        if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the quarantine table",
                            ds->name);
    }
    colinfo_free(&have);
    colinfo_free(&want);
    sp_buf_release(&body);
    sp_buf_release(&q);
    return rc;
}

/* ------------------------------------------------------------ append */

/* append batches through one appender: rows handed over by `feed` */
typedef int (*feed_fn)(void *ud, duckdb_appender app, sp_error *err);

static int with_appender(duck_engine *e, const char *table, feed_fn feed, void *ud,
                         sp_error *err)
{
    int rc = exec(e, "BEGIN TRANSACTION", SP_EENGINE, "cannot begin a transaction", err);
    if (rc)
        return rc;
    duckdb_appender app = NULL;
    if (duckdb_appender_create(e->con, NULL, table, &app) != DuckDBSuccess) {
        rc = duck_err(err, SP_EENGINE, NULL, app ? duckdb_appender_error(app) : "no appender");
        sp_error_prefix(err, "table '%s'", table);
    }
    if (!rc)
        rc = feed(ud, app, err);
    if (!rc && duckdb_appender_close(app) != DuckDBSuccess) {
        rc = duck_err(err, SP_EDATA, NULL, duckdb_appender_error(app));
        sp_error_prefix(err, "table '%s'", table);
    }
    if (app)
        duckdb_appender_destroy(&app);
    if (!rc)
        rc = exec(e, "COMMIT", SP_EENGINE, "cannot commit", err);
    if (rc)
        exec(e, "ROLLBACK", SP_EENGINE, NULL, NULL);
    return rc;
}

typedef struct append_ctx {
    const sp_schema *s;
    const sp_batch *b;
} append_ctx;

static int append_feed(void *ud, duckdb_appender app, sp_error *err)
{
    append_ctx *a = ud;
    size_t nc = (size_t)duckdb_appender_column_count(app);
    if (nc != a->s->ncols || a->b->ncols != nc)
        return sp_error_set(err, SP_EDEF, 0, "the table has %zu columns but the batch has %zu",
                            nc, a->b->ncols);
    duckdb_logical_type *types = calloc(nc, sizeof *types);
    if (!types)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < nc; i++)
        types[i] = duckdb_appender_column_type(app, i);
    size_t step = (size_t)duckdb_vector_size();
    int rc = 0;
    for (size_t from = 0; !rc && from < a->b->nrows; from += step) {
        size_t n = a->b->nrows - from < step ? a->b->nrows - from : step;
        duckdb_data_chunk ch = duckdb_create_data_chunk(types, nc);
        if (!ch) {
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            break;
        }
        rc = sp__duck_fill_chunk(ch, a->s, a->b, from, n, err);
        if (!rc && duckdb_append_data_chunk(app, ch) != DuckDBSuccess)
            rc = duck_err(err, SP_EDATA, NULL, duckdb_appender_error(app));
        duckdb_destroy_data_chunk(&ch);
    }
    for (size_t i = 0; i < nc; i++)
        duckdb_destroy_logical_type(&types[i]);
    free(types);
    return rc;
}

static int duck_append(sp_engine *base, const sp_datasource *ds, const sp_schema *s,
                       const sp_batch *b, sp_error *err)
{
    duck_engine *e = (duck_engine *)base;
    if (!b->nrows)
        return 0;
    append_ctx a = { s, b };
    int rc = with_appender(e, ds->name, append_feed, &a, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s'", ds->name);
    return rc;
}

/* ------------------------------------------------------------ quarantine */

typedef struct quar_ctx {
    const sp_qrow *rows;
    size_t n;
    int64_t now;
} quar_ctx;

static void put_str(duckdb_vector v, size_t i, const char *s, size_t n)
{
    if (!s) {
        duckdb_vector_ensure_validity_writable(v);
        duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), i);
        return;
    }
    duckdb_vector_assign_string_element_len(v, i, s, n);
}

static int quar_feed(void *ud, duckdb_appender app, sp_error *err)
{
    quar_ctx *q = ud;
    duckdb_logical_type types[5];
    if (duckdb_appender_column_count(app) != 5)
        return sp_error_set(err, SP_EDEF, 0, "the quarantine table does not have 5 columns");
    for (size_t i = 0; i < 5; i++)
        types[i] = duckdb_appender_column_type(app, i);
    size_t step = (size_t)duckdb_vector_size();
    int rc = 0;
    for (size_t from = 0; !rc && from < q->n; from += step) {
        size_t n = q->n - from < step ? q->n - from : step;
        duckdb_data_chunk ch = duckdb_create_data_chunk(types, 5);
        if (!ch) {
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            break;
        }
        int64_t *ts = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
        uint64_t *line = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 3));
        for (size_t i = 0; i < n; i++) {
            const sp_qrow *r = &q->rows[from + i];
            ts[i] = q->now;
            line[i] = r->lineno;
            put_str(duckdb_data_chunk_get_vector(ch, 1), i, r->error,
                    r->error ? strlen(r->error) : 0);
            put_str(duckdb_data_chunk_get_vector(ch, 2), i, r->column,
                    r->column ? strlen(r->column) : 0);
            put_str(duckdb_data_chunk_get_vector(ch, 4), i, r->raw ? r->raw : "",
                    r->raw ? r->rawlen : 0);
        }
        duckdb_data_chunk_set_size(ch, n);
        if (duckdb_append_data_chunk(app, ch) != DuckDBSuccess)
            rc = duck_err(err, SP_EENGINE, NULL, duckdb_appender_error(app));
        duckdb_destroy_data_chunk(&ch);
    }
    for (size_t i = 0; i < 5; i++)
        duckdb_destroy_logical_type(&types[i]);
    return rc;
}

static int duck_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                           size_t n, int64_t now_unix, sp_error *err)
{
    duck_engine *e = (duck_engine *)base;
    if (!n)
        return 0;
    char qname[600];
    snprintf(qname, sizeof qname, "%s_quarantine", ds->name);
    quar_ctx q = { rows, n, now_unix ? now_unix : (int64_t)time(NULL) };
    int rc = with_appender(e, qname, quar_feed, &q, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': quarantine", ds->name);
    return rc;
}

/* ------------------------------------------------------------ eval_scalar */

static int duck_eval(sp_engine *base, const char *expr, int64_t now_unix, char **out,
                     sp_error *err)
{
    duck_engine *e = (duck_engine *)base;
    *out = NULL;
    sp_buf ch = SP_BUF_INIT(SQL_MAX), sql = SP_BUF_INIT(SQL_MAX);
    int rc = sp_buf_addf(&ch, err, "SELECT CAST((%s) AS VARCHAR)", expr);
    if (!rc)
        rc = sp_sql_to_duckdb(ch.data, &sql, err);
    if (!rc)
        rc = set_now(e, now_unix, err);
    duckdb_result r;
    if (!rc) {
        if (duckdb_query(e->con, sql.data, &r) != DuckDBSuccess) {
            rc = duck_err(err, SP_ESQL, NULL, duckdb_result_error(&r));
            sp_error_prefix(err, "expression '%.200s'", expr);
        } else if (duckdb_row_count(&r) != 1 || duckdb_column_count(&r) != 1) {
            rc = sp_error_set(err, SP_ESQL, 0, "expression '%.200s': not a single value", expr);
        } else if (!duckdb_value_is_null(&r, 0, 0)) {
            char *s = duckdb_value_varchar(&r, 0, 0);
            *out = s ? strdup(s) : NULL;
            duckdb_free(s);
            if (!*out)
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        duckdb_destroy_result(&r);
    }
    sp_buf_release(&ch);
    sp_buf_release(&sql);
    return rc;
}

/* ------------------------------------------------------------ query */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct qrun {
    duck_engine *e;
    const sp_query_opts *o;
    uint64_t deadline; /* monotonic ms, 0 = none */
} qrun;

/* 0 to go on, else SP_ECANCELLED / SP_ESQL (timeout) */
static int check_stop(qrun *q, sp_error *err)
{
    if ((q->o && q->o->cancel && *q->o->cancel) || atomic_load(&q->e->interrupted))
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    if (q->deadline && now_ms() > q->deadline)
        return sp_error_set(err, SP_ESQL, 1, "query exceeded its timeout of %llu ms",
                            (unsigned long long)q->o->timeout_ms);
    return 0;
}

static int query_err(qrun *q, const char *msg, sp_error *err)
{
    if (atomic_load(&q->e->interrupted) || (q->o && q->o->cancel && *q->o->cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    return duck_err(err, SP_ESQL, NULL, msg);
}

static void progress(qrun *q, sp_query_stats *stats)
{
    duckdb_query_progress_type p = duckdb_query_progress(q->e->con);
    if (stats && p.percentage >= 0 && p.rows_processed > stats->read_rows)
        stats->read_rows = p.rows_processed;
}

/* run the prepared statement to its first chunk */
static int run_pending(qrun *q, duckdb_prepared_statement st, duckdb_result *res,
                       sp_error *err)
{
    duckdb_pending_result pend = NULL;
    if (duckdb_pending_prepared_streaming(st, &pend) != DuckDBSuccess) {
        int rc = query_err(q, pend ? duckdb_pending_error(pend) : "cannot start the query", err);
        if (pend)
            duckdb_destroy_pending(&pend);
        return rc;
    }
    int rc = 0;
    for (;;) {
        duckdb_pending_state ps = duckdb_pending_execute_task(pend);
        if (ps == DUCKDB_PENDING_RESULT_READY)
            break;
        if (ps == DUCKDB_PENDING_ERROR) {
            rc = query_err(q, duckdb_pending_error(pend), err);
            break;
        }
        rc = check_stop(q, err);
        if (rc) {
            duckdb_interrupt(q->e->con);
            break;
        }
        if (ps == DUCKDB_PENDING_NO_TASKS_AVAILABLE) {
            struct timespec ts = { 0, 200000 };
            nanosleep(&ts, NULL);
        }
    }
    if (!rc && duckdb_execute_pending(pend, res) != DuckDBSuccess) {
        rc = query_err(q, duckdb_result_error(res), err);
        duckdb_destroy_result(res);
    }
    duckdb_destroy_pending(&pend);
    return rc;
}

static int build_schema(duckdb_result *res, sp_schema **out, duckdb_logical_type **types_out,
                        sp_error *err)
{
    size_t nc = (size_t)duckdb_column_count(res);
    sp_schema *s = sp_schema_new(nc);
    duckdb_logical_type *types = calloc(nc ? nc : 1, sizeof *types);
    if (!s || !types) {
        sp_schema_free(s);
        free(types);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < nc && !rc; i++) {
        const char *name = duckdb_column_name(res, i);
        s->names[i] = strdup(name ? name : "");
        types[i] = duckdb_column_logical_type(res, i);
        if (!s->names[i] || !types[i])
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        if (!rc)
            rc = sp__duck_to_sptype(types[i], s->names[i], &s->types[i], err);
    }
    if (rc) {
        for (size_t i = 0; i < nc; i++)
            if (types[i])
                duckdb_destroy_logical_type(&types[i]);
        free(types);
        sp_schema_free(s);
        return rc;
    }
    *out = s;
    *types_out = types;
    return 0;
}

/* Streaming with prefetch: a producer thread fetches DuckDB's chunks (a
 * streaming result executes the scan in the fetching thread) and converts
 * them into batches, while the caller's thread runs on_batch (formatting,
 * compressing, writing) on the previous ones.  PF_SLOTS chunks at most are
 * alive at once, each with its own reader scratch, so memory stays bounded;
 * batches reach on_batch in result order. */
#define PF_SLOTS 3

typedef struct pf_slot {
    duckdb_data_chunk ch;
    sp_batch b;
    int full;
} pf_slot;

typedef struct prefetch {
    qrun *q;
    duckdb_result *res;
    sp_query_stats *stats;
    sp__dreader rd[PF_SLOTS];
    pf_slot slot[PF_SLOTS];
    size_t head; /* producer's next slot */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done; /* producer finished: end of result or error */
    int stop; /* consumer asks the producer to stop */
    int rc;
    sp_error err;
} prefetch;

static void *pf_produce(void *arg)
{
    prefetch *pf = arg;
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&pf->mu);
        while (!pf->stop && pf->slot[pf->head].full)
            pthread_cond_wait(&pf->cv, &pf->mu);
        int stop = pf->stop;
        pthread_mutex_unlock(&pf->mu);
        if (stop)
            break;
        /* the caller's cancel flag is the consumer's to read (it is not
         * atomic); the producer stops on interrupt, timeout or pf->stop */
        if (atomic_load(&pf->q->e->interrupted)) {
            rc = sp_error_set(&pf->err, SP_ECANCELLED, 0, "query cancelled");
            break;
        }
        if (pf->q->deadline && now_ms() > pf->q->deadline) {
            rc = sp_error_set(&pf->err, SP_ESQL, 1, "query exceeded its timeout of %llu ms",
                              (unsigned long long)pf->q->o->timeout_ms);
            break;
        }
        duckdb_data_chunk ch = duckdb_fetch_chunk(*pf->res);
        if (!ch) {
            const char *m = duckdb_result_error(pf->res);
            if (m)
                rc = query_err(pf->q, m, &pf->err);
            break;
        }
        progress(pf->q, pf->stats);
        pf_slot *sl = &pf->slot[pf->head];
        rc = sp__dreader_convert(&pf->rd[pf->head], ch, &sl->b, &pf->err);
        if (rc || sl->b.nrows == 0) {
            duckdb_destroy_data_chunk(&ch);
            if (rc)
                break;
            continue;
        }
        if (pf->stats)
            pf->stats->result_rows += sl->b.nrows;
        pthread_mutex_lock(&pf->mu);
        sl->ch = ch;
        sl->full = 1;
        pf->head = (pf->head + 1) % PF_SLOTS;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
    }
    pthread_mutex_lock(&pf->mu);
    pf->rc = rc;
    pf->done = 1;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

static int stream(qrun *q, duckdb_result *res, sp_schema_fn on_schema, sp_batch_fn on_batch,
                  void *ud, sp_query_stats *stats, sp_error *err)
{
    sp_schema *s = NULL;
    duckdb_logical_type *types = NULL;
    int rc = build_schema(res, &s, &types, err);
    if (rc)
        return rc;
    size_t nc = s->ncols;
    prefetch *pf = calloc(1, sizeof *pf);
    size_t ninit = 0;
    if (!pf)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (; !rc && ninit < PF_SLOTS; ninit++)
        rc = sp__dreader_init(&pf->rd[ninit], types, s, err);
    for (size_t i = 0; i < nc; i++)
        duckdb_destroy_logical_type(&types[i]);
    free(types);
    if (!rc && on_schema)
        rc = on_schema(ud, s, err);
    pthread_t th;
    int started = 0;
    if (!rc) {
        pf->q = q;
        pf->res = res;
        pf->stats = stats;
        pthread_mutex_init(&pf->mu, NULL);
        pthread_cond_init(&pf->cv, NULL);
        if (pthread_create(&th, NULL, pf_produce, pf) != 0) {
            /* no thread: produce inline (same code, one slot at a time) */
            pthread_mutex_destroy(&pf->mu);
            pthread_cond_destroy(&pf->cv);
            rc = sp_error_set(err, SP_ENOMEM, 1, "cannot start the result reader thread");
        } else {
            started = 1;
        }
    }
    size_t tail = 0;
    while (started && !rc) {
        pthread_mutex_lock(&pf->mu);
        while (!pf->slot[tail].full && !pf->done)
            pthread_cond_wait(&pf->cv, &pf->mu);
        int have = pf->slot[tail].full;
        pthread_mutex_unlock(&pf->mu);
        if (!have)
            break; /* producer done and nothing left */
        pf_slot *sl = &pf->slot[tail];
        rc = check_stop(q, err);
        if (!rc && on_batch)
            rc = on_batch(ud, &sl->b, err);
        duckdb_destroy_data_chunk(&sl->ch);
        pthread_mutex_lock(&pf->mu);
        sl->full = 0;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        tail = (tail + 1) % PF_SLOTS;
    }
    if (started) {
        pthread_mutex_lock(&pf->mu);
        int done = pf->done;
        pf->stop = 1;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        if (!done && rc)
            duckdb_interrupt(q->e->con); /* the producer may be deep in a fetch */
        pthread_join(th, NULL);
        for (size_t i = 0; i < PF_SLOTS; i++)
            if (pf->slot[i].full)
                duckdb_destroy_data_chunk(&pf->slot[i].ch);
        if (!rc && pf->rc)
            rc = sp_error_set(err, pf->err.code, pf->err.retriable, "%s", pf->err.msg);
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->cv);
    }
    if (pf) {
        for (size_t i = 0; i < ninit; i++)
            sp__dreader_release(&pf->rd[i]);
        free(pf);
    }
    sp_schema_free(s);
    return rc;
}

static int duck_query(sp_engine *base, const char *sql, const sp_query_opts *o,
                      sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                      sp_query_stats *stats, sp_error *err)
{
    duck_engine *e = (duck_engine *)base;
    qrun q = { e, o, 0 };
    if (stats)
        memset(stats, 0, sizeof *stats);
    atomic_store(&e->interrupted, 0);
    if (o && o->timeout_ms)
        q.deadline = now_ms() + o->timeout_ms;
    sp_buf dsql = SP_BUF_INIT(SQL_MAX);
    int rc = sp_sql_to_duckdb(sql, &dsql, err);
    if (!rc)
        rc = set_now(e, o ? o->now_unix : 0, err);
    if (!rc && o && o->max_memory) {
        char set[96];
        snprintf(set, sizeof set, "SET memory_limit = '%lluB'", (unsigned long long)o->max_memory);
        rc = exec(e, set, SP_EENGINE, "cannot set the memory limit", err);
    }
    duckdb_prepared_statement st = NULL;
    if (!rc && duckdb_prepare(e->con, dsql.data, &st) != DuckDBSuccess)
        rc = duck_err(err, SP_ESQL, NULL, duckdb_prepare_error(st));
    /* a query reads: DROP, INSERT, SET, ... never run through here */
    if (!rc) {
        duckdb_statement_type t = duckdb_prepared_statement_type(st);
        if (t != DUCKDB_STATEMENT_TYPE_SELECT && t != DUCKDB_STATEMENT_TYPE_EXPLAIN)
            rc = sp_error_set(err, SP_ESQL, 0,
                              "only SELECT queries can run here (the statement changes "
                              "data or settings)");
    }
    duckdb_result res;
    if (!rc)
        rc = run_pending(&q, st, &res, err);
    if (!rc) {
        rc = stream(&q, &res, on_schema, on_batch, ud, stats, err);
        duckdb_destroy_result(&res);
    }
    if (st)
        duckdb_destroy_prepare(&st);
    if (o && o->max_memory)
        exec(e, "RESET memory_limit", SP_EENGINE, NULL, NULL);
    sp_buf_release(&dsql);
    return rc;
}

static const sp_engine_vt duck_vt = {
    "duckdb",       duck_ensure, duck_append, duck_quarantine, duck_eval,
    duck_query,     duck_interrupt, duck_close,
};
