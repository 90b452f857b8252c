/* sp_project: a set of definitions loaded from a folder or added from C,
 * its diagnostics, cross-definition checks and writing it back out. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sp_cron.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_secret.h"
#include "sp_banned.h"

#define DATAFILE_MAX ((size_t)16 << 20)
#define SCAN_DEPTH 3

sp_project *sp_project_new(const char *dir)
{
    sp_project *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dir = strdup(dir ? dir : ".");
    if (!p->dir) {
        free(p);
        return NULL;
    }
    return p;
}

void sp_project_free(sp_project *p)
{
    if (!p)
        return;
    if (p->att && p->att_free)
        p->att_free(p->att);
    for (size_t i = 0; i < p->nconns; i++)
        sp_connection_free(p->conns[i]);
    for (size_t i = 0; i < p->ndss; i++)
        sp_datasource_free(p->dss[i]);
    for (size_t i = 0; i < p->npipes; i++)
        sp_pipe_free(p->pipes[i]);
    for (size_t i = 0; i < p->ndiags; i++) {
        free(p->diags[i].text);
        free(p->diags[i].path);
        free(p->diags[i].key);
    }
    for (size_t i = 0; i < p->nwarns; i++)
        free(p->warns[i]);
    free(p->warns);
    free(p->conns);
    free(p->dss);
    free(p->pipes);
    free(p->diags);
    sp_env_free(p->env);
    free(p->dir);
    free(p);
}

int sp_project_add_diag_at(sp_project *p, const char *path, int line, const char *key,
                           int code, const char *text)
{
    sp_diag *v = realloc(p->diags, (p->ndiags + 1) * sizeof *v);
    if (!v)
        return SP_ENOMEM;
    p->diags = v;
    /* never a secret (sp_secret.h); "***" may be longer than a short one */
    size_t cap = strlen(text) * 3 + 4;
    sp_diag d = { malloc(cap), path ? strdup(path) : NULL, line, key ? strdup(key) : NULL,
                  code };
    if (!d.text || (path && !d.path) || (key && !d.key)) {
        free(d.text);
        free(d.path);
        free(d.key);
        return SP_ENOMEM;
    }
    memcpy(d.text, text, strlen(text) + 1);
    sp_secret_scrub(d.text, cap, NULL);
    v[p->ndiags++] = d;
    return 0;
}

int sp_project_add_diag(sp_project *p, int code, const char *text)
{
    return sp_project_add_diag_at(p, NULL, 0, NULL, code, text);
}

const sp_diag *sp_project_diag_at(const sp_project *p, size_t i)
{
    return p && i < p->ndiags ? &p->diags[i] : NULL;
}

/* fail: record err's message as a diagnostic and return rc */
static int fail(sp_project *p, int rc, const sp_error *e, sp_error *err)
{
    sp_project_add_diag_at(p, e->path[0] ? e->path : NULL, e->line, e->key[0] ? e->key : NULL,
                           e->code ? e->code : rc, e->msg);
    sp_error_copy(err, e);
    return rc;
}

/* name_taken: datasource and pipe names share one namespace (both are
 * tables for the SQL); connections have their own */
static const char *name_taken(const sp_project *p, const char *name)
{
    for (size_t i = 0; i < p->ndss; i++)
        if (strcmp(p->dss[i]->name, name) == 0)
            return p->dss[i]->path ? p->dss[i]->path : "a datasource";
    for (size_t i = 0; i < p->npipes; i++)
        if (strcmp(p->pipes[i]->name, name) == 0)
            return p->pipes[i]->path ? p->pipes[i]->path : "a pipe";
    return NULL;
}

static int dup_error(sp_project *p, const char *path, const char *name, const char *other,
                     sp_error *err)
{
    sp_error e = SP_ERROR_INIT;
    sp_error_set(&e, SP_EEXIST, 0, "%s: name '%s' is already used by %s", path ? path : name,
                 name, other);
    return fail(p, SP_EEXIST, &e, err);
}

static int push(void ***v, size_t *n, void *x)
{
    void **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return SP_ENOMEM;
    nv[(*n)++] = x;
    *v = nv;
    return 0;
}

