/* sp_jobs: the job table, its workers and its journal. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_jobs.h"
#include "sp_oplog.h"
#include "sp_uuid.h"
#include "sp_banned.h"

#define MAX_WORKERS 64
/* run duration histogram buckets (seconds) */
static const double hist_le[] = { 0.1, 0.5, 1, 5, 15, 60, 300, 1800 };
#define NHIST (sizeof hist_le / sizeof hist_le[0])

typedef struct job {
    char id[40];
    char *pipe;
    sp_job_status st;
    double created;    /* unix seconds (real time) */
    double updated;
    double started;
    atomic_int cancel;
    int foreign;       /* run by another live process (seen in the journal) */
    sp_job_spec spec;  /* owned copies (spec.pipe == pipe) */
    sp_param *params;
    json_t *done;      /* API form once finished (then the spec is freed) */
} job;

typedef struct pipe_metrics {
    char *pipe;
    uint64_t by_result[3]; /* ok, error, cancelled */
    uint64_t rows, bytes, delivery_errors;
    uint64_t hist[NHIST + 1];
    double dur_sum;
    double last_ok;
} pipe_metrics;

struct sp_jobs {
    struct sp_jobs_opts o;
    char *dir;
    sp_oplog *log;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a job became waiting or finished; shutdown */
    job **v;             /* oldest first */
    size_t n, cap;
    size_t nfinished;
    int accepting;
    int stop_workers;
    int shut;
    pthread_t th[MAX_WORKERS];
    unsigned nth;
    pipe_metrics *pm;
    size_t npm;
    char boot_id[64];
    json_t *cleaned;     /* job id -> what recovery undid of it (ops log "cleaned") */
};

const char *sp_job_status_name(sp_job_status s)
{
    switch (s) {
    case SP_JOB_WAITING: return "waiting";
    case SP_JOB_WORKING: return "working";
    case SP_JOB_CANCELLING: return "cancelling";
    case SP_JOB_DONE: return "done";
    case SP_JOB_ERROR: return "error";
    case SP_JOB_CANCELLED: return "cancelled";
    }
    return "error";
}

