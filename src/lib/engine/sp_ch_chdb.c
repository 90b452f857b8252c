/* sp_ch_chdb: the ClickHouse engine's transport to ClickHouse embedded in
 * this process — chDB's libchdb.so (ClickHouse 26.7 as a library).  See
 * sp_ch_conn.h and docs/engine.md.
 *
 * The library is loaded with dlopen when the first connection opens (so a
 * program that never opens the embedded engine — the sanitizer builds, the
 * server engine — never maps it) and stays loaded.  It is found where the
 * caller says (SINKPIPE_LIBCHDB), else where the build put it
 * (SP_LIBCHDB_DEFAULT: the copy scripts/setup.sh installs), else by the
 * dynamic loader's search.
 * Its version must be 26.7 or a later 26.x (chdb_version()).
 *
 * chDB's rules, and what follows here:
 *   - one storage folder per process; a folder is locked by one process.  A
 *     connection on another folder while one is open fails (SP_EBUSY); a
 *     folder held by another process fails with SP_EBUSY naming its pid
 *     (read from the folder's status file, before chDB would print the
 *     error itself).
 *   - a connection runs one statement at a time.  Each sp_ch_conn holds two:
 *     `rw` for DDL and inserts, `ro` opened with readonly=2 for pipe SQL.
 *     Statements' settings are SET on `ro` before the statement and set
 *     back to DEFAULT after it.  kill() runs KILL QUERY … ASYNC on a third
 *     connection, matching the statement's log_comment (its query id).
 *   - the default database of clickhouse-local reads files of the current
 *     folder by table name: every connection works in its own Atomic
 *     database (`sinkpipe` unless told otherwise).
 *   - chDB's own signal handlers are disabled: the daemon and the CLI
 *     handle SIGTERM/SIGINT. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_ch_conn.h"
#include "sp_ch_text.h"
#include "sp_ch_tsv.h"
#include "sp_error.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

#ifndef SP_LIBCHDB_DEFAULT
#define SP_LIBCHDB_DEFAULT "libchdb.so"
#endif

/* ------------------------------------------------------------ the API */

/* chDB's C API (its public chdb.h, 26.7), declared here from the documented
 * prototypes; every handle is opaque to us. */
typedef struct chdb_result_ chdb_result;
typedef struct chdb_connection_ *chdb_connection;
typedef struct chdb_insert_stream_ *chdb_insert_stream;

static struct {
    const char *(*version)(void);
    void (*set_signal_handlers_enabled)(int);
    chdb_connection *(*connect)(int, char **);
    void (*close_conn)(chdb_connection *);
    chdb_result *(*query_n)(chdb_connection, const char *, size_t, const char *, size_t);
    chdb_result *(*stream_query_n)(chdb_connection, const char *, size_t, const char *,
                                   size_t);
    chdb_result *(*stream_fetch_result)(chdb_connection, chdb_result *);
    void (*stream_cancel_query)(chdb_connection, chdb_result *);
    void (*destroy_query_result)(chdb_result *);
    chdb_insert_stream (*stream_insert_n)(chdb_connection, const char *, size_t, const char *,
                                          size_t);
    int (*stream_append)(chdb_insert_stream, const void *, size_t);
    chdb_result *(*stream_done)(chdb_insert_stream);
    const char *(*stream_insert_error)(chdb_insert_stream);
    void (*destroy_insert_stream)(chdb_insert_stream);
    void (*stream_cancel_insert)(chdb_insert_stream);
    char *(*result_buffer)(chdb_result *);
    size_t (*result_length)(chdb_result *);
    const char *(*result_error)(chdb_result *);
    uint64_t (*result_rows_read)(chdb_result *);
    uint64_t (*result_bytes_read)(chdb_result *);
    int (*classify_query_n)(chdb_connection, const char *, size_t, const char *, size_t,
                            void *);
} api;

/* chdb_classify_query_n's report (chdb_query_analysis_v1) */
typedef struct chdb_analysis {
    uint32_t struct_size, statement_count, flags, query_class;
} chdb_analysis;