int sp_project_add_connection(sp_project *p, sp_connection *c, sp_error *err)
{
    if (!p || !c) {
        sp_connection_free(c);
        return sp_error_set(err, SP_EINVAL, 0, "add connection: NULL argument");
    }
    sp_error e = SP_ERROR_INIT;
    int rc = sp_connection_validate(c, &e);
    if (!rc)
        for (size_t i = 0; i < p->nconns; i++)
            if (strcmp(p->conns[i]->name, c->name) == 0) {
                rc = dup_error(p, c->path, c->name,
                               p->conns[i]->path ? p->conns[i]->path : "a connection", err);
                sp_connection_free(c);
                return rc;
            }
    if (!rc && push((void ***)&p->conns, &p->nconns, c))
        rc = sp_error_set(&e, SP_ENOMEM, 0, "connection '%s': out of memory", c->name);
    if (rc) {
        sp_connection_free(c);
        return fail(p, rc, &e, err);
    }
    return 0;
}

int sp_project_add_datasource(sp_project *p, sp_datasource *d, sp_error *err)
{
    if (!p || !d) {
        sp_datasource_free(d);
        return sp_error_set(err, SP_EINVAL, 0, "add datasource: NULL argument");
    }
    sp_error e = SP_ERROR_INIT;
    int rc = sp_datasource_validate(d, &e);
    const char *other = rc ? NULL : name_taken(p, d->name);
    if (other) {
        rc = dup_error(p, d->path, d->name, other, err);
        sp_datasource_free(d);
        return rc;
    }
    if (!rc && push((void ***)&p->dss, &p->ndss, d))
        rc = sp_error_set(&e, SP_ENOMEM, 0, "datasource '%s': out of memory", d->name);
    if (rc) {
        sp_datasource_free(d);
        return fail(p, rc, &e, err);
    }
    return 0;
}

int sp_project_add_pipe(sp_project *p, sp_pipe *pipe, sp_error *err)
{
    if (!p || !pipe) {
        sp_pipe_free(pipe);
        return sp_error_set(err, SP_EINVAL, 0, "add pipe: NULL argument");
    }
    sp_error e = SP_ERROR_INIT;
    int rc = sp_pipe_validate(pipe, &e);
    const char *other = rc ? NULL : name_taken(p, pipe->name);
    if (other) {
        rc = dup_error(p, pipe->path, pipe->name, other, err);
        sp_pipe_free(pipe);
        return rc;
    }
    if (!rc && push((void ***)&p->pipes, &p->npipes, pipe))
        rc = sp_error_set(&e, SP_ENOMEM, 0, "pipe '%s': out of memory", pipe->name);
    if (rc) {
        sp_pipe_free(pipe);
        return fail(p, rc, &e, err);
    }
    return 0;
}

/* ------------------------------------------------------------ loading */

typedef struct found {
    char *rel; /* path relative to the project folder */
    int kind;  /* 0 connection, 1 datasource, 2 pipe */
} found;

typedef struct foundlist {
    found *v;
    size_t n;
} foundlist;

static int kind_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return -1;
    if (strcmp(dot, ".connection") == 0)
        return 0;
    if (strcmp(dot, ".datasource") == 0)
        return 1;
    if (strcmp(dot, ".pipe") == 0)
        return 2;
    return -1;
}

static int cmp_found(const void *a, const void *b)
{
    const found *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return strcmp(x->rel, y->rel);
}

static int scan(const char *root, const char *rel, int depth, foundlist *out, sp_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        if (depth == 0)
            return sp_error_set(err, errno == ENOENT ? SP_ENOTFOUND : SP_EIO, 0,
                                "%s: cannot open project folder: %s", root, strerror(errno));
        return 0;
    }
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (n[0] == '.' || strcmp(n, "node_modules") == 0)
            continue;
        char sub[4096];
        int w = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", n);
        if (w < 0 || (size_t)w >= sizeof sub)
            continue;
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 < SCAN_DEPTH)
                rc = scan(root, sub, depth + 1, out, err);
            continue;
        }
        int k = kind_of(n);
        if (k < 0 || !S_ISREG(st.st_mode))
            continue;
        found *v = realloc(out->v, (out->n + 1) * sizeof *v);
        if (!v || !(v[out->n].rel = strdup(sub))) {
            if (v)
                out->v = v;
            rc = sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", root);
            break;
        }
        v[out->n].kind = k;
        out->v = v;
        out->n++;
    }
    closedir(d);
    return rc;
}

