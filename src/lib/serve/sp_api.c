/* sp_api: the Tinybird-compatible HTTP API of the daemon (docs/serve.md).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sp_ascii.h"
#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_model.h"
#include "sp_multipart.h"
#include "sp_render.h"
#include "sp_ingest.h"
#include "sp_ingest_group.h"
#include "sp_keys.h"
#include "sp_api_sdk.h"
#include "sp_secret.h"
#include "sp_serve_int.h"
#include "sp_sql.h"
#include "sp_type.h"
#include "sp_uuid.h"
#include "sp_clock.h"
#include "sp_banned.h"

#define SQL_RESULT_MAX (64u << 20)

typedef struct call {
    struct sp_server *s;
    const sp_http_req *req;
    sp_http_resp *resp;
    const char *token;    /* the token's name once authenticated (tokbuf) */
    int admin;
    char tokbuf[256];
} call;

static void set_json(sp_http_resp *r, int status, json_t *j)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    r->len = r->body ? strlen(r->body) : 0;
    json_decref(j);
}

void sp_api_json(sp_http_resp *r, int status, json_t *j)
{
    set_json(r, status, j);
}

static void vfail(sp_http_resp *r, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vfail(sp_http_resp *r, int status, const char *fmt, va_list ap)
{
    char msg[1200];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sp_secret_scrub(msg, sizeof msg, NULL);
    set_json(r, status, json_pack("{s:s}", "error", msg));
}

void sp_api_fail(sp_http_resp *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, status, fmt, ap);
    va_end(ap);
}

static void fail(call *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(call *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c->resp, status, fmt, ap);
    va_end(ap);
}

static int code_status(int code)
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
static int authenticate(call *c)
{
    const char *v = NULL;
    const char *h = sp_http_header(c->req, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7))
        v = h + 7;
    if (!v)
        v = sp_http_query(c->req, "token");
    if (!v || !*v) {
        fail(c, 401, "a token is required (Authorization: Bearer TOKEN or ?token=TOKEN)");
        return -1;
    }
    const char *name = sp_tokens_check(c->s->tokens, v);
    if (!name) {
        fail(c, 401, "invalid token");
        return -1;
    }
    /* a copy: the token table may be swapped by a reload meanwhile */
    snprintf(c->tokbuf, sizeof c->tokbuf, "%s", name);
    c->token = c->tokbuf;
    c->admin = sp_tokens_is_admin(c->s->tokens, c->token);
    return 0;
}

static int allowed(call *c, const char *scope, const char *resource)
{
    return c->admin || sp_tokens_allows(c->s->tokens, c->token, scope, resource);
}

static void forbid(call *c, const char *what)
{
    fail(c, 403, "token '%s' has no access to %s", c->token, what);
}

static const char *host_of(call *c)
{
    const char *h = sp_http_header(c->req, "Host");
    return h && *h && strlen(h) < 200 && !strpbrk(h, "\"\\ /") ? h : sp_http_address(c->s->http);
}

static void add_job_url(call *c, json_t *job)
{
    char url[600];
    if (!json_is_string(json_object_get(job, "id")))
        return;
    snprintf(url, sizeof url, "http://%s/v0/jobs/%s", host_of(c),
             json_string_value(json_object_get(job, "id")));
    json_object_set_new(job, "job_url", json_string(url));
}

/* ------------------------------------------------------------- /health */

static void h_health(call *c)
{
    set_json(c->resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_metrics(call *c)
{
    if (!c->admin) {
        forbid(c, "metrics");
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
        fail(c, 500, "metrics too large");
        return;
    }
    c->resp->status = 200;
    c->resp->content_type = "text/plain; version=0.0.4";
    c->resp->len = b.len;
    c->resp->body = sp_buf_detach(&b);
}

/* ------------------------------------------------------------- pipes */

static void h_pipes(call *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < sp_project_npipes(c->s->p); i++) {
        const sp_pipe *pi = sp_project_pipe(c->s->p, i);
        const char *name = sp_pipe_name(pi);
        if (!allowed(c, "READ", name))
            continue;
        const char *sch = sp_pipe_schedule(pi);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(name));
        json_object_set_new(o, "name", json_string(name));
        const char *svc = sp_pipe_service(pi);
        json_object_set_new(o, "type", json_string(svc && !strcmp(svc, "copy") ? "copy"
                                                   : sch                      ? "sink"
                                                                              : "default"));
        json_object_set_new(o, "service", sp_pipe_service(pi) ? json_string(sp_pipe_service(pi))
                                                              : json_null());
        json_object_set_new(o, "schedule", sch ? json_string(sch) : json_null());
        int64_t next = sch ? sp_sched_next(c->s->sched, name) : -1;
        char t[32];
        json_object_set_new(o, "next_fire",
                            next > 0 ? json_string(sp_time_text(next, t, sizeof t))
                            : next == 0 ? json_string("now") : json_null());
        sp_jobs_filter f = { NULL, name, 0, 0, 1 };
        json_t *last = sp_jobs_list(c->s->jobs, &f);
        json_t *lj = json_array_get(last, 0);
        if (lj) {
            json_t *l = json_object();
            json_object_set(l, "id", json_object_get(lj, "id"));
            json_object_set(l, "status", json_object_get(lj, "status"));
            json_object_set(l, "created_at", json_object_get(lj, "created_at"));
            json_object_set_new(o, "last_job", l);
        } else {
            json_object_set_new(o, "last_job", json_null());
        }
        json_decref(last);
        json_array_append_new(arr, o);
    }
    set_json(c->resp, 200, json_pack("{s:o}", "pipes", arr));
}