const char *const sp_ch_embedded_settings[] = {
    "session_timezone=UTC",
    "allow_suspicious_types_in_group_by=1",
    "allow_suspicious_types_in_order_by=1",
    "output_format_binary_write_json_as_string=1",
    "output_format_native_write_json_as_string=1",
    "input_format_binary_read_json_as_string=1",
    "implicit_select=0",
    NULL,
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static void *g_lib;
static char g_path[4096]; /* the folder in use ("" = in memory) */
static int g_nconn;       /* chdb connections open */
static char g_version[64];

static int load_library(const char *want, sp_error *err)
{
    if (g_lib)
        return 0;
    if (!want || !*want)
        want = SP_LIBCHDB_DEFAULT;
    void *h = dlopen(want, RTLD_NOW | RTLD_LOCAL);
    if (!h && strcmp(want, "libchdb.so") != 0)
        h = dlopen("libchdb.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return sp_error_set(err, SP_EENGINE, 0,
                            "cannot load the embedded ClickHouse (libchdb.so): %.300s; run "
                            "scripts/setup.sh or set SINKPIPE_LIBCHDB",
                            why ? why : "not found");
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
#define SYM(field, name) { (void **)&api.field, name }
        SYM(version, "chdb_version"),
        SYM(set_signal_handlers_enabled, "chdb_set_signal_handlers_enabled"),
        SYM(connect, "chdb_connect"),
        SYM(close_conn, "chdb_close_conn"),
        SYM(query_n, "chdb_query_n"),
        SYM(stream_query_n, "chdb_stream_query_n"),
        SYM(stream_fetch_result, "chdb_stream_fetch_result"),
        SYM(stream_cancel_query, "chdb_stream_cancel_query"),
        SYM(destroy_query_result, "chdb_destroy_query_result"),
        SYM(stream_insert_n, "chdb_stream_insert_n"),
        SYM(stream_append, "chdb_stream_append"),
        SYM(stream_done, "chdb_stream_done"),
        SYM(stream_insert_error, "chdb_stream_insert_error"),
        SYM(destroy_insert_stream, "chdb_destroy_insert_stream"),
        SYM(stream_cancel_insert, "chdb_stream_cancel_insert"),
        SYM(result_buffer, "chdb_result_buffer"),
        SYM(result_length, "chdb_result_length"),
        SYM(result_error, "chdb_result_error"),
        SYM(result_rows_read, "chdb_result_rows_read"),
        SYM(result_bytes_read, "chdb_result_bytes_read"),
        SYM(classify_query_n, "chdb_classify_query_n"),
#undef SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            dlclose(h);
            return sp_error_set(err, SP_EENGINE, 0,
                                "the embedded ClickHouse library has no %s (chDB 26.7 or "
                                "later is needed)",
                                syms[i].name);
        }
    }
    const char *v = api.version();
    unsigned major = 0, minor = 0;
    if (!v || sscanf(v, "%u.%u", &major, &minor) != 2 || major != 26 || minor < 7) {
        dlclose(h);
        return sp_error_set(err, SP_EENGINE, 0,
                            "the embedded ClickHouse library is version %.32s: sinkpipe needs "
                            "chDB 26.7 or a later 26.x",
                            v ? v : "(unknown)");
    }
    snprintf(g_version, sizeof g_version, "%s", v);
    api.set_signal_handlers_enabled(0);
    g_lib = h;
    return 0;
}

/* ------------------------------------------------------------ connections */

typedef struct chdb_conn {
    sp_ch_conn base;
    chdb_connection *rw, *ro, *killer;
    chdb_connection *ins; /* streamed inserts (opened on first use) */
    const char *const *settings; /* the caller's, valid while open */
    /* the query a DESCRIBE just checked: its run right after is not
     * checked again (one use; compared byte for byte) */
    char *checked;
    size_t nchecked;
    char *database;
    int drop_on_close;
    char where[112];
    char **set; /* settings SET on `ro` by the last statement */
    size_t nset;
} chdb_conn;

