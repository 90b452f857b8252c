/* sp_api: the Tinybird-compatible HTTP API of the daemon (docs/serve.md):
 * a call (authentication, token scopes, answers, errors), /health,
 * /metrics and the table of routes; the endpoints are in sp_api_pipes.c,
 * sp_api_query.c, sp_api_data.c and sp_api_jobs.c (sp_api_int.h).
 *
 *   GET  /health                      GET  /metrics
 *   GET  /v0/pipes                    POST /v0/pipes/{pipe}/sink, /copy
 *   GET  /v0/pipes/{pipe}.json|.csv|.ndjson   (endpoints)
 *   POST /v0/datasources?name=&mode=   POST /v0/datasources/{ds}/truncate, /delete
 *   GET  /v0/jobs                     GET  /v0/jobs/{id}
 *   POST /v0/jobs/{id}/cancel         POST /v0/events?name={ds}
 *   GET  /v0/sql?q=…                  POST /v0/sql
 *   the Tinybird SDK's /tokens, /v1/workspace(s), /v1/build, /v1/deploy(ments): sp_api_sdk.c
 *
 * Errors are {"error": "…"} with the status.  Tokens: Authorization:
 * Bearer or ?token=; never logged. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sp_api_int.h"
#include "sp_serve_int.h"
#include "sp_api_sdk.h"
#include "sp_ascii.h"
#include "sp_buf.h"
#include "sp_error.h"
#include "sp_secret.h"
#include "sp_clock.h"
#include "sp_banned.h"

void sp_api_json(sp_http_resp *r, int status, json_t *j)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    r->len = r->body ? strlen(r->body) : 0;
    json_decref(j);
}

static void vfail(sp_http_resp *r, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vfail(sp_http_resp *r, int status, const char *fmt, va_list ap)
{
    char msg[1200];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sp_secret_scrub(msg, sizeof msg, NULL);
    sp_api_json(r, status, json_pack("{s:s}", "error", msg));
}

void sp_api_fail(sp_http_resp *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, status, fmt, ap);
    va_end(ap);
}

void sp__api_fail(sp__api_call *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c->resp, status, fmt, ap);
    va_end(ap);
}

void sp__api_answer_buf(sp__api_call *c, const char *content_type, sp_buf *b)
{
    c->resp->status = 200;
    c->resp->content_type = content_type;
    c->resp->len = b->len;
    c->resp->body = sp_buf_detach(b);
    if (!c->resp->body)
        c->resp->body = strdup("");
}

int sp__api_code_status(int code)
{
    switch (code) {
    case SP_ENOTFOUND: return 404;
    case SP_EINVAL: case SP_EPARAM: case SP_ESQL: case SP_EDATA: case SP_EDEF: return 400;
    case SP_ETOOBIG: return 413;
    case SP_EAUTH: return 403;
    default: return 500;
    }
}

/* who is calling: 0 when a valid token was presented, else answers 401 */
static int authenticate(sp__api_call *c)
{
    const char *v = NULL;
    const char *h = sp_http_header(c->req, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7))
        v = h + 7;
    if (!v)
        v = sp_http_query(c->req, "token");
    if (!v || !*v) {
        sp__api_fail(c, 401, "a token is required (Authorization: Bearer TOKEN or ?token=TOKEN)");
        return -1;
    }
    const char *name = sp_tokens_check(c->s->tokens, v);
    if (!name) {
        sp__api_fail(c, 401, "invalid token");
        return -1;
    }
    /* a copy: the token table may be swapped by a reload meanwhile */
    snprintf(c->tokbuf, sizeof c->tokbuf, "%s", name);
    c->token = c->tokbuf;
    c->admin = sp_tokens_is_admin(c->s->tokens, c->token);
    return 0;
}

int sp__api_allowed(sp__api_call *c, const char *scope, const char *resource)
{
    return c->admin || sp_tokens_allows(c->s->tokens, c->token, scope, resource);
}

