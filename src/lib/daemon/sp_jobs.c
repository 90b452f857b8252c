/* sp_jobs: the job table of the daemon and its worker threads: submit,
 * begin/end (jobs run by the caller), cancel, listings, shutdown
 * (sp_jobs.h).  A job's API form is sp_jobs_json.c's, the journal read back
 * at open sp_jobs_recover.c's, the metrics sp_jobs_metrics.c's
 * (sp_jobs_int.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_jobs_int.h"
#include "sp_oplog.h"
#include "sp_uuid.h"
#include "sp_banned.h"

double sp__jobs_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- a job */

static void spec_free(sp__job *w)
{
    for (size_t i = 0; i < w->spec.nparams; i++) {
        free((char *)w->params[i].name);
        free((char *)w->params[i].value);
    }
    free(w->params);
    w->params = NULL;
    free((char *)w->spec.format);
    free((char *)w->spec.file_template);
    free((char *)w->spec.compression);
    free((char *)w->spec.strategy);
    free((char *)w->spec.max_file_size);
    free((char *)w->spec.max_file_rows);
    free((char *)w->spec.token_name);
    free((char *)w->spec.trigger);
    memset(&w->spec, 0, sizeof w->spec);
}

void sp__job_free(sp__job *w)
{
    if (!w)
        return;
    spec_free(w);
    json_decref(w->done);
    free(w->pipe);
    free(w);
}

static sp__job *job_new(const sp_job_spec *s)
{
    sp__job *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pipe = strdup(s->pipe);
    w->params = calloc(s->nparams ? s->nparams : 1, sizeof *w->params);
    int bad = !w->pipe || !w->params;
    for (size_t i = 0; !bad && i < s->nparams; i++) {
        w->params[i].name = strdup(s->params[i].name);
        w->params[i].value = strdup(s->params[i].value ? s->params[i].value : "");
        w->spec.nparams = i + 1;
        bad = !w->params[i].name || !w->params[i].value;
    }
    w->spec.pipe = w->pipe;
    w->spec.params = w->params;
    w->spec.now_unix = s->now_unix;
    w->spec.format = sp_strdup0(s->format);
    w->spec.file_template = sp_strdup0(s->file_template);
    w->spec.compression = sp_strdup0(s->compression);
    w->spec.strategy = sp_strdup0(s->strategy);
    w->spec.max_file_size = sp_strdup0(s->max_file_size);
    w->spec.max_file_rows = sp_strdup0(s->max_file_rows);
    w->spec.token_name = strdup(s->token_name ? s->token_name : "");
    w->spec.trigger = strdup(s->trigger ? s->trigger : "api");
    if (bad || (s->format && !w->spec.format) || (s->file_template && !w->spec.file_template) ||
        (s->compression && !w->spec.compression) || (s->strategy && !w->spec.strategy) ||
        (s->max_file_size && !w->spec.max_file_size) ||
        (s->max_file_rows && !w->spec.max_file_rows) || !w->spec.token_name || !w->spec.trigger) {
        sp__job_free(w);
        return NULL;
    }
    return w;
}

/* ------------------------------------------------------------ the table */

int sp__jobs_push(sp_jobs *j, sp__job *w)
{
    if (j->n == j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 64;
        sp__job **nv = realloc(j->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        j->v = nv;
        j->cap = nc;
    }
    j->v[j->n++] = w;
    return 0;
}

static sp__job *find(sp_jobs *j, const char *id)
{
    for (size_t i = j->n; i-- > 0;)
        if (!strcmp(j->v[i]->id, id))
            return j->v[i];
    return NULL;
}

int sp__job_finished(const sp__job *w)
{
    return w->st == SP_JOB_DONE || w->st == SP_JOB_ERROR || w->st == SP_JOB_CANCELLED;
}

/* a job of this process that is waiting or working */
static int active(const sp__job *w, int working_only)
{
    if (w->foreign)
        return 0;
    return w->st == SP_JOB_WORKING || w->st == SP_JOB_CANCELLING ||
           (!working_only && w->st == SP_JOB_WAITING);
}

static int busy_locked(const sp_jobs *j, const char *pipe)
{
    for (size_t i = 0; i < j->n; i++)
        if (active(j->v[i], 0) && !strcmp(j->v[i]->pipe, pipe))
            return 1;
    return 0;
}

/* drop the oldest finished jobs beyond `keep` */
void sp__jobs_trim(sp_jobs *j)
{
    if (j->nfinished <= j->o.keep)
        return;
    size_t drop = j->nfinished - j->o.keep, k = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (drop && sp__job_finished(j->v[i])) {
            sp__job_free(j->v[i]);
            drop--;
            j->nfinished--;
            continue;
        }
        j->v[k++] = j->v[i];
    }
    j->n = k;
}

