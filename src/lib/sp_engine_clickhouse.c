/* sp_engine_clickhouse: the engine interface over ClickHouse's HTTP
 * interface (libcurl).
 *
 * Queries are sent as they are (ClickHouse dialect), with now()/today()/
 * yesterday() replaced by constants of the run's logical time, and read
 * back as TabSeparatedWithNamesAndTypes through sp_ch_tsv while they stream
 * (memory: one batch).  Every request carries the settings of the run
 * (query_id, max_execution_time, max_memory_usage) as URL parameters;
 * interrupt() sends KILL QUERY for the running query id on a second
 * connection.  Tables are created from the datafiles with their real engine;
 * rows are inserted as RowBinary (sp_ch_rowbin: floats bit for bit).
 * docs/engine-clickhouse.md describes the whole. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sp_buf.h"
#include "sp_ch_rowbin.h"
#include "sp_ch_tsv.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_sql_lex.h"
#include "sp_type.h"

#define SQL_MAX ((size_t)64 << 20)
#define SMALL_MAX ((size_t)16 << 20) /* answers read whole (table layouts) */
#define ERRBODY_MAX ((size_t)64 << 10)
#define BATCH_ROWS 2048
#define FORMAT_TSV "TabSeparatedWithNamesAndTypes"

typedef struct ch_engine {
    sp_engine base;
    char *url;  /* as configured */
    char *shown; /* scheme://host:port/path: no user, password or query */
    char *user, *password, *database;
    char **settings; /* "name=value" each, NULL-ended */
    size_t nsettings;
    CURL *curl;
    pthread_mutex_t mu;
    char qid[160]; /* the running query's id, "" when none */
    unsigned long seq;
    atomic_int interrupted;
} ch_engine;

/* ------------------------------------------------------------ requests */

typedef struct req {
    ch_engine *e;
    CURL *c;
    sp_ch_tsv *rd;       /* streaming result, or */
    sp_buf *body;        /* the whole answer (bounded), or neither */
    volatile int *cancel;
    long status;
    sp_buf errbody;
    int cb_rc;
    sp_error cb_err;
    int nostop; /* KILL QUERY: not stopped by the interrupted flag */
    uint64_t deadline; /* monotonic ms (0 = none): the client's own time limit */
    uint64_t timeout_ms;
    int timed_out;
} req;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int stopped(const req *r)
{
    return !r->nostop && ((r->cancel && *r->cancel) || atomic_load(&r->e->interrupted));
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    req *r = ud;
    size_t n = sz * nm;
    if (!r->status)
        curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status != 200) {
        size_t room = ERRBODY_MAX - r->errbody.len;
        sp_buf_add(&r->errbody, p, n < room ? n : room, NULL);
        return n;
    }
    if (stopped(r)) {
        r->cb_rc = sp_error_set(&r->cb_err, SP_ECANCELLED, 0, "query cancelled");
        return 0;
    }
    int rc = 0;
    if (r->rd)
        rc = sp_ch_tsv_feed(r->rd, p, n, &r->cb_err);
    else if (r->body)
        rc = sp_buf_add(r->body, p, n, &r->cb_err);
    if (rc) {
        r->cb_rc = rc;
        return 0;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    req *r = ud;
    if (r->deadline && mono_ms() > r->deadline) {
        r->timed_out = 1;
        return 1;
    }
    return stopped(r);
}