static int read_file(const char *path, const char *rel, sp_buf *b, sp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sp_error_set(err, SP_EIO, 0, "%s: cannot open: %s", rel, strerror(errno));
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > b->max) { /* name the line the ceiling falls on */
            size_t fit = b->max - b->len;
            int line = 1;
            for (size_t i = 0; i < b->len; i++)
                line += b->data[i] == '\n';
            for (size_t i = 0; i < fit; i++)
                line += chunk[i] == '\n';
            rc = sp_error_set(err, SP_ETOOBIG, 0,
                              "%s:%d: datafile larger than %zu MiB (the limit is reached "
                              "on this line)",
                              rel, line, b->max >> 20);
            break;
        }
        rc = sp_buf_add(b, chunk, n, err);
    }
    if (!rc && ferror(f))
        rc = sp_error_set(err, SP_EIO, 0, "%s: read error", rel);
    fclose(f);
    return rc;
}

int sp_project_datafile_kind(const char *name)
{
    return kind_of(name);
}

int sp_project_add_text(sp_project *p, const char *rel, const char *text, size_t len,
                        sp_error *err)
{
    sp_error e = SP_ERROR_INIT;
    int r;
    int kind = kind_of(rel);
    if (kind == 0) {
        sp_connection *c;
        r = sp_datafile_parse_connection(rel, text, len, &c, &e);
        if (!r)
            return sp_project_add_connection(p, c, err);
    } else if (kind == 1) {
        sp_datasource *d;
        r = sp_datafile_parse_datasource(rel, text, len, &d, &e);
        if (!r)
            return sp_project_add_datasource(p, d, err);
    } else if (kind == 2) {
        sp_pipe *pp;
        r = sp_datafile_parse_pipe(rel, text, len, &pp, &e);
        if (!r)
            return sp_project_add_pipe(p, pp, err);
    } else {
        r = sp_error_set(&e, SP_EDEF, 0,
                         "%s: not a datafile (expected .connection, .datasource or .pipe)", rel);
    }
    return fail(p, r, &e, err); /* parse failure: not yet recorded */
}

int sp_project_load(const char *dir, sp_project **out, sp_error *err)
{
    *out = NULL;
    sp_project *p = sp_project_new(dir);
    if (!p)
        return sp_error_set(err, SP_ENOMEM, 0, "project: out of memory");
    foundlist fl = { NULL, 0 };
    int rc = scan(p->dir, "", 0, &fl, err);
    if (rc) {
        for (size_t i = 0; i < fl.n; i++)
            free(fl.v[i].rel);
        free(fl.v);
        sp_project_free(p);
        return rc;
    }
    if (fl.n) /* qsort wants an array, even of nothing (an empty folder) */
        qsort(fl.v, fl.n, sizeof *fl.v, cmp_found);
    int first = 0;
    for (size_t i = 0; i < fl.n; i++) {
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", p->dir, fl.v[i].rel);
        sp_buf b = SP_BUF_INIT(DATAFILE_MAX);
        sp_error e = SP_ERROR_INIT;
        int r = read_file(full, fl.v[i].rel, &b, &e);
        if (r)
            fail(p, r, &e, err);
        else
            r = sp_project_add_text(p, fl.v[i].rel, b.data ? b.data : "", b.len, err);
        if (r && !first)
            first = r;
        sp_buf_release(&b);
        free(fl.v[i].rel);
    }
    free(fl.v);
    *out = p;
    int crc = sp_project_check(p, err);
    if (first)
        return first == SP_ENOMEM ? SP_ENOMEM : SP_EDEF;
    return crc;
}

