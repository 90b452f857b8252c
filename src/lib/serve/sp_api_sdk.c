/* sp_api_sdk: what the Tinybird SDK and CLI (@tinybirdco/sdk) ask of
 * Tinybird Local and of a workspace, answered by the daemon
 * (docs/serve.md, "The Tinybird SDK and CLI"):
 *
 *   GET  /tokens                      (loopback, SINKPIPE_SERVE_LOCAL_TOKENS)
 *   GET  /v1/workspace                GET  /v1/user/workspaces
 *   POST /v1/workspaces               DELETE /v1/workspaces/{id}
 *   POST /v1/build                    POST /v1/deploy[?check=true]
 *   GET  /v1/deployments[/{id}]       DELETE /v1/deployments/{id}
 *   /v0/environments…, /v1/environments…   (branches: a clear 400)
 *
 * Workspaces: the daemon serves one project folder, and every workspace
 * name is a name of that project.  The default workspace is named after
 * the folder; POST /v1/workspaces adds a name (the SDK names one per git
 * branch) for the daemon's life.  A build through any of them changes
 * the one project, as `sinkpipe check` and the CLI see it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sp_api_int.h"
#include "sp_api_sdk.h"
#include "sp_build.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_model.h"
#include "sp_multipart.h"
#include "sp_oplog.h"
#include "sp_secret.h"
#include "sp_banned.h"

#define MAX_NAMES 64

struct sp_sdk {
    pthread_mutex_t mu;   /* names, live, seq */
    pthread_mutex_t build_mu; /* one build or deployment at a time */
    int local_tokens;
    char *names[MAX_NAMES]; /* workspace names added by POST /v1/workspaces */
    size_t nnames;
    json_t *live;         /* the live deployment (NULL before the first) */
    long seq;
};

int sp_sdk_new(int local_tokens, sp_sdk **out, sp_error *err)
{
    sp_sdk *k = calloc(1, sizeof *k);
    if (!k)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    pthread_mutex_init(&k->mu, NULL);
    pthread_mutex_init(&k->build_mu, NULL);
    k->local_tokens = local_tokens;
    *out = k;
    return 0;
}

void sp_sdk_free(sp_sdk *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nnames; i++)
        free(k->names[i]);
    json_decref(k->live);
    pthread_mutex_destroy(&k->mu);
    pthread_mutex_destroy(&k->build_mu);
    free(k);
}

/* ------------------------------------------------------------ answers */

/* ---------------------------------------------------------- workspaces */

/* the default workspace: the project folder's name, letters, digits and
 * '_' kept (others become '_') */
static void default_name(const struct sp_server *s, char *out, size_t n)
{
    const char *dir = s->dir;
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/')
        l--;
    const char *b = dir + l;
    while (b > dir && b[-1] != '/')
        b--;
    size_t k = 0;
    for (; b < dir + l && k + 1 < n; b++)
        out[k++] = ((*b >= 'a' && *b <= 'z') || (*b >= 'A' && *b <= 'Z') ||
                    (*b >= '0' && *b <= '9')) ? *b : '_';
    out[k] = '\0';
    if (!k || !strcmp(out, "_"))
        snprintf(out, n, "sinkpipe");
}

static int good_name(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (!((v[n] >= 'a' && v[n] <= 'z') || (v[n] >= 'A' && v[n] <= 'Z') ||
              (v[n] >= '0' && v[n] <= '9') || v[n] == '_'))
            return 0;
    return n > 0 && n <= 128;
}

/* the token the caller presented (authenticated by the router) */
static const char *presented(const sp_http_req *req)
{
    const char *h = sp_http_header(req, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7))
        return h + 7;
    return sp_http_query(req, "token");
}

static json_t *workspace(const char *name, const char *token)
{
    json_t *w = json_pack("{s:s,s:s}", "id", name, "name", name);
    if (token)
        json_object_set_new(w, "token", json_string(token));
    return w;
}

