/* sp_serve: the daemon's shared core, under its lifecycle (sp_server.c)
 * and its HTTP API (sp_api*.c): the event log, the engine lease, the
 * definitions (loading, scheduling) and reload. */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "sp_error.h"
#include "sp_secret.h"
#include "sp_serve_int.h"
#include "sp_opts.h"
#include "sp_buf.h"
#include "sp_model.h"
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

/* --------------------------------------------------------- definitions */

int sp__serve_schedule(struct sp_server *s, sp_project *p, sp_error *err)
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

int sp__serve_load(const char *dir, sp_project **out, sp_error *err)
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

int sp__serve_stopping(struct sp_server *s)
{
    return atomic_load(&s->stopping);
}

/* lock_unless_stopping: lock mu, checking every 50 ms whether the server
 * is stopping; -1 (nothing held) when it is */
static int lock_unless_stopping(struct sp_server *s, pthread_mutex_t *mu)
{
    for (;;) {
        if (sp__serve_stopping(s))
            return -1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int r = pthread_mutex_timedlock(mu, &ts);
        if (r == 0 && sp__serve_stopping(s)) {
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
    int rc = sp__serve_load(s->dir, &np, err);
    if (!rc)
        rc = sp_tokens_load(np, &nt, created_tokens, err);
    if (rc) {
        sp_project_free(np);
        sp_serve_log(s, "reload_failed", json_pack("{s:s}", "error", err ? err->msg : ""));
        return rc;
    }
    /* schedules first: a bad one keeps everything as it was */
    rc = sp__serve_schedule(s, np, err);
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
        if (sp__serve_stopping(s))
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