/* ------------------------------------------------------------- checks */

static int collect_warnings(sp_project *p);

int sp_project_check(sp_project *p, sp_error *err)
{
    int bad = 0;
    for (size_t i = 0; i < p->nwarns; i++)
        free(p->warns[i]);
    p->nwarns = 0;
    if (collect_warnings(p) == SP_ENOMEM)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    sp_where where;
    for (size_t i = 0; i < p->npipes; i++) {
        const sp_pipe *pi = p->pipes[i];
        if (pi->type != SP_PIPE_SINK)
            continue;
        sp_sink_def s;
        sp_error e = SP_ERROR_INIT;
        if (sp_pipe_sink(pi, &s, &e)) {
            bad = fail(p, SP_EDEF, &e, err);
            continue;
        }
        const sp_kv *kv = sp_kvlist_find(&pi->keys, "EXPORT_CONNECTION_NAME");
        int line = kv ? kv->line : pi->type_line;
        sp_where_at(&where, pi->path, pi->name, line, "EXPORT_CONNECTION_NAME");
        if (!s.connection)
            continue; /* file:// bucket: validated by sp_pipe_validate */
        const sp_connection *c = sp_project_find_connection(p, s.connection);
        if (!c) {
            char list[512] = "";
            size_t len = 0;
            for (size_t j = 0; j < p->nconns && len < sizeof list; j++) {
                int w = snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                 p->conns[j]->name);
                if (w > 0)
                    len += (size_t)w;
            }
            sp_model_set(&e, where, SP_EDEF, "unknown connection '%s' (defined: %s)",
                         s.connection, p->nconns ? list : "none");
            bad = fail(p, SP_EDEF, &e, err);
            continue;
        }
        if (s.topic && c->type != SP_CONN_KAFKA) {
            sp_model_set(&e, where, SP_EDEF,
                         "connection '%s' is not a kafka connection (a kafka sink with "
                         "EXPORT_KAFKA_TOPIC needs TYPE kafka)", c->name);
            bad = fail(p, SP_EDEF, &e, err);
        } else if (s.bucket_uri && c->type == SP_CONN_KAFKA) {
            sp_model_set(&e, where, SP_EDEF,
                         "connection '%s' is a kafka connection (a sink with "
                         "EXPORT_BUCKET_URI needs TYPE s3 or gcs)", c->name);
            bad = fail(p, SP_EDEF, &e, err);
        } else if (s.bucket_uri && ((!strncmp(s.bucket_uri, "gs://", 5) &&
                                     c->type != SP_CONN_GCS) ||
                                    (!strncmp(s.bucket_uri, "s3://", 5) &&
                                     c->type != SP_CONN_S3))) {
            int gs = c->type == SP_CONN_GCS;
            sp_model_set(&e, where, SP_EDEF,
                         "EXPORT_BUCKET_URI '%s': connection '%s' is a %s connection "
                         "(expected %s://bucket/prefix/ or file:///abs/path/)",
                         s.bucket_uri, c->name, gs ? "gcs" : "s3", gs ? "gs" : "s3");
            bad = fail(p, SP_EDEF, &e, err);
        }
    }
    /* the datasource a materialized pipe writes */
    for (size_t i = 0; i < p->npipes; i++) {
        const sp_pipe *pi = p->pipes[i];
        if (pi->type != SP_PIPE_MATERIALIZED)
            continue;
        const sp_kv *kv = sp_kvlist_find(&pi->keys, "DATASOURCE");
        sp_error e = SP_ERROR_INIT;
        sp_where_at(&where, pi->path, pi->name, kv ? kv->line : pi->type_line,
                       "DATASOURCE");
        if (!kv || !*kv->value)
            sp_model_set(&e, where, SP_EDEF,
                         "required key is missing (the datasource a materialized pipe "
                         "writes)");
        else if (!sp_project_find_datasource(p, kv->value) &&
                 !sp_kvlist_find(&pi->keys, "ENGINE"))
            sp_model_set(&e, where, SP_EDEF,
                         "unknown datasource '%s' (a materialized pipe writes into a "
                         "datasource of the project: add %s.datasource, or ENGINE keys to "
                         "the pipe to create it)", kv->value, kv->value);
        else if (sp_project_find_datasource(p, kv->value) &&
                 sp_kvlist_find(&pi->keys, "ENGINE")) {
            const sp_kv *ek = sp_kvlist_find(&pi->keys, "ENGINE");
            sp_where_at(&where, pi->path, pi->name, ek->line, "ENGINE");
            sp_model_set(&e, where, SP_EDEF,
                         "datasource '%s' is defined by its datafile: the pipe's ENGINE "
                         "keys would be ignored (remove them)", kv->value);
        }
        if (e.code)
            bad = fail(p, SP_EDEF, &e, err);
    }
    /* ENGINE keys belong to materialized pipes (that create their target) */
    for (size_t i = 0; i < p->npipes; i++) {
        const sp_pipe *pi = p->pipes[i];
        if (pi->type == SP_PIPE_MATERIALIZED)
            continue;
        for (size_t k = 0; k < pi->keys.n; k++) {
            if (strncmp(pi->keys.v[k].key, "ENGINE", 6) != 0)
                continue;
            sp_error e = SP_ERROR_INIT;
            sp_where_at(&where, pi->path, pi->name, pi->keys.v[k].line,
                           pi->keys.v[k].key);
            sp_model_set(&e, where, SP_EDEF,
                         "only a materialized pipe takes ENGINE keys (they create the "
                         "datasource it writes)");
            bad = fail(p, SP_EDEF, &e, err);
            break;
        }
    }
    /* the datasource a copy pipe writes, its mode and schedule */
    for (size_t i = 0; i < p->npipes; i++) {
        const sp_pipe *pi = p->pipes[i];
        if (pi->type != SP_PIPE_COPY)
            continue;
        sp_error e = SP_ERROR_INIT;
        const sp_kv *kv = sp_kvlist_find(&pi->keys, "TARGET_DATASOURCE");
        sp_where_at(&where, pi->path, pi->name, kv ? kv->line : pi->type_line,
                       "TARGET_DATASOURCE");
        if (!kv || !*kv->value)
            sp_model_set(&e, where, SP_EDEF,
                         "required key is missing (the datasource a copy pipe writes)");
        else if (!sp_project_find_datasource(p, kv->value))
            sp_model_set(&e, where, SP_EDEF, "unknown datasource '%s'", kv->value);
        const sp_kv *mk = sp_kvlist_find(&pi->keys, "COPY_MODE");
        if (!e.code && mk && strcasecmp(mk->value, "append") && strcasecmp(mk->value, "replace")) {
            sp_where_at(&where, pi->path, pi->name, mk->line, "COPY_MODE");
            sp_model_set(&e, where, SP_EDEF, "'%s' is not one of append, replace",
                         mk->value);
        }
        const sp_kv *sk = sp_kvlist_find(&pi->keys, "COPY_SCHEDULE");
        sp_cron cron;
        sp_error ce = SP_ERROR_INIT;
        if (!e.code && sk && sp_cron_parse(sk->value, &cron, &ce) != 0) {
            sp_where_at(&where, pi->path, pi->name, sk->line, "COPY_SCHEDULE");
            sp_model_set(&e, where, SP_EDEF, "invalid schedule '%s': %s", sk->value,
                         ce.msg);
        }
        if (e.code)
            bad = fail(p, SP_EDEF, &e, err);
    }
    /* connections used by datasources for ingestion */
    for (size_t i = 0; i < p->ndss; i++) {
        const char *keys[2] = { "KAFKA_CONNECTION_NAME", "IMPORT_CONNECTION_NAME" };
        for (int k = 0; k < 2; k++) {
            const sp_kv *kv = sp_kvlist_find(&p->dss[i]->keys, keys[k]);
            if (kv && !sp_project_find_connection(p, kv->value)) {
                sp_error e = SP_ERROR_INIT;
                sp_where_at(&where, p->dss[i]->path, p->dss[i]->name, kv->line,
                               keys[k]);
                sp_model_set(&e, where, SP_EDEF, "unknown connection '%s'", kv->value);
                bad = fail(p, SP_EDEF, &e, err);
            }
        }
    }
    return bad ? SP_EDEF : 0;
}