typedef struct params_ctx {
    sp_param *v;
    size_t n, cap;
    int bad;
} params_ctx;

static int is_option(const char *name)
{
    static const char *const opts[] = { "token",         "format",        "file_template",
                                        "compression",   "write_strategy", "strategy",
                                        "max_file_size", "max_file_rows", NULL };
    for (int i = 0; opts[i]; i++)
        if (!strcmp(name, opts[i]))
            return 1;
    return 0;
}

static void collect_param(void *ud, const char *name, const char *value)
{
    params_ctx *p = ud;
    /* the TypeScript SDK adds from=ts-sdk to every request (attribution):
     * no pipe parameter; any other `from` is the pipe's */
    if (is_option(name) || p->bad || (!strcmp(name, "from") && value && !strcmp(value, "ts-sdk")))
        return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        sp_param *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) {
            p->bad = 1;
            return;
        }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n].name = name;
    p->v[p->n++].value = value;
}

static int one_of(const char *v, const char *const *ok)
{
    for (int i = 0; ok[i]; i++)
        if (!strcmp(v, ok[i]))
            return 1;
    return 0;
}

/* template_names: whether object-name template t has placeholder {name} */
static int template_names(const char *t, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = t ? strchr(t, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *a = p + 1;
        while (*a == ' ' || *a == '\t')
            a++;
        if (strcspn(a, " \t,}") == nl && !strncmp(a, name, nl))
            return 1;
    }
    return 0;
}

/* names_replaced_objects: for a caller who may not override the sink, the
 * first parameter that would choose the name of an object the pipe
 * replaces (its strategy is replace and its bucket URI or file template
 * names the parameter), or NULL: a READ token never picks which existing
 * object is overwritten */
static const char *names_replaced_objects(call *c, const sp_pipe *pi, const params_ctx *pc)
{
    sp_sink_def d;
    if (allowed(c, "OVERRIDE", sp_pipe_name(pi)) || sp_pipe_sink(pi, &d, NULL) != 0 ||
        d.strategy != SP_STRATEGY_REPLACE)
        return NULL;
    for (size_t i = 0; i < pc->n; i++)
        if (template_names(d.file_template, pc->v[i].name) ||
            template_names(d.bucket_uri, pc->v[i].name))
            return pc->v[i].name;
    return NULL;
}

/* POST /v0/pipes/{pipe}/sink and /copy: a job of the pipe (copy = 1: a
 * copy pipe, which takes pipe parameters only) */