/* a ClickHouse error text -> one line */
static int chdb_error(const char *text, sp_error *err)
{
    char msg[800];
    int code = sp_ch_exception(text, strlen(text), msg, sizeof msg);
    if (!code) {
        snprintf(msg, sizeof msg, "%.700s", text);
        for (char *c = msg; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
    }
    if (code == 394) /* QUERY_WAS_CANCELLED */
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    return sp_error_set(err, SP_ESQL, code ? sp_ch_code_retriable(code) : SP_FATAL,
                        "clickhouse: %s", msg);
}

/* one statement read whole; its answer to out (may be NULL) */
static int exec_whole(chdb_connection *c, const char *sql, size_t len, const char *fmt,
                      sp_buf *out, sp_error *err)
{
    if (!fmt)
        fmt = "TabSeparated";
    chdb_result *r = api.query_n(*c, sql, len, fmt, strlen(fmt));
    if (!r)
        return sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: no answer");
    int rc = 0;
    const char *e = api.result_error(r);
    if (e)
        rc = chdb_error(e, err);
    else if (out)
        rc = sp_buf_add(out, api.result_buffer(r), api.result_length(r), err);
    api.destroy_query_result(r);
    return rc;
}

static int exec_str(chdb_connection *c, const char *sql, sp_error *err)
{
    return exec_whole(c, sql, strlen(sql), NULL, NULL, err);
}

/* a value for SET name = value: numbers as they are, else a string */
static int set_value(sp_buf *b, const char *v, sp_error *err)
{
    int num = *v != '\0';
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            num = 0;
    return num ? sp_buf_adds(b, v, err) : sp_ch_quote_string(b, v, strlen(v), err);
}

static int valid_setting_name(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* the previous statement's settings go back to their defaults */
static void unset_all(chdb_conn *c)
{
    for (size_t i = 0; i < c->nset; i++) {
        sp_buf q = SP_BUF_INIT(4096);
        if (!sp_buf_addf(&q, NULL, "SET %s = DEFAULT", c->set[i]))
            exec_str(c->ro, q.data, NULL);
        sp_buf_release(&q);
        free(c->set[i]);
    }
    c->nset = 0;
}

static int apply_settings(chdb_conn *c, const sp_ch_stmt *st, sp_error *err)
{
    size_t n = 0;
    for (; st->settings && st->settings[n]; n++)
        ;
    int has_id = st->query_id && *st->query_id;
    char **v = realloc(c->set, (n + 1) * sizeof *v);
    if (!v)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    c->set = v;
    int rc = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        const char *nv = i < n ? st->settings[i] : NULL;
        if (!nv && !has_id)
            break;
        const char *name = nv ? nv : "log_comment", *val = nv ? strchr(nv, '=') : st->query_id;
        size_t nl = nv ? (val ? (size_t)(val - nv) : 0) : strlen(name);
        if (nv && !val)
            return sp_error_set(err, SP_EINVAL, 0, "setting '%.64s' is not name=value", nv);
        if (nv)
            val++;
        if (!valid_setting_name(name, nl))
            return sp_error_set(err, SP_EINVAL, 0, "setting '%.64s': bad name", name);
        sp_buf q = SP_BUF_INIT(1 << 20);
        rc = sp_buf_addf(&q, err, "SET %.*s = ", (int)nl, name);
        if (!rc)
            rc = set_value(&q, val, err);
        if (!rc)
            rc = exec_str(c->ro, q.data, err);
        sp_buf_release(&q);
        if (!rc) {
            c->set[c->nset] = strndup(name, nl);
            if (c->set[c->nset])
                c->nset++;
        }
    }
    return rc;
}

/* functions that reach outside the database: files, URLs, other servers,
 * programs.  Embedded, ClickHouse runs with this process's rights, so pipe
 * SQL and /v0/sql may not call them (readonly=2 alone allows reading) */
static const char *const external[] = {
    "file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn",
    "azureBlobStorage", "azureBlobStorageCluster", "hdfs", "hdfsCluster", "remote",
    "remoteSecure", "cluster", "clusterAllReplicas", "mysql", "postgresql", "mongodb", "redis",
    "sqlite", "jdbc", "odbc", "executable", "executablePool", "filesystem", "iceberg",
    "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal", "icebergCluster",
    "icebergS3Cluster", "deltaLake", "deltaLakeS3", "deltaLakeAzure", "deltaLakeLocal",
    "deltaLakeCluster", "hudi", "hudiCluster", "paimon", "arrowFlight", "arrowflight",
    "ytsaurus", "prometheusQuery", "prometheusQueryRange", "timeSeriesData",
    "timeSeriesMetrics", "timeSeriesTags", "timeSeriesSelector", "input", "zeros_mt", NULL,
};

/* a statement that may run as pipe SQL: one statement that only reads, and
 * no call of an external-access function */
static int check_read_only(chdb_conn *c, const sp_ch_stmt *st, sp_error *err)
{
    chdb_analysis an;
    memset(&an, 0, sizeof an);
    an.struct_size = sizeof an;
    if (api.classify_query_n(*c->ro, st->sql, st->len, NULL, 0, &an) != 0)
        return sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: cannot classify the query");
    if (an.query_class == 4) /* did not parse: ClickHouse's own message follows */
        return 0;
    if (an.query_class != 0 || an.statement_count != 1)
        return sp_error_set(err, SP_ESQL, 0,
                            "clickhouse: only one query that reads may run here, not a "
                            "statement that changes data, settings or files (readonly mode)");
    /* the functions it calls, as ClickHouse's own parser reads it (a lexer
     * of ours could be fooled by syntax it reads differently: heredocs,
     * '#' comments…): the "Function <name>" nodes of EXPLAIN AST */
    sp_buf q = SP_BUF_INIT((size_t)64 << 20), ast = SP_BUF_INIT((size_t)64 << 20);
    int rc = sp_buf_adds(&q, "EXPLAIN AST ", err);
    if (!rc)
        rc = sp_buf_add(&q, st->sql, st->len, err);
    if (!rc && exec_whole(c->ro, q.data, q.len, "TSVRaw", &ast, NULL) != 0) {
        /* it does not parse: ClickHouse says why when it runs */
        sp_buf_release(&q);
        sp_buf_release(&ast);
        return 0;
    }
    const char *p = ast.data ? ast.data : "", *end = p + ast.len;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        const char *w = p;
        while (w < nl && *w == ' ')
            w++;
        if ((size_t)(nl - w) > 9 && !memcmp(w, "Function ", 9)) {
            w += 9;
            const char *we = w;
            while (we < nl && *we != ' ')
                we++;
            size_t wl = (size_t)(we - w);
            for (const char *const *e = external; *e; e++)
                if (strlen(*e) == wl && !strncasecmp(w, *e, wl)) {
                    rc = sp_error_set(err, SP_ESQL, 0,
                                      "clickhouse: %s() reaches outside the database: not "
                                      "allowed in pipes and queries of the embedded engine",
                                      *e);
                    break;
                }
        }
        p = nl + 1;
    }
    sp_buf_release(&q);
    sp_buf_release(&ast);
    return rc;
}