/* the error of a non-200 answer */
static int http_error(req *r, sp_error *err)
{
    char msg[800];
    int code = sp_ch_exception(r->errbody.data ? r->errbody.data : "", r->errbody.len, msg,
                               sizeof msg);
    if (!code) {
        size_t n = r->errbody.len > 200 ? 200 : r->errbody.len;
        snprintf(msg, sizeof msg, "%.*s", (int)n, r->errbody.data ? r->errbody.data : "");
        for (char *c = msg; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
        return sp_error_set(err, r->status >= 500 ? SP_EENGINE : SP_ESQL, r->status >= 502,
                            "clickhouse at %s answered HTTP %ld%s%s", r->e->shown, r->status,
                            *msg ? ": " : "", msg);
    }
    /* 192-195 unknown user / wrong password / …, 516 AUTHENTICATION_FAILED */
    if ((code >= 192 && code <= 195) || code == 516)
        return sp_error_set(err, SP_EAUTH, 0, "clickhouse at %s: %s", r->e->shown, msg);
    /* 159 TIMEOUT_EXCEEDED, 241 MEMORY_LIMIT_EXCEEDED, 202 TOO_MANY_SIMULTANEOUS_QUERIES */
    return sp_error_set(err, SP_ESQL, code == 159 || code == 202, "clickhouse: %s", msg);
}

static int transfer_error(req *r, CURLcode cc, const char *ebuf, sp_error *err)
{
    if (r->cb_rc) {
        if (err && !err->code)
            *err = r->cb_err;
        return r->cb_rc;
    }
    if (stopped(r))
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    if (r->timed_out)
        return sp_error_set(err, SP_ESQL, 1, "query exceeded its timeout of %llu ms",
                            (unsigned long long)r->timeout_ms);
    const char *why = ebuf && *ebuf ? ebuf : curl_easy_strerror(cc);
    if (r->status == 200)
        return sp_error_set(err, SP_ENET, 1, "clickhouse at %s: connection lost while reading "
                            "the result: %s", r->e->shown, why);
    return sp_error_set(err, SP_ENET, 1, "clickhouse at %s: %s", r->e->shown, why);
}

/* one request: POST `body` (the SQL, or rows when a query= parameter holds
 * the INSERT) with the URL parameters `params` ("name=value" pairs,
 * unescaped, NULL-ended); the answer goes to r->rd or r->body */
static int ch_request(ch_engine *e, CURL *c, const char *body, size_t bodylen,
                      const char *const *params, req *r, sp_error *err)
{
    CURLU *u = curl_url();
    char *url = NULL;
    int rc = 0;
    r->e = e;
    if (!u || curl_url_set(u, CURLUPART_URL, e->url, 0) != CURLUE_OK)
        rc = sp_error_set(err, SP_EINVAL, 0, "SINKPIPE_CLICKHOUSE_URL: '%s' is not a URL",
                          e->shown);
    for (size_t i = 0; !rc && i < e->nsettings; i++)
        if (curl_url_set(u, CURLUPART_QUERY, e->settings[i],
                         CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; !rc && params && params[i]; i++)
        if (curl_url_set(u, CURLUPART_QUERY, params[i], CURLU_APPENDQUERY | CURLU_URLENCODE) !=
            CURLUE_OK)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc && e->database) {
        sp_buf db = SP_BUF_INIT(4096);
        rc = sp_buf_addf(&db, err, "database=%s", e->database);
        if (!rc && curl_url_set(u, CURLUPART_QUERY, db.data,
                                CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        sp_buf_release(&db);
    }
    if (!rc && curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    curl_url_cleanup(u);
    if (rc) {
        curl_free(url);
        return rc;
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    /* no "Expect: 100-continue" round trip for large inserts */
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if ((e->user && *e->user) || (e->password && *e->password)) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, e->user && *e->user ? e->user : "default");
        curl_easy_setopt(c, CURLOPT_PASSWORD, e->password ? e->password : "");
    }
    r->c = c;
    sp_buf_init(&r->errbody, ERRBODY_MAX);
    CURLcode cc = curl_easy_perform(c);
    if (!r->status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    /* the handle outlives this frame (kept for its connection): no pointers
     * into it */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, NULL);
    curl_slist_free_all(hdr);
    curl_free(url);
    if (cc != CURLE_OK)
        rc = transfer_error(r, cc, ebuf, err);
    else if (r->status != 200)
        rc = http_error(r, err);
    else if (r->rd && (rc = sp_ch_tsv_finish(r->rd, err)) == SP_ESQL)
        sp_error_prefix(err, "clickhouse");
    sp_buf_release(&r->errbody);
    return rc;
}

/* a statement whose answer is small (DDL, table layouts), read whole into
 * out (may be NULL) */
static int ch_exec(ch_engine *e, const char *sql, sp_buf *out, sp_error *err)
{
    const char *params[] = { "allow_experimental_low_cardinality_type=1", NULL };
    req r = { 0 };
    r.body = out;
    return ch_request(e, e->curl, sql, strlen(sql), params, &r, err);
}

/* ------------------------------------------------------------ SQL */

static int quote_ident(sp_buf *q, const char *s, sp_error *err)
{
    int rc = sp_buf_addch(q, '`', err);
    for (const char *p = s; *p && !rc; p++) {
        if (*p == '`' || *p == '\\')
            rc = sp_buf_addch(q, '\\', err);
        if (!rc)
            rc = sp_buf_addch(q, *p, err);
    }
    return rc ? rc : sp_buf_addch(q, '`', err);
}

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

static size_t next_tok(const sp_tok *t, size_t n, size_t i)
{
    while (i < n && (t[i].kind == SP_TOK_WS || t[i].kind == SP_TOK_COMMENT))
        i++;
    return i;
}

static int tok_op(const char *src, const sp_tok *t, char c)
{
    return t->kind == SP_TOK_OP && t->len == 1 && src[t->off] == c;
}

/* now() / today() / yesterday() -> constants of the logical time, named as
 * ClickHouse names the call; a trailing ';' and FORMAT clause are dropped */
int sp__ch_rewrite_now(const char *sql, int64_t now_unix, sp_buf *out, sp_error *err);
int sp__ch_rewrite_now(const char *sql, int64_t now_unix, sp_buf *out, sp_error *err)
{
    sp_tok *t = NULL;
    size_t n = 0;
    int rc = sp_sql_lex(sql, strlen(sql), &t, &n, err);
    if (rc)
        return rc;
    time_t tt = (time_t)now_unix;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        free(t);
        return sp_error_set(err, SP_EINVAL, 0, "logical time %lld is out of range",
                            (long long)now_unix);
    }
    time_t yt = tt - 86400;
    struct tm ym;
    gmtime_r(&yt, &ym);
    /* the end: a trailing ';' and a trailing FORMAT <name> go (sinkpipe
     * reads the result in its own format) */
    size_t sig[3] = { n, n, n }; /* the last three significant tokens */
    for (size_t i = 0; i < n; i++)
        if (t[i].kind != SP_TOK_WS && t[i].kind != SP_TOK_COMMENT) {
            sig[0] = sig[1];
            sig[1] = sig[2];
            sig[2] = i;
        }
    size_t stop = n; /* tokens from here on are not sent */
    int k = 2;
    if (sig[k] < n && tok_op(sql, &t[sig[k]], ';'))
        stop = sig[k--];
    if (k >= 1 && sig[k] < n && sig[k - 1] < n && t[sig[k]].kind == SP_TOK_IDENT &&
        sp_tok_is(sql, &t[sig[k - 1]], "FORMAT"))
        stop = sig[k - 1];
    size_t prev = n; /* previous significant token */
    for (size_t i = 0; i < n && !rc; i++) {
        if (i >= stop)
            break;
        int kind = 0;
        if (t[i].kind == SP_TOK_IDENT &&
            !(prev < n && tok_op(sql, &t[prev], '.'))) {
            if (sp_tok_is(sql, &t[i], "now"))
                kind = 1;
            else if (sp_tok_is(sql, &t[i], "today"))
                kind = 2;
            else if (sp_tok_is(sql, &t[i], "yesterday"))
                kind = 3;
        }
        size_t a = kind ? next_tok(t, n, i + 1) : n;
        size_t b = a < n ? next_tok(t, n, a + 1) : n;
        if (kind && a < n && b < n && tok_op(sql, &t[a], '(') && tok_op(sql, &t[b], ')')) {
            const struct tm *m = kind == 3 ? &ym : &tm;
            if (kind == 1)
                rc = sp_buf_addf(out, err,
                                 "(toDateTime('%04d-%02d-%02d %02d:%02d:%02d') AS `%.*s()`)",
                                 m->tm_year + 1900, m->tm_mon + 1, m->tm_mday, m->tm_hour,
                                 m->tm_min, m->tm_sec, (int)t[i].len, sql + t[i].off);
            else
                rc = sp_buf_addf(out, err, "(toDate('%04d-%02d-%02d') AS `%.*s()`)",
                                 m->tm_year + 1900, m->tm_mon + 1, m->tm_mday, (int)t[i].len,
                                 sql + t[i].off);
            prev = b;
            i = b;
            continue;
        }
        rc = sp_buf_add(out, sql + t[i].off, t[i].len, err);
        if (t[i].kind != SP_TOK_WS && t[i].kind != SP_TOK_COMMENT)
            prev = i;
    }
    free(t);
    return rc;
}

/* ------------------------------------------------------------ open */

static const sp_engine_vt ch_vt;

static char *shown_url(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *s = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        sp_buf b = SP_BUF_INIT(4096);
        if (!sp_buf_addf(&b, NULL, "%s://%s%s%s%s", scheme ? scheme : "http", host ? host : "",
                         port ? ":" : "", port ? port : "",
                         path && strcmp(path, "/") ? path : ""))
            s = sp_buf_detach(&b);
        sp_buf_release(&b);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return s ? s : strdup("(invalid URL)");
}

static void ch_free(ch_engine *e)
{
    if (e->curl)
        curl_easy_cleanup(e->curl);
    free(e->url);
    free(e->shown);
    free(e->user);
    if (e->password) {
        memset(e->password, 0, strlen(e->password));
        free(e->password);
    }
    free(e->database);
    for (size_t i = 0; i < e->nsettings; i++)
        free(e->settings[i]);
    free(e->settings);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int utc_zone(const char *tz)
{
    return !strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC") || !strcmp(tz, "UCT") ||
           !strcmp(tz, "Etc/UCT") || !strcmp(tz, "Universal") || !strcmp(tz, "Zulu") ||
           !strcmp(tz, "GMT") || !strcmp(tz, "Etc/GMT") || !strcmp(tz, "Etc/Universal");
}

int sp_engine_clickhouse_open(const sp_clickhouse_opts *o, sp_engine **out, sp_error *err)
{
    *out = NULL;
    if (!o || !o->url || !*o->url)
        return sp_error_set(err, SP_EINVAL, 0, "SINKPIPE_CLICKHOUSE_URL is not set");
    if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)
        return sp_error_set(err, SP_EINVAL, 0,
                            "SINKPIPE_CLICKHOUSE_URL: expected an http:// or https:// URL");
    ch_engine *e = calloc(1, sizeof *e);
    if (!e)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    pthread_mutex_init(&e->mu, NULL);
    e->base.vt = &ch_vt;
    e->url = strdup(o->url);
    e->shown = shown_url(o->url);
    e->user = dup_or_null(o->user);
    e->password = dup_or_null(o->password);
    e->database = dup_or_null(o->database);
    e->curl = curl_easy_init();
    if (!e->url || !e->shown || !e->curl || (o->user && *o->user && !e->user) ||
        (o->password && *o->password && !e->password) ||
        (o->database && *o->database && !e->database)) {
        ch_free(e);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    /* SINKPIPE_CLICKHOUSE_SETTINGS: name=value pairs joined by '&' */
    for (const char *p = o->settings; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n && (!eq || eq == p)) {
            int k = (int)(n > 64 ? 64 : n);
            ch_free(e);
            return sp_error_set(err, SP_EINVAL, 0,
                                "SINKPIPE_CLICKHOUSE_SETTINGS: '%.*s' is not name=value", k, p);
        }
        if (n) {
            char **v = realloc(e->settings, (e->nsettings + 2) * sizeof *v);
            char *one = v ? strndup(p, n) : NULL;
            if (v)
                e->settings = v;
            if (!one) {
                ch_free(e);
                return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            }
            v[e->nsettings++] = one;
            v[e->nsettings] = NULL;
        }
        p = amp ? amp + 1 : p + n;
    }
    /* one round trip: the server answers, and its time zone is UTC (DateTime
     * results come as the server's local time) */
    sp_buf tz = SP_BUF_INIT(4096);
    int rc = ch_exec(e, "SELECT timezone() FORMAT TSV", &tz, err);
    if (!rc) {
        while (tz.len && (tz.data[tz.len - 1] == '\n' || tz.data[tz.len - 1] == '\r'))
            tz.data[--tz.len] = '\0';
        if (!utc_zone(tz.data ? tz.data : ""))
            rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                              "clickhouse at %s runs in time zone '%.64s': sinkpipe needs a "
                              "server in UTC (<timezone>UTC</timezone>)",
                              e->shown, tz.data ? tz.data : "");
    }
    sp_buf_release(&tz);
    if (rc) {
        ch_free(e);
        return rc;
    }
    *out = &e->base;
    return 0;
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
    if (!*qid)
        return;
    /* a second connection: the first is busy streaming */
    CURL *c = curl_easy_init();
    if (!c)
        return;
    sp_buf q = SP_BUF_INIT(4096);
    if (!sp_buf_adds(&q, "KILL QUERY WHERE query_id = ", NULL) &&
        !quote_string(&q, qid, strlen(qid), NULL) && !sp_buf_adds(&q, " ASYNC", NULL)) {
        req r = { 0 };
        r.nostop = 1;
        ch_request(e, c, q.data, q.len, NULL, &r, NULL);
    }
    sp_buf_release(&q);
    curl_easy_cleanup(c);
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
        rc = quote_ident(q, e->database, err);
        if (!rc)
            rc = sp_buf_addch(q, '.', err);
    }
    return rc ? rc : quote_ident(q, table, err);
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
        rc = sp_buf_adds(&q, " FORMAT TSV", err);
    if (!rc)
        rc = ch_exec(e, q.data, out, err);
    sp_buf_release(&q);
    return rc;
}