static void h_sink(call *c, const char *pipe, int copy)
{
    const sp_pipe *pi = sp_project_find_pipe(c->s->p, pipe);
    if (!allowed(c, "READ", pipe)) {
        forbid(c, "this pipe");
        return;
    }
    if (!pi) {
        fail(c, 404, "pipe '%s' not found", pipe);
        return;
    }
    const char *svc = sp_pipe_service(pi);
    int is_copy = svc && !strcmp(svc, "copy");
    if (!sp_pipe_schedule(pi) || copy != is_copy) {
        fail(c, 400, "pipe '%s' is not a %s pipe", pipe, copy ? "copy" : "sink");
        return;
    }
    static const char *const strategies[] = { "create_new", "replace", "truncate", NULL };
    const char *format = sp_http_query(c->req, "format");
    const char *compression = sp_http_query(c->req, "compression");
    const char *strategy = sp_http_query(c->req, "write_strategy");
    if (!strategy)
        strategy = sp_http_query(c->req, "strategy");
    const char *tmpl = sp_http_query(c->req, "file_template");
    /* the sink as defined is the pipe's; changing where or how it writes
     * (another name, replace instead of create_new, other bounds) needs more
     * than READ */
    if (!copy &&
        (format || compression || strategy || tmpl || sp_http_query(c->req, "max_file_size") ||
         sp_http_query(c->req, "max_file_rows")) &&
        !allowed(c, "OVERRIDE", pipe)) {
        fail(c, 403,
             "token '%s' may run pipe '%s' with parameters but not override its sink "
             "(format, compression, file_template, write_strategy, max_file_size, "
             "max_file_rows): that needs the admin token or a token with the OVERRIDE scope "
             "on the pipe",
             c->token, pipe);
        return;
    }
    /* Tinybird's spellings: "new", and codec aliases ("gz") */
    const sp_codec *codec = compression ? sp_codec_find(compression) : NULL;
    if (codec)
        compression = codec->name;
    if (strategy && !strcmp(strategy, "new"))
        strategy = "create_new";
    const sp_format *ofmt = format ? sp_format_find(format) : NULL;
    if (format && (!ofmt || !ofmt->row)) { /* the row formats of the registry */
        char names[128];
        fail(c, 400, "format: '%s' is not one of %s", format,
             sp_format_row_names(names, sizeof names));
        return;
    }
    if (compression && !codec) {
        char aliases[128];
        fail(c, 400, "compression: '%s' is not one of %s (or %s)", compression,
             sp_codec_names(), sp_codec_aliases(aliases, sizeof aliases));
        return;
    }
    if (strategy && !one_of(strategy, strategies)) {
        fail(c, 400, "write_strategy: '%s' is not one of create_new (new), replace, truncate",
             strategy);
        return;
    }
    if (tmpl && !*tmpl) {
        fail(c, 400, "file_template: empty");
        return;
    }
    const char *max_size = sp_http_query(c->req, "max_file_size");
    const char *max_rows = sp_http_query(c->req, "max_file_rows");
    if (copy && (format || compression || strategy || tmpl || max_size || max_rows)) {
        fail(c, 400, "pipe '%s' is a copy pipe: format, compression, write_strategy, "
                     "file_template, max_file_size and max_file_rows are for sinks", pipe);
        return;
    }
    uint64_t u;
    if (max_size && strcmp(max_size, "0") && sp_size_parse(max_size, &u)) {
        fail(c, 400, "max_file_size: '%s' is not a size (bytes, or 256MB, 1GiB; 0: no bound)",
             max_size);
        return;
    }
    if (max_rows && strcmp(max_rows, "0") && sp_count_parse(max_rows, &u)) {
        fail(c, 400, "max_file_rows: '%s' is not a number of rows (0: no bound)", max_rows);
        return;
    }
    params_ctx pc = { NULL, 0, 0, 0 };
    sp_http_each_query(c->req, collect_param, &pc);
    if (pc.bad) {
        free(pc.v);
        fail(c, 500, "out of memory");
        return;
    }
    const char *chooser = copy ? NULL : names_replaced_objects(c, pi, &pc);
    if (chooser) {
        fail(c, 403,
             "token '%s' may not choose which objects pipe '%s' replaces: its object names "
             "take parameter '%s' and its strategy is replace (the admin token or a token "
             "with the OVERRIDE scope may)",
             c->token, pipe, chooser);
        free(pc.v);
        return;
    }
    sp_job_spec spec = { pipe,   0,     pc.v,     pc.n,     format,  tmpl,
                         compression, strategy, c->token, "api", max_size, max_rows };
    char id[40];
    sp_error err = SP_ERROR_INIT;
    int rc = sp_jobs_submit(c->s->jobs, &spec, 0, id, &err);
    free(pc.v);
    if (rc) {
        fail(c, rc == SP_ECANCELLED ? 503 : code_status(rc), "%s", err.msg);
        return;
    }
    json_t *job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        fail(c, 500, "job '%s' vanished", id);
        return;
    }
    add_job_url(c, job);
    json_t *top = json_deep_copy(job);
    json_object_set_new(top, "job", job);
    set_json(c->resp, 200, top);
}

/* -------------------------------------------------------------- jobs */

static int time_arg(call *c, const char *name, int64_t *out)
{
    const char *v = sp_http_query(c->req, name);
    *out = 0;
    if (!v)
        return 0;
    sp_error err = SP_ERROR_INIT;
    if (sp_parse_time(v, out, &err)) {
        fail(c, 400, "%s: %s", name, err.msg);
        return -1;
    }
    return 0;
}

static void h_jobs(call *c)
{
    sp_jobs_filter f = { sp_http_query(c->req, "status"), sp_http_query(c->req, "pipe_name"), 0,
                         0, 0 };
    if (!f.pipe_name)
        f.pipe_name = sp_http_query(c->req, "pipe_id");
    if (time_arg(c, "created_after", &f.created_after) ||
        time_arg(c, "created_before", &f.created_before))
        return;
    const char *lim = sp_http_query(c->req, "limit");
    long limit = 100;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (*end || limit < 1 || limit > 100000) {
            fail(c, 400, "limit: '%s' is not a count", lim);
            return;
        }
    }
    const char *kind = sp_http_query(c->req, "kind");
    json_t *all = kind && strcmp(kind, "sink") != 0 ? json_array() : sp_jobs_list(c->s->jobs, &f);
    json_t *out = json_array();
    size_t i;
    json_t *j;
    json_array_foreach(all, i, j) {
        if ((long)json_array_size(out) >= limit)
            break;
        if (!allowed(c, "READ", json_string_value(json_object_get(j, "pipe_name"))))
            continue;
        add_job_url(c, j);
        json_array_append(out, j);
    }
    json_decref(all);
    set_json(c->resp, 200, json_pack("{s:o}", "jobs", out));
}

static json_t *job_for(call *c, const char *id)
{
    json_t *job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        fail(c, 404, "job '%s' not found", id);
        return NULL;
    }
    if (!allowed(c, "READ", json_string_value(json_object_get(job, "pipe_name")))) {
        json_decref(job);
        forbid(c, "this job");
        return NULL;
    }
    return job;
}

static void h_job(call *c, const char *id)
{
    json_t *job = job_for(c, id);
    if (!job)
        return;
    add_job_url(c, job);
    set_json(c->resp, 200, job);
}

static void h_cancel(call *c, const char *id)
{
    json_t *job = job_for(c, id);
    if (!job)
        return;
    json_decref(job);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_jobs_cancel(c->s->jobs, id, &err);
    if (rc) {
        fail(c, rc == SP_EINVAL ? 400 : code_status(rc), "%s", err.msg);
        return;
    }
    job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        fail(c, 404, "job '%s' not found", id);
        return;
    }
    add_job_url(c, job);
    set_json(c->resp, 200, job);
}

