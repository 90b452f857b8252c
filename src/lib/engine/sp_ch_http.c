/* sp_ch_http: the ClickHouse engine's transport to a server over its HTTP
 * interface (libcurl).  See sp_ch_conn.h.
 *
 * A statement is POSTed: a query as the body with default_format=<fmt>; an
 * INSERT as query=<INSERT … FORMAT fmt> with the rows as the body.  The
 * connection's settings (SINKPIPE_CLICKHOUSE_SETTINGS), the statement's,
 * readonly=2 for pipe SQL, query_id and database go as URL parameters.  A
 * non-200 answer becomes one line from the server's exception; kill() sends
 * KILL QUERY … ASYNC on a second connection. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sp_buf.h"
#include "sp_ch_conn.h"
#include "sp_ch_tsv.h"
#include "sp_curlx.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_clock.h"
#include "sp_banned.h"

#define ERRBODY_MAX ((size_t)64 << 10)

typedef struct http_conn {
    sp_ch_conn base;
    char *url;   /* as configured */
    char *shown; /* "clickhouse at scheme://host:port/path": no credentials */
    char *user, *password, *database;
    char **settings; /* "name=value" each, NULL-ended */
    size_t nsettings;
    char *unix_socket; /* a daemon's socket (sp_ch_local.c), or NULL */
    CURL *curl;
} http_conn;

typedef struct req {
    http_conn *h;
    CURL *c;
    const sp_ch_stmt *st;
    long status;
    sp_buf errbody;
    int cb_rc;
    sp_error cb_err;
    uint64_t deadline; /* monotonic ms (0 = none) */
    int timed_out;
} req;

