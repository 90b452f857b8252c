/* sp_server: the daemon's lifecycle — start (settings, the engine, recovery
 * of dead runs, the job table, the scheduler, the HTTP API), address, stop,
 * free — on the core of sp_serve.c.  The job and scheduler hooks that run
 * pipes live here too. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "sp_api_sdk.h"
#include "sp_build.h"
#include "sp_error.h"
#include "sp_ingest_group.h"
#include "sp_keys_env.h"
#include "sp_opts.h"
#include "sp_recover.h"
#include "sp_serve_int.h"
#include "sp_env.h"
#include "sp_model.h"
#include "sp_banned.h"

/* ---------------------------------------------------------- job hooks */

/* log_cleanup: a recovery's report (sp_recover_dead_runs) to the event log
 * and, once the job table is open, to the dead jobs' "cleanup" lists */
static void log_cleanup(struct sp_server *s, json_t *rep)
{
    size_t i;
    json_t *it;
    json_array_foreach(rep, i, it) {
        int kept = json_object_get(it, "error") != NULL;
        if (!kept && s->jobs)
            sp_jobs_note_cleaned(s->jobs, json_string_value(json_object_get(it, "job_id")), it);
        sp_serve_log(s, kept ? "cleanup_kept" : "cleaned", json_incref(it));
    }
}

static int run_job(void *ud, const char *job_id, const sp_job_spec *spec, atomic_int *cancel,
                   sp_run_result *res, sp_error *err)
{
    struct sp_server *s = ud;
    sp_engine *e = NULL;
    int rc = sp_serve_engine_acquire(s, job_id, &e, err);
    if (rc) {
        memset(res, 0, sizeof *res);
        snprintf(res->job_id, sizeof res->job_id, "%s", job_id);
        return rc;
    }
    if (atomic_load(cancel)) {
        sp_serve_engine_release(s);
        memset(res, 0, sizeof *res);
        snprintf(res->job_id, sizeof res->job_id, "%s", job_id);
        return sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    }
    struct sp_run_opts o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.now_unix = spec->now_unix;
    o.params = spec->params;
    o.nparams = spec->nparams;
    o.format = spec->format;
    o.file_template = spec->file_template;
    o.compression = spec->compression;
    o.strategy = spec->strategy;
    o.max_file_size = spec->max_file_size;
    o.max_file_rows = spec->max_file_rows;
    o.job_id = job_id;
    o.cancel = cancel;
    /* what killed runs left (a `sinkpipe run` killed while the daemon
     * serves): undone here so that the job table shows it at once (sp_run
     * then finds nothing left).  Under the engine hold, as sp_run: the
     * definitions (and their lazily opened environment) are this job's
     * alone meanwhile */
    json_t *rep = NULL;
    (void)sp_recover_dead_runs(s->p, &rep, NULL);
    log_cleanup(s, rep);
    json_decref(rep);
    /* the definitions are not swapped while the engine is held */
    rc = sp_run(s->p, spec->pipe, &o, res, err);
    sp_serve_engine_release(s);
    return rc;
}

static void interrupt_job(void *ud, const char *job_id)
{
    struct sp_server *s = ud;
    pthread_mutex_lock(&s->owner_mu);
    if (s->engine && !strcmp(s->owner, job_id))
        s->engine->vt->interrupt(s->engine);
    pthread_mutex_unlock(&s->owner_mu);
}

static void job_event(void *ud, const char *event, json_t *job)
{
    struct sp_server *s = ud;
    json_t *f = json_object();
    json_object_set(f, "job_id", json_object_get(job, "id"));
    json_object_set(f, "pipe", json_object_get(job, "pipe_name"));
    json_object_set(f, "status", json_object_get(job, "status"));
    json_object_set(f, "trigger", json_object_get(job, "trigger"));
    json_t *lt = json_object_get(job, "logical_time");
    if (json_is_string(lt))
        json_object_set(f, "logical_time", lt);
    json_t *st = json_object_get(job, "statistics");
    if (st) {
        json_object_set(f, "written_rows", json_object_get(st, "written_rows"));
        json_object_set(f, "written_bytes", json_object_get(st, "written_bytes"));
        json_object_set(f, "elapsed", json_object_get(st, "elapsed_time"));
    }
    json_t *e = json_object_get(job, "error");
    if (json_is_string(e))
        json_object_set(f, "error", e);
    (void)event;
    sp_serve_log(s, "job", f);
}

