/* sp_serve: the daemon — project, scheduler, jobs, HTTP API, reload,
 * shutdown and the event log. */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_api_sdk.h"
#include "sp_buf.h"
#include "sp_build.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_secret.h"
#include "sp_ingest_group.h"
#include "sp_recover.h"
#include "sp_serve_int.h"
#include "sp_opts.h"
#include "sp_banned.h"

/* ------------------------------------------------------------ logging */

/* scrub_fields: no secret in any string field (sp_secret.h); the text is
 * scrubbed before it is encoded, so JSON stays JSON */
static void scrub_fields(json_t *fields)
{
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v) {
        if (!json_is_string(v))
            continue;
        size_t n = json_string_length(v);
        size_t cap = n * 3 + 4; /* "***" may be longer than a short secret */
        char *t = malloc(cap);
        if (!t) {
            json_object_set_new(fields, k, json_string("(out of memory)"));
            continue;
        }
        memcpy(t, json_string_value(v), n + 1);
        sp_secret_scrub(t, cap, NULL);
        /* a new string: the value may be shared with a job's record */
        if (strcmp(t, json_string_value(v)) != 0)
            json_object_set_new(fields, k, json_string(t));
        free(t);
    }
}

void sp_serve_log(struct sp_server *s, const char *event, json_t *fields)
{
    if (!s->o.log) {
        json_decref(fields);
        return;
    }
    scrub_fields(fields);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char t[40];
    time_t secs = ts.tv_sec;
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof t - n, ".%03ldZ", ts.tv_nsec / 1000000);
    sp_buf line = SP_BUF_INIT(1u << 20);
    if (s->o.log_json) {
        json_t *j = json_object();
        json_object_set_new(j, "time", json_string(t));
        json_object_set_new(j, "event", json_string(event));
        if (fields)
            json_object_update(j, fields);
        char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (txt)
            sp_buf_adds(&line, txt, NULL);
        free(txt);
        json_decref(j);
    } else {
        sp_buf_addf(&line, NULL, "%s %s", t, event);
        const char *k;
        json_t *v;
        json_object_foreach(fields, k, v) {
            if (json_is_string(v)) {
                const char *sv = json_string_value(v);
                int quote = !*sv || strpbrk(sv, " \"=") != NULL;
                if (quote) {
                    char *q = json_dumps(v, JSON_ENCODE_ANY);
                    sp_buf_addf(&line, NULL, " %s=%s", k, q ? q : "\"\"");
                    free(q);
                } else {
                    sp_buf_addf(&line, NULL, " %s=%s", k, sv);
                }
            } else if (!json_is_null(v)) {
                char *q = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                sp_buf_addf(&line, NULL, " %s=%s", k, q ? q : "");
                free(q);
            }
        }
    }
    json_decref(fields);
    if (line.data) {
        pthread_mutex_lock(&s->log_mu);
        s->o.log(s->o.log_ud, line.data);
        pthread_mutex_unlock(&s->log_mu);
    }
    sp_buf_release(&line);
}

/* ------------------------------------------------------------- engine */

#define ENGINE_LOCK_WAIT 10 /* seconds */