void sp__api_forbid(sp__api_call *c, const char *what)
{
    sp__api_fail(c, 403, "token '%s' has no access to %s", c->token, what);
}

static const char *host_of(sp__api_call *c)
{
    const char *h = sp_http_header(c->req, "Host");
    return h && *h && strlen(h) < 200 && !strpbrk(h, "\"\\ /") ? h : sp_http_address(c->s->http);
}

void sp__api_add_job_url(sp__api_call *c, json_t *job)
{
    char url[600];
    if (!json_is_string(json_object_get(job, "id")))
        return;
    snprintf(url, sizeof url, "http://%s/v0/jobs/%s", host_of(c),
             json_string_value(json_object_get(job, "id")));
    json_object_set_new(job, "job_url", json_string(url));
}

char *sp__api_form_field(const char *body, const char *name, int *nul)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            char *out = malloc(len + 1);
            if (!out)
                return NULL;
            size_t k = 0;
            for (size_t i = nl + 1; i < len; i++) {
                if (p[i] == '+') {
                    out[k++] = ' ';
                } else if (p[i] == '%' && i + 2 < len && sp_hexval(p[i + 1]) >= 0 &&
                           sp_hexval(p[i + 2]) >= 0) {
                    out[k++] = (char)(sp_hexval(p[i + 1]) * 16 + sp_hexval(p[i + 2]));
                    *nul |= out[k - 1] == '\0';
                    i += 2;
                } else {
                    out[k++] = p[i];
                }
            }
            out[k] = '\0';
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* ------------------------------------------------- /health, /metrics */

