/* sp_api_pipes: the Pipes API of the daemon (docs/serve.md): GET /v0/pipes
 * (the pipes a token may READ, their schedules and last jobs) and POST
 * /v0/pipes/{pipe}/sink, /copy (a job of a sink or copy pipe: its
 * parameters, the sink overrides a token's scopes allow); the pipe
 * parameters of a query string (sp__api_params, also for endpoints). */
#include <stdlib.h>
#include <string.h>

#include "sp_api_int.h"
#include "sp_serve_int.h"
#include "sp_codec.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_format.h"
#include "sp_banned.h"

void sp__api_pipes(sp__api_call *c, const char *seg, const char *tail)
{
    (void)seg;
    (void)tail;
    json_t *arr = json_array();
    for (size_t i = 0; i < sp_project_npipes(c->s->p); i++) {
        const sp_pipe *pi = sp_project_pipe(c->s->p, i);
        const char *name = sp_pipe_name(pi);
        if (!sp__api_allowed(c, "READ", name))
            continue;
        const char *sch = sp_pipe_schedule(pi);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(name));
        json_object_set_new(o, "name", json_string(name));
        const char *svc = sp_pipe_service(pi);
        json_object_set_new(o, "type", json_string(svc && !strcmp(svc, "copy") ? "copy"
                                                   : sch                      ? "sink"
                                                                              : "default"));
        json_object_set_new(o, "service", sp_pipe_service(pi) ? json_string(sp_pipe_service(pi))
                                                              : json_null());
        json_object_set_new(o, "schedule", sch ? json_string(sch) : json_null());
        int64_t next = sch ? sp_sched_next(c->s->sched, name) : -1;
        char t[32];
        json_object_set_new(o, "next_fire",
                            next > 0 ? json_string(sp_time_text(next, t, sizeof t))
                            : next == 0 ? json_string("now") : json_null());
        sp_jobs_filter f = { NULL, name, 0, 0, 1 };
        json_t *last = sp_jobs_list(c->s->jobs, &f);
        json_t *lj = json_array_get(last, 0);
        if (lj) {
            json_t *l = json_object();
            json_object_set(l, "id", json_object_get(lj, "id"));
            json_object_set(l, "status", json_object_get(lj, "status"));
            json_object_set(l, "created_at", json_object_get(lj, "created_at"));
            json_object_set_new(o, "last_job", l);
        } else {
            json_object_set_new(o, "last_job", json_null());
        }
        json_decref(last);
        json_array_append_new(arr, o);
    }
    sp_api_json(c->resp, 200, json_pack("{s:o}", "pipes", arr));
}

static int is_option(const char *name)
{
    static const char *const opts[] = { "token",         "format",        "file_template",
                                        "compression",   "write_strategy", "strategy",
                                        "max_file_size", "max_file_rows", NULL };
    for (int i = 0; opts[i]; i++)
        if (!strcmp(name, opts[i]))
            return 1;
    return 0;
}

static void params_collect(void *ud, const char *name, const char *value)
{
    sp__api_params *p = ud;
    /* the TypeScript SDK adds from=ts-sdk to every request (attribution):
     * no pipe parameter; any other `from` is the pipe's */
    if (is_option(name) || p->bad || (!strcmp(name, "from") && value && !strcmp(value, "ts-sdk")))
        return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        sp_param *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) {
            p->bad = 1;
            return;
        }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n].name = name;
    p->v[p->n++].value = value;
}

int sp__api_params_get(sp__api_call *c, sp__api_params *pc)
{
    memset(pc, 0, sizeof *pc);
    sp_http_each_query(c->req, params_collect, pc);
    if (!pc->bad)
        return 0;
    free(pc->v);
    pc->v = NULL;
    sp__api_fail(c, 500, "out of memory");
    return -1;
}

const sp_pipe *sp__api_pipe(sp__api_call *c, const char *pipe)
{
    const sp_pipe *pi = sp_project_find_pipe(c->s->p, pipe);
    if (!sp__api_allowed(c, "READ", pipe)) {
        sp__api_forbid(c, "this pipe");
        return NULL;
    }
    if (!pi)
        sp__api_fail(c, 404, "pipe '%s' not found", pipe);
    return pi;
}

static int one_of(const char *v, const char *const *ok)
{
    for (int i = 0; ok[i]; i++)
        if (!strcmp(v, ok[i]))
            return 1;
    return 0;
}

/* template_names: whether object-name template t has placeholder {name} */
static int template_names(const char *t, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = t ? strchr(t, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *a = p + 1;
        while (*a == ' ' || *a == '\t')
            a++;
        if (strcspn(a, " \t,}") == nl && !strncmp(a, name, nl))
            return 1;
    }
    return 0;
}

/* names_replaced_objects: for a caller who may not override the sink, the
 * first parameter that would choose the name of an object the pipe
 * replaces (its strategy is replace and its bucket URI or file template
 * names the parameter), or NULL: a READ token never picks which existing
 * object is overwritten */
static const char *names_replaced_objects(sp__api_call *c, const sp_pipe *pi,
                                          const sp__api_params *pc)
{
    sp_sink_def d;
    if (sp__api_allowed(c, "OVERRIDE", sp_pipe_name(pi)) || sp_pipe_sink(pi, &d, NULL) != 0 ||
        d.strategy != SP_STRATEGY_REPLACE)
        return NULL;
    for (size_t i = 0; i < pc->n; i++)
        if (template_names(d.file_template, pc->v[i].name) ||
            template_names(d.bucket_uri, pc->v[i].name))
            return pc->v[i].name;
    return NULL;
}