/* A streamed SELECT on `ro`.  A fetcher thread pulls chunks from chDB
 * (which computes the next chunk only when asked) while this thread hands
 * the previous ones to on_chunk: ClickHouse's work and ours overlap.  At
 * most PREFETCH chunks wait in between (memory: that many chunks, ~1 MiB
 * each).  Only the fetcher touches the stream, as chDB requires. */
#define PREFETCH 3

typedef struct fetcher {
    chdb_conn *c;
    chdb_result *h;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chdb_result *q[PREFETCH];
    size_t head, n;
    int end;       /* the fetcher is done (end, error or stop) */
    int stop;      /* the consumer wants no more */
    chdb_result *err_chunk; /* the chunk that carried an error */
    int noanswer;
} fetcher;

static void *fetch_main(void *ud)
{
    fetcher *f = ud;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (f->n == PREFETCH && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        int stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        chdb_result *ch = api.stream_fetch_result(*f->c->ro, f->h);
        pthread_mutex_lock(&f->mu);
        if (!ch) {
            f->noanswer = 1;
        } else if (api.result_error(ch)) {
            f->err_chunk = ch;
        } else if (!api.result_length(ch)) {
            api.destroy_query_result(ch);
            f->end = 1;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
            return NULL;
        } else {
            f->q[(f->head + f->n) % PREFETCH] = ch;
            f->n++;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
            continue;
        }
        f->end = 1;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        return NULL;
    }
    /* stopped early: the query stops too */
    api.stream_cancel_query(*f->c->ro, f->h);
    pthread_mutex_lock(&f->mu);
    f->end = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static int run_stream(chdb_conn *c, const sp_ch_stmt *st, sp_error *err)
{
    const char *fmt = st->format ? st->format : "TabSeparatedWithNamesAndTypes";
    chdb_result *h = api.stream_query_n(*c->ro, st->sql, st->len, fmt, strlen(fmt));
    if (!h)
        return sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: no answer");
    const char *e = api.result_error(h);
    if (e) {
        int rc = chdb_error(e, err);
        api.destroy_query_result(h);
        return rc;
    }
    fetcher f;
    memset(&f, 0, sizeof f);
    f.c = c;
    f.h = h;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, fetch_main, &f) != 0) {
        api.stream_cancel_query(*c->ro, h);
        api.destroy_query_result(h);
        pthread_mutex_destroy(&f.mu);
        pthread_cond_destroy(&f.cv);
        return sp_error_set(err, SP_EENGINE, 1, "cannot start a thread");
    }
    int rc = 0;
    for (;;) {
        if (sp_cancelled(st->cancel)) {
            rc = sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
            break;
        }
        pthread_mutex_lock(&f.mu);
        while (!f.n && !f.end)
            pthread_cond_wait(&f.cv, &f.mu);
        chdb_result *ch = NULL;
        if (f.n) {
            ch = f.q[f.head];
            f.head = (f.head + 1) % PREFETCH;
            f.n--;
            pthread_cond_broadcast(&f.cv);
        }
        pthread_mutex_unlock(&f.mu);
        if (!ch)
            break; /* the end, or the fetcher's error */
        if (st->on_chunk)
            rc = st->on_chunk(st->ud, api.result_buffer(ch), api.result_length(ch), err);
        api.destroy_query_result(ch);
        if (rc)
            break;
    }
    pthread_mutex_lock(&f.mu);
    f.stop = 1;
    pthread_cond_broadcast(&f.cv);
    pthread_mutex_unlock(&f.mu);
    pthread_join(th, NULL);
    while (f.n) {
        api.destroy_query_result(f.q[f.head]);
        f.head = (f.head + 1) % PREFETCH;
        f.n--;
    }
    if (!rc && f.err_chunk)
        rc = chdb_error(api.result_error(f.err_chunk), err);
    else if (!rc && f.noanswer)
        rc = sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: no answer");
    if (f.err_chunk)
        api.destroy_query_result(f.err_chunk);
    api.destroy_query_result(h);
    pthread_mutex_destroy(&f.mu);
    pthread_cond_destroy(&f.cv);
    return rc;
}