/* ------------------------------------------------------------ events */

/* the status of a failed append (Events and Datasource API), which stored
 * nothing (sp_ingest_group): rows ClickHouse refused are the caller's
 * (4xx), an engine that failed or cannot be reached is ours (500, 503
 * when a retry may succeed) */
static int ingest_status(int rc, const sp_error *err)
{
    int st = code_status(rc);
    if (err->retriable)
        return 503;
    if (st == 500 && rc != SP_EIO && rc != SP_EENGINE && rc != SP_ENOMEM)
        return 400;
    return st;
}

static void h_events(call *c)
{
    const char *ds = sp_http_query(c->req, "name");
    if (!ds || !*ds) {
        fail(c, 400, "name: the datasource is required (?name=DATASOURCE)");
        return;
    }
    if (!allowed(c, "APPEND", ds)) {
        forbid(c, "this datasource");
        return;
    }
    if (!sp_project_find_datasource(c->s->p, ds)) {
        fail(c, 404, "datasource '%s' not found", ds);
        return;
    }
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    /* validated here, stored together with concurrent calls' rows (the
     * definitions stay steady: the read lock is held) */
    int rc = sp_ingest_group_append(c->s->group, sp_project_find_datasource(c->s->p, ds),
                                    SP_INGEST_NDJSON, body, len, (int64_t)time(NULL), &res,
                                    &err);
    if (rc) {
        fail(c, ingest_status(rc, &err), "%s", err.msg);
        return;
    }
    set_json(c->resp, 200,
             json_pack("{s:I,s:I}", "successful_rows", (json_int_t)res.rows_loaded,
                       "quarantined_rows", (json_int_t)res.rows_quarantined));
}

static char *form_field(const char *body, const char *name, int *nul);

/* -------------------------------------------------------- datasources */

typedef struct upload {
    const char *data;
    size_t len;
    const char *filename;
    char field[64];
    int files;
} upload;