/* move a job to its final state, journal it; under the lock.  Returns the
 * API form (a new reference) for the event callback. */
json_t *sp__jobs_finalize(sp_jobs *j, sp__job *w, sp_job_status st, const sp_run_result *res,
                          const char *error, int code, double cpu)
{
    w->st = st;
    w->updated = sp__jobs_wall();
    json_t *row = NULL;
    json_t *api = sp__job_finish_json(w, res, error, cpu, &row);
    /* the journal is the record: a failed write is kept in the job's error
     * (the caller's job still finished) */
    sp_error e = SP_ERROR_INIT;
    if (j->log && row && sp_oplog_append(j->log, row, &e) != 0)
        json_object_set_new(api, "journal_error", json_string(e.msg));
    json_decref(row);
    sp__jobs_count(j, w, res, code);
    spec_free(w);
    w->done = api;
    j->nfinished++;
    pthread_cond_broadcast(&j->cv);
    return json_incref(api);
}

static void emit(sp_jobs *j, const char *event, json_t *api)
{
    if (j->o.event && api)
        j->o.event(j->o.ud, event, api);
    json_decref(api);
}

/* ------------------------------------------------------------ workers */

static sp__job *pick(sp_jobs *j)
{
    for (size_t i = 0; i < j->n; i++) {
        sp__job *w = j->v[i];
        if (w->st != SP_JOB_WAITING)
            continue;
        int busy = 0;
        for (size_t k = 0; k < j->n && !busy; k++)
            busy = active(j->v[k], 1) && !strcmp(j->v[k]->pipe, w->pipe);
        if (!busy)
            return w;
    }
    return NULL;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    sp_jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop_workers) {
        sp__job *w = pick(j);
        if (!w) {
            pthread_cond_wait(&j->cv, &j->mu);
            continue;
        }
        w->st = SP_JOB_WORKING;
        w->started = w->updated = sp__jobs_wall();
        json_t *api = sp__job_active_json(w);
        char id[40];
        memcpy(id, w->id, sizeof id);
        pthread_mutex_unlock(&j->mu);
        emit(j, "working", api);

        /* the job is not freed while working (trim skips unfinished jobs),
         * and its spec is only read here */
        sp_run_result res;
        memset(&res, 0, sizeof res);
        sp_error err = SP_ERROR_INIT;
        double c0 = thread_cpu();
        int rc = j->o.run(j->o.ud, id, &w->spec, &w->cancel, &res, &err);
        double cpu = thread_cpu() - c0;

        pthread_mutex_lock(&j->mu);
        sp_job_status st = rc == 0 ? SP_JOB_DONE
                           : (w->cancel || rc == SP_ECANCELLED) ? SP_JOB_CANCELLED
                                                                : SP_JOB_ERROR;
        const char *msg = rc == 0 ? NULL : st == SP_JOB_CANCELLED ? "cancelled"
                                         : err.msg[0] ? err.msg : sp_strerror(rc);
        api = sp__jobs_finalize(j, w, st, &res, msg, rc, cpu);
        sp__jobs_trim(j);
        pthread_mutex_unlock(&j->mu);
        sp_run_result_release(&res);
        emit(j, sp_job_status_name(st), api);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ------------------------------------------------------------- the API */

int sp_jobs_open(const struct sp_jobs_opts *o, sp_jobs **out, sp_error *err)
{
    *out = NULL;
    sp_jobs *j = calloc(1, sizeof *j);
    if (!j)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    j->o = *o;
    if (!j->o.workers)
        j->o.workers = 2;
    if (j->o.workers > SP__JOBS_MAX_WORKERS)
        j->o.workers = SP__JOBS_MAX_WORKERS;
    if (!j->o.keep)
        j->o.keep = 1000;
    j->dir = strdup(o->dir ? o->dir : ".");
    j->o.dir = j->dir;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->cleaned = json_object();
    int rc = j->dir ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc && (o->run || o->recover || o->record))
        rc = sp_oplog_open(j->dir, &j->log, err);
    if (!rc)
        rc = sp__jobs_replay(j, err);
    j->accepting = o->run != NULL || o->record;
    for (unsigned i = 0; !rc && o->run && i < j->o.workers; i++) {
        if (pthread_create(&j->th[i], NULL, worker, j) != 0) {
            rc = sp_error_set(err, SP_EINTERNAL, 0, "cannot start a job worker");
            break;
        }
        j->nth++;
    }
    if (rc) {
        sp_jobs_free(j);
        return rc;
    }
    *out = j;
    return 0;
}

