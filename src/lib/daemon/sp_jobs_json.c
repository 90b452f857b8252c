/* sp_jobs_json: a job as the Jobs API shows it (waiting, working, or
 * finished with its statistics and objects) and its ops-log records
 * (tinybird.sinks_ops_log "finished" rows), docs/serve.md. */
#include <stdlib.h>
#include <string.h>

#include "sp_jobs_int.h"
#include "sp_banned.h"

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

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *sp__jobs_jtime(double t)
{
    char b[32];
    return t > 0 ? json_string(sp_time_text((int64_t)t, b, sizeof b)) : json_null();
}

static json_t *params_json(const sp_job_spec *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->nparams; i++)
        json_object_set_new(o, s->params[i].name, json_string(s->params[i].value));
    return o;
}

/* the overrides a job was given (those set, in this order) */
static json_t *options_json(const sp_job_spec *s)
{
    const struct {
        const char *key, *value;
    } opts[] = { { "format", s->format },           { "file_template", s->file_template },
                 { "compression", s->compression }, { "write_strategy", s->strategy },
                 { "max_file_size", s->max_file_size }, { "max_file_rows", s->max_file_rows } };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].value)
            json_object_set_new(o, opts[i].key, json_string(opts[i].value));
    return o;
}

/* the API form of a job not yet finished */
json_t *sp__job_active_json(const sp__job *w)
{
    json_t *j = json_object();
    char b[32];
    json_object_set_new(j, "id", json_string(w->id));
    json_object_set_new(j, "job_id", json_string(w->id));
    json_object_set_new(j, "kind", json_string("sink"));
    json_object_set_new(j, "status", json_string(sp_job_status_name(w->st)));
    json_object_set_new(j, "created_at", sp__jobs_jtime(w->created));
    json_object_set_new(j, "updated_at", sp__jobs_jtime(w->updated));
    json_object_set_new(j, "started_at", sp__jobs_jtime(w->started));
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

/* read_rows, read_bytes, written_rows, written_bytes of res (0s for NULL)
 * into o */
static void add_counts(json_t *o, const sp_run_result *res)
{
    json_object_set_new(o, "read_rows", json_integer(res ? (json_int_t)res->read_rows : 0));
    json_object_set_new(o, "read_bytes", json_integer(res ? (json_int_t)res->read_bytes : 0));
    json_object_set_new(o, "written_rows", json_integer(res ? (json_int_t)res->written_rows : 0));
    json_object_set_new(o, "written_bytes",
                        json_integer(res ? (json_int_t)res->written_bytes : 0));
}

/* the ops-log row and the final API form of a finished job */
json_t *sp__job_finish_json(sp__job *w, const sp_run_result *res, const char *error, double cpu,
                            json_t **row)
{
    json_t *j = sp__job_active_json(w);
    if (res && res->service && !strcmp(res->service, "copy"))
        json_object_set_new(j, "kind", json_string("copy"));
    json_object_set_new(j, "query_sql", jstr(res ? res->sql : NULL));
    json_object_set_new(j, "service", jstr(res ? res->service : NULL));
    json_object_set_new(j, "error", jstr(error));
    if (res && res->warning)
        json_object_set_new(j, "warning", json_string(res->warning));
    json_t *st = json_object();
    add_counts(st, res);
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
    json_object_set_new(r, "timestamp", sp__jobs_jtime(w->updated));
    json_object_set_new(r, "service", json_string(res && res->service ? res->service : ""));
    json_object_set_new(r, "pipe_id", json_string(w->pipe));
    json_object_set_new(r, "pipe_name", json_string(w->pipe));
    json_object_set_new(r, "result", json_string(result));
    json_object_set_new(r, "error", json_string(error ? error : ""));
    json_object_set_new(r, "elapsed_time", json_real(res ? res->elapsed_s : 0));
    json_object_set_new(r, "job_id", json_string(w->id));
    add_counts(r, res);
    json_object_set_new(r, "output", outs);
    json_object_set_new(r, "parameters", params_json(&w->spec));
    json_object_set_new(r, "options", options_json(&w->spec));
    json_object_set_new(r, "token_name", json_string(w->spec.token_name ? w->spec.token_name : ""));
    json_object_set_new(r, "cpu_time", json_real(cpu));
    json_object_set_new(r, "job", json_incref(j));
    *row = r;
    return j;
}