static int stopped(const req *r)
{
    return r->st && sp_cancelled(r->st->cancel);
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
    if (r->st && r->st->on_chunk) {
        int rc = r->st->on_chunk(r->st->ud, p, n, &r->cb_err);
        if (rc) {
            r->cb_rc = rc;
            return 0;
        }
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
    if (r->deadline && (uint64_t)sp_clock_mono_ms() > r->deadline) {
        r->timed_out = 1;
        return 1;
    }
    return stopped(r);
}

/* the error of a non-200 answer */
static int http_error(req *r, sp_error *err)
{
    /* a daemon's socket (sp_ch_local.c) hands the error over as it is */
    const char *eb = r->errbody.data ? r->errbody.data : "";
    int code = 0, retriable = 0, used = 0;
    if (r->h->unix_socket && sscanf(eb, "SINKPIPE-ERROR %d %d\n%n", &code, &retriable, &used) == 2 &&
        used > 0 && code < 0)
        return sp_error_set(err, code, retriable ? SP_RETRIABLE : SP_FATAL, "%s", eb + used);
    char msg[800];
    code = sp_ch_exception(eb, r->errbody.len, msg, sizeof msg);
    if (!code) {
        size_t n = r->errbody.len > 200 ? 200 : r->errbody.len;
        snprintf(msg, sizeof msg, "%.*s", (int)n, r->errbody.data ? r->errbody.data : "");
        for (char *c = msg; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
        return sp_error_set(err, r->status >= 500 ? SP_EENGINE : SP_ESQL,
                            sp_curlx_status_retriable(r->status) ? SP_RETRIABLE : SP_FATAL,
                            "%s answered HTTP %ld%s%s", r->h->shown, r->status,
                            *msg ? ": " : "", msg);
    }
    /* 192-195 unknown user / wrong password / …, 516 AUTHENTICATION_FAILED */
    if ((code >= 192 && code <= 195) || code == 516)
        return sp_error_set(err, SP_EAUTH, 0, "%s: %s", r->h->shown, msg);
    return sp_error_set(err, SP_ESQL, sp_ch_code_retriable(code), "clickhouse: %s", msg);
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
                            (unsigned long long)r->st->timeout_ms);
    const char *why = ebuf && *ebuf ? ebuf : curl_easy_strerror(cc);
    if (r->status == 200)
        return sp_error_set(err, SP_ENET, SP_RETRIABLE,
                            "%s: connection lost while reading the result: %s", r->h->shown,
                            why);
    /* refused, reset, timed out: retriable; a bad URL, a certificate that
     * does not verify, a host that does not resolve: not */
    return sp_error_set(err, SP_ENET, sp_curlx_transient(cc) ? SP_RETRIABLE : SP_FATAL, "%s: %s",
                        r->h->shown, why);
}

static int add_param(CURLU *u, const char *nv, sp_error *err)
{
    if (curl_url_set(u, CURLUPART_QUERY, nv, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return 0;
}

/* the request's URL: the server's, with every parameter */
static int build_url(http_conn *h, const sp_ch_stmt *st, char **url, sp_error *err)
{
    CURLU *u = curl_url();
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, h->url, 0) != CURLUE_OK)
        rc = sp_error_set(err, SP_EINVAL, 0, "SINKPIPE_CLICKHOUSE_URL: '%s' is not a URL",
                          h->shown);
    if (!rc && st->kill && curl_url_set(u, CURLUPART_PATH, "/kill", 0) != CURLUE_OK)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    /* 18.16 needs it for LowCardinality columns; newer servers ignore it */
    if (!rc)
        rc = add_param(u, "allow_experimental_low_cardinality_type=1", err);
    for (size_t i = 0; !rc && i < h->nsettings; i++)
        rc = add_param(u, h->settings[i], err);
    for (size_t i = 0; !rc && st->settings && st->settings[i]; i++)
        rc = add_param(u, st->settings[i], err);
    sp_buf b = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    if (!rc && st->read_only)
        rc = add_param(u, "readonly=2", err); /* no INSERT, DROP or ALTER */
    if (!rc && st->query_id && *st->query_id) {
        rc = sp_buf_addf(&b, err, "query_id=%s", st->query_id);
        if (!rc)
            rc = add_param(u, b.data, err);
    }
    if (!rc && h->database) {
        sp_buf_reset(&b);
        rc = sp_buf_addf(&b, err, "database=%s", h->database);
        if (!rc)
            rc = add_param(u, b.data, err);
    }
    if (!rc && st->data) {
        sp_buf_reset(&b);
        rc = sp_buf_adds(&b, "query=", err);
        if (!rc)
            rc = sp_buf_add(&b, st->sql, st->len, err);
        if (!rc && st->format)
            rc = sp_buf_addf(&b, err, " FORMAT %s", st->format);
        if (!rc)
            rc = add_param(u, b.data, err);
    } else if (!rc && st->format) {
        sp_buf_reset(&b);
        rc = sp_buf_addf(&b, err, "default_format=%s", st->format);
        if (!rc)
            rc = add_param(u, b.data, err);
    }
    sp_buf_release(&b);
    if (!rc && curl_url_get(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    curl_url_cleanup(u);
    return rc;
}

static int request(http_conn *h, CURL *c, const sp_ch_stmt *st, sp_error *err)
{
    char *url = NULL;
    int rc = build_url(h, st, &url, err);
    if (rc) {
        curl_free(url);
        return rc;
    }
    req r = { 0 };
    r.h = h;
    r.c = c;
    r.st = st;
    /* the server's max_execution_time speaks first; this catches a transfer
     * that stalls (the server waiting on a slow sink, a dead network) */
    if (st->timeout_ms)
        r.deadline = (uint64_t)sp_clock_mono_ms() + st->timeout_ms + 2000;
    const char *body = st->data ? st->data : st->sql;
    size_t bodylen = st->data ? st->datalen : st->len;
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (h->unix_socket)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->unix_socket);
    /* no "Expect: 100-continue" round trip for large inserts */
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if ((h->user && *h->user) || (h->password && *h->password)) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->user && *h->user ? h->user : "default");
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password ? h->password : "");
    }
    sp_buf_init(&r.errbody, ERRBODY_MAX);
    CURLcode cc = curl_easy_perform(c);
    if (!r.status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
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
        rc = transfer_error(&r, cc, ebuf, err);
    else if (r.status != 200)
        rc = http_error(&r, err);
    sp_buf_release(&r.errbody);
    return rc;
}

static int http_run(sp_ch_conn *base, const sp_ch_stmt *st, sp_error *err)
{
    http_conn *h = (http_conn *)base;
    if (!st->describe)
        return request(h, h->curl, st, err);
    sp_buf q = SP_BUF_INIT((size_t)64 << 20);
    int rc = sp_buf_adds(&q, "DESCRIBE (\n", err);
    if (!rc)
        rc = sp_buf_add(&q, st->sql, st->len, err);
    if (!rc)
        rc = sp_buf_adds(&q, "\n)", err);
    sp_ch_stmt d = *st;
    d.sql = q.data;
    d.len = q.len;
    d.describe = 0;
    if (!rc)
        rc = request(h, h->curl, &d, err);
    sp_buf_release(&q);
    return rc;
}