static int run_insert(chdb_conn *c, const sp_ch_stmt *st, sp_error *err)
{
    const char *fmt = st->format ? st->format : "TabSeparated";
    chdb_insert_stream s = api.stream_insert_n(*c->rw, st->sql, st->len, fmt, strlen(fmt));
    if (!s)
        return sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: no insert stream");
    const char *e = api.stream_insert_error(s);
    int rc = 0;
    if (e) {
        rc = chdb_error(e, err);
    } else if (st->datalen && api.stream_append(s, st->data, st->datalen) != 0) {
        e = api.stream_insert_error(s);
        rc = chdb_error(e ? e : "the insert stream refused the data", err);
    } else {
        chdb_result *r = api.stream_done(s);
        e = r ? api.result_error(r) : "the insert did not finish";
        if (e)
            rc = chdb_error(e, err);
        if (r)
            api.destroy_query_result(r);
    }
    api.destroy_insert_stream(s);
    return rc;
}

static int chdb_run(sp_ch_conn *base, const sp_ch_stmt *st, sp_error *err)
{
    chdb_conn *c = (chdb_conn *)base;
    if (st->data)
        return run_insert(c, st, err);
    if (!st->read_only) {
        if (!st->on_chunk)
            return exec_whole(c->rw, st->sql, st->len, st->format, NULL, err);
        sp_buf out = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
        int rc = exec_whole(c->rw, st->sql, st->len, st->format, &out, err);
        if (!rc && out.len)
            rc = st->on_chunk(st->ud, out.data, out.len, err);
        sp_buf_release(&out);
        return rc;
    }
    int again = !st->describe && c->checked && c->nchecked == st->len &&
                !memcmp(c->checked, st->sql, st->len);
    free(c->checked);
    c->checked = NULL;
    int rc = again ? 0 : check_read_only(c, st, err);
    if (!rc)
        rc = apply_settings(c, st, err);
    if (!rc && st->describe) {
        /* answered whole: chDB streams only SELECTs */
        sp_buf q = SP_BUF_INIT((size_t)64 << 20), out = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
        rc = sp_buf_adds(&q, "DESCRIBE (\n", err);
        if (!rc)
            rc = sp_buf_add(&q, st->sql, st->len, err);
        if (!rc)
            rc = sp_buf_adds(&q, "\n)", err);
        if (!rc)
            rc = exec_whole(c->ro, q.data, q.len, st->format, &out, err);
        if (!rc && out.len && st->on_chunk)
            rc = st->on_chunk(st->ud, out.data, out.len, err);
        if (!rc && (c->checked = malloc(st->len ? st->len : 1)) != NULL) {
            memcpy(c->checked, st->sql, st->len);
            c->nchecked = st->len;
        }
        sp_buf_release(&q);
        sp_buf_release(&out);
    } else if (!rc) {
        rc = run_stream(c, st, err);
    }
    unset_all(c);
    return rc;
}