static int fire(void *ud, const char *pipe, int64_t logical, const char *why)
{
    struct sp_server *s = ud;
    sp_job_spec spec = { pipe, logical, NULL, 0, NULL, NULL, NULL, NULL, "", "schedule" };
    char id[40];
    sp_error err = SP_ERROR_INIT;
    int rc = sp_jobs_submit(s->jobs, &spec, 1, id, &err);
    char t[32];
    sp_time_text(logical, t, sizeof t);
    if (rc == SP_EEXIST) {
        json_t *rec = json_object();
        json_object_set_new(rec, "event", json_string("skipped"));
        json_object_set_new(rec, "pipe_name", json_string(pipe));
        json_object_set_new(rec, "logical_time", json_string(t));
        json_object_set_new(rec, "reason", json_string("the previous run is still going"));
        if (s->log)
            sp_oplog_append(s->log, rec, NULL);
        json_decref(rec);
        sp_serve_log(s, "skipped", json_pack("{s:s,s:s,s:s}", "pipe", pipe, "logical_time", t,
                                             "reason", "the previous run is still going"));
    } else if (rc) {
        sp_serve_log(s, "fire_failed", json_pack("{s:s,s:s,s:s}", "pipe", pipe, "logical_time",
                                                 t, "error", err.msg));
    } else {
        sp_serve_log(s, "fire", json_pack("{s:s,s:s,s:s,s:s}", "pipe", pipe, "why", why,
                                          "logical_time", t, "job_id", id));
    }
    return rc;
}

