/* sp_serve: the daemon's state, shared by sp_serve.c (lifecycle, runs,
 * reload, logging) and sp_api*.c (the HTTP API).  Internal. */
#ifndef SP_SERVE_INT_H
#define SP_SERVE_INT_H

#include <jansson.h>
#include <pthread.h>

#include "sinkpipe.h"
#include "sp_clock.h"
#include "sp_engine.h"
#include "sp_http.h"
#include "sp_jobs.h"
#include "sp_oplog.h"
#include "sp_sched.h"
#include "sp_token.h"

struct sp_server {
    char *dir;
    struct sp_serve_opts o;
    /* definitions and tokens: read by API handlers, swapped by reload */
    pthread_rwlock_t defs;
    sp_project *p;
    sp_tokens *tokens;
    /* the engine runs one statement at a time: every use of the project's
     * engine (runs, events, sql) holds `engine_mu`.  It stays open for the
     * daemon's life (the embedded database is locked to one process) and
     * `local` serves it to the project's CLI commands */
    pthread_mutex_t engine_mu;
    pthread_mutex_t owner_mu; /* guards engine and owner, for interrupts */
    /* one reload at a time, from reading the folder to the swap: a reload
     * that read the folder earlier never swaps in over a later one */
    pthread_mutex_t reload_mu;
    sp_engine *engine;
    struct sp_ch_local *local;
    /* the Events API's grouped inserts, on an engine handle of their own
     * (a long job does not hold them up) */
    sp_engine *ingest_engine;
    struct sp_ingest_group *group;
    char owner[40];           /* job id using the engine, "" if none */
    sp_clock *clock;
    sp_sched *sched;
    sp_jobs *jobs;
    sp_oplog *log;            /* "skipped" records */
    sp_http *http;
    pthread_mutex_t log_mu;
    size_t max_body;
    double grace;
    int stopped;
    atomic_int stopping;      /* set first by sp_server_stop */
    uint64_t http_requests;
    struct sp_sdk *sdk;       /* the SDK's workspaces and deployments (sp_api_sdk.c) */
};

/* sp_serve_log: one log line: event name and fields (stolen) */
void sp_serve_log(struct sp_server *s, const char *event, json_t *fields);

/* engine use: acquire returns the project's engine opened (or an error);
 * `who` is a job id or "" */
int sp_serve_engine_acquire(struct sp_server *s, const char *who, sp_engine **out,
                            sp_error *err);
void sp_serve_engine_release(struct sp_server *s);

/* answers of the API: a JSON body (stolen), or {"error": "…"} (the
 * message scrubbed of secrets) */
void sp_api_json(sp_http_resp *r, int status, json_t *j);
void sp_api_fail(sp_http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* the HTTP handler (sp_api.c) */
void sp_api_handle(void *ud, const sp_http_req *req, sp_http_resp *resp);

/* the core's internals the lifecycle (sp_server.c) uses */
int sp__serve_load(const char *dir, sp_project **out, sp_error *err);
int sp__serve_schedule(struct sp_server *s, sp_project *p, sp_error *err);
int sp__serve_stopping(struct sp_server *s);

#endif