static int open_one(const char *path, const char *ro, const char *const *settings,
                    chdb_connection **out, sp_error *err);

static void chdb_kill(sp_ch_conn *base, const char *query_id)
{
    chdb_conn *c = (chdb_conn *)base;
    if (!query_id || !*query_id)
        return;
    for (const char *p = query_id; *p; p++)
        if (*p == '\'' || *p == '\\')
            return;
    pthread_mutex_lock(&g_mu);
    if (!c->killer && open_one(g_path, NULL, NULL, &c->killer, NULL) == 0)
        g_nconn++;
    chdb_connection *k = c->killer;
    pthread_mutex_unlock(&g_mu);
    if (!k)
        return;
    sp_buf q = SP_BUF_INIT(4096);
    if (!sp_buf_addf(&q, NULL, "KILL QUERY WHERE Settings['log_comment'] = '%s' ASYNC",
                     query_id))
        exec_str(k, q.data, NULL);
    sp_buf_release(&q);
}

static const char *chdb_where(const sp_ch_conn *base)
{
    return ((const chdb_conn *)base)->where;
}

static void chdb_free(chdb_conn *c)
{
    pthread_mutex_lock(&g_mu);
    if (c->drop_on_close && c->rw && c->database) {
        sp_buf q = SP_BUF_INIT(4096);
        if (!sp_buf_adds(&q, "DROP DATABASE IF EXISTS ", NULL) &&
            !sp_ch_quote_ident(&q, c->database, NULL) && !sp_buf_adds(&q, " SYNC", NULL))
            exec_str(c->rw, q.data, NULL);
        sp_buf_release(&q);
    }
    chdb_connection **all[] = { &c->rw, &c->ro, &c->killer, &c->ins };
    for (size_t i = 0; i < 4; i++)
        if (*all[i]) {
            api.close_conn(*all[i]);
            *all[i] = NULL;
            g_nconn--;
        }
    pthread_mutex_unlock(&g_mu);
    for (size_t i = 0; i < c->nset; i++)
        free(c->set[i]);
    free(c->set);
    free(c->checked);
    free(c->database);
    free(c);
}

static void chdb_close(sp_ch_conn *base)
{
    if (base)
        chdb_free((chdb_conn *)base);
}

#define PUSH_QUEUE 2

typedef struct piece {
    char *data;
    size_t len;
} piece;

/* an open insert: its stream and the thread that feeds it */
typedef struct pusher {
    chdb_insert_stream s;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    piece q[PUSH_QUEUE];
    size_t head, n;
    int closing, abandon; /* no more pieces; drop the waiting ones */
    int failed;
    char error[1024];
} pusher;

static void *push_main(void *ud)
{
    pusher *p = ud;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->n && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->n || p->abandon || p->failed)
            break;
        piece pc = p->q[p->head];
        pthread_mutex_unlock(&p->mu);
        int bad = api.stream_append(p->s, pc.data, pc.len) != 0;
        const char *e = bad ? api.stream_insert_error(p->s) : NULL;
        free(pc.data);
        pthread_mutex_lock(&p->mu);
        p->head = (p->head + 1) % PUSH_QUEUE;
        p->n--;
        if (bad) {
            p->failed = 1;
            snprintf(p->error, sizeof p->error, "%s", e ? e : "the insert stream refused the data");
        }
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* streamed inserts run on a connection of their own, so that the rows of
 * a long append and the statements around it (quarantine, DEFAULTs) do
 * not wait for each other */