/* POST /v0/pipes/{pipe}/sink and /copy: a job of the pipe (op "copy": a
 * copy pipe, which takes pipe parameters only) */
void sp__api_sink(sp__api_call *c, const char *pipe, const char *op)
{
    int copy = !strcmp(op, "copy");
    const sp_pipe *pi = sp__api_pipe(c, pipe);
    if (!pi)
        return;
    const char *svc = sp_pipe_service(pi);
    int is_copy = svc && !strcmp(svc, "copy");
    if (!sp_pipe_schedule(pi) || copy != is_copy) {
        sp__api_fail(c, 400, "pipe '%s' is not a %s pipe", pipe, copy ? "copy" : "sink");
        return;
    }
    static const char *const strategies[] = { "create_new", "replace", "truncate", NULL };
    const char *format = sp_http_query(c->req, "format");
    const char *compression = sp_http_query(c->req, "compression");
    const char *strategy = sp_http_query(c->req, "write_strategy");
    if (!strategy)
        strategy = sp_http_query(c->req, "strategy");
    const char *tmpl = sp_http_query(c->req, "file_template");
    /* the sink as defined is the pipe's; changing where or how it writes
     * (another name, replace instead of create_new, other bounds) needs more
     * than READ */
    if (!copy &&
        (format || compression || strategy || tmpl || sp_http_query(c->req, "max_file_size") ||
         sp_http_query(c->req, "max_file_rows")) &&
        !sp__api_allowed(c, "OVERRIDE", pipe)) {
        sp__api_fail(c, 403,
                     "token '%s' may run pipe '%s' with parameters but not override its sink "
                     "(format, compression, file_template, write_strategy, max_file_size, "
                     "max_file_rows): that needs the admin token or a token with the OVERRIDE "
                     "scope on the pipe",
                     c->token, pipe);
        return;
    }
    /* Tinybird's spellings: "new", and codec aliases ("gz") */
    const sp_codec *codec = compression ? sp_codec_find(compression) : NULL;
    if (codec)
        compression = codec->name;
    if (strategy && !strcmp(strategy, "new"))
        strategy = "create_new";
    const sp_format *ofmt = format ? sp_format_find(format) : NULL;
    if (format && (!ofmt || !ofmt->row)) { /* the row formats of the registry */
        char names[128];
        sp__api_fail(c, 400, "format: '%s' is not one of %s", format,
                     sp_format_row_names(names, sizeof names));
        return;
    }
    if (compression && !codec) {
        char aliases[128];
        sp__api_fail(c, 400, "compression: '%s' is not one of %s (or %s)", compression,
                     sp_codec_names(), sp_codec_aliases(aliases, sizeof aliases));
        return;
    }
    if (strategy && !one_of(strategy, strategies)) {
        sp__api_fail(c, 400,
                     "write_strategy: '%s' is not one of create_new (new), replace, truncate",
                     strategy);
        return;
    }
    if (tmpl && !*tmpl) {
        sp__api_fail(c, 400, "file_template: empty");
        return;
    }
    const char *max_size = sp_http_query(c->req, "max_file_size");
    const char *max_rows = sp_http_query(c->req, "max_file_rows");
    if (copy && (format || compression || strategy || tmpl || max_size || max_rows)) {
        sp__api_fail(c, 400, "pipe '%s' is a copy pipe: format, compression, write_strategy, "
                             "file_template, max_file_size and max_file_rows are for sinks", pipe);
        return;
    }
    uint64_t u;
    if (max_size && strcmp(max_size, "0") && sp_size_parse(max_size, &u)) {
        sp__api_fail(c, 400,
                     "max_file_size: '%s' is not a size (bytes, or 256MB, 1GiB; 0: no bound)",
                     max_size);
        return;
    }
    if (max_rows && strcmp(max_rows, "0") && sp_count_parse(max_rows, &u)) {
        sp__api_fail(c, 400, "max_file_rows: '%s' is not a number of rows (0: no bound)", max_rows);
        return;
    }
    sp__api_params pc;
    if (sp__api_params_get(c, &pc))
        return;
    const char *chooser = copy ? NULL : names_replaced_objects(c, pi, &pc);
    if (chooser) {
        sp__api_fail(c, 403,
                     "token '%s' may not choose which objects pipe '%s' replaces: its object names "
                     "take parameter '%s' and its strategy is replace (the admin token or a token "
                     "with the OVERRIDE scope may)",
                     c->token, pipe, chooser);
        free(pc.v);
        return;
    }
    sp_job_spec spec = { pipe,   0,     pc.v,     pc.n,     format,  tmpl,
                         compression, strategy, c->token, "api", max_size, max_rows };
    char id[40];
    sp_error err = SP_ERROR_INIT;
    int rc = sp_jobs_submit(c->s->jobs, &spec, 0, id, &err);
    free(pc.v);
    if (rc) {
        sp__api_fail(c, rc == SP_ECANCELLED ? 503 : sp__api_code_status(rc), "%s", err.msg);
        return;
    }
    json_t *job = sp_jobs_get(c->s->jobs, id);
    if (!job) {
        sp__api_fail(c, 500, "job '%s' vanished", id);
        return;
    }
    sp__api_add_job_url(c, job);
    json_t *top = json_deep_copy(job);
    json_object_set_new(top, "job", job);
    sp_api_json(c->resp, 200, top);
}