int sp_server_start(const char *dir, const struct sp_serve_opts *o, sp_server **out,
                    char **created_tokens, sp_error *err)
{
    *out = NULL;
    if (created_tokens)
        *created_tokens = NULL;
    struct sp_serve_opts ol;
    int orc = sp_opts_load(&ol, sizeof ol, o, "sp_serve_opts", err);
    if (orc)
        return orc;
    o = &ol;
    struct sp_server *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    s->o = *o;
    s->dir = strdup(dir ? dir : ".");
    pthread_rwlock_init(&s->defs, NULL);
    pthread_mutex_init(&s->engine_mu, NULL);
    pthread_mutex_init(&s->owner_mu, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    /* a build's swap a crash interrupted is finished (or undone) first */
    int rc = s->dir ? sp_build_recover(s->dir, err)
                    : sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc)
        rc = sp__serve_load(s->dir, &s->p, err);

    /* the settings: types, ranges and defaults in sp_keys.c */
    const sp_env *env = NULL;
    int64_t workers = 2, keep = 1000, max_body = 10 << 20;
    int64_t conns = 1024, conns_ip = 128, idle = 10;
    double speed = 1;
    int catch_up = 1, local_tokens = 0;
    int64_t fake_now = 0, clock_start = 0;
    if (!rc)
        rc = sp_project_env(s->p, &env, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_MAX_JOBS", &workers, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_KEEP_JOBS", &keep, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_MAX_BODY", &max_body, err);
    if (!rc)
        rc = sp_keys_env_num(env, "SINKPIPE_SERVE_GRACE", &s->grace, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_MAX_CONNECTIONS", &conns, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_MAX_CONNECTIONS_PER_IP", &conns_ip, err);
    if (!rc)
        rc = sp_keys_env_int(env, "SINKPIPE_SERVE_IDLE_TIMEOUT", &idle, err);
    if (!rc)
        rc = sp_keys_env_bool(env, "SINKPIPE_SERVE_CATCH_UP", &catch_up, err);
    if (!rc)
        rc = sp_keys_env_bool(env, "SINKPIPE_SERVE_LOCAL_TOKENS", &local_tokens, err);
    if (!rc)
        rc = sp_sdk_new(local_tokens, &s->sdk, err);
    if (!rc)
        rc = sp_keys_env_num(env, "SINKPIPE_SERVE_CLOCK_SPEED", &speed, err);
    const char *fk = sp_keys_env_get(env, "SINKPIPE_SERVE_FAKE_NOW");
    if (!rc && fk)
        rc = sp_parse_time(fk, &fake_now, err);
    s->max_body = (size_t)max_body;
    if (!rc) {
        s->clock = sp_clock_real(fake_now, fake_now ? speed : 1);
        if (!s->clock)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        else
            clock_start = s->clock->now(s->clock);
    }
    if (!rc)
        rc = sp_tokens_load(s->p, &s->tokens, created_tokens, err);
    if (!rc) {
        /* the database is the daemon's from now on (a CLI command holding
         * it for a moment is waited for) */
        sp_engine *e = NULL;
        rc = sp_serve_engine_acquire(s, "", &e, err);
        if (!rc) {
            sp_serve_engine_release(s);
            rc = sp_project_engine_share(s->p, &s->local, err);
        }
        if (!rc)
            rc = sp_project_engine_extra(s->p, &s->ingest_engine, err);
        if (!rc)
            rc = sp_ingest_group_new(s->ingest_engine, &s->group, err);
    }
    if (!rc)
        rc = sp_oplog_open(s->dir, &s->log, err);
    if (!rc) {
        /* what killed runs left (temp files, uploads, transactions) is
         * undone before the job table reads the ops log, so the listing
         * shows it */
        json_t *rep = NULL;
        sp_error rerr = SP_ERROR_INIT;
        if (sp_recover_dead_runs(s->p, &rep, &rerr))
            sp_serve_log(s, "cleanup_failed", json_pack("{s:s}", "error", rerr.msg));
        log_cleanup(s, rep);
        json_decref(rep);
    }
    if (!rc) {
        struct sp_jobs_opts jo = { s->dir, (unsigned)workers, (size_t)keep, 1, run_job,
                                   interrupt_job, job_event, s };
        rc = sp_jobs_open(&jo, &s->jobs, err);
    }
    if (!rc) {
        char state[4200];
        snprintf(state, sizeof state, "%s/.sinkpipe/schedule.json", s->dir);
        struct sp_sched_opts so = { s->clock, state, catch_up, clock_start, fire, s };
        rc = sp_sched_new(&so, &s->sched, err);
    }
    if (!rc)
        rc = sp__serve_schedule(s, s->p, err);
    if (!rc) {
        sp_http_limits lim = { (unsigned)conns, (unsigned)conns_ip, (unsigned)idle };
        rc = sp_http_start(o->listen ? o->listen : "127.0.0.1:7181", s->max_body, &lim,
                           sp_api_handle, s, &s->http, err);
    }
    if (!rc)
        rc = sp_sched_start(s->sched, err);
    if (rc) {
        if (created_tokens && *created_tokens) {
            free(*created_tokens);
            *created_tokens = NULL;
        }
        sp_server_free(s);
        return rc;
    }
    char t[32];
    sp_serve_log(s, "listening",
                 json_pack("{s:s,s:i,s:i,s:s,s:b}", "address", sp_http_address(s->http),
                           "pipes", (int)sp_project_npipes(s->p), "workers", (int)workers,
                           "clock", sp_time_text(s->clock->now(s->clock), t, sizeof t),
                           "catch_up", catch_up));
    *out = s;
    return 0;
}

const char *sp_server_address(const sp_server *s)
{
    return s->http ? sp_http_address(s->http) : "";
}

void sp_server_stop(sp_server *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = 1;
    /* a reload waiting for the engine gives up (sp_server_reload) */
    atomic_store(&s->stopping, 1);
    sp_serve_log(s, "stopping", json_pack("{s:f}", "grace", s->grace));
    if (s->http)
        sp_http_quiesce(s->http);
    if (s->sched)
        sp_sched_stop(s->sched);
    if (s->jobs)
        sp_jobs_shutdown(s->jobs, s->grace);
    if (s->http) {
        sp_http_stop(s->http);
        s->http = NULL;
    }
    if (s->local) {
        sp_project_engine_unshare(s->p, s->local);
        s->local = NULL;
    }
    sp_serve_log(s, "stopped", NULL);
}

void sp_server_free(sp_server *s)
{
    if (!s)
        return;
    sp_server_stop(s);
    sp_sched_free(s->sched);
    sp_jobs_free(s->jobs);
    sp_oplog_close(s->log);
    sp_tokens_free(s->tokens);
    sp_ingest_group_free(s->group);
    if (s->ingest_engine)
        s->ingest_engine->vt->close(s->ingest_engine);
    if (s->clock)
        s->clock->free(s->clock);
    sp_project_free(s->p);
    sp_sdk_free(s->sdk);
    pthread_rwlock_destroy(&s->defs);
    pthread_mutex_destroy(&s->engine_mu);
    pthread_mutex_destroy(&s->owner_mu);
    pthread_mutex_destroy(&s->reload_mu);
    pthread_mutex_destroy(&s->log_mu);
    free(s->dir);
    free(s);
}