static int chdb_insert_open(sp_ch_conn *base, const char *sql, size_t len, const char *format,
                            void **h, sp_error *err)
{
    chdb_conn *c = (chdb_conn *)base;
    *h = NULL;
    if (!c->ins) {
        pthread_mutex_lock(&g_mu);
        int rc = open_one(g_path, NULL, c->settings, &c->ins, err);
        if (!rc)
            g_nconn++;
        pthread_mutex_unlock(&g_mu);
        sp_buf q = SP_BUF_INIT(4096);
        if (!rc)
            rc = sp_buf_adds(&q, "USE ", err);
        if (!rc)
            rc = sp_ch_quote_ident(&q, c->database, err);
        if (!rc)
            rc = exec_str(c->ins, q.data, err);
        sp_buf_release(&q);
        if (rc)
            return rc;
    }
    chdb_insert_stream s = api.stream_insert_n(*c->ins, sql, len, format, strlen(format));
    if (!s)
        return sp_error_set(err, SP_EENGINE, 0, "embedded clickhouse: no insert stream");
    const char *e = api.stream_insert_error(s);
    if (e) {
        int rc = chdb_error(e, err);
        api.destroy_insert_stream(s);
        return rc;
    }
    pusher *p = calloc(1, sizeof *p);
    if (!p) {
        api.stream_cancel_insert(s);
        api.destroy_insert_stream(s);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    p->s = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, push_main, p) != 0) {
        api.stream_cancel_insert(s);
        api.destroy_insert_stream(s);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return sp_error_set(err, SP_EENGINE, 1, "cannot start a thread");
    }
    *h = p;
    return 0;
}

/* the rows go to ClickHouse on the pusher's thread while the caller
 * parses the next ones: a push waits only when PUSH_QUEUE pieces are
 * already waiting (memory: that many pieces) */