static int submit(sp_jobs *j, const sp_job_spec *spec, int skip_if_busy, const char *given,
                  char id[40], sp_error *err);

int sp_jobs_submit(sp_jobs *j, const sp_job_spec *spec, int skip_if_busy, char id[40],
                   sp_error *err)
{
    return submit(j, spec, skip_if_busy, NULL, id, err);
}

int sp_jobs_begin(sp_jobs *j, const sp_job_spec *spec, const char *given_id, char id[40],
                  sp_error *err)
{
    int rc = submit(j, spec, 0, given_id, id, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&j->mu);
    sp__job *w = find(j, id);
    if (w) {
        w->st = SP_JOB_WORKING;
        w->started = w->updated = sp__jobs_wall();
    }
    pthread_mutex_unlock(&j->mu);
    return 0;
}

void sp_jobs_end(sp_jobs *j, const char *id, int rc, const sp_run_result *res,
                 const sp_error *err, double cpu)
{
    pthread_mutex_lock(&j->mu);
    sp__job *w = find(j, id);
    json_t *api = NULL;
    if (w && !sp__job_finished(w)) {
        sp_job_status st = rc == 0 ? SP_JOB_DONE : rc == SP_ECANCELLED ? SP_JOB_CANCELLED
                                                                       : SP_JOB_ERROR;
        const char *msg = rc == 0 ? NULL : st == SP_JOB_CANCELLED ? "cancelled"
                                         : err && err->msg[0] ? err->msg : sp_strerror(rc);
        api = sp__jobs_finalize(j, w, st, res, msg, rc, cpu);
    }
    pthread_mutex_unlock(&j->mu);
    json_decref(api);
}

/* a job id given by the caller names one job only: it may be in the kept
 * list or only in the journal (older jobs are trimmed from memory) */
typedef struct id_use {
    const char *id;
    char pipe[200];
} id_use;

static int on_id(void *ud, json_t *rec)
{
    id_use *u = ud;
    const char *id = json_string_value(json_object_get(rec, "job_id"));
    if (!id || strcmp(id, u->id) != 0)
        return 0;
    const char *p = json_string_value(json_object_get(rec, "pipe_name"));
    snprintf(u->pipe, sizeof u->pipe, "%s", p ? p : "?");
    return 1;
}

static int id_taken(sp_jobs *j, const char *given, sp_error *err)
{
    id_use u = { given, "" };
    pthread_mutex_lock(&j->mu);
    const sp__job *w = find(j, given);
    if (w)
        snprintf(u.pipe, sizeof u.pipe, "%s", w->pipe);
    pthread_mutex_unlock(&j->mu);
    char path[4096];
    sp_oplog_path(j->dir, path, sizeof path);
    int rc = u.pipe[0] ? 0 : sp_oplog_each(path, on_id, &u, err);
    if (!rc && u.pipe[0])
        rc = sp_error_set(err, SP_EEXIST, 0,
                          "job id '%s' is already used (a job of pipe '%s'): give a new one",
                          given, u.pipe);
    return rc;
}