int sp_serve_engine_acquire(struct sp_server *s, const char *who, sp_engine **out,
                            sp_error *err)
{
    pthread_mutex_lock(&s->engine_mu);
    sp_engine *e = NULL;
    sp_error e1 = SP_ERROR_INIT;
    int rc = 0;
    /* another process (`sinkpipe sql`, `run`, `append`) may hold the
     * database for a moment (SP_EBUSY, retriable): wait for it, up to
     * ENGINE_LOCK_WAIT; a fatal failure is not waited on */
    for (int i = 0;; i++) {
        sp_error_clear(&e1);
        pthread_rwlock_rdlock(&s->defs);
        rc = sp_project_engine(s->p, &e, &e1);
        pthread_rwlock_unlock(&s->defs);
        if (!rc || !e1.retriable || i >= ENGINE_LOCK_WAIT * 10)
            break;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (rc) {
        pthread_mutex_unlock(&s->engine_mu);
        return sp_error_copy(err, &e1);
    }
    pthread_mutex_lock(&s->owner_mu);
    s->engine = e;
    snprintf(s->owner, sizeof s->owner, "%s", who ? who : "");
    pthread_mutex_unlock(&s->owner_mu);
    *out = e;
    return 0;
}

void sp_serve_engine_release(struct sp_server *s)
{
    pthread_mutex_lock(&s->owner_mu);
    s->engine = NULL;
    s->owner[0] = '\0';
    pthread_mutex_unlock(&s->owner_mu);
    /* the engine stays open: the daemon holds the database for its whole
     * life and serves it to the project's other processes */
    pthread_mutex_unlock(&s->engine_mu);
}

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

/* --------------------------------------------------------- definitions */

static int schedule_pipes(struct sp_server *s, sp_project *p, sp_error *err)
{
    size_t n = sp_project_npipes(p);
    sp_sched_pipe *v = calloc(n ? n : 1, sizeof *v);
    char (*hashes)[2 * SHA256_DIGEST_LENGTH + 1] = calloc(n ? n : 1, sizeof *hashes);
    if (!v || !hashes) {
        free(v);
        free(hashes);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const sp_pipe *pi = sp_project_pipe(p, i);
        const char *sch = sp_pipe_schedule(pi);
        if (!sch)
            continue;
        /* the definition as written out: @once runs again when it changes */
        sp_buf text = SP_BUF_INIT(64u << 20);
        rc = sp_pipe_write(pi, &text, err);
        if (!rc) {
            unsigned char h[SHA256_DIGEST_LENGTH];
            SHA256((const unsigned char *)(text.data ? text.data : ""), text.len, h);
            for (size_t b = 0; b < sizeof h; b++)
                snprintf(hashes[k] + 2 * b, 3, "%02x", h[b]);
            v[k].name = sp_pipe_name(pi);
            v[k].schedule = sch;
            v[k].def_hash = hashes[k];
            k++;
        }
        sp_buf_release(&text);
    }
    if (!rc)
        rc = sp_sched_set(s->sched, v, k, err);
    free(v);
    free(hashes);
    return rc;
}

static int load_project(const char *dir, sp_project **out, sp_error *err)
{
    sp_project *p = NULL;
    int rc = sp_project_load(dir, &p, err);
    if (rc) {
        sp_project_free(p);
        return rc;
    }
    *out = p;
    return 0;
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
        rc = load_project(s->dir, &s->p, err);

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
        rc = schedule_pipes(s, s->p, err);
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

static int stopping(struct sp_server *s)
{
    return atomic_load(&s->stopping);
}

/* lock_unless_stopping: lock mu, checking every 50 ms whether the server
 * is stopping; -1 (nothing held) when it is */
static int lock_unless_stopping(struct sp_server *s, pthread_mutex_t *mu)
{
    for (;;) {
        if (stopping(s))
            return -1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int r = pthread_mutex_timedlock(mu, &ts);
        if (r == 0 && stopping(s)) {
            pthread_mutex_unlock(mu);
            return -1;
        }
        if (r == 0)
            return 0;
    }
}

static int reload_locked(sp_server *s, char **created_tokens, sp_error *err)
{
    sp_project *np = NULL;
    sp_tokens *nt = NULL;
    if (created_tokens)
        *created_tokens = NULL;
    int rc = load_project(s->dir, &np, err);
    if (!rc)
        rc = sp_tokens_load(np, &nt, created_tokens, err);
    if (rc) {
        sp_project_free(np);
        sp_serve_log(s, "reload_failed", json_pack("{s:s}", "error", err ? err->msg : ""));
        return rc;
    }
    /* schedules first: a bad one keeps everything as it was */
    rc = schedule_pipes(s, np, err);
    if (rc) {
        /* the new tokens' hashes are stored: their values must still be shown */
        sp_tokens_free(nt);
        sp_project_free(np);
        sp_serve_log(s, "reload_failed", json_pack("{s:s}", "error", err ? err->msg : ""));
        return rc;
    }
    /* no job is using the old definitions while they are swapped: wait for
     * the engine and the API handlers, but never past a stop.  Handlers
     * hold the definitions (read) and then wait for the engine; jobs hold
     * the engine and then read the definitions: the reload never waits for
     * one while holding the other — it takes the engine, tries the
     * definitions, and lets the engine go again when they are busy. */
    int held = 0, logged = 0;
    for (;;) {
        if (pthread_mutex_trylock(&s->engine_mu) != 0) {
            if (!logged++) {
                char owner[40];
                pthread_mutex_lock(&s->owner_mu);
                snprintf(owner, sizeof owner, "%s", s->owner);
                pthread_mutex_unlock(&s->owner_mu);
                sp_serve_log(s, "reload_waiting",
                             json_pack("{s:s}", "engine_used_by", *owner ? owner : "a request"));
            }
            if (lock_unless_stopping(s, &s->engine_mu))
                break;
        }
        if (pthread_rwlock_trywrlock(&s->defs) == 0) {
            held = 1;
            break;
        }
        pthread_mutex_unlock(&s->engine_mu);
        if (stopping(s))
            break;
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (!held) {
        sp_tokens_free(nt);
        sp_project_free(np);
        sp_serve_log(s, "reload_abandoned", json_pack("{s:s}", "reason", "the server is stopping"));
        return sp_error_set(err, SP_ECANCELLED, 0, "reload abandoned: the server is stopping");
    }
    sp_project *old = s->p;
    sp_tokens *oldt = s->tokens;
    sp_error aerr = SP_ERROR_INIT;
    if (sp_project_engine_adopt(np, old, &aerr))
        sp_serve_log(s, "reload_engine", json_pack("{s:s}", "error", aerr.msg));
    s->p = np;
    s->tokens = nt;
    pthread_rwlock_unlock(&s->defs);
    pthread_mutex_unlock(&s->engine_mu);
    sp_project_free(old);
    sp_tokens_free(oldt);
    sp_serve_log(s, "reloaded", json_pack("{s:i}", "pipes", (int)sp_project_npipes(np)));
    return 0;
}

int sp_server_reload(sp_server *s, char **created_tokens, sp_error *err)
{
    pthread_mutex_lock(&s->reload_mu);
    int rc = reload_locked(s, created_tokens, err);
    pthread_mutex_unlock(&s->reload_mu);
    return rc;
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

char *sp_jobs_recent_json(const char *dir, size_t limit, sp_error *err)
{
    struct sp_jobs_opts o = { dir, 0, limit ? limit : 1000, 0, NULL, NULL, NULL, NULL };
    sp_jobs *j = NULL;
    if (sp_jobs_open(&o, &j, err))
        return NULL;
    sp_jobs_filter f = { NULL, NULL, 0, 0, limit };
    json_t *arr = sp_jobs_list(j, &f);
    char *txt = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    sp_jobs_free(j);
    if (!txt)
        sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return txt;
}

int sp_run_job(sp_project *p, const char *pipe, const struct sp_run_opts *opts,
               sp_run_result *res, sp_error *err)
{
    struct sp_run_opts ol;
    const struct sp_run_opts *o = &ol;
    int orc = sp_opts_load(&ol, sizeof ol, opts, "sp_run_opts", err);
    if (orc) {
        memset(res, 0, sizeof *res);
        return orc;
    }
    if (o->dry_run)
        return sp_run(p, pipe, o, res, err);
    struct sp_jobs_opts jo = { sp_project_dir(p), 0, 1, 0, NULL, NULL, NULL, NULL };
    jo.record = 1;
    sp_jobs *j = NULL;
    sp_error lerr = SP_ERROR_INIT;
    char id[40];
    sp_job_spec spec = { pipe ? pipe : "", o->now_unix, o->params, o->nparams, o->format,
                         o->file_template, o->compression, o->strategy, "", "cli",
                         o->max_file_size, o->max_file_rows };
    int lrc = sp_jobs_open(&jo, &j, &lerr);
    if (!lrc)
        lrc = sp_jobs_begin(j, &spec, o->job_id, id, &lerr);
    if (lrc == SP_EEXIST || lrc == SP_EINVAL) { /* a bad --job-id: nothing runs */
        sp_jobs_free(j);
        memset(res, 0, sizeof *res);
        return sp_error_set(err, lrc, 0, "%s", lerr.msg);
    }
    struct sp_run_opts ro = *o;
    if (!lrc)
        ro.job_id = id;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    int rc = sp_run(p, pipe, &ro, res, err);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    if (!lrc)
        sp_jobs_end(j, id, rc, res, err, (double)(c1.tv_sec - c0.tv_sec) +
                                             (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
    sp_jobs_free(j);
    if (!rc && lrc)
        return sp_error_set(err, lrc, 0, "the run succeeded but was not recorded: %s",
                            lerr.msg);
    return rc;
}