static int take_file(void *ud, const sp_part *p, sp_error *err)
{
    (void)err;
    upload *u = ud;
    /* the SDK sends the file as field `csv` whatever its format; curl -F
     * users name it csv or ndjson: the first part with a file name, or
     * named csv/ndjson */
    if (!*p->filename && strcmp(p->name, "csv") != 0 && strcmp(p->name, "ndjson") != 0)
        return 0;
    if (u->files++ == 0) {
        u->data = p->data;
        u->len = p->len;
        u->filename = p->filename;
        snprintf(u->field, sizeof u->field, "%s", p->name);
    }
    return 0;
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* POST /v0/datasources?name=&mode=append|replace&format=csv|ndjson: the
 * body is a multipart form with the file (the SDK, curl -F), or the rows
 * themselves */
static void h_datasources(call *c)
{
    const char *ds = sp_http_query(c->req, "name");
    const char *mode = sp_http_query(c->req, "mode");
    const char *format = sp_http_query(c->req, "format");
    if (!ds || !*ds) {
        fail(c, 400, "name: the datasource is required (?name=DATASOURCE)");
        return;
    }
    if (!mode)
        mode = "append";
    if (strcmp(mode, "append") != 0 && strcmp(mode, "replace") != 0) {
        fail(c, 400, "mode: '%s' is not one of append, replace (sinkpipe creates datasources "
                     "from datafiles, not with mode=create)",
             mode);
        return;
    }
    const sp_datasource *d = sp_project_find_datasource(c->s->p, ds);
    if (!allowed(c, !strcmp(mode, "append") ? "APPEND" : "CREATE", ds)) {
        forbid(c, !strcmp(mode, "append") ? "this datasource"
                                          : "replacing this datasource (CREATE scope)");
        return;
    }
    if (!d) {
        fail(c, 404, "datasource '%s' not found", ds);
        return;
    }
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    const char *ct = sp_http_header(c->req, "Content-Type");
    upload u = { body, len, "", "", 0 };
    char boundary[80];
    sp_error err = SP_ERROR_INIT;
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) && len >= 4 &&
        !strncmp(body, "url=", 4)) {
        fail(c, 400, "url: importing from a URL is not supported by sinkpipe (send the file "
                     "as multipart/form-data, or the rows as the body)");
        return;
    }
    if (sp_multipart_boundary(ct, boundary, sizeof boundary)) {
        u.data = NULL;
        u.len = 0;
        if (sp_multipart_each(boundary, body, len, take_file, &u, &err)) {
            fail(c, 400, "%s", err.msg);
            return;
        }
        if (u.files != 1) {
            fail(c, 400, "the form must hold exactly one file (field csv or ndjson), it has %d",
                 u.files);
            return;
        }
    }
    /* the format: ?format=, else the file's extension, else the field */
    if (!format && u.filename && *u.filename)
        format = ends_with_ci(u.filename, ".parquet") ? "parquet"
                 : ends_with_ci(u.filename, ".csv")   ? "csv"
                 : ends_with_ci(u.filename, ".ndjson") || ends_with_ci(u.filename, ".jsonl") ||
                         ends_with_ci(u.filename, ".json")
                     ? "ndjson"
                     : NULL;
    if (!format && *u.field)
        format = !strcmp(u.field, "ndjson") ? "ndjson" : "csv";
    if (!format)
        format = "csv";
    sp_ingest_format fmt = SP_INGEST_CSV;
    int parquet = !strcmp(format, "parquet");
    if (!strcmp(format, "csv")) {
        fmt = SP_INGEST_CSV;
    } else if (!strcmp(format, "ndjson")) {
        fmt = SP_INGEST_NDJSON;
    } else if (!parquet) {
        fail(c, 400, "format: '%s' is not one of csv, ndjson, parquet", format);
        return;
    }
    if (!strcmp(mode, "replace") || parquet) {
        /* a load of its own on the daemon's engine, swapped in at the end
         * (replace) or committed (a Parquet file, which ClickHouse reads) */
        sp_engine *e = NULL;
        sp_append_result res = { 0, 0, 0 };
        pthread_rwlock_unlock(&c->s->defs);
        int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
        pthread_rwlock_rdlock(&c->s->defs);
        d = rc ? NULL : sp_project_find_datasource(c->s->p, ds);
        if (!rc && !d)
            rc = sp_error_set(&err, SP_ENOTFOUND, 0, "datasource '%s' not found", ds);
        if (!rc && !e->vt->replace)
            rc = sp_error_set(&err, SP_EUNSUPPORTED, 0, "the %s engine cannot replace",
                              e->vt->name);
        if (!rc && parquet && !e->vt->load_formatted)
            rc = sp_error_set(&err, SP_EUNSUPPORTED, 0, "the %s engine cannot load Parquet",
                              e->vt->name);
        sp_ingest *in = NULL;
        if (!rc && parquet) {
            /* ClickHouse reads Parquet itself: columns by name, converted */
            uint64_t n = 0;
            rc = e->vt->load_formatted(e, ds, "Parquet", u.data ? u.data : "", u.len, &n, &err);
            res.rows_in = res.rows_loaded = n;
        } else if (!rc) {
            rc = sp_ingest_new(e, d, fmt, (int64_t)time(NULL), &in, &err);
            if (!rc)
                rc = sp_ingest_feed(in, u.data ? u.data : "", u.len, &err);
            if (!rc)
                rc = sp_ingest_finish(in, &res, &err);
        }
        if (!rc)
            rc = !strcmp(mode, "replace") ? e->vt->replace(e, ds, &err)
                                          : e->vt->flush(e, 1, &err);
        else if (e && e->vt->flush)
            e->vt->flush(e, 0, NULL);
        sp_ingest_free(in);
        if (e)
            sp_serve_engine_release(c->s);
        if (rc) {
            fail(c, rc == SP_EDATA || rc == SP_ESQL ? 400 : code_status(rc), "%s", err.msg);
            return;
        }
        char rid[40];
        sp_uuid4(rid);
        set_json(c->resp, 200,
                 json_pack("{s:s,s:s,s:{s:s,s:s},s:I,s:I,s:I,s:I,s:b}", "id", rid, "import_id",
                           rid, "datasource", "id", ds, "name", ds, "successful_rows",
                           (json_int_t)res.rows_loaded, "quarantined_rows",
                           (json_int_t)res.rows_quarantined, "quarantine_rows",
                           (json_int_t)res.rows_quarantined, "invalid_lines", (json_int_t)0,
                           "error", 0));
        return;
    }
    sp_append_result res = { 0, 0, 0 };
    int rc = sp_ingest_group_append(c->s->group, d, fmt, u.data ? u.data : "", u.len,
                                    (int64_t)time(NULL), &res, &err);
    if (rc) {
        fail(c, ingest_status(rc, &err), "%s", err.msg);
        return;
    }
    char id[40];
    sp_uuid4(id);
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:I,s:I,s:I,s:I,s:b}", "id", id, "import_id", id,
                          "datasource", "id", ds, "name", ds, "successful_rows",
                          (json_int_t)res.rows_loaded, "quarantined_rows",
                          (json_int_t)res.rows_quarantined, "quarantine_rows",
                          (json_int_t)res.rows_quarantined, "invalid_lines", (json_int_t)0,
                          "error", 0);
    set_json(c->resp, 200, o);
}

