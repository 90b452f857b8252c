/* sp_api_jobs: the Jobs API of the daemon (docs/serve.md): GET /v0/jobs
 * (filters: status, pipe_name, created_after/before, kind, limit),
 * GET /v0/jobs/{id}, POST /v0/jobs/{id}/cancel; a token sees the jobs of
 * the pipes it may READ.  The jobs themselves are sp_jobs'. */
#include <stdlib.h>
#include <string.h>

#include "sp_api_int.h"
#include "sp_serve_int.h"
#include "sp_error.h"
#include "sp_model.h"
#include "sp_banned.h"

static int time_arg(sp__api_call *c, const char *name, int64_t *out)
{
    const char *v = sp_http_query(c->req, name);
    *out = 0;
    if (!v)
        return 0;
    sp_error err = SP_ERROR_INIT;
    if (sp_parse_time(v, out, &err)) {
        sp__api_fail(c, 400, "%s: %s", name, err.msg);
        return -1;
    }
    return 0;
}

void sp__api_jobs(sp__api_call *c, const char *name, const char *tail)
{
    (void)name;
    (void)tail;
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
            sp__api_fail(c, 400, "limit: '%s' is not a count", lim);
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
        if (!sp__api_allowed(c, "READ", json_string_value(json_object_get(j, "pipe_name"))))
            continue;
        sp__api_add_job_url(c, j);
        json_array_append(out, j);
    }
    json_decref(all);
    sp_api_json(c->resp, 200, json_pack("{s:o}", "jobs", out));
}

static json_t *job_for(sp__api_call *c, const char *id)
{
    json_t *job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        sp__api_fail(c, 404, "job '%s' not found", id);
        return NULL;
    }
    if (!sp__api_allowed(c, "READ", json_string_value(json_object_get(job, "pipe_name")))) {
        json_decref(job);
        sp__api_forbid(c, "this job");
        return NULL;
    }
    return job;
}

void sp__api_job(sp__api_call *c, const char *id, const char *tail)
{
    (void)tail;
    json_t *job = job_for(c, id);
    if (!job)
        return;
    sp__api_add_job_url(c, job);
    sp_api_json(c->resp, 200, job);
}

void sp__api_cancel(sp__api_call *c, const char *id, const char *tail)
{
    (void)tail;
    json_t *job = job_for(c, id);
    if (!job)
        return;
    json_decref(job);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_jobs_cancel(c->s->jobs, id, &err);
    if (rc) {
        sp__api_fail(c, rc == SP_EINVAL ? 400 : sp__api_code_status(rc), "%s", err.msg);
        return;
    }
    job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        sp__api_fail(c, 404, "job '%s' not found", id);
        return;
    }
    sp__api_add_job_url(c, job);
    sp_api_json(c->resp, 200, job);
}