static int submit(sp_jobs *j, const sp_job_spec *spec, int skip_if_busy, const char *given,
                  char id[40], sp_error *err)
{
    if (!spec || !spec->pipe)
        return sp_error_set(err, SP_EINVAL, 0, "a job needs a pipe");
    if (given && (!*given || strlen(given) >= 40))
        return sp_error_set(err, SP_EINVAL, 0, "job id '%s': 1 to 39 characters", given);
    int trc = given ? id_taken(j, given, err) : 0;
    if (trc)
        return trc;
    sp__job *w = job_new(spec);
    if (!w)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (given)
        memcpy(w->id, given, strlen(given) + 1);
    else
        sp_uuid4(w->id);
    w->created = w->updated = sp__jobs_wall();
    w->st = SP_JOB_WAITING;
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    if (!j->accepting)
        rc = sp_error_set(err, SP_ECANCELLED, 0, "shutting down: no new jobs");
    if (!rc && given && find(j, given)) /* given twice at once in this process */
        rc = sp_error_set(err, SP_EEXIST, 0,
                          "job id '%s' is already used (a job of pipe '%s'): give a new one",
                          given, find(j, given)->pipe);
    if (!rc && skip_if_busy && busy_locked(j, w->pipe))
        rc = sp_error_set(err, SP_EEXIST, SP_RETRIABLE, "pipe '%s' is already running", w->pipe);
    json_t *api = NULL;
    if (!rc) {
        api = sp__job_active_json(w);
        json_t *rec = json_object();
        char b[32];
        json_object_set_new(rec, "event", json_string("started"));
        json_object_set_new(rec, "timestamp", json_string(sp_time_text((int64_t)w->created, b, sizeof b)));
        json_object_set_new(rec, "job_id", json_string(w->id));
        json_object_set_new(rec, "pipe_name", json_string(w->pipe));
        json_object_set_new(rec, "pid", json_integer((json_int_t)getpid()));
        json_object_set_new(rec, "boot_id", json_string(j->boot_id));
        json_object_set(rec, "job", api);
        rc = j->log ? sp_oplog_append(j->log, rec, err) : 0;
        json_decref(rec);
    }
    if (!rc && sp__jobs_push(j, w))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (rc) {
        pthread_mutex_unlock(&j->mu);
        json_decref(api);
        sp__job_free(w);
        return rc;
    }
    memcpy(id, w->id, 40);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    emit(j, "waiting", api);
    return 0;
}

int sp_jobs_cancel(sp_jobs *j, const char *id, sp_error *err)
{
    pthread_mutex_lock(&j->mu);
    sp__job *w = find(j, id);
    if (!w) {
        pthread_mutex_unlock(&j->mu);
        return sp_error_set(err, SP_ENOTFOUND, 0, "job '%s' not found", id);
    }
    if (w->foreign) {
        pthread_mutex_unlock(&j->mu);
        return sp_error_set(err, SP_EINVAL, 0, "job '%s' is run by another process", id);
    }
    if (w->st == SP_JOB_WAITING) {
        json_t *api = sp__jobs_finalize(j, w, SP_JOB_CANCELLED, NULL, "cancelled", SP_ECANCELLED, 0);
        sp__jobs_trim(j);
        pthread_mutex_unlock(&j->mu);
        emit(j, "cancelled", api);
        return 0;
    }
    if (w->st == SP_JOB_WORKING) {
        w->st = SP_JOB_CANCELLING;
        atomic_store(&w->cancel, 1);
        w->updated = sp__jobs_wall();
        pthread_mutex_unlock(&j->mu);
        if (j->o.interrupt)
            j->o.interrupt(j->o.ud, id);
        return 0;
    }
    int cancelling = w->st == SP_JOB_CANCELLING;
    pthread_mutex_unlock(&j->mu);
    if (cancelling)
        return 0;
    return sp_error_set(err, SP_EINVAL, 0, "job '%s' has already finished", id);
}

static json_t *job_json(const sp_jobs *j, const sp__job *w)
{
    json_t *o = w->done ? json_deep_copy(w->done) : sp__job_active_json(w);
    json_t *c = json_object_get(j->cleaned, w->id);
    if (c && o)
        json_object_set_new(o, "cleanup", json_deep_copy(c));
    return o;
}

json_t *sp_jobs_get(sp_jobs *j, const char *id)
{
    pthread_mutex_lock(&j->mu);
    sp__job *w = find(j, id);
    json_t *r = w ? job_json(j, w) : NULL;
    pthread_mutex_unlock(&j->mu);
    return r;
}