static int status_from_name(const char *s, sp_job_status *out)
{
    for (int i = SP_JOB_WAITING; i <= SP_JOB_CANCELLED; i++)
        if (s && !strcmp(s, sp_job_status_name((sp_job_status)i))) {
            *out = (sp_job_status)i;
            return 0;
        }
    return -1;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jtime(double t)
{
    char b[32];
    return t > 0 ? json_string(sp_time_text((int64_t)t, b, sizeof b)) : json_null();
}

static void read_boot_id(char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f)
        return;
    if (fgets(buf, (int)n, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* ------------------------------------------------------------- a job */

static void spec_free(job *w)
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

static void job_free(job *w)
{
    if (!w)
        return;
    spec_free(w);
    json_decref(w->done);
    free(w->pipe);
    free(w);
}

static job *job_new(const sp_job_spec *s)
{
    job *w = calloc(1, sizeof *w);
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
        job_free(w);
        return NULL;
    }
    return w;
}

static json_t *params_json(const sp_job_spec *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->nparams; i++)
        json_object_set_new(o, s->params[i].name, json_string(s->params[i].value));
    return o;
}

static json_t *options_json(const sp_job_spec *s)
{
    json_t *o = json_object();
    if (s->format)
        json_object_set_new(o, "format", json_string(s->format));
    if (s->file_template)
        json_object_set_new(o, "file_template", json_string(s->file_template));
    if (s->compression)
        json_object_set_new(o, "compression", json_string(s->compression));
    if (s->strategy)
        json_object_set_new(o, "write_strategy", json_string(s->strategy));
    if (s->max_file_size)
        json_object_set_new(o, "max_file_size", json_string(s->max_file_size));
    if (s->max_file_rows)
        json_object_set_new(o, "max_file_rows", json_string(s->max_file_rows));
    return o;
}

/* the API form of a job not yet finished */
static json_t *active_json(const job *w)
{
    json_t *j = json_object();
    char b[32];
    json_object_set_new(j, "id", json_string(w->id));
    json_object_set_new(j, "job_id", json_string(w->id));
    json_object_set_new(j, "kind", json_string("sink"));
    json_object_set_new(j, "status", json_string(sp_job_status_name(w->st)));
    json_object_set_new(j, "created_at", jtime(w->created));
    json_object_set_new(j, "updated_at", jtime(w->updated));
    json_object_set_new(j, "started_at", jtime(w->started));
    json_object_set_new(j, "is_cancellable",
                        json_boolean(w->st == SP_JOB_WAITING || w->st == SP_JOB_WORKING));
    json_t *p = json_object();
    json_object_set_new(p, "id", json_string(w->pipe));
    json_object_set_new(p, "name", json_string(w->pipe));
    json_object_set_new(j, "pipe", p);
    json_object_set_new(j, "pipe_id", json_string(w->pipe));
    json_object_set_new(j, "pipe_name", json_string(w->pipe));
    json_object_set_new(j, "logical_time",
                        w->spec.now_unix ? json_string(sp_time_text(w->spec.now_unix, b, sizeof b))
                                         : json_null());
    json_object_set_new(j, "trigger", jstr(w->spec.trigger));
    json_object_set_new(j, "token_name", jstr(w->spec.token_name));
    json_object_set_new(j, "parameters", params_json(&w->spec));
    json_object_set_new(j, "options", options_json(&w->spec));
    return j;
}

/* the ops-log row and the final API form of a finished job */
static json_t *finish_json(job *w, const sp_run_result *res, const char *error, double cpu,
                           json_t **row)
{
    json_t *j = active_json(w);
    if (res && res->service && !strcmp(res->service, "copy"))
        json_object_set_new(j, "kind", json_string("copy"));
    json_object_set_new(j, "query_sql", jstr(res ? res->sql : NULL));
    json_object_set_new(j, "service", jstr(res ? res->service : NULL));
    json_object_set_new(j, "error", jstr(error));
    if (res && res->warning)
        json_object_set_new(j, "warning", json_string(res->warning));
    json_t *st = json_object();
    json_object_set_new(st, "read_rows", json_integer(res ? (json_int_t)res->read_rows : 0));
    json_object_set_new(st, "read_bytes", json_integer(res ? (json_int_t)res->read_bytes : 0));
    json_object_set_new(st, "written_rows",
                        json_integer(res ? (json_int_t)res->written_rows : 0));
    json_object_set_new(st, "written_bytes",
                        json_integer(res ? (json_int_t)res->written_bytes : 0));
    json_object_set_new(st, "messages_acked",
                        json_integer(res ? (json_int_t)res->messages_acked : 0));
    json_object_set_new(st, "elapsed_time", json_real(res ? res->elapsed_s : 0));
    json_object_set_new(st, "cpu_time", json_real(cpu));
    json_object_set_new(j, "statistics", st);
    json_t *out = json_array(), *outs = json_array();
    for (size_t i = 0; res && i < res->nobjects; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(res->objects[i].uri));
        json_object_set_new(o, "size", json_integer((json_int_t)res->objects[i].size));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_object_set_new(o, "rows", json_integer((json_int_t)res->objects[i].rows));
        json_array_append_new(out, o);
        if (s)
            json_array_append_new(outs, json_string(s));
        free(s);
    }
    json_object_set_new(j, "output", out);

    const char *result = w->st == SP_JOB_DONE ? "ok" : w->st == SP_JOB_CANCELLED ? "cancelled"
                                                                                  : "error";
    json_t *r = json_object();
    json_object_set_new(r, "event", json_string("finished"));
    json_object_set_new(r, "timestamp", jtime(w->updated));
    json_object_set_new(r, "service", json_string(res && res->service ? res->service : ""));
    json_object_set_new(r, "pipe_id", json_string(w->pipe));
    json_object_set_new(r, "pipe_name", json_string(w->pipe));
    json_object_set_new(r, "result", json_string(result));
    json_object_set_new(r, "error", json_string(error ? error : ""));
    json_object_set_new(r, "elapsed_time", json_real(res ? res->elapsed_s : 0));
    json_object_set_new(r, "job_id", json_string(w->id));
    json_object_set_new(r, "read_rows", json_integer(res ? (json_int_t)res->read_rows : 0));
    json_object_set_new(r, "read_bytes", json_integer(res ? (json_int_t)res->read_bytes : 0));
    json_object_set_new(r, "written_rows",
                        json_integer(res ? (json_int_t)res->written_rows : 0));
    json_object_set_new(r, "written_bytes",
                        json_integer(res ? (json_int_t)res->written_bytes : 0));
    json_object_set_new(r, "output", outs);
    json_object_set_new(r, "parameters", params_json(&w->spec));
    json_object_set_new(r, "options", options_json(&w->spec));
    json_object_set_new(r, "token_name", json_string(w->spec.token_name ? w->spec.token_name : ""));
    json_object_set_new(r, "cpu_time", json_real(cpu));
    json_object_set_new(r, "job", json_incref(j));
    *row = r;
    return j;
}