/* POST /v0/datasources/{ds}/truncate, /delete (delete_condition=, dry_run=) */
static void h_datasource_op(call *c, const char *ds, const char *op)
{
    if (!allowed(c, "CREATE", ds)) {
        forbid(c, "truncating or deleting rows of this datasource (CREATE scope)");
        return;
    }
    if (!sp_project_find_datasource(c->s->p, ds)) {
        fail(c, 404, "datasource '%s' not found", ds);
        return;
    }
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    char *cond = NULL, *dry = NULL;
    if (!strcmp(op, "delete")) {
        int nul = 0;
        cond = form_field(body, "delete_condition", &nul);
        dry = form_field(body, "dry_run", &nul);
        if (nul) {
            free(cond);
            free(dry);
            fail(c, 400, "delete_condition, dry_run: a NUL byte (%%00) is not allowed");
            return;
        }
        if (!cond && sp_http_query(c->req, "delete_condition"))
            cond = strdup(sp_http_query(c->req, "delete_condition"));
        if (!dry && sp_http_query(c->req, "dry_run"))
            dry = strdup(sp_http_query(c->req, "dry_run"));
        if (!cond || !cond[strspn(cond, " \t\r\n")]) {
            free(cond);
            free(dry);
            fail(c, 400, "delete_condition: required (a SQL condition on the datasource's "
                         "columns)");
            return;
        }
    }
    sp_error err = SP_ERROR_INIT;
    sp_engine *e = NULL;
    pthread_rwlock_unlock(&c->s->defs);
    int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
    uint64_t rows = 0;
    int dry_run = dry && (!strcmp(dry, "true") || !strcmp(dry, "1"));
    if (!rc) {
        if (!strcmp(op, "truncate"))
            rc = e->vt->truncate ? e->vt->truncate(e, ds, &err)
                                 : sp_error_set(&err, SP_EUNSUPPORTED, 0, "no truncate");
        else
            rc = e->vt->delete_rows ? e->vt->delete_rows(e, ds, cond, dry_run, &rows, &err)
                                    : sp_error_set(&err, SP_EUNSUPPORTED, 0, "no delete");
        sp_serve_engine_release(c->s);
    }
    pthread_rwlock_rdlock(&c->s->defs);
    free(cond);
    free(dry);
    if (rc) {
        fail(c, rc == SP_ESQL || rc == SP_EINVAL ? 400 : code_status(rc), "%s", err.msg);
        return;
    }
    if (!strcmp(op, "truncate")) {
        set_json(c->resp, 200, json_pack("{s:s}", "status", "done"));
        return;
    }
    char id[40];
    sp_uuid4(id);
    set_json(c->resp, 200,
             json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "id", id, "job_id", id, "delete_id", id,
                       "status", "done", "rows_to_be_deleted", (json_int_t)rows, "dry_run",
                       dry_run));
}

/* --------------------------------------------------------------- sql */

typedef struct sqlq {
    sp_buf data;
    json_t *meta;
    const sp_schema *schema;
    uint64_t rows;
    const sp_format *fmt; /* csv/ndjson as a sink writes them; NULL: JSON rows */
} sqlq;

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    sqlq *q = ud;
    q->schema = s;
    for (size_t i = 0; i < s->ncols; i++) {
        sp_buf t = SP_BUF_INIT(1u << 16);
        int rc = sp_type_format(s->types[i], &t, err);
        if (rc) {
            sp_buf_release(&t);
            return rc;
        }
        json_array_append_new(q->meta, json_pack("{s:s,s:s}", "name", s->names[i], "type",
                                                 t.data ? t.data : ""));
        sp_buf_release(&t);
    }
    return 0;
}

static int q_batch(void *ud, const sp_batch *b, sp_error *err)
{
    sqlq *q = ud;
    if (q->fmt) {
        if (!q->rows && q->fmt->header) {
            int rc = q->fmt->header(&q->data, q->schema, err);
            if (rc)
                return rc;
        }
        q->rows += b->nrows;
        return b->nrows ? q->fmt->rows(&q->data, q->schema, b, 0, b->nrows, err) : 0;
    }
    for (size_t i = 0; i < b->nrows; i++) {
        if (q->rows && sp_buf_addch(&q->data, ',', err))
            return SP_ETOOBIG;
        int rc = sp_format_ndjson.row(&q->data, q->schema, b, i, err);
        if (rc)
            return rc;
        if (q->data.len && q->data.data[q->data.len - 1] == '\n')
            q->data.data[--q->data.len] = '\0';
        q->rows++;
    }
    return 0;
}

/* the `q` field of an application/x-www-form-urlencoded body, decoded (heap);
 * *nul set when it decodes to a NUL byte (%00) */
static char *form_field(const char *body, const char *name, int *nul)
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

/* the answer of a query: Tinybird's (ClickHouse's) JSON document — meta,
 * data, rows, rows_before_limit_at_least (we know no more than the rows
 * returned: "at least" holds), statistics — or the csv/ndjson bytes */
static void answer_rows(call *c, sqlq *q, double t0, const sp_query_stats *st)
{
    double elapsed = sp_clock_mono_s() - t0;
    if (q->fmt) {
        /* an empty result still has its header */
        if (!q->rows && q->fmt->header && q->schema &&
            q->fmt->header(&q->data, q->schema, NULL)) {
            sp_buf_release(&q->data);
            json_decref(q->meta);
            fail(c, 413, "result too large");
            return;
        }
        json_decref(q->meta);
        c->resp->status = 200;
        c->resp->content_type = q->fmt->content_type;
        c->resp->len = q->data.len;
        c->resp->body = sp_buf_detach(&q->data);
        if (!c->resp->body)
            c->resp->body = strdup("");
        return;
    }
    char *meta = json_dumps(q->meta, JSON_COMPACT);
    json_decref(q->meta);
    sp_buf out = SP_BUF_INIT(SQL_RESULT_MAX + (1u << 20));
    int rc = sp_buf_addf(&out, NULL, "{\"meta\":%s,\"data\":[", meta ? meta : "[]");
    free(meta);
    if (!rc && q->data.len)
        rc = sp_buf_add(&out, q->data.data, q->data.len, NULL);
    if (!rc)
        rc = sp_buf_addf(&out, NULL,
                         "],\"rows\":%llu,\"rows_before_limit_at_least\":%llu,"
                         "\"statistics\":{\"elapsed\":%.6f,\"rows_read\":%llu,"
                         "\"bytes_read\":%llu}}",
                         (unsigned long long)q->rows, (unsigned long long)q->rows, elapsed,
                         (unsigned long long)st->read_rows, (unsigned long long)st->read_bytes);
    sp_buf_release(&q->data);
    if (rc) {
        sp_buf_release(&out);
        fail(c, 413, "result too large");
        return;
    }
    c->resp->status = 200;
    c->resp->content_type = "application/json";
    c->resp->len = out.len;
    c->resp->body = sp_buf_detach(&out);
}

