/* sp_engine_clickhouse: the engine interface over ClickHouse, embedded
 * (chDB, sp_ch_chdb.c: the default) or a server (HTTP, sp_ch_http.c).
 *
 * Everything about ClickHouse SQL lives here, shared by both transports
 * (sp_ch_conn.h): tables created from the datafiles with their real engine
 * and keys, the logical time (now()/today()/yesterday() replaced by
 * constants of the run's time), rows inserted as RowBinary (sp_ch_rowbin:
 * floats bit for bit), results read back while they stream (memory: one
 * batch) as TabSeparatedWithNamesAndTypes (sp_ch_tsv) or, embedded,
 * RowBinaryWithNamesAndTypes (sp_ch_rbread) when every column has a binary
 * reader.  Every query carries the run's settings (max_execution_time,
 * max_memory_usage) and its query id; interrupt() kills that id.
 * docs/engine.md describes the whole. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_ch_conn.h"
#include "sp_ch_native.h"
#include "sp_ch_rbread.h"
#include "sp_ch_rowbin.h"
#include "sp_ch_text.h"
#include "sp_ch_tsv.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_sql.h"
#include "sp_type.h"
#include "sp_uuid.h"

#define SQL_MAX ((size_t)64 << 20)
#define SMALL_MAX ((size_t)16 << 20) /* answers read whole (table layouts) */
#define BATCH_ROWS 2048
#define FORMAT_TSV "TabSeparatedWithNamesAndTypes"

typedef struct ch_engine {
    sp_engine base;
    sp_ch_conn *conn;
    char *database; /* tables are qualified with it (server), or NULL */
    pthread_mutex_t mu;
    char qid[160]; /* the running query's id, "" when none */
    unsigned long seq;
    atomic_int interrupted;
    /* the open load (see "loads"): its datasource, the staging tables of
     * its rows and rejected rows, the rows' streamed insert (transports
     * that can) and the rows not pushed yet (pushed by INS_PUSH bytes) */
    char *load_ds;
    struct ch_stage {
        char *table; /* the real table */
        char *stage; /* its staging table, NULL: loaded directly */
        int sync;    /* DROP ... SYNC (an Atomic database) */
        int views;   /* materialized views read the table: INSERT … SELECT */
    } rows, qrows;
    void *ins;
    sp_buf insbuf;
    int cleaned; /* dead loads' staging tables dropped (first ensure) */
} ch_engine;

#define INS_PUSH ((size_t)16 << 20)

/* a statement whose answer is small (DDL, table layouts), read whole as
 * TabSeparated into out (may be NULL) */
static int ch_exec(ch_engine *e, const char *sql, sp_buf *out, sp_error *err)
{
    sp_ch_stmt st = { 0 };
    st.sql = sql;
    st.len = strlen(sql);
    st.format = "TabSeparated";
    st.on_chunk = out ? sp_buf_add_cb : NULL;
    st.ud = out;
    return e->conn->vt->run(e->conn, &st, err);
}

/* ------------------------------------------------------------ SQL */

static int quote_string(sp_buf *q, const char *s, size_t n, sp_error *err)
{
    int rc = sp_buf_addch(q, '\'', err);
    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            rc = sp_buf_addch(q, '\\', err);
        if (!rc)
            rc = sp_buf_addch(q, s[i], err);
    }
    return rc ? rc : sp_buf_addch(q, '\'', err);
}

/* ------------------------------------------------------------ open */

static const sp_engine_vt ch_vt, embedded_vt;
static int load_end(ch_engine *e, int commit, sp_error *err);
static int stage_cleanup(ch_engine *e, sp_error *err);

