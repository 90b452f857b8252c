/* sp_jobs_recover: the job table's journal (the ops log) read back when
 * the table opens: finished jobs listed again (the last o.keep), what
 * recovery cleaned of dead runs ("cleaned" records, shown as a job's
 * "cleanup"), and jobs accepted but never finished: run by another live
 * process (listed as last seen) or by a process that is gone (with
 * o.recover: recorded as error "interrupted"). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_jobs_int.h"
#include "sp_banned.h"

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

static int status_from_name(const char *s, sp_job_status *out)
{
    for (int i = SP_JOB_WAITING; i <= SP_JOB_CANCELLED; i++)
        if (s && !strcmp(s, sp_job_status_name((sp_job_status)i))) {
            *out = (sp_job_status)i;
            return 0;
        }
    return -1;
}

typedef struct replay {
    sp_jobs *j;
    json_t *open; /* job_id -> started record, jobs not finished */
} replay;

static sp__job *job_from_api(json_t *api)
{
    const char *id = json_string_value(json_object_get(api, "id"));
    const char *pipe = json_string_value(json_object_get(api, "pipe_name"));
    const char *st = json_string_value(json_object_get(api, "status"));
    const char *created = json_string_value(json_object_get(api, "created_at"));
    const char *updated = json_string_value(json_object_get(api, "updated_at"));
    sp_job_status s;
    if (!id || !pipe || strlen(id) >= 40 || status_from_name(st, &s))
        return NULL;
    sp__job *w = calloc(1, sizeof *w);
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
        sp__job_free(w);
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
    json_object_set_new(c, "at", at ? json_incref(at) : sp__jobs_jtime(sp__jobs_wall()));
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
        sp__job *w = api ? job_from_api(api) : NULL;
        if (w && sp__job_finished(w) && sp__jobs_push(r->j, w) == 0) {
            r->j->nfinished++;
            sp__jobs_trim(r->j);
        } else {
            sp__job_free(w);
        }
    }
    return 0;
}

/* a copy of o's string member key (NULL when absent) */
static char *dup_field(const json_t *o, const char *key)
{
    return sp_strdup0(json_string_value(json_object_get(o, key)));
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
        sp__job *w = api ? job_from_api(api) : NULL;
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
            if (sp__jobs_push(j, w))
                sp__job_free(w);
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
        w->spec.format = dup_field(opt, "format");
        w->spec.file_template = dup_field(opt, "file_template");
        w->spec.compression = dup_field(opt, "compression");
        w->spec.strategy = dup_field(opt, "write_strategy");
        w->spec.max_file_size = dup_field(opt, "max_file_size");
        w->spec.max_file_rows = dup_field(opt, "max_file_rows");
        w->spec.token_name = dup_field(api, "token_name");
        w->spec.trigger = dup_field(api, "trigger");
        const char *lt = json_string_value(json_object_get(api, "logical_time"));
        int64_t t;
        if (lt && !sp_time_parse_text(lt, &t))
            w->spec.now_unix = t;
        if (sp__jobs_push(j, w)) {
            sp__job_free(w);
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        json_decref(sp__jobs_finalize(j, w, SP_JOB_ERROR, NULL, "interrupted", SP_EINTERNAL, 0));
    }
    sp__jobs_trim(j);
    return rc;
}

int sp__jobs_replay(sp_jobs *j, sp_error *err)
{
    read_boot_id(j->boot_id, sizeof j->boot_id);
    char path[4096];
    sp_oplog_path(j->dir, path, sizeof path);
    replay r = { j, json_object() };
    int rc = sp_oplog_each(path, on_record, &r, err);
    if (!rc)
        rc = recover(j, r.open, err);
    json_decref(r.open);
    return rc;
}