int sp_project_check_secrets(sp_project *p, sp_error *err)
{
    const sp_env *env;
    int rc = sp_project_env(p, &env, err);
    if (rc)
        return rc;
    int bad = 0;
    for (size_t i = 0; i < p->nconns; i++) {
        const sp_connection *c = p->conns[i];
        for (size_t k = 0; k < c->keys.n; k++) {
            const sp_kv *kv = &c->keys.v[k];
            const char *raw = kv->value, *ov;
            if (sp_env_conn_override(env, c->name, kv->key, &ov))
                raw = ov;
            sp_where where;
            char *val = NULL;
            sp_where_at(&where, c->path, c->name, kv->line, kv->key);
            sp_error e = SP_ERROR_INIT;
            if (sp_env_resolve(env, raw, where.text, &val, NULL, &e)) {
                sp_error_locate(&e, where.path, where.line, where.key);
                bad = fail(p, e.code, &e, err);
            }
            if (val) {
                memset(val, 0, strlen(val));
                free(val);
            }
        }
    }
    return bad ? SP_ESECRET : 0;
}

/* one warning per key with no effect in a definition's keys */
static int warn_keys(sp_project *p, const sp_keytable *t, const sp_kvlist *keys,
                     const char *path, const char *name)
{
    for (size_t k = 0; k < keys->n; k++) {
        const sp_keydef *d = sp_keys_find(t, keys->v[k].key);
        if (!d || !(d->flags & SP_K_NOEFFECT))
            continue;
        sp_where where;
        char line[900];
        sp_where_at(&where, path, name, keys->v[k].line, keys->v[k].key);
        snprintf(line, sizeof line,
                 "%s: accepted as Tinybird writes it; no effect in sinkpipe (docs/datafiles.md)",
                 where.text);
        char **v = realloc(p->warns, (p->nwarns + 1) * sizeof *v);
        if (!v)
            return SP_ENOMEM;
        p->warns = v;
        if (!(v[p->nwarns] = strdup(line)))
            return SP_ENOMEM;
        p->nwarns++;
    }
    return 0;
}