static void h_health(sp__api_call *c)
{
    sp_api_json(c->resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_metrics(sp__api_call *c, const char *name, const char *tail)
{
    (void)name;
    (void)tail;
    if (!c->admin) {
        sp__api_forbid(c, "metrics");
        return;
    }
    sp_buf b = SP_BUF_INIT(16u << 20);
    int rc = sp_jobs_metrics(c->s->jobs, &b, NULL);
    if (!rc)
        rc = sp_buf_addf(&b, NULL,
                         "# HELP sinkpipe_schedule_fires_total Scheduled fires submitted.\n"
                         "# TYPE sinkpipe_schedule_fires_total counter\n"
                         "sinkpipe_schedule_fires_total %llu\n"
                         "# HELP sinkpipe_schedule_skipped_total Fires skipped: the pipe was "
                         "still running.\n"
                         "# TYPE sinkpipe_schedule_skipped_total counter\n"
                         "sinkpipe_schedule_skipped_total %llu\n",
                         (unsigned long long)sp_sched_fired(c->s->sched),
                         (unsigned long long)sp_sched_skipped(c->s->sched));
    if (rc) {
        sp_buf_release(&b);
        sp__api_fail(c, 500, "metrics too large");
        return;
    }
    sp__api_answer_buf(c, "text/plain; version=0.0.4", &b);
}

/* ------------------------------------------------------------ routing */

enum { GET = 1, POST = 2 };

/* The routes, tried in order; the first whose pattern matches the path
 * answers (405 when the method is not one of its methods).  A pattern is a
 * literal path, or a literal prefix and `*`: one path segment (at most 255
 * bytes), given to the handler as `name`, followed by
 *   nothing  the path ends there or with one `/`
 *   /TAIL    the path ends with the segment TAIL, given as `tail`
 *   .*       the segment holds a dot: `name` is what precedes its last dot,
 *            `tail` what follows, and the path ends there or with one `/` */
static const struct route {
    int methods;
    const char *pattern;
    sp__api_handler *fn;
} ROUTES[] = {
    { GET, "/metrics", h_metrics },
    { GET, "/v0/pipes", sp__api_pipes },
    { GET, "/v0/pipes/", sp__api_pipes },
    { POST, "/v0/pipes/*/sink", sp__api_sink },
    { POST, "/v0/pipes/*/copy", sp__api_sink },
    { POST, "/v0/datasources", sp__api_datasources },
    { POST, "/v0/datasources/", sp__api_datasources },
    { POST, "/v0/datasources/*/truncate", sp__api_datasource_op },
    { POST, "/v0/datasources/*/delete", sp__api_datasource_op },
    { GET, "/v0/pipes/*.*", sp__api_endpoint },
    { GET, "/v0/jobs", sp__api_jobs },
    { GET, "/v0/jobs/", sp__api_jobs },
    { GET, "/v0/jobs/*", sp__api_job },
    { POST, "/v0/jobs/*/cancel", sp__api_cancel },
    { POST, "/v0/events", sp__api_events },
    { GET | POST, "/v0/sql", sp__api_sql },
};

/* whether path matches pattern; name (256 bytes) and tail (64) get what it
 * captures */
static int match(const char *pattern, const char *path, char *name, char *tail)
{
    const char *star = strchr(pattern, '*');
    name[0] = tail[0] = '\0';
    if (!star)
        return !strcmp(path, pattern);
    size_t pl = (size_t)(star - pattern);
    if (strncmp(path, pattern, pl) != 0)
        return 0;
    const char *p = path + pl;
    const char *slash = strchr(p, '/');
    size_t la = slash ? (size_t)(slash - p) : strlen(p);
    const char *rest = slash ? slash + 1 : "";
    if (la == 0 || la >= 256 || strlen(rest) >= 64)
        return 0;
    memcpy(name, p, la);
    name[la] = '\0';
    const char *want = star + 1;
    if (!strcmp(want, ".*")) {
        char *dot = strrchr(name, '.');
        if (*rest || !dot)
            return 0;
        *dot = '\0';
        memcpy(tail, dot + 1, strlen(dot + 1) + 1);
        return 1;
    }
    if (!*want)
        return !*rest;
    if (*want != '/' || strcmp(rest, want + 1) != 0)
        return 0;
    memcpy(tail, rest, strlen(rest) + 1);
    return 1;
}

static void route(sp__api_call *c)
{
    const char *m = sp_http_method(c->req);
    const char *path = sp_http_path(c->req);
    int method = !strcmp(m, "GET") ? GET : !strcmp(m, "POST") ? POST : 0;
    if (!strcmp(path, "/health") || !strcmp(path, "/v0/health")) {
        if (method == GET)
            h_health(c);
        else
            sp__api_fail(c, 405, "method %s not allowed on %s", m, path);
        return;
    }
    if (sp_api_sdk_public(c->s, c->req, c->resp))
        return;
    if (authenticate(c))
        return;
    if (sp_api_sdk_route(c->s, c->req, c->resp, c->admin))
        return;
    char name[256], tail[64];
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (!match(ROUTES[i].pattern, path, name, tail))
            continue;
        if (!(ROUTES[i].methods & method))
            sp__api_fail(c, 405, "method %s not allowed on this path", m);
        else
            ROUTES[i].fn(c, name, tail);
        return;
    }
    sp__api_fail(c, 404, "no such endpoint: %s", path);
}

void sp_api_handle(void *ud, const sp_http_req *req, sp_http_resp *resp)
{
    struct sp_server *s = ud;
    int64_t t0 = sp_clock_mono_ms();
    sp__api_call c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.req = req;
    c.resp = resp;
    pthread_rwlock_rdlock(&s->defs);
    route(&c);
    const char *who = c.token;
    json_t *f = json_pack("{s:s,s:s,s:i}", "method", sp_http_method(req), "path",
                          sp_http_path(req), "status", resp->status);
    if (who)
        json_object_set_new(f, "token_name", json_string(who));
    pthread_rwlock_unlock(&s->defs);
    json_object_set_new(f, "ms", json_integer((json_int_t)(sp_clock_mono_ms() - t0)));
    sp_serve_log(s, "http", f);
}