static int chdb_insert_push(sp_ch_conn *base, void *h, const char *data, size_t len,
                            sp_error *err)
{
    (void)base;
    pusher *p = h;
    if (!len)
        return 0;
    char *copy = malloc(len);
    if (!copy)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    memcpy(copy, data, len);
    pthread_mutex_lock(&p->mu);
    while (p->n == PUSH_QUEUE && !p->failed)
        pthread_cond_wait(&p->cv, &p->mu);
    int rc = 0;
    if (p->failed) {
        rc = chdb_error(p->error, err);
        free(copy);
    } else {
        p->q[(p->head + p->n) % PUSH_QUEUE] = (piece){ copy, len };
        p->n++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int chdb_insert_close(sp_ch_conn *base, void *h, int commit, sp_error *err)
{
    (void)base;
    pusher *p = h;
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    if (!commit)
        p->abandon = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    int rc = 0;
    if (commit && p->failed) {
        rc = chdb_error(p->error, err);
        commit = 0;
    }
    if (commit) {
        chdb_result *r = api.stream_done(p->s);
        const char *e = r ? api.result_error(r) : "the insert did not finish";
        if (e)
            rc = chdb_error(e, err);
        if (r)
            api.destroy_query_result(r);
    } else {
        api.stream_cancel_insert(p->s);
    }
    api.destroy_insert_stream(p->s);
    while (p->n) {
        free(p->q[p->head].data);
        p->head = (p->head + 1) % PUSH_QUEUE;
        p->n--;
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    return rc;
}

static const sp_ch_conn_vt chdb_vt = { "chdb",           SP_CH_DOC_CHUNKS, chdb_run,
                                       chdb_kill,        chdb_insert_open, chdb_insert_push,
                                       chdb_insert_close, chdb_where,      chdb_close };

/* ------------------------------------------------------------ open */

/* another process holds the folder: say which (ClickHouse's status file
 * holds "PID: n" and the time it started) */
static int held_elsewhere(const char *path, sp_error *err)
{
    char f[4200];
    snprintf(f, sizeof f, "%s/status", path);
    int fd = open(f, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (!held) {
        flock(fd, LOCK_UN);
        close(fd);
        return 0;
    }
    char txt[256] = "";
    ssize_t n = read(fd, txt, sizeof txt - 1);
    close(fd);
    long pid = 0;
    const char *p = n > 0 ? strstr(txt, "PID:") : NULL;
    if (p)
        pid = strtol(p + 4, NULL, 10);
    if (pid > 0)
        return sp_error_set(err, SP_EBUSY, 1,
                            "the project's database '%s' is in use by another process (pid "
                            "%ld, e.g. `sinkpipe serve`)",
                            path, pid);
    return sp_error_set(err, SP_EBUSY, 1,
                        "the project's database '%s' is in use by another process", path);
}

static int open_one(const char *path, const char *ro, const char *const *settings,
                    chdb_connection **out, sp_error *err)
{
    char *argv[64];
    char pathopt[4200];
    int argc = 0;
    argv[argc++] = "sinkpipe";
    if (*path) {
        snprintf(pathopt, sizeof pathopt, "--path=%s", path);
        argv[argc++] = pathopt;
    }
    char *own[48];
    int nown = 0;
    if (ro)
        argv[argc++] = (char *)ro;
    for (size_t i = 0; settings && settings[i] && nown < 48; i++) {
        size_t n = strlen(settings[i]) + 3;
        own[nown] = malloc(n);
        if (!own[nown])
            break;
        snprintf(own[nown], n, "--%s", settings[i]);
        argv[argc++] = own[nown++];
    }
    argv[argc] = NULL;
    *out = api.connect(argc, argv);
    for (int i = 0; i < nown; i++)
        free(own[i]);
    if (!*out)
        return sp_error_set(err, SP_EENGINE, 0,
                            "embedded clickhouse: cannot open the database%s%s (see the "
                            "message above)",
                            *path ? " at " : " in memory", path);
    return 0;
}

int sp_ch_chdb_open(const sp_chdb_opts *o, sp_ch_conn **out, sp_error *err)
{
    *out = NULL;
    const char *path = o && o->path ? o->path : NULL;
    const char *db = o && o->database && *o->database ? o->database : "sinkpipe";
    pthread_mutex_lock(&g_mu);
    int rc = load_library(o ? o->library : NULL, err);
    if (!rc && path && g_nconn > 0 && strcmp(path, g_path) != 0)
        rc = sp_error_set(err, SP_EBUSY, SP_FATAL,
                          "this process already uses the embedded database at '%s'; it cannot "
                          "open '%s' too",
                          *g_path ? g_path : ":memory:", *path ? path : ":memory:");
    if (!rc && path && *path && g_nconn == 0)
        rc = held_elsewhere(path, err);
    if (rc) {
        pthread_mutex_unlock(&g_mu);
        return rc;
    }
    if (g_nconn == 0)
        snprintf(g_path, sizeof g_path, "%s", path ? path : "");
    chdb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        pthread_mutex_unlock(&g_mu);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    c->base.vt = &chdb_vt;
    c->database = strdup(db);
    c->drop_on_close = o && o->drop_on_close;
    snprintf(c->where, sizeof c->where, "embedded clickhouse %s", g_version);
    const char *const *settings = o ? o->settings : NULL;
    c->settings = settings;
    rc = c->database ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc && !(rc = open_one(g_path, NULL, settings, &c->rw, err)))
        g_nconn++;
    if (!rc && !(rc = open_one(g_path, "--readonly=2", settings, &c->ro, err)))
        g_nconn++;
    pthread_mutex_unlock(&g_mu);
    /* its own database, current on both connections */
    sp_buf q = SP_BUF_INIT(4096);
    if (!rc)
        rc = sp_buf_adds(&q, "CREATE DATABASE IF NOT EXISTS ", err);
    if (!rc)
        rc = sp_ch_quote_ident(&q, c->database, err);
    if (!rc)
        rc = sp_buf_adds(&q, " ENGINE = Atomic", err);
    if (!rc)
        rc = exec_str(c->rw, q.data, err);
    sp_buf_reset(&q);
    if (!rc)
        rc = sp_buf_adds(&q, "USE ", err);
    if (!rc)
        rc = sp_ch_quote_ident(&q, c->database, err);
    if (!rc)
        rc = exec_str(c->rw, q.data, err);
    if (!rc)
        rc = exec_str(c->ro, q.data, err);
    sp_buf_release(&q);
    if (rc) {
        c->drop_on_close = 0;
        chdb_free(c);
        return rc;
    }
    *out = &c->base;
    return 0;
}

const char *sp_ch_chdb_version(void)
{
    return g_lib ? g_version : NULL;
}