static int engine_clause(const sp_datasource *ds, sp_buf *q, sp_error *err)
{
    const sp_kvlist *k = &ds->keys;
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

static int ch_ensure(sp_engine *base, const sp_datasource *ds, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (!ds->ncols)
        return sp_error_set(err, SP_EDEF, 0, "datasource '%s': no columns", ds->name);
    sp_buf have = SP_BUF_INIT(SMALL_MAX), q = SP_BUF_INIT(SQL_MAX);
    int rc = table_layout(e, ds->name, &have, err);
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
                rc = quote_ident(&q, ds->cols[i].name, err);
            if (!rc)
                rc = sp_buf_addch(&q, ' ', err);
            if (!rc)
                rc = col_canon(ds->cols[i].type, &q, err);
            if (rc)
                sp_error_prefix(err, "column '%s'", ds->cols[i].name);
        }
        if (!rc)
            rc = sp_buf_addch(&q, ')', err);
        if (!rc)
            rc = engine_clause(ds, &q, err);
        if (!rc)
            rc = ch_exec(e, q.data, NULL, err);
        if (rc)
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

/* ------------------------------------------------------------ append */

static int insert_rows(ch_engine *e, const char *table, const char *fmt, const sp_buf *rows,
                       sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 20);
    int rc = sp_buf_adds(&q, "query=INSERT INTO ", err);
    if (!rc)
        rc = table_ref(e, &q, table, err);
    if (!rc)
        rc = sp_buf_addf(&q, err, " FORMAT %s", fmt);
    if (!rc) {
        const char *params[] = { q.data, "allow_experimental_low_cardinality_type=1", NULL };
        req r = { 0 };
        rc = ch_request(e, e->curl, rows->data ? rows->data : "", rows->len, params, &r, err);
    }
    sp_buf_release(&q);
    return rc;
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
        rc = insert_rows(e, ds->name, "RowBinary", &rows, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': append", ds->name);
    sp_buf_release(&rows);
    return rc;
}

static int ch_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                         size_t n, int64_t now_unix, sp_error *err)
{
    ch_engine *e = (ch_engine *)base;
    if (!n)
        return 0;
    char when[32];
    sp_fmt_datetime(when, now_unix ? now_unix : (int64_t)time(NULL));
    sp_buf t = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const sp_qrow *r = &rows[i];
        rc = sp_buf_addf(&t, err, "%s\t", when);
        if (!rc)
            rc = r->error ? sp_ch_tsv_escape(r->error, strlen(r->error), &t, err)
                          : sp_buf_adds(&t, "\\N", err);
        if (!rc)
            rc = sp_buf_addch(&t, '\t', err);
        if (!rc)
            rc = r->column ? sp_ch_tsv_escape(r->column, strlen(r->column), &t, err)
                           : sp_buf_adds(&t, "\\N", err);
        if (!rc)
            rc = sp_buf_addf(&t, err, "\t%llu\t", (unsigned long long)r->lineno);
        if (!rc && r->raw)
            rc = sp_ch_tsv_escape(r->raw, r->rawlen, &t, err);
        if (!rc)
            rc = sp_buf_addch(&t, '\n', err);
    }
    char qname[600];
    snprintf(qname, sizeof qname, "%s_quarantine", ds->name);
    if (!rc)
        rc = insert_rows(e, qname, "TabSeparated", &t, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': quarantine", ds->name);
    sp_buf_release(&t);
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
        rc = sp__ch_rewrite_now(sql.data, now_unix ? now_unix : (int64_t)time(NULL), &q, err);
    if (!rc)
        rc = sp_buf_adds(&q, "\nFORMAT TSV", err);
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
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    volatile int *cancel;
    sp_query_stats *stats;
} qctx;

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    qctx *q = ud;
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
    int rc = sp__ch_rewrite_now(sql, now, &body, err);
    char qid[sizeof e->qid];
    if (o && o->query_id && *o->query_id)
        snprintf(qid, sizeof qid, "%s", o->query_id);
    else
        snprintf(qid, sizeof qid, "sinkpipe-%lld-%ld-%lu", (long long)time(NULL), (long)getpid(),
                 ++e->seq);
    char p_qid[sizeof qid + 16], p_time[64] = "", p_mem[64] = "";
    snprintf(p_qid, sizeof p_qid, "query_id=%s", qid);
    const char *params[8];
    size_t np = 0;
    params[np++] = "default_format=" FORMAT_TSV;
    params[np++] = "allow_experimental_low_cardinality_type=1";
    params[np++] = p_qid;
    params[np++] = "readonly=2"; /* a query reads: no INSERT, DROP or ALTER */
    if (o && o->timeout_ms) {
        snprintf(p_time, sizeof p_time, "max_execution_time=%llu",
                 (unsigned long long)((o->timeout_ms + 999) / 1000));
        params[np++] = p_time;
    }
    if (o && o->max_memory) {
        snprintf(p_mem, sizeof p_mem, "max_memory_usage=%llu", (unsigned long long)o->max_memory);
        params[np++] = p_mem;
    }
    params[np] = NULL;
    qctx qc = { on_schema, on_batch, ud, o ? o->cancel : NULL, stats };
    sp_ch_tsv *rd = NULL;
    if (!rc)
        rc = sp_ch_tsv_new(BATCH_ROWS, q_schema, q_batch, &qc, &rd, err);
    if (!rc) {
        pthread_mutex_lock(&e->mu);
        memcpy(e->qid, qid, sizeof qid);
        pthread_mutex_unlock(&e->mu);
        req r = { 0 };
        r.rd = rd;
        r.cancel = o ? o->cancel : NULL;
        /* the server's max_execution_time speaks first; this catches a
         * transfer that stalls (the server waiting on a slow sink, a dead
         * network) */
        if (o && o->timeout_ms) {
            r.timeout_ms = o->timeout_ms;
            r.deadline = mono_ms() + o->timeout_ms + 2000;
        }
        rc = ch_request(e, e->curl, body.data, body.len, params, &r, err);
        pthread_mutex_lock(&e->mu);
        e->qid[0] = '\0';
        pthread_mutex_unlock(&e->mu);
        /* a transfer we stopped (cancel, a sink's error) leaves the query
         * running on the server until it notices: kill it */
        if (rc && (rc == SP_ECANCELLED || r.cb_rc || r.timed_out) &&
            !atomic_load(&e->interrupted)) {
            CURL *c = curl_easy_init();
            sp_buf k = SP_BUF_INIT(4096);
            if (c && !sp_buf_adds(&k, "KILL QUERY WHERE query_id = ", NULL) &&
                !quote_string(&k, qid, strlen(qid), NULL) && !sp_buf_adds(&k, " ASYNC", NULL)) {
                req kr = { 0 };
                ch_request(e, c, k.data, k.len, NULL, &kr, NULL);
            }
            sp_buf_release(&k);
            if (c)
                curl_easy_cleanup(c);
        }
    }
    sp_ch_tsv_free(rd);
    sp_buf_release(&body);
    return rc;
}

static const sp_engine_vt ch_vt = {
    "clickhouse", ch_ensure, ch_append, ch_quarantine, ch_eval,
    ch_query,     ch_interrupt, ch_close,
};