json_t *sp_jobs_list(sp_jobs *j, const sp_jobs_filter *f)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&j->mu);
    for (size_t i = j->n; i-- > 0;) {
        const sp__job *w = j->v[i];
        if (f && f->status && strcmp(f->status, sp_job_status_name(w->st)) != 0)
            continue;
        if (f && f->pipe_name && strcmp(f->pipe_name, w->pipe) != 0)
            continue;
        if (f && f->created_after && !(w->created > (double)f->created_after))
            continue;
        if (f && f->created_before && !(w->created < (double)f->created_before))
            continue;
        json_array_append_new(arr, job_json(j, w));
        if (f && f->limit && json_array_size(arr) >= f->limit)
            break;
    }
    pthread_mutex_unlock(&j->mu);
    return arr;
}

int sp_jobs_pipe_busy(sp_jobs *j, const char *pipe)
{
    pthread_mutex_lock(&j->mu);
    int r = busy_locked(j, pipe);
    pthread_mutex_unlock(&j->mu);
    return r;
}

int sp__jobs_active_count(const sp_jobs *j, int working_only)
{
    int n = 0;
    for (size_t i = 0; i < j->n; i++)
        n += active(j->v[i], working_only);
    return n;
}

static void deadline_ts(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    double t = (double)ts->tv_sec + (double)ts->tv_nsec / 1e9 + seconds;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

int sp_jobs_idle_wait(sp_jobs *j, double seconds)
{
    struct timespec ts;
    deadline_ts(&ts, seconds);
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    while (sp__jobs_active_count(j, 0) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    int idle = sp__jobs_active_count(j, 0) == 0;
    pthread_mutex_unlock(&j->mu);
    return idle;
}

void sp_jobs_shutdown(sp_jobs *j, double grace)
{
    pthread_mutex_lock(&j->mu);
    if (j->shut) {
        pthread_mutex_unlock(&j->mu);
        return;
    }
    j->shut = 1;
    j->accepting = 0;
    /* waiting jobs are dropped */
    json_t *dropped = json_array();
    for (size_t i = 0; i < j->n; i++)
        if (j->v[i]->st == SP_JOB_WAITING && !j->v[i]->foreign)
            json_array_append_new(dropped,
                                  sp__jobs_finalize(j, j->v[i], SP_JOB_CANCELLED, NULL,
                                           "cancelled: the server is stopping", SP_ECANCELLED,
                                           0));
    pthread_mutex_unlock(&j->mu);
    size_t di;
    json_t *dj;
    json_array_foreach(dropped, di, dj)
        emit(j, "cancelled", json_incref(dj));
    json_decref(dropped);
    pthread_mutex_lock(&j->mu);
    /* working ones get the grace period */
    struct timespec ts;
    deadline_ts(&ts, grace > 0 ? grace : 0);
    int rc = 0;
    while (sp__jobs_active_count(j, 1) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    /* then they are cancelled, and end cleanly */
    size_t nids = 0;
    char (*ids)[40] = calloc(j->n ? j->n : 1, sizeof *ids);
    for (size_t i = 0; i < j->n; i++) {
        sp__job *w = j->v[i];
        if (active(w, 1)) {
            w->st = SP_JOB_CANCELLING;
            atomic_store(&w->cancel, 1);
            if (ids)
                memcpy(ids[nids++], w->id, 40);
        }
    }
    pthread_mutex_unlock(&j->mu);
    for (size_t i = 0; j->o.interrupt && i < nids; i++)
        j->o.interrupt(j->o.ud, ids[i]);
    free(ids);
    pthread_mutex_lock(&j->mu);
    while (sp__jobs_active_count(j, 1))
        pthread_cond_wait(&j->cv, &j->mu);
    j->stop_workers = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (unsigned i = 0; i < j->nth; i++)
        pthread_join(j->th[i], NULL);
    j->nth = 0;
}

void sp_jobs_free(sp_jobs *j)
{
    if (!j)
        return;
    if (j->nth)
        sp_jobs_shutdown(j, 0);
    for (size_t i = 0; i < j->n; i++)
        sp__job_free(j->v[i]);
    free(j->v);
    for (size_t i = 0; i < j->npm; i++)
        free(j->pm[i].pipe);
    free(j->pm);
    sp_oplog_close(j->log);
    pthread_cond_destroy(&j->cv);
    json_decref(j->cleaned);
    pthread_mutex_destroy(&j->mu);
    free(j->dir);
    free(j);
}