/* ------------------------------------------------------------ the table */

static int push(sp_jobs *j, job *w)
{
    if (j->n == j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 64;
        job **nv = realloc(j->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        j->v = nv;
        j->cap = nc;
    }
    j->v[j->n++] = w;
    return 0;
}

static job *find(sp_jobs *j, const char *id)
{
    for (size_t i = j->n; i-- > 0;)
        if (!strcmp(j->v[i]->id, id))
            return j->v[i];
    return NULL;
}

static int finished(const job *w)
{
    return w->st == SP_JOB_DONE || w->st == SP_JOB_ERROR || w->st == SP_JOB_CANCELLED;
}

/* a job of this process that is waiting or working */
static int active(const job *w, int working_only)
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
static void trim(sp_jobs *j)
{
    if (j->nfinished <= j->o.keep)
        return;
    size_t drop = j->nfinished - j->o.keep, k = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (drop && finished(j->v[i])) {
            job_free(j->v[i]);
            drop--;
            j->nfinished--;
            continue;
        }
        j->v[k++] = j->v[i];
    }
    j->n = k;
}

static pipe_metrics *metrics_for(sp_jobs *j, const char *pipe)
{
    for (size_t i = 0; i < j->npm; i++)
        if (!strcmp(j->pm[i].pipe, pipe))
            return &j->pm[i];
    pipe_metrics *nv = realloc(j->pm, (j->npm + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    j->pm = nv;
    pipe_metrics *m = &j->pm[j->npm];
    memset(m, 0, sizeof *m);
    m->pipe = strdup(pipe);
    if (!m->pipe)
        return NULL;
    j->npm++;
    return m;
}

static void count(sp_jobs *j, const job *w, const sp_run_result *res, int code)
{
    pipe_metrics *m = metrics_for(j, w->pipe);
    if (!m)
        return;
    int r = w->st == SP_JOB_DONE ? 0 : w->st == SP_JOB_ERROR ? 1 : 2;
    m->by_result[r]++;
    if (res) {
        m->rows += res->written_rows;
        m->bytes += res->written_bytes;
        size_t b = 0;
        while (b < NHIST && res->elapsed_s > hist_le[b])
            b++;
        m->hist[b]++;
        m->dur_sum += res->elapsed_s;
    }
    if (code == SP_ESINK || code == SP_ENET || code == SP_EAUTH)
        m->delivery_errors++;
    if (r == 0)
        m->last_ok = w->updated;
}

/* move a job to its final state, journal it; under the lock.  Returns the
 * API form (a new reference) for the event callback. */
static json_t *finalize(sp_jobs *j, job *w, sp_job_status st, const sp_run_result *res,
                        const char *error, int code, double cpu)
{
    w->st = st;
    w->updated = wall();
    json_t *row = NULL;
    json_t *api = finish_json(w, res, error, cpu, &row);
    /* the journal is the record: a failed write is kept in the job's error
     * (the caller's job still finished) */
    sp_error e = SP_ERROR_INIT;
    if (j->log && row && sp_oplog_append(j->log, row, &e) != 0)
        json_object_set_new(api, "journal_error", json_string(e.msg));
    json_decref(row);
    count(j, w, res, code);
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

static job *pick(sp_jobs *j)
{
    for (size_t i = 0; i < j->n; i++) {
        job *w = j->v[i];
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
        job *w = pick(j);
        if (!w) {
            pthread_cond_wait(&j->cv, &j->mu);
            continue;
        }
        w->st = SP_JOB_WORKING;
        w->started = w->updated = wall();
        json_t *api = active_json(w);
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
        api = finalize(j, w, st, &res, msg, rc, cpu);
        trim(j);
        pthread_mutex_unlock(&j->mu);
        sp_run_result_release(&res);
        emit(j, sp_job_status_name(st), api);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ------------------------------------------------------------- journal */

typedef struct replay {
    sp_jobs *j;
    json_t *open; /* job_id -> started record, jobs not finished */
} replay;

static job *job_from_api(json_t *api)
{
    const char *id = json_string_value(json_object_get(api, "id"));
    const char *pipe = json_string_value(json_object_get(api, "pipe_name"));
    const char *st = json_string_value(json_object_get(api, "status"));
    const char *created = json_string_value(json_object_get(api, "created_at"));
    const char *updated = json_string_value(json_object_get(api, "updated_at"));
    sp_job_status s;
    if (!id || !pipe || strlen(id) >= 40 || status_from_name(st, &s))
        return NULL;
    job *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    memcpy(w->id, id, strlen(id) + 1);
    w->pipe = strdup(pipe);
    w->st = s;
    int64_t t;
    if (created && !sp_time_parse_text(created, &t))
        w->created = (double)t;
    if (updated && !sp_time_parse_text(updated, &t))
        w->updated = (double)t;
    w->done = json_incref(api);
    if (!w->pipe) {
        job_free(w);
        return NULL;
    }
    return w;
}

/* note_cleaned: append {"store","cleaned","at"} of rec to job id's list;
 * under the lock (or before the table is shared) */
static void note_cleaned(sp_jobs *j, const char *id, const json_t *rec)
{
    json_t *arr = json_object_get(j->cleaned, id);
    if (!arr)
        json_object_set_new(j->cleaned, id, arr = json_array());
    json_t *c = json_object();
    json_t *at = json_object_get(rec, "timestamp");
    json_object_set(c, "store", json_object_get(rec, "store"));
    json_object_set(c, "cleaned", json_object_get(rec, "cleaned"));
    json_object_set_new(c, "at", at ? json_incref(at) : jtime(wall()));
    json_array_append_new(arr, c);
}

void sp_jobs_note_cleaned(sp_jobs *j, const char *id, const json_t *item)
{
    if (!j || !id)
        return;
    pthread_mutex_lock(&j->mu);
    note_cleaned(j, id, item);
    pthread_mutex_unlock(&j->mu);
}

static int on_record(void *ud, json_t *rec)
{
    replay *r = ud;
    const char *ev = json_string_value(json_object_get(rec, "event"));
    const char *id = json_string_value(json_object_get(rec, "job_id"));
    if (!ev || !id)
        return 0;
    if (!strcmp(ev, "cleaned")) {
        /* what a later run or daemon start undid of this (dead) job */
        note_cleaned(r->j, id, rec);
    } else if (!strcmp(ev, "started")) {
        json_object_set(r->open, id, rec);
    } else if (!strcmp(ev, "finished")) {
        json_object_del(r->open, id);
        json_t *api = json_object_get(rec, "job");
        job *w = api ? job_from_api(api) : NULL;
        if (w && finished(w) && push(r->j, w) == 0) {
            r->j->nfinished++;
            trim(r->j);
        } else {
            job_free(w);
        }
    }
    return 0;
}

static int process_gone(sp_jobs *j, json_t *rec)
{
    const char *boot = json_string_value(json_object_get(rec, "boot_id"));
    json_int_t pid = json_integer_value(json_object_get(rec, "pid"));
    if (!boot || strcmp(boot, j->boot_id) != 0)
        return 1; /* another boot: gone */
    if (pid <= 0 || pid == (json_int_t)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int recover(sp_jobs *j, json_t *open, sp_error *err)
{
    const char *id;
    json_t *rec;
    int rc = 0;
    json_object_foreach(open, id, rec) {
        json_t *api = json_object_get(rec, "job");
        job *w = api ? job_from_api(api) : NULL;
        if (!w)
            continue;
        int gone = process_gone(j, rec);
        if (!j->o.recover || !gone) {
            /* another process runs it: listed as last seen; or its process
             * is gone and the next `serve` will record it */
            w->st = gone ? SP_JOB_ERROR : SP_JOB_WORKING;
            w->foreign = 1;
            json_object_set_new(w->done, "status", json_string(gone ? "error" : "working"));
            if (gone)
                json_object_set_new(w->done, "error",
                                    json_string("interrupted (recorded at the next serve)"));
            if (push(j, w))
                job_free(w);
            continue;
        }
        json_decref(w->done);
        w->done = NULL;
        /* rebuild the spec from the started record, then finish it */
        json_t *params = json_object_get(api, "parameters");
        size_t np = json_object_size(params), k = 0;
        w->params = calloc(np ? np : 1, sizeof *w->params);
        const char *pk;
        json_t *pv;
        json_object_foreach(params, pk, pv) {
            if (!w->params || k >= np)
                break;
            w->params[k].name = strdup(pk);
            w->params[k].value = strdup(json_string_value(pv) ? json_string_value(pv) : "");
            k++;
        }
        w->spec.params = w->params;
        w->spec.nparams = k;
        w->spec.pipe = w->pipe;
        json_t *opt = json_object_get(api, "options");
        w->spec.format = sp_strdup0(json_string_value(json_object_get(opt, "format")));
        w->spec.file_template = sp_strdup0(json_string_value(json_object_get(opt, "file_template")));
        w->spec.compression = sp_strdup0(json_string_value(json_object_get(opt, "compression")));
        w->spec.strategy = sp_strdup0(json_string_value(json_object_get(opt, "write_strategy")));
        w->spec.max_file_size = sp_strdup0(json_string_value(json_object_get(opt, "max_file_size")));
        w->spec.max_file_rows = sp_strdup0(json_string_value(json_object_get(opt, "max_file_rows")));
        w->spec.token_name = sp_strdup0(json_string_value(json_object_get(api, "token_name")));
        w->spec.trigger = sp_strdup0(json_string_value(json_object_get(api, "trigger")));
        const char *lt = json_string_value(json_object_get(api, "logical_time"));
        int64_t t;
        if (lt && !sp_time_parse_text(lt, &t))
            w->spec.now_unix = t;
        if (push(j, w)) {
            job_free(w);
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        json_decref(finalize(j, w, SP_JOB_ERROR, NULL, "interrupted", SP_EINTERNAL, 0));
    }
    trim(j);
    return rc;
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
    if (j->o.workers > MAX_WORKERS)
        j->o.workers = MAX_WORKERS;
    if (!j->o.keep)
        j->o.keep = 1000;
    j->dir = strdup(o->dir ? o->dir : ".");
    j->o.dir = j->dir;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->cleaned = json_object();
    read_boot_id(j->boot_id, sizeof j->boot_id);
    int rc = j->dir ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc && (o->run || o->recover || o->record))
        rc = sp_oplog_open(j->dir, &j->log, err);
    char path[4096];
    sp_oplog_path(j->dir ? j->dir : ".", path, sizeof path);
    replay r = { j, json_object() };
    if (!rc)
        rc = sp_oplog_each(path, on_record, &r, err);
    if (!rc)
        rc = recover(j, r.open, err);
    json_decref(r.open);
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
    job *w = find(j, id);
    if (w) {
        w->st = SP_JOB_WORKING;
        w->started = w->updated = wall();
    }
    pthread_mutex_unlock(&j->mu);
    return 0;
}

void sp_jobs_end(sp_jobs *j, const char *id, int rc, const sp_run_result *res,
                 const sp_error *err, double cpu)
{
    pthread_mutex_lock(&j->mu);
    job *w = find(j, id);
    json_t *api = NULL;
    if (w && !finished(w)) {
        sp_job_status st = rc == 0 ? SP_JOB_DONE : rc == SP_ECANCELLED ? SP_JOB_CANCELLED
                                                                       : SP_JOB_ERROR;
        const char *msg = rc == 0 ? NULL : st == SP_JOB_CANCELLED ? "cancelled"
                                         : err && err->msg[0] ? err->msg : sp_strerror(rc);
        api = finalize(j, w, st, res, msg, rc, cpu);
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
    const job *w = find(j, given);
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
    job *w = job_new(spec);
    if (!w)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (given)
        memcpy(w->id, given, strlen(given) + 1);
    else
        sp_uuid4(w->id);
    w->created = w->updated = wall();
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
        api = active_json(w);
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
    if (!rc && push(j, w))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (rc) {
        pthread_mutex_unlock(&j->mu);
        json_decref(api);
        job_free(w);
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
    job *w = find(j, id);
    if (!w) {
        pthread_mutex_unlock(&j->mu);
        return sp_error_set(err, SP_ENOTFOUND, 0, "job '%s' not found", id);
    }
    if (w->foreign) {
        pthread_mutex_unlock(&j->mu);
        return sp_error_set(err, SP_EINVAL, 0, "job '%s' is run by another process", id);
    }
    if (w->st == SP_JOB_WAITING) {
        json_t *api = finalize(j, w, SP_JOB_CANCELLED, NULL, "cancelled", SP_ECANCELLED, 0);
        trim(j);
        pthread_mutex_unlock(&j->mu);
        emit(j, "cancelled", api);
        return 0;
    }
    if (w->st == SP_JOB_WORKING) {
        w->st = SP_JOB_CANCELLING;
        atomic_store(&w->cancel, 1);
        w->updated = wall();
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

static json_t *job_json(const sp_jobs *j, const job *w)
{
    json_t *o = w->done ? json_deep_copy(w->done) : active_json(w);
    json_t *c = json_object_get(j->cleaned, w->id);
    if (c && o)
        json_object_set_new(o, "cleanup", json_deep_copy(c));
    return o;
}

json_t *sp_jobs_get(sp_jobs *j, const char *id)
{
    pthread_mutex_lock(&j->mu);
    job *w = find(j, id);
    json_t *r = w ? job_json(j, w) : NULL;
    pthread_mutex_unlock(&j->mu);
    return r;
}

json_t *sp_jobs_list(sp_jobs *j, const sp_jobs_filter *f)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&j->mu);
    for (size_t i = j->n; i-- > 0;) {
        const job *w = j->v[i];
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

static int active_count(const sp_jobs *j, int working_only)
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
    while (active_count(j, 0) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    int idle = active_count(j, 0) == 0;
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
                                  finalize(j, j->v[i], SP_JOB_CANCELLED, NULL,
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
    while (active_count(j, 1) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    /* then they are cancelled, and end cleanly */
    size_t nids = 0;
    char (*ids)[40] = calloc(j->n ? j->n : 1, sizeof *ids);
    for (size_t i = 0; i < j->n; i++) {
        job *w = j->v[i];
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
    while (active_count(j, 1))
        pthread_cond_wait(&j->cv, &j->mu);
    j->stop_workers = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (unsigned i = 0; i < j->nth; i++)
        pthread_join(j->th[i], NULL);
    j->nth = 0;
}

int sp_jobs_metrics(sp_jobs *j, sp_buf *out, sp_error *err)
{
    static const char *const results[3] = { "ok", "error", "cancelled" };
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    rc = sp_buf_adds(out,
                     "# HELP sinkpipe_jobs_total Finished jobs by pipe and result.\n"
                     "# TYPE sinkpipe_jobs_total counter\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        for (int r = 0; !rc && r < 3; r++)
            rc = sp_buf_addf(out, err, "sinkpipe_jobs_total{pipe=\"%s\",result=\"%s\"} %llu\n",
                             j->pm[i].pipe, results[r],
                             (unsigned long long)j->pm[i].by_result[r]);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_written_rows_total Rows delivered.\n"
                         "# TYPE sinkpipe_written_rows_total counter\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        rc = sp_buf_addf(out, err, "sinkpipe_written_rows_total{pipe=\"%s\"} %llu\n",
                         j->pm[i].pipe, (unsigned long long)j->pm[i].rows);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_written_bytes_total Bytes delivered.\n"
                         "# TYPE sinkpipe_written_bytes_total counter\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        rc = sp_buf_addf(out, err, "sinkpipe_written_bytes_total{pipe=\"%s\"} %llu\n",
                         j->pm[i].pipe, (unsigned long long)j->pm[i].bytes);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_delivery_errors_total Jobs failed in delivery.\n"
                         "# TYPE sinkpipe_delivery_errors_total counter\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        rc = sp_buf_addf(out, err, "sinkpipe_delivery_errors_total{pipe=\"%s\"} %llu\n",
                         j->pm[i].pipe, (unsigned long long)j->pm[i].delivery_errors);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_last_success_timestamp_seconds End of the last "
                         "successful job.\n"
                         "# TYPE sinkpipe_last_success_timestamp_seconds gauge\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++)
        if (j->pm[i].last_ok > 0)
            rc = sp_buf_addf(out, err,
                             "sinkpipe_last_success_timestamp_seconds{pipe=\"%s\"} %.3f\n",
                             j->pm[i].pipe, j->pm[i].last_ok);
    if (!rc)
        rc = sp_buf_adds(out,
                         "# HELP sinkpipe_run_duration_seconds Run time of finished jobs.\n"
                         "# TYPE sinkpipe_run_duration_seconds histogram\n", err);
    for (size_t i = 0; !rc && i < j->npm; i++) {
        const pipe_metrics *m = &j->pm[i];
        uint64_t cum = 0;
        for (size_t b = 0; !rc && b < NHIST; b++) {
            cum += m->hist[b];
            rc = sp_buf_addf(out, err,
                             "sinkpipe_run_duration_seconds_bucket{pipe=\"%s\",le=\"%g\"} %llu\n",
                             m->pipe, hist_le[b], (unsigned long long)cum);
        }
        cum += m->hist[NHIST];
        if (!rc)
            rc = sp_buf_addf(out, err,
                             "sinkpipe_run_duration_seconds_bucket{pipe=\"%s\",le=\"+Inf\"} %llu\n"
                             "sinkpipe_run_duration_seconds_sum{pipe=\"%s\"} %.6f\n"
                             "sinkpipe_run_duration_seconds_count{pipe=\"%s\"} %llu\n",
                             m->pipe, (unsigned long long)cum, m->pipe, m->dur_sum, m->pipe,
                             (unsigned long long)cum);
    }
    if (!rc)
        rc = sp_buf_addf(out, err,
                         "# HELP sinkpipe_jobs_active Jobs waiting or working.\n"
                         "# TYPE sinkpipe_jobs_active gauge\n"
                         "sinkpipe_jobs_active %d\n", active_count(j, 0));
    pthread_mutex_unlock(&j->mu);
    return rc;
}

void sp_jobs_free(sp_jobs *j)
{
    if (!j)
        return;
    if (j->nth)
        sp_jobs_shutdown(j, 0);
    for (size_t i = 0; i < j->n; i++)
        job_free(j->v[i]);
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