static int collect_warnings(sp_project *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->ndss && !rc; i++)
        rc = warn_keys(p, &sp_keys_datasource, &p->dss[i]->keys, p->dss[i]->path,
                       p->dss[i]->name);
    for (size_t i = 0; i < p->npipes && !rc; i++)
        rc = warn_keys(p, &sp_keys_pipe, &p->pipes[i]->keys, p->pipes[i]->path,
                       p->pipes[i]->name);
    return rc;
}

size_t sp_project_nwarning(const sp_project *p)
{
    return p ? p->nwarns : 0;
}

const char *sp_project_warning(const sp_project *p, size_t i)
{
    return p && i < p->nwarns ? p->warns[i] : NULL;
}

size_t sp_project_ndiag(const sp_project *p)
{
    return p ? p->ndiags : 0;
}

const char *sp_project_diag(const sp_project *p, size_t i)
{
    return p && i < p->ndiags ? p->diags[i].text : NULL;
}

int sp_project_env(sp_project *p, const sp_env **out, sp_error *err)
{
    if (!p->env) {
        int rc = sp_env_open(p->dir, &p->env, err);
        if (rc)
            return rc;
    }
    *out = p->env;
    return 0;
}

/* -------------------------------------------------------------- write */

static int mkdirs(const char *path, sp_error *err)
{
    char tmp[4096];
    int w = snprintf(tmp, sizeof tmp, "%s", path);
    if (w < 0 || (size_t)w >= sizeof tmp)
        return sp_error_set(err, SP_EINVAL, 0, "path too long: '%s'", path);
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", tmp,
                                strerror(errno));
        *s = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", tmp,
                            strerror(errno));
    return 0;
}