static void h_workspace(struct sp_server *s, sp_http_resp *r)
{
    char name[256];
    default_name(s, name, sizeof name);
    json_t *w = workspace(name, NULL);
    json_object_set_new(w, "user_email", json_string("sinkpipe@localhost"));
    json_object_set_new(w, "organization_id", json_string("sinkpipe"));
    sp_api_json(r, 200, w);
}

static void h_workspaces(struct sp_server *s, const sp_http_req *req, sp_http_resp *r)
{
    char name[256];
    default_name(s, name, sizeof name);
    const char *tok = presented(req);
    json_t *arr = json_array();
    json_array_append_new(arr, workspace(name, tok));
    pthread_mutex_lock(&s->sdk->mu);
    for (size_t i = 0; i < s->sdk->nnames; i++)
        json_array_append_new(arr, workspace(s->sdk->names[i], tok));
    pthread_mutex_unlock(&s->sdk->mu);
    sp_api_json(r, 200, json_pack("{s:s,s:o}", "organization_id", "sinkpipe", "workspaces", arr));
}

/* the value of `name` in an x-www-form-urlencoded body (NULL if absent);
 * copied raw: workspace names need no decoding (good_name) */
static int form_value(const char *body, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = body; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(out, n, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void h_create_workspace(struct sp_server *s, const sp_http_req *req, sp_http_resp *r)
{
    size_t len = 0;
    const char *body = sp_http_body(req, &len);
    char name[256] = "", dflt[256];
    if (!form_value(body ? body : "", "name", name, sizeof name)) {
        const char *q = sp_http_query(req, "name");
        snprintf(name, sizeof name, "%s", q ? q : "");
    }
    if (!good_name(name)) {
        sp_api_fail(r, 400,
                    "name: '%.128s' is not a workspace name (1 to 128 letters, digits, '_')",
                    name);
        return;
    }
    default_name(s, dflt, sizeof dflt);
    sp_sdk *k = s->sdk;
    pthread_mutex_lock(&k->mu);
    int have = !strcmp(name, dflt);
    for (size_t i = 0; i < k->nnames && !have; i++)
        have = !strcmp(k->names[i], name);
    int full = !have && k->nnames >= MAX_NAMES;
    if (!have && !full && (k->names[k->nnames] = strdup(name)) != NULL)
        k->nnames++;
    pthread_mutex_unlock(&k->mu);
    if (full) {
        sp_api_fail(r, 400, "at most %d workspace names: delete one first", MAX_NAMES);
        return;
    }
    sp_api_json(r, 200, workspace(name, presented(req)));
}

static void h_delete_workspace(struct sp_server *s, const char *id, sp_http_resp *r)
{
    char dflt[256];
    default_name(s, dflt, sizeof dflt);
    if (!strcmp(id, dflt)) {
        sp_api_fail(r, 409,
                    "workspace '%s' is the project this daemon serves: it is not deleted through "
                    "the API (its folder and data stay; stop the daemon to remove them)",
                    id);
        return;
    }
    sp_sdk *k = s->sdk;
    int found = 0;
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->nnames && !found; i++)
        if (!strcmp(k->names[i], id)) {
            free(k->names[i]);
            k->names[i] = k->names[--k->nnames];
            found = 1;
        }
    pthread_mutex_unlock(&k->mu);
    if (!found)
        sp_api_fail(r, 404, "no workspace '%.128s'", id);
    else
        sp_api_json(r, 200, json_pack("{s:s}", "id", id));
}

/* -------------------------------------------------------------- tokens */

static void h_tokens(struct sp_server *s, const sp_http_req *req, sp_http_resp *r)
{
    if (!s->sdk->local_tokens) {
        sp_api_fail(r, 403,
                    "GET /tokens hands out the admin token: the operator allows it with "
                    "SINKPIPE_SERVE_LOCAL_TOKENS=true (loopback clients only)");
        return;
    }
    if (!sp_http_loopback(req)) {
        sp_api_fail(r, 403, "GET /tokens answers clients on this machine only");
        return;
    }
    const sp_env *env = NULL;
    const char *admin = NULL;
    if (!sp_project_env(s->p, &env, NULL))
        admin = sp_keys_env_get(env, "SINKPIPE_ADMIN_TOKEN");
    if (!admin || !*admin) {
        sp_api_fail(r, 403,
                    "GET /tokens needs SINKPIPE_ADMIN_TOKEN set: a created admin token is stored "
                    "hashed, its value is not known to the daemon");
        return;
    }
    sp_api_json(r, 200, json_pack("{s:s,s:s,s:s}", "user_token", admin, "admin_token", admin,
                             "workspace_admin_token", admin));
}

/* --------------------------------------------------------------- build */

typedef struct parts {
    sp_build_file *v;
    size_t n, cap;
    char bad[200];
} parts;

static int take_part(void *ud, const sp_part *p, sp_error *err)
{
    parts *ps = ud;
    if (strcmp(p->name, "data_project://") != 0) {
        snprintf(ps->bad, sizeof ps->bad, "%.120s", p->name);
        return 0;
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        sp_build_file *v = realloc(ps->v, cap * sizeof *v);
        if (!v)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        ps->v = v;
        ps->cap = cap;
    }
    /* the parser's names live for the call only */
    char *name = strdup(p->filename);
    if (!name)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    sp_build_file f = { name, p->data, p->len };
    ps->v[ps->n++] = f;
    return 0;
}

static void parts_release(parts *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free((char *)ps->v[i].name);
    free(ps->v);
}

static json_t *names_of(const sp_build *b, int kind, int what)
{
    const char *const *v;
    size_t n = sp_build_names(b, kind, what, &v);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void add_changes(json_t *o, const sp_build *b)
{
    static const char *const kinds[3] = { "data_connector", "datasource", "pipe" };
    static const char *const whats[3] = { "new", "changed", "deleted" };
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < 3; w++) {
            char key[64];
            snprintf(key, sizeof key, "%s_%s_names", whats[w], kinds[k]);
            json_object_set_new(o, key, names_of(b, k, w));
        }
}

static void failed(sp_http_resp *r, const sp_build *b, const char *other)
{
    json_t *errs = json_array();
    for (size_t i = 0; b && i < sp_build_nissues(b); i++) {
        sp_build_issue is = sp_build_issue_at(b, i);
        json_array_append_new(errs, json_pack("{s:s,s:s}", "filename", is.filename, "error",
                                              is.error));
    }
    if (!json_array_size(errs) && other)
        json_array_append_new(errs, json_pack("{s:s,s:s}", "filename", "", "error", other));
    sp_api_json(r, 400, json_pack("{s:s,s:o}", "result", "failed", "errors", errs));
}

/* POST /v1/build, /v1/deploy: deploy = 1 answers as a deployment; check =
 * 1 validates only.  The caller (sp_api_handle) holds `defs` for reading:
 * it is let go while the daemon reloads and taken again after. */
static void h_build(struct sp_server *s, const sp_http_req *req, sp_http_resp *r, int deploy,
                    int check)
{
    char boundary[80];
    const char *ct = sp_http_header(req, "Content-Type");
    if (!ct || !sp_multipart_boundary(ct, boundary, sizeof boundary)) {
        sp_api_fail(r, 400, "the project's files are a multipart/form-data body (parts "
                       "data_project:// named NAME.datasource, NAME.pipe, NAME.connection)");
        return;
    }
    size_t len = 0;
    const char *body = sp_http_body(req, &len);
    parts ps = { NULL, 0, 0, "" };
    sp_error err = SP_ERROR_INIT;
    if (sp_multipart_each(boundary, body, len, take_part, &ps, &err)) {
        parts_release(&ps);
        sp_api_fail(r, err.code == SP_ENOMEM ? 500 : 400, "%s", err.msg);
        return;
    }
    if (ps.bad[0]) {
        parts_release(&ps);
        sp_api_fail(r, 400, "unexpected form field '%s' (the files are parts data_project://)",
                    ps.bad);
        return;
    }
    sp_sdk *k = s->sdk;
    if (pthread_mutex_trylock(&k->build_mu) != 0) {
        parts_release(&ps);
        sp_api_fail(r, 409, "another build is being applied: try again when it has finished");
        return;
    }
    sp_build *b = NULL;
    int rc = sp_build_new(s->dir, ps.v, ps.n, s->p, &b, &err);
    parts_release(&ps);
    if (rc) {
        pthread_mutex_unlock(&k->build_mu);
        sp_api_fail(r, 500, "%s", err.msg);
        return;
    }
    if (sp_build_nissues(b)) {
        pthread_mutex_unlock(&k->build_mu);
        failed(r, b, NULL);
        sp_build_free(b);
        return;
    }
    if (sp_build_unchanged(b) || check) {
        pthread_mutex_unlock(&k->build_mu);
        json_t *o = json_pack("{s:s}", "result", check && !sp_build_unchanged(b) ? "success"
                                                                              : "no_changes");
        if (!deploy) {
            json_t *bo = json_object();
            add_changes(bo, b);
            json_object_set_new(o, "build", bo);
        }
        sp_build_free(b);
        sp_api_json(r, 200, o);
        return;
    }
    sp_engine *e = NULL;
    rc = sp_serve_engine_acquire(s, "", &e, &err);
    if (!rc) {
        rc = sp_build_plan(b, e, &err);
        if (!rc)
            rc = sp_build_apply(b, e, &err);
        sp_serve_engine_release(s);
    }
    if (rc) {
        pthread_mutex_unlock(&k->build_mu);
        if (sp_build_nissues(b))
            failed(r, b, NULL);
        else
            sp_api_fail(r, 500, "%s", err.msg);
        sp_build_free(b);
        return;
    }
    pthread_mutex_lock(&k->mu);
    long id = ++k->seq;
    pthread_mutex_unlock(&k->mu);
    char ids[32], now[32];
    snprintf(ids, sizeof ids, "%ld", id);
    sp_time_text((int64_t)time(NULL), now, sizeof now);
    json_t *d = json_pack("{s:s,s:s,s:b,s:s}", "id", ids, "status", "data_ready", "live", 1,
                          "created_at", now);
    add_changes(d, b);
    json_t *fb = json_array();
    const char *destructive = sp_http_query(req, "allow_destructive_operations");
    if (destructive && (!strcmp(destructive, "true") || !strcmp(destructive, "1")))
        json_array_append_new(
            fb, json_pack("{s:s,s:n,s:s}", "level", "WARNING", "resource", "message",
                          "allow_destructive_operations has no effect: sinkpipe never drops "
                          "data (a datasource left out keeps its table and rows; a schema "
                          "change on a table with rows is refused)"));
    json_object_set_new(d, "feedback", fb);
    sp_build_free(b); /* it points at the running project, which the reload frees */
    /* the new definitions run: schedules, tokens, endpoints */
    char *created = NULL;
    pthread_rwlock_unlock(&s->defs);
    rc = sp_server_reload(s, &created, &err);
    pthread_rwlock_rdlock(&s->defs);
    pthread_mutex_unlock(&k->build_mu);
    if (rc) {
        json_decref(d);
        free(created);
        sp_api_fail(r, 500, "the files are in place but the daemon did not reload: %s", err.msg);
        return;
    }
    pthread_mutex_lock(&k->mu);
    json_decref(k->live);
    k->live = json_incref(d);
    pthread_mutex_unlock(&k->mu);
    json_t *o = json_pack("{s:s}", "result", "success");
    /* tokens of new TOKEN lines, created now: shown once, to the admin */
    json_t *toks = json_array();
    for (char *line = created, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *sp = strchr(line, ' ');
        if (sp) {
            *sp = '\0';
            json_array_append_new(toks, json_pack("{s:s,s:s}", "name", line, "token", sp + 1));
        }
        if (!nl)
            break;
    }
    free(created);
    json_object_set_new(o, "tokens", toks);
    json_object_set_new(o, deploy ? "deployment" : "build", d);
    sp_api_json(r, 200, o);
}

/* --------------------------------------------------------- deployments */

static void h_deployments(struct sp_server *s, sp_http_resp *r)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&s->sdk->mu);
    if (s->sdk->live)
        json_array_append(arr, s->sdk->live);
    pthread_mutex_unlock(&s->sdk->mu);
    sp_api_json(r, 200, json_pack("{s:o}", "deployments", arr));
}