/* run sql (already rendered and composed) on the daemon's engine and answer */
static void run_and_answer(call *c, const char *sql, sqlq *q)
{
    sp_error err = SP_ERROR_INIT;
    sp_engine *e = NULL;
    double t0 = sp_clock_mono_s();
    pthread_rwlock_unlock(&c->s->defs);
    int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
    sp_query_stats st = { 0, 0, 0 };
    if (!rc) {
        sp_query_opts qo = { 0, NULL, NULL, 0, 0 };
        rc = e->vt->query(e, sql, &qo, q_schema, q_batch, q, &st, &err);
        sp_serve_engine_release(c->s);
    }
    pthread_rwlock_rdlock(&c->s->defs);
    if (rc) {
        sp_buf_release(&q->data);
        json_decref(q->meta);
        fail(c, rc == SP_ETOOBIG ? 413 : rc == SP_EENGINE || rc == SP_ESQL ? 400 : code_status(rc),
             "%s", err.msg);
        return;
    }
    answer_rows(c, q, t0, &st);
}

/* GET /v0/pipes/{pipe}.json|.csv|.ndjson: an endpoint's result (TYPE
 * endpoint and plain pipes), its parameters from the query string, `q` a
 * query on top of it (the pipe is the table `_`) */
static void h_endpoint(call *c, const char *pipe, const char *ext)
{
    const sp_pipe *pi = sp_project_find_pipe(c->s->p, pipe);
    if (!allowed(c, "READ", pipe)) {
        forbid(c, "this pipe");
        return;
    }
    if (!pi) {
        fail(c, 404, "pipe '%s' not found", pipe);
        return;
    }
    if (pi->type != SP_PIPE_ENDPOINT && pi->type != SP_PIPE_DEFAULT) {
        fail(c, 404, "pipe '%s' is not an endpoint (it is a %s pipe)", pipe,
             pi->type == SP_PIPE_SINK ? "sink" : pi->type == SP_PIPE_COPY ? "copy"
                                                                          : "materialized");
        return;
    }
    /* json, or a row format of the registry (answers stream row by row) */
    const sp_format *fmt = NULL;
    if (strcmp(ext, "json") != 0 && (!(fmt = sp_format_find(ext)) || !fmt->row)) {
        char names[128];
        fail(c, 400, "format '%s' is not one of json, %s", ext,
             sp_format_row_names(names, sizeof names));
        return;
    }
    params_ctx pc = { NULL, 0, 0, 0 };
    sp_http_each_query(c->req, collect_param, &pc);
    if (pc.bad) {
        free(pc.v);
        fail(c, 500, "out of memory");
        return;
    }
    /* `q` is not a pipe parameter */
    size_t k = 0;
    for (size_t i = 0; i < pc.n; i++)
        if (strcmp(pc.v[i].name, "q") != 0)
            pc.v[k++] = pc.v[i];
    pc.n = k;
    sp_buf sql = SP_BUF_INIT(64u << 20);
    sp_error err = SP_ERROR_INIT;
    sp_template_status tst;
    int rc = sp_pipe_render_sql_ex(c->s->p, pi, pc.v, pc.n, 0, &tst, &sql, &err);
    free(pc.v);
    if (rc && tst.http_status && tst.body) { /* custom_error(): its status and body */
        json_t *j = json_loads(tst.body, 0, NULL);
        free(tst.body);
        sp_buf_release(&sql);
        if (j)
            set_json(c->resp, tst.http_status, j);
        else
            fail(c, tst.http_status, "%s", err.msg);
        return;
    }
    const char *q = sp_http_query(c->req, "q");
    sp_buf top = SP_BUF_INIT(64u << 20);
    if (!rc && q && *q) {
        const char *names[2] = { "_", NULL };
        const char *sqls[2] = { sql.data ? sql.data : "", q };
        rc = sp_sql_compose(names, sqls, 2, &top, NULL, &err);
    }
    if (rc) {
        sp_buf_release(&sql);
        sp_buf_release(&top);
        fail(c, tst.http_status ? tst.http_status
                : rc == SP_EPARAM || rc == SP_EINVAL || rc == SP_EDEF ? 400 : code_status(rc),
             "%s", err.msg);
        return;
    }
    sqlq res = { SP_BUF_INIT(SQL_RESULT_MAX), json_array(), NULL, 0, fmt };
    run_and_answer(c, q && *q ? top.data : sql.data ? sql.data : "", &res);
    sp_buf_release(&sql);
    sp_buf_release(&top);
}