static int write_one(const char *outdir, const char *sub, const char *name, const char *ext,
                     const sp_buf *b, sp_error *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s/%s%s", outdir, sub, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f)
        return sp_error_set(err, SP_EIO, 0, "%s: cannot create: %s", path, strerror(errno));
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return sp_error_set(err, SP_EIO, 0, "%s: write error", path);
    return 0;
}

int sp_project_write(const sp_project *p, const char *outdir, sp_error *err)
{
    static const char *const subs[3] = { "datasources", "pipes", "connections" };
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", outdir, subs[i]);
        int rc = mkdirs(path, err);
        if (rc)
            return rc;
    }
    int rc = 0;
    sp_buf b = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    for (size_t i = 0; i < p->ndss && !rc; i++) {
        sp_buf_reset(&b);
        rc = sp_datasource_write(p->dss[i], &b, err);
        rc = rc ? rc : write_one(outdir, "datasources", p->dss[i]->name, ".datasource", &b, err);
    }
    for (size_t i = 0; i < p->npipes && !rc; i++) {
        sp_buf_reset(&b);
        rc = sp_pipe_write(p->pipes[i], &b, err);
        rc = rc ? rc : write_one(outdir, "pipes", p->pipes[i]->name, ".pipe", &b, err);
    }
    for (size_t i = 0; i < p->nconns && !rc; i++) {
        sp_buf_reset(&b);
        rc = sp_connection_write(p->conns[i], &b, err);
        rc = rc ? rc : write_one(outdir, "connections", p->conns[i]->name, ".connection", &b,
                                 err);
    }
    sp_buf_release(&b);
    return rc;
}

/* ---------------------------------------------------------- accessors */

const char *sp_project_dir(const sp_project *p)
{
    return p->dir;
}
size_t sp_project_npipes(const sp_project *p)
{
    return p->npipes;
}
const sp_pipe *sp_project_pipe(const sp_project *p, size_t i)
{
    return i < p->npipes ? p->pipes[i] : NULL;
}
size_t sp_project_ndatasources(const sp_project *p)
{
    return p->ndss;
}
const sp_datasource *sp_project_datasource(const sp_project *p, size_t i)
{
    return i < p->ndss ? p->dss[i] : NULL;
}
size_t sp_project_nconnections(const sp_project *p)
{
    return p->nconns;
}
const sp_connection *sp_project_connection(const sp_project *p, size_t i)
{
    return i < p->nconns ? p->conns[i] : NULL;
}

const sp_pipe *sp_project_find_pipe(const sp_project *p, const char *name)
{
    for (size_t i = 0; name && i < p->npipes; i++)
        if (strcmp(p->pipes[i]->name, name) == 0)
            return p->pipes[i];
    return NULL;
}

const sp_datasource *sp_project_find_datasource(const sp_project *p, const char *name)
{
    for (size_t i = 0; name && i < p->ndss; i++)
        if (strcmp(p->dss[i]->name, name) == 0)
            return p->dss[i];
    return NULL;
}

const sp_connection *sp_project_find_connection(const sp_project *p, const char *name)
{
    for (size_t i = 0; name && i < p->nconns; i++)
        if (strcmp(p->conns[i]->name, name) == 0)
            return p->conns[i];
    return NULL;
}

const char *sp_pipe_schedule(const sp_pipe *p)
{
    sp_sink_def s;
    if (p->type == SP_PIPE_COPY) {
        const char *c = sp_kvlist_get(&p->keys, "COPY_SCHEDULE");
        return c && *c ? c : "@on-demand";
    }
    if (p->type != SP_PIPE_SINK || sp_pipe_sink(p, &s, NULL))
        return NULL;
    return s.schedule;
}

const char *sp_pipe_service(const sp_pipe *p)
{
    sp_sink_def s;
    if (p->type == SP_PIPE_COPY)
        return "copy";
    if (p->type != SP_PIPE_SINK || sp_pipe_sink(p, &s, NULL))
        return NULL;
    if (s.topic)
        return "kafka";
    if (s.bucket_uri && strncmp(s.bucket_uri, "file://", 7) == 0)
        return "file";
    return "s3";
}