static void ch_free(ch_engine *e)
{
    if (e->conn)
        load_end(e, 0, NULL);
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
    ch_engine *e = calloc(1, sizeof *e);
    if (!e) {
        conn->vt->close(conn);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_init(&e->mu, NULL);
    e->base.vt = (conn->vt->flags & SP_CH_DOC_CHUNKS) ? &embedded_vt : &ch_vt;
    sp_buf_init(&e->insbuf, INS_PUSH + SP_BUF_DEFAULT_MAX);
    e->conn = conn;
    if (database && *database && !(e->database = strdup(database))) {
        ch_free(e);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    /* one round trip: ClickHouse answers, and its time zone is UTC
     * (DateTime results come as the server's local time) */
    sp_buf tz = SP_BUF_INIT(4096);
    int rc = ch_exec(e, "SELECT timezone()", &tz, err);
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
static int oplog_view(ch_engine *e, const char *path, const char *name, const char *cols,
                      const char *where, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1u << 16);
    int rc = sp_buf_addf(&q, err, "CREATE OR REPLACE VIEW %s AS SELECT %s FROM file(", name,
                         cols);
    if (!rc)
        rc = quote_string(&q, path, strlen(path), err);
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
        rc = ch_exec(e, q.data, NULL, err);
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
        ch_engine *e = (ch_engine *)*out;
        sp_buf q = SP_BUF_INIT(1u << 16);
        rc = sp_buf_adds(&q, "CREATE DATABASE IF NOT EXISTS tinybird ENGINE = Atomic", err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
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
        ch_free((ch_engine *)base);
}

static void ch_interrupt(sp_engine *base)
{
    ch_engine *e = (ch_engine *)base;
    atomic_store(&e->interrupted, 1);
    char qid[sizeof e->qid];
    pthread_mutex_lock(&e->mu);
    memcpy(qid, e->qid, sizeof qid);
    pthread_mutex_unlock(&e->mu);
    if (*qid)
        e->conn->vt->kill(e->conn, qid);
}

/* ------------------------------------------------------------ datasource */

static int col_canon(const char *type, sp_buf *out, sp_error *err)
{
    sp_type *t = NULL;
    int rc = sp_type_parse(type, &t, err);
    if (!rc)
        rc = sp_type_format(t, out, err);
    sp_type_free(t);
    return rc;
}

static int table_ref(ch_engine *e, sp_buf *q, const char *table, sp_error *err)
{
    int rc = 0;
    if (e->database) {
        rc = sp_ch_quote_ident(q, e->database, err);
        if (!rc)
            rc = sp_buf_addch(q, '.', err);
    }
    return rc ? rc : sp_ch_quote_ident(q, table, err);
}

/* "name\tType\n" lines of the table's columns ("" when it does not exist) */
static int table_layout(ch_engine *e, const char *table, sp_buf *out, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(SQL_MAX);
    int rc = sp_buf_adds(&q, "SELECT name, type FROM system.columns WHERE database = ", err);
    if (!rc)
        rc = e->database ? quote_string(&q, e->database, strlen(e->database), err)
                         : sp_buf_adds(&q, "currentDatabase()", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND table = ", err);
    if (!rc)
        rc = quote_string(&q, table, strlen(table), err);
    if (!rc)
        rc = ch_exec(e, q.data, out, err);
    sp_buf_release(&q);
    return rc;
}

/* " ENGINE = …" from ENGINE and ENGINE_* keys (a datasource's, or a
 * materialized pipe's that creates its target) */
static int engine_clause(const sp_kvlist *k, sp_buf *q, sp_error *err)
{
    const char *engine = sp_kvlist_get(k, "ENGINE");
    if (!engine || !*engine)
        engine = "MergeTree";
    int rc = sp_buf_adds(q, " ENGINE = ", err);
    if (!rc && strchr(engine, '(')) {
        rc = sp_buf_adds(q, engine, err); /* written with its parameters */
    } else if (!rc) {
        rc = sp_buf_adds(q, engine, err);
        const char *ver = sp_kvlist_get(k, "ENGINE_VER");
        const char *del = sp_kvlist_get(k, "ENGINE_IS_DELETED");
        const char *sign = sp_kvlist_get(k, "ENGINE_SIGN");
        const char *version = sp_kvlist_get(k, "ENGINE_VERSION");
        const char *sum = sp_kvlist_get(k, "ENGINE_SUMMING_COLUMNS");
        if (!rc && strstr(engine, "Replacing") && ver)
            rc = sp_buf_addf(q, err, "(%s%s%s)", ver, del ? ", " : "", del ? del : "");
        else if (!rc && strstr(engine, "VersionedCollapsing") && sign && version)
            rc = sp_buf_addf(q, err, "(%s, %s)", sign, version);
        else if (!rc && strstr(engine, "Collapsing") && sign)
            rc = sp_buf_addf(q, err, "(%s)", sign);
        else if (!rc && strstr(engine, "Summing") && sum)
            rc = sp_buf_addf(q, err, "((%s))", sum);
        else if (!rc && strstr(engine, "MergeTree"))
            rc = sp_buf_adds(q, "()", err);
    }
    if (rc || !strstr(engine, "MergeTree"))
        return rc;
    static const struct {
        const char *key, *clause;
    } cl[] = {
        { "ENGINE_PARTITION_KEY", " PARTITION BY " },
        { "ENGINE_PRIMARY_KEY", " PRIMARY KEY " },
        { "ENGINE_SAMPLING_KEY", " SAMPLE BY " },
        { "ENGINE_TTL", " TTL " },
        { "ENGINE_SETTINGS", " SETTINGS " },
    };
    const char *order = sp_kvlist_get(k, "ENGINE_SORTING_KEY");
    /* ORDER BY before PRIMARY KEY; PARTITION BY first.  Keys of several
     * expressions ("a, b") need parentheses on older servers; TTL and
     * SETTINGS are lists as they are */
    for (size_t i = 0; !rc && i < 1; i++) {
        const char *v = sp_kvlist_get(k, cl[i].key);
        if (v && *v)
            rc = sp_buf_addf(q, err, strchr(v, ',') ? "%s(%s)" : "%s%s", cl[i].clause, v);
    }
    if (!rc && order && *order)
        rc = sp_buf_addf(q, err, strchr(order, ',') ? " ORDER BY (%s)" : " ORDER BY %s", order);
    else if (!rc)
        rc = sp_buf_adds(q, " ORDER BY tuple()", err);
    for (size_t i = 1; !rc && i < sizeof cl / sizeof *cl; i++) {
        const char *v = sp_kvlist_get(k, cl[i].key);
        int paren = i <= 2 && strchr(v ? v : "", ',');
        if (v && *v)
            rc = sp_buf_addf(q, err, paren ? "%s(%s)" : "%s%s", cl[i].clause, v);
    }
    return rc;
}

/* next "name\ttype" line of a layout; 0 at the end */
static int layout_next(const char **p, const char *end, sp_buf *name, sp_buf *type,
                       sp_error *err)
{
    if (*p >= end)
        return 0;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        nl = end;
    const char *tab = memchr(*p, '\t', (size_t)(nl - *p));
    sp_buf_reset(name);
    sp_buf_reset(type);
    if (!tab)
        tab = nl;
    int rc = sp_ch_tsv_unescape(*p, (size_t)(tab - *p), name, err);
    if (!rc && tab < nl)
        rc = sp_ch_tsv_unescape(tab + 1, (size_t)(nl - tab - 1), type, err);
    *p = nl + 1;
    return rc ? rc : 1;
}

static int compare_layout(const sp_datasource *ds, const sp_buf *have, sp_error *err)
{
    const char *p = have->data, *end = have->data + have->len;
    sp_buf name = SP_BUF_INIT(1 << 20), type = SP_BUF_INIT(1 << 20);
    sp_buf a = SP_BUF_INIT(1 << 20), b = SP_BUF_INIT(1 << 20);
    int rc = 0;
    size_t i = 0;
    for (;; i++) {
        int more = layout_next(&p, end, &name, &type, err);
        if (more < 0) {
            rc = more;
            break;
        }
        if (!more)
            break;
        sp_buf_reset(&a);
        rc = col_canon(type.data ? type.data : "", &a, err);
        if (rc)
            break;
        if (i >= ds->ncols) {
            rc = sp_error_set(err, SP_EDEF, 0,
                              "datasource '%s': table has column %s %s but the datafile does not",
                              ds->name, name.data, a.data);
            break;
        }
        sp_buf_reset(&b);
        rc = col_canon(ds->cols[i].type, &b, err);
        if (rc)
            break;
        if (strcmp(name.data ? name.data : "", ds->cols[i].name) || strcmp(a.data, b.data)) {
            rc = sp_error_set(err, SP_EDEF, 0,
                              "datasource '%s': table has column %s %s but the datafile says "
                              "%s %s (column %zu)",
                              ds->name, name.data, a.data, ds->cols[i].name, b.data, i + 1);
            break;
        }
    }
    if (!rc && i < ds->ncols)
        rc = sp_error_set(err, SP_EDEF, 0,
                          "datasource '%s': table has no column %s but the datafile says so",
                          ds->name, ds->cols[i].name);
    sp_buf_release(&name);
    sp_buf_release(&type);
    sp_buf_release(&a);
    sp_buf_release(&b);
    return rc;
}

/* INDEXES >: one skipping index per line, as Tinybird writes them
 * ("name expr TYPE type GRANULARITY n", optionally "INDEX " first and a
 * trailing comma), each as ", INDEX name expr TYPE type GRANULARITY n" */
static int index_clauses(const sp_datasource *ds, sp_buf *q, sp_error *err)
{
    const sp_kv *kv = sp_kvlist_find(&ds->keys, "INDEXES");
    if (!kv)
        return 0;
    int rc = 0, lineno = kv->line;
    for (const char *p = kv->value; !rc && p && *p; lineno++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        while (n && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == ','))
            n--;
        if (n >= 6 && !strncasecmp(p, "INDEX ", 6)) {
            p += 6;
            n -= 6;
        }
        if (n) {
            /* name, then expr up to " TYPE ", type up to " GRANULARITY ", n */
            const char *sp = memchr(p, ' ', n), *type = NULL, *gran = NULL;
            for (size_t i = 0; i + 6 <= n; i++)
                if (!type && !strncasecmp(p + i, " TYPE ", 6))
                    type = p + i;
            for (size_t i = 0; i + 13 <= n; i++)
                if (!strncasecmp(p + i, " GRANULARITY ", 13))
                    gran = p + i;
            int ok = sp && type && gran && sp < type && type + 6 < gran;
            for (const char *g = gran ? gran + 13 : NULL; ok && g < p + n; g++)
                ok = *g >= '0' && *g <= '9';
            ok = ok && gran + 13 < p + n;
            if (!ok) {
                char where[1200];
                sp_model_where(where, sizeof where, ds->path, ds->name,
                               kv->line ? lineno + 1 : 0, "INDEXES");
                return sp_error_set(err, SP_EDEF, 0,
                                    "%s: '%.*s' is not an index (expected: name expr TYPE type "
                                    "GRANULARITY n)",
                                    where, (int)(n > 200 ? 200 : n), p);
            }
            rc = sp_buf_adds(q, ", INDEX ", err);
            if (!rc)
                rc = sp_buf_add(q, p, n, err);
        }
        p = nl ? nl + 1 : NULL;
    }
    return rc;
}

static int ch_ensure(sp_engine *base, const sp_datasource *ds, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (!ds->ncols)
        return sp_error_set(err, SP_EDEF, 0, "datasource '%s': no columns", ds->name);
    sp_buf have = SP_BUF_INIT(SMALL_MAX), q = SP_BUF_INIT(SQL_MAX);
    int rc = 0;
    if (!e->cleaned) {
        rc = stage_cleanup(e, err);
        e->cleaned = !rc;
    }
    if (!rc)
        rc = table_layout(e, ds->name, &have, err);
    if (!rc && have.len == 0) {
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = table_ref(e, &q, ds->name, err);
        if (!rc)
            rc = sp_buf_adds(&q, " (", err);
        for (size_t i = 0; !rc && i < ds->ncols; i++) {
            if (i)
                rc = sp_buf_adds(&q, ", ", err);
            if (!rc)
                rc = sp_ch_quote_ident(&q, ds->cols[i].name, err);
            if (!rc)
                rc = sp_buf_addch(&q, ' ', err);
            if (!rc)
                rc = col_canon(ds->cols[i].type, &q, err);
            /* the table's own DEFAULT (rows that materialized views and
             * copies insert get it too) and CODEC, as written */
            if (!rc && ds->cols[i].default_expr && *ds->cols[i].default_expr)
                rc = sp_buf_addf(&q, err, " DEFAULT %s", ds->cols[i].default_expr);
            if (!rc && ds->cols[i].codec && *ds->cols[i].codec)
                rc = sp_buf_addf(&q, err, " CODEC(%s)", ds->cols[i].codec);
            if (rc)
                sp_error_prefix(err, "column '%s'", ds->cols[i].name);
        }
        if (!rc)
            rc = index_clauses(ds, &q, err);
        if (!rc)
            rc = sp_buf_addch(&q, ')', err);
        if (!rc)
            rc = engine_clause(&ds->keys, &q, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        if (rc && ds->path) /* the definition's place: its SCHEMA */
            sp_error_prefix(err, "%s:%d: SCHEMA: datasource '%s': cannot create the table",
                            ds->path, ds->schema_line > 0 ? ds->schema_line : 1, ds->name);
        else if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the table", ds->name);
    } else if (!rc) {
        rc = compare_layout(ds, &have, err);
    }
    if (!rc) {
        char qname[600];
        snprintf(qname, sizeof qname, "%s_quarantine", ds->name);
        sp_buf_reset(&q);
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = table_ref(e, &q, qname, err);
        if (!rc)
            rc = sp_buf_adds(&q,
                             " (insertion_date DateTime, c__error Nullable(String), "
                             "c__error_column Nullable(String), c__line UInt64, c__raw String) "
                             "ENGINE = MergeTree() ORDER BY insertion_date",
                             err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the quarantine table",
                            ds->name);
    }
    sp_buf_release(&have);
    sp_buf_release(&q);
    return rc;
}

/* ------------------------------------------------------------ loads
 *
 * A load (the appends and quarantined rows of one `append` file or one
 * Events API round, until flush) is all or nothing.  ClickHouse commits an
 * insert block by block (each ~max_insert_block_size rows becomes a part
 * as it arrives), and the rows and the rejected rows go to two tables, so
 * the rows are not inserted into the datasource: they go to staging
 * tables created `AS` the datasource and its quarantine
 * (`<table>__sp_load_<unix time>_<random>`), and on commit each staging
 * table's partitions are attached to the real table (`ALTER TABLE t ATTACH
 * PARTITION ID 'p' FROM stage`: the parts are hard-linked, no row is
 * copied), the quarantine first, then the staging tables are dropped.  A
 * load that fails drops them: nothing was stored.  Tables that cannot take
 * partitions from another table (not a local *MergeTree: Distributed,
 * Replicated*, Memory…) are loaded directly, as before. */

#define STAGE_MARK "__sp_load_"
#define STAGE_STALE_S (24 * 3600) /* a server's leftover staging tables */

typedef struct ch_stage ch_stage;

static int db_name(ch_engine *e, sp_buf *q, sp_error *err)
{
    return e->database ? quote_string(q, e->database, strlen(e->database), err)
                       : sp_buf_adds(q, "currentDatabase()", err);
}

/* appends `text` then the table's (qualified) name */
static int add_ref(ch_engine *e, sp_buf *q, const char *text, const char *table, sp_error *err)
{
    int rc = sp_buf_adds(q, text, err);
    return rc ? rc : table_ref(e, q, table, err);
}

/* appends "(the database's engine) FROM system.<from> WHERE database = …" */
static int from_system(ch_engine *e, sp_buf *q, const char *from, sp_error *err)
{
    int rc = sp_buf_adds(q, "(SELECT engine FROM system.databases WHERE name = ", err);
    if (!rc)
        rc = db_name(e, q, err);
    if (!rc)
        rc = sp_buf_addf(q, err, ") FROM system.%s WHERE database = ", from);
    return rc ? rc : db_name(e, q, err);
}

static int insert_rows(ch_engine *e, const char *table, const char *fmt, const char *data,
                       size_t len, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 20);
    int rc = add_ref(e, &q, "INSERT INTO ", table, err);
    if (!rc) {
        sp_ch_stmt st = { 0 };
        st.sql = q.data;
        st.len = q.len;
        st.format = fmt;
        st.data = data ? data : "";
        st.datalen = len;
        rc = e->conn->vt->run(e->conn, &st, err);
    }
    sp_buf_release(&q);
    return rc;
}

static int drop_table(ch_engine *e, const char *table, int sync, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16);
    int rc = add_ref(e, &q, "DROP TABLE IF EXISTS ", table, err);
    if (!rc && sync)
        rc = sp_buf_adds(&q, " SYNC", err);
    if (!rc)
        rc = ch_exec(e, q.data, NULL, err);
    sp_buf_release(&q);
    return rc;
}

/* the staging table of st->table for one load (st->stage stays NULL when
 * the table's engine cannot attach partitions from another table) */
static int stage_create(ch_engine *e, ch_stage *st, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), ans = SP_BUF_INIT(SMALL_MAX);
    int rc = sp_buf_adds(&q, "SELECT engine, length(dependencies_table), ", err);
    if (!rc)
        rc = from_system(e, &q, "tables", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND name = ", err);
    if (!rc)
        rc = quote_string(&q, st->table, strlen(st->table), err);
    if (!rc)
        rc = ch_exec(e, q.data, &ans, err);
    /* engine \t views \t the database's engine */
    char engine[128] = "", dbengine[128] = "";
    long views = 0;
    if (!rc && ans.len) {
        const char *f = ans.data;
        size_t n = strcspn(f, "\t\n");
        snprintf(engine, sizeof engine, "%.*s", (int)(n < 127 ? n : 127), f);
        if (f[n] == '\t') {
            char *end = NULL;
            views = strtol(f + n + 1, &end, 10);
            if (end && *end == '\t')
                snprintf(dbengine, sizeof dbengine, "%.*s", (int)strcspn(end + 1, "\r\n"),
                         end + 1);
        }
    }
    size_t el = strlen(engine);
    int stageable = el >= 9 && !strcmp(engine + el - 9, "MergeTree") &&
                    strncmp(engine, "Replicated", 10) != 0;
    if (!rc && stageable) {
        char id[40], name[700];
        sp_uuid4(id);
        snprintf(name, sizeof name, "%s" STAGE_MARK "%lld_%.8s%.4s", st->table,
                 (long long)time(NULL), id, id + 9);
        st->sync = !strcmp(dbengine, "Atomic");
        st->views = views > 0;
        sp_buf_reset(&q);
        rc = add_ref(e, &q, "CREATE TABLE ", name, err);
        if (!rc)
            rc = add_ref(e, &q, " AS ", st->table, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        if (!rc && !(st->stage = strdup(name)))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    if (rc)
        sp_error_prefix(err, "cannot stage the load of '%s'", st->table);
    sp_buf_release(&q);
    sp_buf_release(&ans);
    return rc;
}

/* attach every partition of the staging table to the real table; when
 * materialized views read the table (an attach does not feed them), one
 * INSERT … SELECT of the staged rows instead */
static int stage_move(ch_engine *e, const ch_stage *st, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), parts = SP_BUF_INIT(SMALL_MAX);
    int rc = 0;
    if (st->views) {
        rc = add_ref(e, &q, "INSERT INTO ", st->table, err);
        if (!rc)
            rc = add_ref(e, &q, " SELECT * FROM ", st->stage, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        sp_buf_release(&q);
        return rc;
    }
    rc = sp_buf_adds(&q, "SELECT DISTINCT partition_id, ", err);
    if (!rc)
        rc = from_system(e, &q, "parts", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND table = ", err);
    if (!rc)
        rc = quote_string(&q, st->stage, strlen(st->stage), err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND active ORDER BY partition_id", err);
    if (!rc)
        rc = ch_exec(e, q.data, &parts, err);
    size_t moved = 0;
    for (size_t i = 0; !rc && i < parts.len;) {
        size_t n = strcspn(parts.data + i, "\n");
        sp_buf_reset(&q);
        rc = add_ref(e, &q, "ALTER TABLE ", st->table, err);
        if (!rc)
            rc = sp_buf_adds(&q, " ATTACH PARTITION ID ", err);
        if (!rc)
            rc = quote_string(&q, parts.data + i, strcspn(parts.data + i, "\t"), err);
        if (!rc)
            rc = add_ref(e, &q, " FROM ", st->stage, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        moved += !rc;
        i += n + 1;
    }
    if (rc && moved)
        sp_error_prefix(err, "'%s': %zu of the load's partitions were stored, then", st->table,
                        moved);
    sp_buf_release(&q);
    sp_buf_release(&parts);
    return rc;
}

/* drop the staging table: at once (SYNC) after a load that went through;
 * after a failed one chDB may still hold the table for the abandoned
 * insert stream, and DROP … SYNC would wait for it: the database drops it
 * in the background */
static void stage_release(ch_engine *e, ch_stage *st, int committed)
{
    if (st->stage) {
        sp_error ignore = SP_ERROR_INIT;
        drop_table(e, st->stage, st->sync && committed, &ignore);
    }
    free(st->stage);
    free(st->table);
    memset(st, 0, sizeof *st);
}

/* end the open load: commit (its staging tables attached) or abandon */
static int load_end(ch_engine *e, int commit, sp_error *err)
{
    if (!e->load_ds)
        return 0;
    int rc = 0;
    if (e->ins) {
        if (commit && e->insbuf.len)
            rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        int crc = e->conn->vt->insert_close(e->conn, e->ins, commit && !rc, rc ? NULL : err);
        rc = rc ? rc : crc;
        e->ins = NULL;
    }
    sp_buf_reset(&e->insbuf);
    /* the rejected rows first: should the rows' move fail, a retry adds
     * rejected rows twice rather than rows */
    if (commit && !rc && e->qrows.stage)
        rc = stage_move(e, &e->qrows, err);
    if (commit && !rc && e->rows.stage)
        rc = stage_move(e, &e->rows, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': append", e->load_ds);
    stage_release(e, &e->rows, commit && !rc);
    stage_release(e, &e->qrows, commit && !rc);
    free(e->load_ds);
    e->load_ds = NULL;
    return rc;
}

/* where the load of `ds` puts its rows (q = 0) or rejected rows (q = 1):
 * the load is opened, and another datasource's committed, as needed */
static int load_target(ch_engine *e, const char *ds, int q, const char **out, sp_error *err)
{
    int rc = 0;
    if (e->load_ds && strcmp(e->load_ds, ds) != 0)
        rc = load_end(e, 1, err);
    if (!rc && !e->load_ds && !(e->load_ds = strdup(ds)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    ch_stage *st = q ? &e->qrows : &e->rows;
    if (!rc && !st->table) {
        char name[600];
        snprintf(name, sizeof name, q ? "%s_quarantine" : "%s", ds);
        if (!(st->table = strdup(name)))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        if (!rc)
            rc = stage_create(e, st, err);
    }
    *out = rc ? NULL : st->stage ? st->stage : st->table;
    return rc;
}

static int ch_flush(sp_engine *base, int commit, sp_error *err)
{
    return load_end((ch_engine *)base, commit, err);
}

/* swap tables a and b in one step: EXCHANGE where the database can
 * (Atomic), else a three-name RENAME, which ClickHouse runs under one lock */
static int swap_tables(ch_engine *e, const char *a, const char *b, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16);
    int rc = add_ref(e, &q, "EXCHANGE TABLES ", a, err);
    if (!rc)
        rc = add_ref(e, &q, " AND ", b, err);
    sp_error xe = SP_ERROR_INIT;
    int xrc = rc ? rc : ch_exec(e, q.data, NULL, &xe);
    if (!rc && xrc == SP_ESQL) {
        char tmp[800];
        snprintf(tmp, sizeof tmp, "%.600s_swap", b);
        sp_buf_reset(&q);
        rc = add_ref(e, &q, "RENAME TABLE ", a, err);
        if (!rc)
            rc = add_ref(e, &q, " TO ", tmp, err);
        if (!rc)
            rc = add_ref(e, &q, ", ", b, err);
        if (!rc)
            rc = add_ref(e, &q, " TO ", a, err);
        if (!rc)
            rc = add_ref(e, &q, ", ", tmp, err);
        if (!rc)
            rc = add_ref(e, &q, " TO ", b, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
    } else if (!rc && xrc) {
        rc = sp_error_set(err, xrc, xe.retriable, "%s", xe.msg);
    }
    sp_buf_release(&q);
    return rc;
}

static int ch_load_formatted(sp_engine *base, const char *ds, const char *format,
                             const char *data, size_t len, uint64_t *rows, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    const char *table = NULL;
    *rows = 0;
    int rc = load_target(e, ds, 0, &table, err);
    if (!rc && !e->rows.stage)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "a %s load needs a MergeTree-family table", format);
    if (!rc)
        rc = insert_rows(e, table, format, data, len, err);
    sp_buf q = SP_BUF_INIT(1 << 16), out = SP_BUF_INIT(SMALL_MAX);
    if (!rc)
        rc = add_ref(e, &q, "SELECT count() FROM ", table, err);
    if (!rc)
        rc = ch_exec(e, q.data, &out, err);
    if (!rc)
        *rows = strtoull(out.data ? out.data : "0", NULL, 10);
    sp_buf_release(&q);
    sp_buf_release(&out);
    if (rc)
        sp_error_prefix(err, "datasource '%s': %s", ds, format);
    return rc;
}

static int ch_replace(sp_engine *base, const char *ds, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    const char *tgt = NULL;
    /* the rows' staging table, empty when nothing was appended */
    int rc = load_target(e, ds, 0, &tgt, err);
    if (!rc && !e->rows.stage)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "datasource '%s': replace needs a MergeTree-family table", ds);
    if (rc) {
        load_end(e, 0, NULL);
        return rc;
    }
    if (e->ins) {
        if (e->insbuf.len)
            rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        int crc = e->conn->vt->insert_close(e->conn, e->ins, !rc, rc ? NULL : err);
        rc = rc ? rc : crc;
        e->ins = NULL;
        sp_buf_reset(&e->insbuf);
    }
    if (!rc && e->qrows.stage)
        rc = stage_move(e, &e->qrows, err);
    /* the staging table takes the table's place; the old rows, now in the
     * staging table, are dropped with it */
    if (!rc)
        rc = swap_tables(e, e->rows.table, e->rows.stage, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': replace", ds);
    stage_release(e, &e->rows, !rc);
    stage_release(e, &e->qrows, !rc);
    free(e->load_ds);
    e->load_ds = NULL;
    return rc;
}

/* RowBinary rows of the load of `ds`: stream = 1, streamed into one insert
 * where the transport can (each push of chDB's insert stream costs a round
 * trip); else one insert of these rows */
static int load_rows(ch_engine *e, const char *ds, const char *data, size_t len, int stream,
                     sp_error *err)
{
    const char *table = NULL;
    int rc = load_target(e, ds, 0, &table, err);
    if (!rc && (!stream || !e->conn->vt->insert_open))
        return insert_rows(e, table, "RowBinary", data, len, err);
    if (!rc && !e->ins) {
        sp_buf q = SP_BUF_INIT(1 << 20);
        rc = add_ref(e, &q, "INSERT INTO ", table, err);
        if (!rc)
            rc = e->conn->vt->insert_open(e->conn, q.data, q.len, "RowBinary", &e->ins, err);
        sp_buf_release(&q);
    }
    if (!rc)
        rc = sp_buf_add(&e->insbuf, data, len, err);
    if (!rc && e->insbuf.len >= INS_PUSH) {
        rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        sp_buf_reset(&e->insbuf);
    }
    return rc;
}

/* TabSeparated rows of <ds>_quarantine, in the load of `ds` */
static int load_qrows(ch_engine *e, const char *ds, const char *data, size_t len, sp_error *err)
{
    const char *table = NULL;
    int rc = load_target(e, ds, 1, &table, err);
    return rc ? rc : insert_rows(e, table, "TabSeparated", data, len, err);
}

static int ch_append(sp_engine *base, const sp_datasource *ds, const sp_schema *s,
                     const sp_batch *b, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (!b->nrows)
        return 0;
    sp_buf rows = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = sp_ch_rowbin_rows(&rows, s, b, 0, b->nrows, err);
    if (!rc)
        rc = load_rows(e, ds->name, rows.data, rows.len, 1, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': append", ds->name);
    sp_buf_release(&rows);
    return rc;
}

int sp_engine_quarantine_rows(sp_buf *t, const sp_qrow *rows, size_t n, int64_t now_unix,
                              sp_error *err)
{
    char when[32];
    sp_fmt_datetime(when, now_unix ? now_unix : (int64_t)time(NULL));
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const sp_qrow *r = &rows[i];
        rc = sp_buf_addf(t, err, "%s\t", when);
        if (!rc)
            rc = r->error ? sp_ch_tsv_escape(r->error, strlen(r->error), t, err)
                          : sp_buf_adds(t, "\\N", err);
        if (!rc)
            rc = sp_buf_addch(t, '\t', err);
        if (!rc)
            rc = r->column ? sp_ch_tsv_escape(r->column, strlen(r->column), t, err)
                           : sp_buf_adds(t, "\\N", err);
        if (!rc)
            rc = sp_buf_addf(t, err, "\t%llu\t", (unsigned long long)r->lineno);
        if (!rc && r->raw)
            rc = sp_ch_tsv_escape(r->raw, r->rawlen, t, err);
        if (!rc)
            rc = sp_buf_addch(t, '\n', err);
    }
    return rc;
}

static int ch_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                         size_t n, int64_t now_unix, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (!n)
        return 0;
    sp_buf t = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = sp_engine_quarantine_rows(&t, rows, n, now_unix, err);
    if (!rc)
        rc = load_qrows(e, ds->name, t.data, t.len, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': quarantine", ds->name);
    sp_buf_release(&t);
    return rc;
}

/* rows that one INSERT surely makes one block of (ClickHouse cuts a block at
 * max_insert_block_size rows, 1,048,449 by default, or 256 MiB): a refused
 * value fails it whole, so it needs no staging */
#define ONE_BLOCK_ROWS 65536

static int ch_load_raw(sp_engine *base, const char *ds, const char *rows, size_t rowslen,
                       uint64_t nrows, const char *qrows, size_t qlen, uint64_t nqrows,
                       sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    int rc = load_end(e, 1, err); /* a load left open is its own */
    if (rc)
        return rc;
    /* one table, one block: one plain insert (the Events API's rounds
     * without rejected rows: one statement instead of staging's six) */
    if (!qlen && nrows <= ONE_BLOCK_ROWS)
        return rowslen ? insert_rows(e, ds, "RowBinary", rows, rowslen, err) : 0;
    if (!rowslen && nqrows <= ONE_BLOCK_ROWS) {
        char qname[600];
        snprintf(qname, sizeof qname, "%s_quarantine", ds);
        return qlen ? insert_rows(e, qname, "TabSeparated", qrows, qlen, err) : 0;
    }
    if (!rc && rowslen)
        rc = load_rows(e, ds, rows, rowslen, 0, err);
    if (!rc && qlen)
        rc = load_qrows(e, ds, qrows, qlen, err);
    int erc = load_end(e, !rc, rc ? NULL : err);
    return rc ? rc : erc;
}

/* staging tables that a dead process left (their rows were never stored):
 * an embedded engine is this process's alone, so every one; on a server,
 * those older than a day (other processes may be loading) */
static int stage_cleanup(ch_engine *e, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), names = SP_BUF_INIT(SMALL_MAX);
    int rc = sp_buf_adds(&q, "SELECT name, ", err);
    if (!rc)
        rc = from_system(e, &q, "tables", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND position(name, '" STAGE_MARK "') > 0", err);
    if (!rc)
        rc = ch_exec(e, q.data, &names, err);
    int local = (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0;
    long long now = (long long)time(NULL);
    for (size_t i = 0; !rc && i < names.len;) {
        char *line = names.data + i;
        size_t n = strcspn(line, "\n");
        i += n + 1;
        line[n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *mark = strstr(line, STAGE_MARK);
        long long t = mark ? strtoll(mark + strlen(STAGE_MARK), NULL, 10) : now;
        if (local || now - t > STAGE_STALE_S)
            rc = drop_table(e, line, !strcmp(tab + 1, "Atomic"), err);
    }
    if (rc)
        sp_error_prefix(err, "cannot drop a dead load's staging table");
    sp_buf_release(&q);
    sp_buf_release(&names);
    return rc;
}

/* ------------------------------------------------------------ eval_scalar */

static int ch_eval(sp_engine *base, const char *expr, int64_t now_unix, char **out,
                   sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    *out = NULL;
    sp_buf sql = SP_BUF_INIT(SQL_MAX), q = SP_BUF_INIT(SQL_MAX), ans = SP_BUF_INIT(SMALL_MAX);
    int rc = sp_buf_addf(&sql, err, "SELECT toString((%s))", expr);
    if (!rc)
        rc = sp_sql_logical_time(sql.data, now_unix ? now_unix : (int64_t)time(NULL), &q, err);
    if (!rc)
        rc = ch_exec(e, q.data, &ans, err);
    if (rc) {
        sp_error_prefix(err, "expression '%.200s'", expr);
    } else {
        while (ans.len && ans.data[ans.len - 1] == '\n')
            ans.data[--ans.len] = '\0';
        if (memchr(ans.data ? ans.data : "", '\n', ans.len)) {
            rc = sp_error_set(err, SP_ESQL, 0, "expression '%.200s': not a single value", expr);
        } else if (!(ans.len == 2 && !memcmp(ans.data, "\\N", 2))) {
            sp_buf v = SP_BUF_INIT(SMALL_MAX);
            rc = sp_ch_tsv_unescape(ans.data ? ans.data : "", ans.len, &v, err);
            if (!rc && !(*out = sp_buf_detach(&v)))
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            sp_buf_release(&v);
        }
    }
    sp_buf_release(&sql);
    sp_buf_release(&q);
    sp_buf_release(&ans);
    return rc;
}

/* ------------------------------------------------------------ query */

typedef struct qctx {
    int schema_seen; /* on_schema was called */
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    volatile int *cancel;
    sp_query_stats *stats;
} qctx;

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    qctx *q = ud;
    q->schema_seen = 1;
    return q->on_schema ? q->on_schema(q->ud, s, err) : 0;
}

static int q_batch(void *ud, const sp_batch *b, sp_error *err)
{
    qctx *q = ud;
    if (q->cancel && *q->cancel)
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    if (q->stats)
        q->stats->result_rows += b->nrows;
    return q->on_batch ? q->on_batch(q->ud, b, err) : 0;
}

typedef struct qread {
    sp_ch_tsv *rd;   /* TabSeparatedWithNamesAndTypes, or */
    sp_ch_rb *rb;    /* RowBinaryWithNamesAndTypes, or */
    sp_ch_nat *nat;  /* Native (both embedded) */
    int docs; /* each chunk is a whole document */
} qread;

enum { READ_TSV, READ_ROWBINARY, READ_NATIVE };

static int q_chunk(void *ud, const char *p, size_t n, sp_error *err)
{
    qread *r = ud;
    if (r->nat)
        return sp_ch_nat_chunk(r->nat, p, n, err);
    if (r->rb)
        return sp_ch_rb_chunk(r->rb, p, n, err);
    int rc = sp_ch_tsv_feed(r->rd, p, n, err);
    if (!rc && r->docs)
        rc = sp_ch_tsv_doc_end(r->rd, err);
    return rc;
}

/* one run of the statement, read as `mode`; desc: the columns DESCRIBE
 * gave (Native: a result without rows sends no block, hence no header) */
static int run_query(ch_engine *e, sp_ch_stmt *st, qctx *qc, int mode, const sp_schema *desc,
                     int *schema_seen, sp_error *err)
{
    qread qr = { NULL, NULL, NULL, (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0 };
    int rc = mode == READ_NATIVE
                 ? sp_ch_nat_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.nat, err)
             : mode == READ_ROWBINARY
                 ? sp_ch_rb_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.rb, err)
                 : sp_ch_tsv_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.rd, err);
    if (rc)
        return rc;
    st->format = mode == READ_NATIVE      ? "Native"
                 : mode == READ_ROWBINARY ? "RowBinaryWithNamesAndTypes"
                                          : FORMAT_TSV;
    st->on_chunk = q_chunk;
    st->ud = &qr;
    qc->schema_seen = 0;
    rc = e->conn->vt->run(e->conn, st, err);
    if (!rc) {
        rc = mode == READ_NATIVE      ? sp_ch_nat_finish(qr.nat, err)
             : mode == READ_ROWBINARY ? sp_ch_rb_finish(qr.rb, err)
                                      : sp_ch_tsv_finish(qr.rd, err);
        /* an exception a server appended to a result it had begun */
        if (rc == SP_ESQL && mode == READ_TSV)
            sp_error_prefix(err, "clickhouse");
    }
    if (!rc && !qc->schema_seen && desc)
        rc = q_schema(qc, desc, err);
    *schema_seen = qc->schema_seen;
    sp_ch_nat_free(qr.nat);
    sp_ch_rb_free(qr.rb);
    sp_ch_tsv_free(qr.rd);
    return rc;
}

/* the result's columns from DESCRIBE (<sql>), as ClickHouse names their
 * types (Native output drops a top-level DateTime's zone); NULL when
 * DESCRIBE fails (the query itself will say why) */
static sp_schema *describe(ch_engine *e, const sp_ch_stmt *q)
{
    sp_buf ans = SP_BUF_INIT(SMALL_MAX);
    sp_buf name = SP_BUF_INIT(1 << 20), type = SP_BUF_INIT(1 << 20);
    sp_schema *s = NULL;
    sp_ch_stmt st = *q;
    st.format = "TabSeparated";
    st.on_chunk = sp_buf_add_cb;
    st.ud = &ans;
    st.describe = 1;
    int rc = e->conn->vt->run(e->conn, &st, NULL);
    size_t n = 0;
    for (size_t i = 0; !rc && i < ans.len; i++)
        n += ans.data[i] == '\n';
    if (!rc && n && (s = sp_schema_new(n)) != NULL) {
        const char *p = ans.data, *end = ans.data + ans.len;
        for (size_t i = 0; i < n && !rc; i++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *t1 = memchr(p, '\t', (size_t)(nl - p));
            const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
            sp_buf_reset(&name);
            sp_buf_reset(&type);
            rc = !t1 || sp_ch_tsv_unescape(p, (size_t)(t1 - p), &name, NULL) ||
                 sp_ch_tsv_unescape(t1 + 1, (size_t)((t2 ? t2 : nl) - t1 - 1), &type, NULL);
            if (!rc && !(s->names[i] = sp_buf_detach(&name)))
                rc = 1;
            if (!rc)
                rc = sp_type_parse(type.data ? type.data : "", &s->types[i], NULL);
            if (!rc && !sp_ch_nat_supported(s->types[i]))
                rc = 1;
            p = nl + 1;
        }
    }
    if (rc || !n) {
        sp_schema_free(s);
        s = NULL;
    }
    sp_buf_release(&ans);
    sp_buf_release(&name);
    sp_buf_release(&type);
    return s;
}

static int ch_query(sp_engine *base, const char *sql, const sp_query_opts *o,
                    sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                    sp_query_stats *stats, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (stats)
        memset(stats, 0, sizeof *stats);
    atomic_store(&e->interrupted, 0);
    int64_t now = o && o->now_unix ? o->now_unix : (int64_t)time(NULL);
    sp_buf body = SP_BUF_INIT(SQL_MAX);
    int rc = sp_sql_logical_time(sql, now, &body, err);
    char qid[sizeof e->qid];
    if (o && o->query_id && *o->query_id)
        snprintf(qid, sizeof qid, "%s", o->query_id);
    else
        snprintf(qid, sizeof qid, "sinkpipe-%lld-%ld-%lu", (long long)time(NULL), (long)getpid(),
                 ++e->seq);
    char p_time[64] = "", p_mem[64] = "";
    const char *settings[4];
    size_t np = 0;
    if (o && o->timeout_ms) {
        snprintf(p_time, sizeof p_time, "max_execution_time=%llu",
                 (unsigned long long)((o->timeout_ms + 999) / 1000));
        settings[np++] = p_time;
    }
    if (o && o->max_memory) {
        snprintf(p_mem, sizeof p_mem, "max_memory_usage=%llu", (unsigned long long)o->max_memory);
        settings[np++] = p_mem;
    }
    settings[np] = NULL;
    qctx qc = { 0, on_schema, on_batch, ud, o ? o->cancel : NULL, stats };
    int docs = (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0;
    if (!rc) {
        pthread_mutex_lock(&e->mu);
        memcpy(e->qid, qid, sizeof qid);
        pthread_mutex_unlock(&e->mu);
        sp_ch_stmt st = { 0 };
        st.sql = body.data ? body.data : "";
        st.len = body.len;
        st.settings = settings;
        st.query_id = qid;
        st.read_only = 1;
        st.cancel = o ? o->cancel : NULL;
        st.timeout_ms = o ? o->timeout_ms : 0;
        /* embedded: RowBinary, read far faster; a result column of a type
         * without a binary reader (Dynamic, AggregateFunction, …) is found
         * in the header, before any row: the query runs again as text */
        int seen = 0;
        /* embedded: Native when DESCRIBE finds every column readable from
         * it (columnar: cheapest to produce and to read), else RowBinary */
        sp_schema *desc = docs ? describe(e, &st) : NULL;
        int mode = desc ? READ_NATIVE : docs ? READ_ROWBINARY : READ_TSV;
        rc = run_query(e, &st, &qc, mode, desc, &seen, err);
        if (rc == SP_EUNSUPPORTED && docs && !seen && !atomic_load(&e->interrupted)) {
            sp_error_clear(err);
            if (stats)
                memset(stats, 0, sizeof *stats);
            rc = run_query(e, &st, &qc, READ_TSV, NULL, &seen, err);
        }
        sp_schema_free(desc);
        pthread_mutex_lock(&e->mu);
        e->qid[0] = '\0';
        pthread_mutex_unlock(&e->mu);
        /* a transfer we stopped (cancel, a sink's error) may leave the query
         * running until it notices: kill it */
        if (rc && rc != SP_ESQL && !docs && !atomic_load(&e->interrupted))
            e->conn->vt->kill(e->conn, qid);
        if (rc == SP_ECANCELLED || atomic_load(&e->interrupted)) {
            sp_error_clear(err);
            rc = sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
        }
    }
    sp_buf_release(&body);
    return rc;
}

/* ------------------------------------------------------------ views */

#define MV_PREFIX "_sp_mv_"

/* the view of a pipe: _sp_mv_<pipe>_<hash of target and SQL>, so a changed
 * definition is a new name */
static int mv_name(const sp_mview *v, sp_buf *out, sp_error *err)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = v->target; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ '\n') * 1099511628211ULL;
    for (const char *c = v->sql; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return sp_buf_addf(out, err, MV_PREFIX "%s_%012llx", v->pipe,
                       (unsigned long long)(h & 0xffffffffffffULL));
}

/* 1 when `line` (a name from the listing) is a view of pipe (any version) */
static int mv_of(const char *name, const char *pipe)
{
    size_t pl = strlen(pipe), ml = strlen(MV_PREFIX);
    return !strncmp(name, MV_PREFIX, ml) && !strncmp(name + ml, pipe, pl) &&
           name[ml + pl] == '_' && strlen(name + ml + pl + 1) == 12;
}

/* the output columns of v's SQL ("name\ttype\t…" lines), checked as pipe
 * SQL is (one reading statement, no external access: it runs on every
 * insert) */
static int mv_describe(ch_engine *e, const sp_mview *v, sp_buf *desc, sp_error *err)
{
    sp_ch_stmt st = { 0 };
    st.sql = v->sql;
    st.len = strlen(v->sql);
    st.format = "TabSeparated";
    st.read_only = 1;
    st.describe = 1;
    st.on_chunk = sp_buf_add_cb;
    st.ud = desc;
    int rc = e->conn->vt->run(e->conn, &st, err);
    if (rc)
        sp_error_prefix(err, "%s: SQL", v->where);
    return rc;
}

/* every output column of v's SQL (desc) is a column of its target */
static int mv_check_columns(ch_engine *e, const sp_mview *v, const sp_buf *desc, sp_error *err)
{
    sp_buf have = SP_BUF_INIT(SMALL_MAX);
    int rc = table_layout(e, v->target, &have, err);
    if (!rc && have.len == 0)
        rc = sp_error_set(err, SP_EDEF, 0, "%s: DATASOURCE: datasource '%s' does not exist",
                          v->where, v->target);
    const char *p = desc->data ? desc->data : "", *end = p + desc->len;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        size_t n = (size_t)((tab ? tab : nl ? nl : end) - p);
        int found = 0;
        const char *h = have.data ? have.data : "", *hend = h + have.len;
        while (h < hend && !found) {
            const char *hn = memchr(h, '\t', (size_t)(hend - h));
            if (!hn)
                break;
            found = (size_t)(hn - h) == n && !memcmp(h, p, n);
            const char *nx = memchr(hn, '\n', (size_t)(hend - hn));
            h = nx ? nx + 1 : hend;
        }
        if (!found)
            rc = sp_error_set(err, SP_EDEF, 0,
                              "%s: SQL: column '%.*s' is not a column of datasource '%s'",
                              v->where, (int)n, p, v->target);
        p = nl ? nl + 1 : end;
    }
    sp_buf_release(&have);
    return rc;
}

/* INSERT INTO target (columns of the SQL) SELECT … : a new view's rows from
 * what the tables it reads already hold */
static int mv_populate(ch_engine *e, const sp_mview *v, const sp_buf *desc, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(SQL_MAX);
    int rc = sp_buf_adds(&q, "INSERT INTO ", err);
    if (!rc)
        rc = table_ref(e, &q, v->target, err);
    if (!rc)
        rc = sp_buf_adds(&q, " (", err);
    const char *p = desc->data ? desc->data : "", *end = p + desc->len;
    int first = 1;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        size_t n = (size_t)((tab ? tab : nl ? nl : end) - p);
        char col[1024];
        snprintf(col, sizeof col, "%.*s", (int)(n < sizeof col ? n : sizeof col - 1), p);
        if (!first)
            rc = sp_buf_adds(&q, ", ", err);
        if (!rc)
            rc = sp_ch_quote_ident(&q, col, err);
        first = 0;
        p = nl ? nl + 1 : end;
    }
    if (!rc)
        rc = sp_buf_addf(&q, err, ") SELECT * FROM (%s\n)", v->sql);
    if (!rc)
        rc = ch_exec(e, q.data, NULL, err);
    if (rc)
        sp_error_prefix(err, "%s: populating datasource '%s'", v->where, v->target);
    sp_buf_release(&q);
    return rc;
}

static int ch_ensure_views(sp_engine *base, const sp_mview *v, size_t n, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    sp_buf list = SP_BUF_INIT(SMALL_MAX), q = SP_BUF_INIT(SQL_MAX), name = SP_BUF_INIT(4096);
    int rc = sp_buf_adds(&q, "SELECT name FROM system.tables WHERE database = ", err);
    if (!rc)
        rc = e->database ? quote_string(&q, e->database, strlen(e->database), err)
                         : sp_buf_adds(&q, "currentDatabase()", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND substring(name, 1, 7) = '" MV_PREFIX "'", err);
    if (!rc)
        rc = ch_exec(e, q.data, &list, err);
    /* the listing as NUL-separated names */
    for (size_t i = 0; !rc && i < list.len; i++)
        if (list.data[i] == '\n')
            list.data[i] = '\0';
    const char *lend = list.data ? list.data + list.len : NULL;
    /* drop what is no longer wanted: stale versions and removed pipes */
    for (const char *l = list.data; !rc && l && l < lend; l += strlen(l) + 1) {
        int keep = 0;
        for (size_t i = 0; i < n && !keep && !rc; i++) {
            sp_buf_reset(&name);
            rc = mv_name(&v[i], &name, err);
            keep = !rc && !strcmp(name.data, l);
        }
        if (rc || keep || !*l)
            continue;
        sp_buf_reset(&q);
        rc = sp_buf_adds(&q, "DROP TABLE IF EXISTS ", err);
        if (!rc)
            rc = table_ref(e, &q, l, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
    }
    /* a new view is populated when its target held no rows before this
     * pass (so a re-created view never counts rows twice, and several new
     * views into one new target all populate) */
    unsigned char *empty = calloc(n ? n : 1, 1);
    if (!rc && !empty)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        sp_buf cnt = SP_BUF_INIT(SMALL_MAX);
        sp_buf_reset(&q);
        rc = sp_buf_adds(&q, "SELECT count() FROM (SELECT 1 FROM ", err);
        if (!rc)
            rc = table_ref(e, &q, v[i].target, err);
        if (!rc)
            rc = sp_buf_adds(&q, " LIMIT 1)", err);
        /* a target that does not exist is the DATASOURCE error below */
        sp_error cerr = SP_ERROR_INIT;
        if (!rc && ch_exec(e, q.data, &cnt, &cerr) == 0)
            empty[i] = cnt.data && cnt.data[0] == '0';
        sp_buf_release(&cnt);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sp_buf_reset(&name);
        rc = mv_name(&v[i], &name, err);
        int exists = 0, earlier = 0;
        for (const char *l = list.data; !rc && l && l < lend; l += strlen(l) + 1) {
            if (!strcmp(l, name.data))
                exists = 1;
            else if (mv_of(l, v[i].pipe))
                earlier = 1;
        }
        if (rc || exists)
            continue;
        sp_buf desc = SP_BUF_INIT(SMALL_MAX);
        rc = mv_describe(e, &v[i], &desc, err);
        if (!rc && v[i].engine_keys) {
            /* the older form: the pipe's ENGINE keys make the target, with
             * the columns of its SQL, when it does not exist yet */
            sp_buf have = SP_BUF_INIT(SMALL_MAX);
            rc = table_layout(e, v[i].target, &have, err);
            if (!rc && have.len == 0) {
                sp_buf_reset(&q);
                rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
                if (!rc)
                    rc = table_ref(e, &q, v[i].target, err);
                if (!rc)
                    rc = engine_clause(v[i].engine_keys, &q, err);
                if (!rc)
                    rc = sp_buf_addf(&q, err, " AS SELECT * FROM (%s\n) LIMIT 0", v[i].sql);
                if (!rc && (rc = ch_exec(e, q.data, NULL, err)) != 0)
                    sp_error_prefix(err, "%s: cannot create datasource '%s' from the pipe's "
                                         "ENGINE keys",
                                    v[i].where, v[i].target);
                if (!rc)
                    empty[i] = 1;
            }
            sp_buf_release(&have);
        }
        if (!rc)
            rc = mv_check_columns(e, &v[i], &desc, err);
        sp_buf_reset(&q);
        if (!rc)
            rc = sp_buf_adds(&q, "CREATE MATERIALIZED VIEW IF NOT EXISTS ", err);
        if (!rc)
            rc = table_ref(e, &q, name.data, err);
        if (!rc)
            rc = sp_buf_adds(&q, " TO ", err);
        if (!rc)
            rc = table_ref(e, &q, v[i].target, err);
        if (!rc)
            rc = sp_buf_addf(&q, err, " AS %s", v[i].sql);
        if (!rc) {
            rc = ch_exec(e, q.data, NULL, err);
            if (rc)
                sp_error_prefix(err, "%s: cannot create the materialized view", v[i].where);
        }
        if (!rc && !earlier && empty[i])
            rc = mv_populate(e, &v[i], &desc, err);
        sp_buf_release(&desc);
    }
    free(empty);
    sp_buf_release(&list);
    sp_buf_release(&q);
    sp_buf_release(&name);
    return rc;
}

/* ------------------------------------------------------------ copies */

#define COPY_PREFIX "_sp_copy_"

/* a statement on the read-write connection under query id qid */
static int ch_exec_as(ch_engine *e, const char *sql, const char *qid, volatile int *cancel,
                      sp_buf *out, sp_error *err)
{
    sp_ch_stmt st = { 0 };
    st.sql = sql;
    st.len = strlen(sql);
    st.format = "TabSeparated";
    st.query_id = qid;
    st.cancel = cancel;
    st.on_chunk = out ? sp_buf_add_cb : NULL;
    st.ud = out;
    return e->conn->vt->run(e->conn, &st, err);
}

static int ch_copy(sp_engine *base, const char *target, const char *sql, int replace,
                   const sp_query_opts *o, uint64_t *rows, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    *rows = 0;
    atomic_store(&e->interrupted, 0);
    int64_t now = o && o->now_unix ? o->now_unix : (int64_t)time(NULL);
    char qid[sizeof e->qid];
    if (o && o->query_id && *o->query_id)
        snprintf(qid, sizeof qid, "%s", o->query_id);
    else
        snprintf(qid, sizeof qid, "sinkpipe-%lld-%ld-%lu", (long long)time(NULL), (long)getpid(),
                 ++e->seq);
    /* the staging table: the copy is made there, then moved in one step */
    char stg[320];
    unsigned long long h = 1469598103934665603ULL;
    for (const char *c = qid; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    snprintf(stg, sizeof stg, COPY_PREFIX "%.150s_%012llx", target, h & 0xffffffffffffULL);
    sp_buf body = SP_BUF_INIT(SQL_MAX), q = SP_BUF_INIT(SQL_MAX), out = SP_BUF_INIT(SMALL_MAX);
    int rc = sp_sql_logical_time(sql, now, &body, err);
    /* checked as pipe SQL: one reading statement without external access */
    sp_ch_stmt chk = { 0 };
    chk.sql = body.data ? body.data : "";
    chk.len = body.len;
    chk.format = "TabSeparated";
    chk.read_only = 1;
    chk.describe = 1;
    if (!rc)
        rc = e->conn->vt->run(e->conn, &chk, err);
    /* leftovers of copies that died (a day old: no copy runs that long) */
    sp_buf_reset(&q);
    if (!rc)
        rc = sp_buf_adds(&q, "SELECT name FROM system.tables WHERE database = ", err);
    if (!rc)
        rc = e->database ? quote_string(&q, e->database, strlen(e->database), err)
                         : sp_buf_adds(&q, "currentDatabase()", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND substring(name, 1, 9) = '" COPY_PREFIX "' AND "
                             "metadata_modification_time < now() - 86400", err);
    if (!rc)
        rc = ch_exec(e, q.data, &out, err);
    for (char *l = out.data, *nl; !rc && l && *l; l = nl + 1) {
        if (!(nl = strchr(l, '\n')))
            break;
        *nl = '\0';
        rc = drop_table(e, l, 0, err);
    }
    sp_buf_reset(&q);
    if (!rc)
        rc = add_ref(e, &q, "CREATE TABLE ", stg, err);
    if (!rc)
        rc = add_ref(e, &q, " AS ", target, err);
    if (!rc)
        rc = ch_exec(e, q.data, NULL, err);
    int made = !rc;
    /* INSERT INTO stg (the SELECT's columns) SELECT … */
    sp_buf_reset(&out);
    sp_ch_stmt d = chk;
    d.on_chunk = sp_buf_add_cb;
    d.ud = &out;
    if (!rc)
        rc = e->conn->vt->run(e->conn, &d, err);
    sp_buf_reset(&q);
    if (!rc)
        rc = add_ref(e, &q, "INSERT INTO ", stg, err);
    if (!rc)
        rc = sp_buf_adds(&q, " (", err);
    const char *p = out.data ? out.data : "", *end = p + out.len;
    for (int first = 1; !rc && p < end; first = 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        char col[1024];
        size_t n = (size_t)((tab ? tab : nl ? nl : end) - p);
        snprintf(col, sizeof col, "%.*s", (int)(n < sizeof col ? n : sizeof col - 1), p);
        if (!first)
            rc = sp_buf_adds(&q, ", ", err);
        if (!rc)
            rc = sp_ch_quote_ident(&q, col, err);
        p = nl ? nl + 1 : end;
    }
    if (!rc)
        rc = sp_buf_adds(&q, ") SELECT * FROM (\n", err);
    if (!rc)
        rc = sp_buf_add(&q, body.data ? body.data : "", body.len, err);
    if (!rc)
        rc = sp_buf_adds(&q, "\n)", err);
    if (!rc) {
        pthread_mutex_lock(&e->mu);
        memcpy(e->qid, qid, sizeof qid);
        pthread_mutex_unlock(&e->mu);
        rc = ch_exec_as(e, q.data, qid, o ? o->cancel : NULL, NULL, err);
        pthread_mutex_lock(&e->mu);
        e->qid[0] = '\0';
        pthread_mutex_unlock(&e->mu);
        if (!rc && ((o && o->cancel && *o->cancel) || atomic_load(&e->interrupted)))
            rc = sp_error_set(err, SP_ECANCELLED, 0, "copy cancelled");
    }
    sp_buf_reset(&q);
    sp_buf_reset(&out);
    if (!rc)
        rc = add_ref(e, &q, "SELECT count() FROM ", stg, err);
    if (!rc)
        rc = ch_exec(e, q.data, &out, err);
    if (!rc) {
        char *endp = NULL;
        unsigned long long v = strtoull(out.data ? out.data : "", &endp, 10);
        if (!out.data || endp == out.data)
            rc = sp_error_set(err, SP_EENGINE, 0, "copy: cannot count the rows copied");
        *rows = v;
    }
    sp_buf_reset(&q);
    if (!rc && replace) {
        /* one step; the staging table then holds the old rows, dropped below */
        rc = swap_tables(e, target, stg, err);
    } else if (!rc) {
        /* one insert into the target: views reading it see the rows */
        rc = add_ref(e, &q, "INSERT INTO ", target, err);
        if (!rc)
            rc = add_ref(e, &q, " SELECT * FROM ", stg, err);
        if (!rc)
            rc = ch_exec_as(e, q.data, qid, NULL, NULL, err);
    }
    if (made) {
        sp_error derr = SP_ERROR_INIT;
        drop_table(e, stg, 0, &derr);
    }
    if (rc == SP_ECANCELLED || atomic_load(&e->interrupted)) {
        sp_error_clear(err);
        rc = sp_error_set(err, SP_ECANCELLED, 0, "copy cancelled");
    }
    sp_buf_release(&body);
    sp_buf_release(&q);
    sp_buf_release(&out);
    return rc;
}

/* ------------------------------------------------------------ truncate, delete */

static int ch_truncate(sp_engine *base, const char *ds, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    sp_buf q = SP_BUF_INIT(SMALL_MAX);
    int rc = sp_buf_adds(&q, "TRUNCATE TABLE ", err);
    if (!rc)
        rc = table_ref(e, &q, ds, err);
    if (!rc)
        rc = ch_exec(e, q.data, NULL, err);
    sp_buf_release(&q);
    return rc;
}

static int ch_delete_rows(sp_engine *base, const char *ds, const char *cond, int dry_run,
                          uint64_t *rows, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    *rows = 0;
    sp_buf sel = SP_BUF_INIT(SQL_MAX), q = SP_BUF_INIT(SQL_MAX), out = SP_BUF_INIT(SMALL_MAX);
    /* the condition is checked as pipe SQL is: one reading statement, no
     * external access; and it must be one expression (its own parentheses) */
    int rc = sp_buf_adds(&sel, "SELECT count() FROM ", err);
    if (!rc)
        rc = table_ref(e, &sel, ds, err);
    if (!rc)
        rc = sp_buf_addf(&sel, err, " WHERE (%s\n)", cond);
    sp_ch_stmt st = { 0 };
    st.sql = sel.data;
    st.len = sel.len;
    st.format = "TabSeparated";
    st.read_only = 1;
    st.describe = 1;
    if (!rc)
        rc = e->conn->vt->run(e->conn, &st, err);
    int depth = 0, bad = 0;
    for (const char *c = cond; !rc && *c && !bad; c++) {
        /* quotes skipped: a parenthesis in a string is no nesting */
        if (*c == '\'' || *c == '"' || *c == '`') {
            char qc = *c;
            for (c++; *c && *c != qc; c++)
                if (*c == '\\' && c[1])
                    c++;
            if (!*c)
                break;
        } else if (*c == '(') {
            depth++;
        } else if (*c == ')') {
            bad = --depth < 0;
        }
    }
    if (!rc && (bad || depth))
        rc = sp_error_set(err, SP_EINVAL, 0, "delete_condition: unbalanced parentheses");
    if (!rc)
        rc = ch_exec(e, sel.data, &out, err);
    if (!rc) {
        char *endp = NULL;
        *rows = strtoull(out.data ? out.data : "", &endp, 10);
    }
    if (!rc && !dry_run && *rows) {
        rc = sp_buf_adds(&q, "ALTER TABLE ", err);
        if (!rc)
            rc = table_ref(e, &q, ds, err);
        if (!rc)
            rc = sp_buf_addf(&q, err, " DELETE WHERE (%s\n)", cond);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        /* a mutation runs in the background: wait until it is done (every
         * server has system.mutations; mutations_sync came later) */
        sp_buf_reset(&q);
        if (!rc)
            rc = sp_buf_adds(&q, "SELECT count() FROM system.mutations WHERE database = ", err);
        if (!rc)
            rc = e->database ? quote_string(&q, e->database, strlen(e->database), err)
                             : sp_buf_adds(&q, "currentDatabase()", err);
        if (!rc)
            rc = sp_buf_adds(&q, " AND table = ", err);
        if (!rc)
            rc = quote_string(&q, ds, strlen(ds), err);
        if (!rc)
            rc = sp_buf_adds(&q, " AND is_done = 0", err);
        for (int i = 0; !rc; i++) {
            sp_buf_reset(&out);
            rc = ch_exec(e, q.data, &out, err);
            if (rc || (out.data && out.data[0] == '0'))
                break;
            if (i >= 6000) { /* 10 minutes */
                rc = sp_error_set(err, SP_EBUSY, 1,
                                  "the delete of datasource '%s' is still running after 10 "
                                  "minutes (it goes on in the background)",
                                  ds);
                break;
            }
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    sp_buf_release(&sel);
    sp_buf_release(&q);
    sp_buf_release(&out);
    return rc;
}

static const sp_engine_vt ch_vt = {
    "clickhouse", ch_ensure, ch_append, ch_quarantine, ch_eval,
    ch_query,     ch_flush,  ch_load_raw, ch_interrupt, ch_close, ch_ensure_views,
    ch_copy,      ch_truncate, ch_delete_rows, ch_replace, ch_load_formatted,
};

/* the same engine, named for what holds the data: this process */
static const sp_engine_vt embedded_vt = {
    "embedded", ch_ensure, ch_append, ch_quarantine, ch_eval,
    ch_query,   ch_flush,  ch_load_raw, ch_interrupt, ch_close, ch_ensure_views,
    ch_copy,      ch_truncate, ch_delete_rows, ch_replace, ch_load_formatted,
};