static void http_kill(sp_ch_conn *base, const char *query_id)
{
    http_conn *h = (http_conn *)base;
    if (!query_id || !*query_id)
        return;
    /* a second connection: the first is busy streaming */
    CURL *c = curl_easy_init();
    if (!c)
        return;
    if (h->unix_socket) {
        /* the daemon kills its own statement */
        sp_ch_stmt st = { 0 };
        st.sql = "";
        st.query_id = query_id;
        st.kill = 1;
        request(h, c, &st, NULL);
        curl_easy_cleanup(c);
        return;
    }
    sp_buf q = SP_BUF_INIT(4096);
    if (!sp_buf_adds(&q, "KILL QUERY WHERE query_id = '", NULL)) {
        int bad = 0;
        for (const char *p = query_id; *p; p++)
            if (*p == '\'' || *p == '\\')
                bad = 1;
        if (!bad && !sp_buf_adds(&q, query_id, NULL) && !sp_buf_adds(&q, "' ASYNC", NULL)) {
            sp_ch_stmt st = { 0 };
            st.sql = q.data;
            st.len = q.len;
            request(h, c, &st, NULL);
        }
    }
    sp_buf_release(&q);
    curl_easy_cleanup(c);
}

static const char *http_where(const sp_ch_conn *base)
{
    return ((const http_conn *)base)->shown;
}

static void http_free(http_conn *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->url);
    free(h->shown);
    free(h->user);
    if (h->password) {
        memset(h->password, 0, strlen(h->password));
        free(h->password);
    }
    free(h->database);
    free(h->unix_socket);
    for (size_t i = 0; i < h->nsettings; i++)
        free(h->settings[i]);
    free(h->settings);
    free(h);
}

static void http_close(sp_ch_conn *base)
{
    if (base)
        http_free((http_conn *)base);
}

static const sp_ch_conn_vt http_vt = { "http",     0,    http_run,   http_kill, NULL,
                                       NULL,       NULL, http_where, http_close };

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
        if (!sp_buf_addf(&b, NULL, "clickhouse at %s://%s%s%s%s", scheme ? scheme : "http",
                         host ? host : "", port ? ":" : "", port ? port : "",
                         path && strcmp(path, "/") ? path : ""))
            s = sp_buf_detach(&b);
        sp_buf_release(&b);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return s ? s : strdup("clickhouse at (invalid URL)");
}

int sp_ch_http_open(const struct sp_clickhouse_opts *o, sp_ch_conn **out, sp_error *err)
{
    *out = NULL;
    if (!o || !o->url || !*o->url)
        return sp_error_set(err, SP_EINVAL, 0, "SINKPIPE_CLICKHOUSE_URL is not set");
    if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)
        return sp_error_set(err, SP_EINVAL, 0,
                            "SINKPIPE_CLICKHOUSE_URL: expected an http:// or https:// URL");
    http_conn *h = calloc(1, sizeof *h);
    if (!h)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    h->base.vt = &http_vt;
    h->url = strdup(o->url);
    h->shown = o->unix_socket && *o->unix_socket ? strdup("the daemon's embedded clickhouse")
                                                 : shown_url(o->url);
    h->user = sp_strdup_nz(o->user);
    h->password = sp_strdup_nz(o->password);
    h->database = sp_strdup_nz(o->database);
    h->unix_socket = sp_strdup_nz(o->unix_socket);
    h->curl = curl_easy_init();
    if ((o->unix_socket && *o->unix_socket && !h->unix_socket) || !h->url || !h->shown || !h->curl || (o->user && *o->user && !h->user) ||
        (o->password && *o->password && !h->password) ||
        (o->database && *o->database && !h->database)) {
        http_free(h);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    /* SINKPIPE_CLICKHOUSE_SETTINGS: name=value pairs joined by '&' */
    for (const char *p = o->settings; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n && (!eq || eq == p)) {
            int k = (int)(n > 64 ? 64 : n);
            http_free(h);
            return sp_error_set(err, SP_EINVAL, 0,
                                "SINKPIPE_CLICKHOUSE_SETTINGS: '%.*s' is not name=value", k, p);
        }
        if (n) {
            char **v = realloc(h->settings, (h->nsettings + 2) * sizeof *v);
            char *one = v ? strndup(p, n) : NULL;
            if (v)
                h->settings = v;
            if (!one) {
                http_free(h);
                return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            }
            v[h->nsettings++] = one;
            v[h->nsettings] = NULL;
        }
        p = amp ? amp + 1 : p + n;
    }
    *out = &h->base;
    return 0;
}