static void h_sql(call *c)
{
    if (!c->admin) {
        forbid(c, "SQL queries");
        return;
    }
    const char *sql = NULL;
    char *form = NULL;
    int nul = 0;
    if (!strcmp(sp_http_method(c->req), "GET")) {
        sql = sp_http_query(c->req, "q");
    } else {
        size_t len;
        sql = sp_http_body(c->req, &len);
        nul = strlen(sql) != len;
        const char *ct = sp_http_header(c->req, "Content-Type");
        /* a form post (q=…, URL-encoded) or the query as the body */
        if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
            !strncmp(sql, "q=", 2))
            sql = form = form_field(sql, "q", &nul);
        if ((!sql || !*sql) && sp_http_query(c->req, "q"))
            sql = sp_http_query(c->req, "q");
    }
    if (nul) { /* the query would be cut at it */
        free(form);
        fail(c, 400, "q: a NUL byte is not allowed in the query");
        return;
    }
    if (!sql || !*sql) {
        free(form);
        fail(c, 400, "q: the query is required");
        return;
    }
    /* the project's pipes read by name, as Tinybird's query API allows */
    sp_buf composed = SP_BUF_INIT(64u << 20);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_query_render_sql(c->s->p, sql, NULL, 0, &composed, &err);
    free(form);
    sql = NULL;
    if (rc) {
        sp_buf_release(&composed);
        fail(c, code_status(rc) == 500 ? 400 : code_status(rc), "%s", err.msg);
        return;
    }
    sqlq q = { SP_BUF_INIT(SQL_RESULT_MAX), json_array(), NULL, 0, NULL };
    run_and_answer(c, composed.data ? composed.data : "", &q);
    sp_buf_release(&composed);
}

/* ------------------------------------------------------------ routing */

/* path segments after a prefix: "/v0/jobs/ID/cancel" -> "ID", "cancel" */
static int split(const char *path, const char *prefix, char *a, size_t na, char *b, size_t nb)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return -1;
    const char *p = path + pl;
    const char *slash = strchr(p, '/');
    size_t la = slash ? (size_t)(slash - p) : strlen(p);
    if (la == 0 || la >= na)
        return -1;
    memcpy(a, p, la);
    a[la] = '\0';
    b[0] = '\0';
    if (slash) {
        size_t lb = strlen(slash + 1);
        if (lb >= nb)
            return -1;
        memcpy(b, slash + 1, lb + 1);
    }
    return 0;
}

static void route(call *c)
{
    const char *m = sp_http_method(c->req);
    const char *path = sp_http_path(c->req);
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    char a[256], b[64];
    if (!strcmp(path, "/health") || !strcmp(path, "/v0/health")) {
        if (get)
            h_health(c);
        else
            fail(c, 405, "method %s not allowed on %s", m, path);
        return;
    }
    if (sp_api_sdk_public(c->s, c->req, c->resp))
        return;
    if (authenticate(c))
        return;
    if (sp_api_sdk_route(c->s, c->req, c->resp, c->admin))
        return;
#define ONLY(cond)                                                                     \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fail(c, 405, "method %s not allowed on this path", m);                    \
            return;                                                                    \
        }                                                                              \
    } while (0)
    if (!strcmp(path, "/metrics")) {
        ONLY(get);
        h_metrics(c);
    } else if (!strcmp(path, "/v0/pipes") || !strcmp(path, "/v0/pipes/")) {
        ONLY(get);
        h_pipes(c);
    } else if (!split(path, "/v0/pipes/", a, sizeof a, b, sizeof b) &&
               (!strcmp(b, "sink") || !strcmp(b, "copy"))) {
        ONLY(post);
        h_sink(c, a, !strcmp(b, "copy"));
    } else if (!strcmp(path, "/v0/datasources") || !strcmp(path, "/v0/datasources/")) {
        ONLY(post);
        h_datasources(c);
    } else if (!split(path, "/v0/datasources/", a, sizeof a, b, sizeof b) &&
               (!strcmp(b, "truncate") || !strcmp(b, "delete"))) {
        ONLY(post);
        h_datasource_op(c, a, b);
    } else if (!split(path, "/v0/pipes/", a, sizeof a, b, sizeof b) && !b[0] && strrchr(a, '.')) {
        ONLY(get);
        char *dot = strrchr(a, '.');
        *dot = '\0';
        h_endpoint(c, a, dot + 1);
    } else if (!strcmp(path, "/v0/jobs") || !strcmp(path, "/v0/jobs/")) {
        ONLY(get);
        h_jobs(c);
    } else if (!split(path, "/v0/jobs/", a, sizeof a, b, sizeof b) && !b[0]) {
        ONLY(get);
        h_job(c, a);
    } else if (!split(path, "/v0/jobs/", a, sizeof a, b, sizeof b) && !strcmp(b, "cancel")) {
        ONLY(post);
        h_cancel(c, a);
    } else if (!strcmp(path, "/v0/events")) {
        ONLY(post);
        h_events(c);
    } else if (!strcmp(path, "/v0/sql")) {
        ONLY(get || post);
        h_sql(c);
    } else {
        fail(c, 404, "no such endpoint: %s", path);
    }
#undef ONLY
}

void sp_api_handle(void *ud, const sp_http_req *req, sp_http_resp *resp)
{
    struct sp_server *s = ud;
    int64_t t0 = sp_clock_mono_ms();
    call c;
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
