/* sp_api_int: the pieces of the daemon's HTTP API (internal).
 *
 *   sp_api.c        a call: authentication, scopes, answers and errors;
 *                   /health, /metrics; the table of routes
 *   sp_api_pipes.c  GET /v0/pipes, POST /v0/pipes/{pipe}/sink and /copy
 *   sp_api_query.c  GET /v0/pipes/{pipe}.json|.csv|.ndjson (endpoints),
 *                   GET|POST /v0/sql: a query on the daemon's engine
 *   sp_api_data.c   POST /v0/events, /v0/datasources, /v0/datasources/{ds}/
 *                   truncate and /delete: rows into datasources
 *   sp_api_jobs.c   GET /v0/jobs, /v0/jobs/{id}, POST /v0/jobs/{id}/cancel
 *   sp_api_sdk.c    the Tinybird SDK/CLI's endpoints (/tokens, /v1/build, ...)
 *
 * A handler runs with the definitions read-locked (c->s->defs) and answers
 * exactly once: through sp_api_json (sp_serve_int.h), sp__api_fail,
 * sp__api_forbid, sp__api_answer_buf or by filling c->resp itself.  Adding
 * an endpoint is a handler in one of these files (or a new one) and one
 * line in the route table of sp_api.c.
 *
 * These files read and lock the daemon's state (struct sp_server,
 * sp_serve_int.h) and call the daemon's core (sp_serve.c: engine lease,
 * event log, reload); the lifecycle (sp_server.c) starts the HTTP server
 * with sp_api_handle.  Calls go one way: sp_server -> sp_api -> sp_serve. */
#ifndef SP_API_INT_H
#define SP_API_INT_H

#include <stddef.h>

#include <jansson.h>

#include "sinkpipe.h"
#include "sp_buf.h"
#include "sp_http.h"
#include "sp_model.h"
#include "sp_serve_int.h"

typedef struct sp__api_call {
    struct sp_server *s;
    const sp_http_req *req;
    sp_http_resp *resp;
    const char *token; /* the token's name once authenticated (tokbuf) */
    int admin;
    char tokbuf[256];
} sp__api_call;

/* a handler: `name` and `tail` are what the route's pattern captured (see
 * the route table in sp_api.c), "" when it captures nothing */
typedef void sp__api_handler(sp__api_call *c, const char *name, const char *tail);

/* sp__api_answer_buf: answer 200 with b's bytes (detached: b is left
 * empty) as content_type (static) */
void sp__api_answer_buf(sp__api_call *c, const char *content_type, sp_buf *b);

/* sp__api_fail: answer status with {"error": "…"} (scrubbed of secrets) */
void sp__api_fail(sp__api_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sp__api_code_status: the HTTP status of an sp_code */
int sp__api_code_status(int code);

/* sp__api_allowed: whether the caller's token has scope on resource */
int sp__api_allowed(sp__api_call *c, const char *scope, const char *resource);

/* sp__api_forbid: answer 403, the token has no access to `what` */
void sp__api_forbid(sp__api_call *c, const char *what);

/* sp__api_add_job_url: set job's "job_url" (this daemon's /v0/jobs/{id}) */
void sp__api_add_job_url(sp__api_call *c, json_t *job);

/* sp__api_form_field: field `name` of an application/x-www-form-urlencoded
 * body, decoded (heap, the caller frees), NULL when absent or out of
 * memory; *nul set when it decodes to a NUL byte (%00) */
char *sp__api_form_field(const char *body, const char *name, int *nul);

/* the pipe parameters of a request's query string (its options —
 * token, format, … — left out); names and values borrow the request */
typedef struct sp__api_params {
    sp_param *v; /* heap: free(v) */
    size_t n, cap;
    int bad;     /* out of memory */
} sp__api_params;

/* sp__api_params_get: the request's pipe parameters into *pc (the caller
 * frees pc->v); -1 after answering 500 (out of memory) */
int sp__api_params_get(sp__api_call *c, sp__api_params *pc);

/* sp__api_pipe: the pipe a call names, which the token may READ; NULL after
 * answering 403 or 404 */
const sp_pipe *sp__api_pipe(sp__api_call *c, const char *pipe);

/* the handlers (sp_api_pipes.c, sp_api_query.c, sp_api_data.c,
 * sp_api_jobs.c) */
sp__api_handler sp__api_pipes, sp__api_sink, sp__api_endpoint, sp__api_sql, sp__api_events,
    sp__api_datasources, sp__api_datasource_op, sp__api_jobs, sp__api_job, sp__api_cancel;

#endif