static void h_deployment(struct sp_server *s, const char *id, int del, sp_http_resp *r)
{
    json_t *d = NULL;
    pthread_mutex_lock(&s->sdk->mu);
    json_t *live = s->sdk->live;
    if (live && !strcmp(json_string_value(json_object_get(live, "id")), id))
        d = json_incref(live);
    pthread_mutex_unlock(&s->sdk->mu);
    if (!d) {
        sp_api_fail(r, 404, "no deployment '%.64s' (only the live one is kept)", id);
        return;
    }
    if (del) {
        json_decref(d);
        sp_api_fail(r, 400, "deployment %s is live: it is replaced by the next deploy, not deleted",
                    id);
        return;
    }
    sp_api_json(r, 200, json_pack("{s:o}", "deployment", d));
}

/* -------------------------------------------------------------- routes */

int sp_api_sdk_public(struct sp_server *s, const sp_http_req *req, sp_http_resp *resp)
{
    if (strcmp(sp_http_path(req), "/tokens") != 0)
        return 0;
    if (strcmp(sp_http_method(req), "GET") != 0)
        sp_api_fail(resp, 405, "method %s not allowed on /tokens", sp_http_method(req));
    else
        h_tokens(s, req, resp);
    return 1;
}

int sp_api_sdk_route(struct sp_server *s, const sp_http_req *req, sp_http_resp *resp, int admin)
{
    const char *m = sp_http_method(req), *path = sp_http_path(req);
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE");
    if (!strncmp(path, "/v0/environments", 16) || !strncmp(path, "/v1/environments", 16)) {
        sp_api_fail(resp, 400,
                    "sinkpipe serve has no branches: set \"devMode\": \"local\" in "
                    "tinybird.config.json (tinybird build --local, dev --local) or deploy with "
                    "tinybird deploy");
        return 1;
    }
    int known = !strcmp(path, "/v1/workspace") || !strcmp(path, "/v1/user/workspaces") ||
                !strncmp(path, "/v1/workspaces", 14) || !strcmp(path, "/v1/build") ||
                !strcmp(path, "/v1/deploy") || !strncmp(path, "/v1/deployments", 15);
    if (!known)
        return 0;
    if (!strcmp(path, "/v1/workspace")) { /* any token: names the workspace */
        if (get)
            h_workspace(s, resp);
        else
            sp_api_fail(resp, 405, "method %s not allowed on %s", m, path);
        return 1;
    }
    if (!admin) {
        sp_api_fail(resp, 403, "%s needs the admin token", path);
        return 1;
    }
    const char *id = NULL;
    if (!strcmp(path, "/v1/user/workspaces") && get) {
        h_workspaces(s, req, resp);
    } else if (!strcmp(path, "/v1/workspaces") && post) {
        h_create_workspace(s, req, resp);
    } else if (!strncmp(path, "/v1/workspaces/", 15) && del && *(id = path + 15) &&
               !strchr(id, '/')) {
        h_delete_workspace(s, id, resp);
    } else if (!strcmp(path, "/v1/build") && post) {
        h_build(s, req, resp, 0, 0);
    } else if (!strcmp(path, "/v1/deploy") && post) {
        const char *c = sp_http_query(req, "check");
        h_build(s, req, resp, 1, c && (!strcmp(c, "true") || !strcmp(c, "1")));
    } else if (!strcmp(path, "/v1/deployments") && get) {
        h_deployments(s, resp);
    } else if (!strncmp(path, "/v1/deployments/", 16) && (get || del) && *(id = path + 16) &&
               !strchr(id, '/')) {
        h_deployment(s, id, del, resp);
    } else {
        sp_api_fail(resp, 405, "method %s not allowed on %s", m, path);
    }
    return 1;
}
