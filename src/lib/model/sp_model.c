/* sp_model: key lists, validators of single definitions, the sink view of a
 * pipe and the resolution of connection settings (secrets + overrides). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_cron.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_secret.h"
#include "sp_type.h"
#include "sp_banned.h"

/* ---------------------------------------------------------- validators */

static int check_name(const char *path, const char *name, sp_error *err)
{
    if (sp_name_ok(name))
        return 0;
    if (path)
        return sp_error_set(err, SP_EDEF, 0,
                            "%s: invalid name '%s' (expected letters, digits and _, not "
                            "starting with a digit)",
                            path, name ? name : "");
    return sp_error_set(err, SP_EDEF, 0,
                        "%s: invalid name (expected letters, digits and _, not starting "
                        "with a digit)",
                        name ? name : "(null)");
}

/* scopes: the accepted ones, NULL-terminated */
static int check_tokens(const sp_token *t, size_t n, const char *path, const char *name,
                        const char *const *scopes, sp_error *err)
{
    sp_where where;
    for (size_t i = 0; i < n; i++) {
        sp_where_at(&where, path, name, t[i].line, "TOKEN");
        if (!sp_name_ok(t[i].name))
            return sp_model_set(err, where, SP_EDEF, "invalid token name '%s'",
                                t[i].name ? t[i].name : "");
        int ok = 0;
        for (size_t k = 0; scopes[k] && !ok; k++)
            ok = t[i].scope && !strcasecmp(t[i].scope, scopes[k]);
        if (!ok) {
            char list[128];
            sp_keys_values(scopes, list, sizeof list);
            return sp_model_set(err, where, SP_EDEF, "unknown scope '%s' (expected %s)",
                                t[i].scope ? t[i].scope : "", list);
        }
    }
    return 0;
}

int sp_connection_validate(const sp_connection *c, sp_error *err)
{
    int rc = check_name(c->path, c->name, err);
    if (rc)
        return rc;
    return sp_keys_check(sp_keys_for_conn(c->type), &c->keys, c->path, c->name, c->type_line,
                         err);
}

int sp_datasource_validate(const sp_datasource *d, sp_error *err)
{
    sp_where where;
    int rc = check_name(d->path, d->name, err);
    if (rc)
        return rc;
    if (d->ncols == 0) {
        sp_where_at(&where, d->path, d->name, d->schema_line, "SCHEMA");
        return sp_model_set(err, where, SP_EDEF, "at least one column is required");
    }
    for (size_t i = 0; i < d->ncols; i++) {
        const sp_column_def *c = &d->cols[i];
        sp_where_at(&where, d->path, d->name, c->line, "SCHEMA");
        if (!sp_name_ok(c->name))
            return sp_model_set(err, where, SP_EDEF,
                                "invalid column name '%s' (expected letters, digits and _)",
                                c->name ? c->name : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->cols[j].name, c->name) == 0)
                return sp_model_set(err, where, SP_EDEF, "duplicate column '%s'",
                                    c->name);
        if (!c->type || !sp_chtype_ok(c->type))
            return sp_model_set(err, where, SP_EDEF,
                                "column '%s': unknown type '%s' (expected a ClickHouse "
                                "type such as String, Int64, DateTime, Nullable(T))",
                                c->name, c->type ? c->type : "");
        if (sp_chtype_depth(c->type) > SP_TYPE_MAX_DEPTH)
            return sp_model_set(err, where, SP_EDEF,
                                "column '%s': type nested more than %d levels deep",
                                c->name, SP_TYPE_MAX_DEPTH);
    }
    rc = sp_keys_check(&sp_keys_datasource, &d->keys, d->path, d->name, 0, err);
    if (rc)
        return rc;
    static const char *const ds_scopes[] = { "APPEND", "READ", "CREATE", NULL };
    return check_tokens(d->tokens, d->ntokens, d->path, d->name, ds_scopes, err);
}

static const char *sink_get(const sp_pipe *p, const char *canon, int *line)
{
    const sp_kv *kv = sp_kvlist_find_canon(&sp_keys_pipe, &p->keys, canon);
    if (line)
        *line = kv ? kv->line : p->type_line;
    return kv ? kv->value : NULL;
}

static int bad_value(const sp_pipe *p, const char *key, int line, const char *what,
                     const char *value, const char *const *vals, sp_error *err)
{
    sp_where where;
    char list[256];
    sp_where_at(&where, p->path, p->name, line, key);
    sp_keys_values(vals, list, sizeof list);
    return sp_model_set(err, where, SP_EDEF, "unknown %s '%s' (expected %s)", what,
                        value, list);
}

static const char *canon_value(const char *v, const char *const *vals)
{
    for (size_t i = 0; vals[i]; i++)
        if (strcasecmp(vals[i], v) == 0)
            return vals[i];
    return NULL;
}

int sp_pipe_sink(const sp_pipe *p, sp_sink_def *out, sp_error *err)
{
    sp_where where;
    int line;
    memset(out, 0, sizeof *out);
    if (p->type != SP_PIPE_SINK) {
        sp_where_at(&where, p->path, p->name, p->type_line, "TYPE");
        return sp_model_set(err, where, SP_EDEF, "pipe '%s' is not a sink (TYPE sink)",
                            p->name);
    }
    out->connection = sink_get(p, "EXPORT_CONNECTION_NAME", NULL);
    out->service = sink_get(p, "EXPORT_SERVICE", NULL);
    out->topic = sink_get(p, "EXPORT_KAFKA_TOPIC", NULL);
    out->bucket_uri = sink_get(p, "EXPORT_BUCKET_URI", NULL);
    out->file_template = sink_get(p, "EXPORT_FILE_TEMPLATE", NULL);
    out->schedule = sink_get(p, "EXPORT_SCHEDULE", NULL);
    if (!out->schedule || !*out->schedule)
        out->schedule = "@on-demand";
    const char *v = sink_get(p, "EXPORT_FORMAT", &line);
    out->format = sp_formats[0]; /* the registry's first: the default */
    if (v && !(out->format = canon_value(v, sp_formats)))
        return bad_value(p, "EXPORT_FORMAT", line, "format", v, sp_formats, err);
    int fmt_line = line;
    v = sink_get(p, "EXPORT_COMPRESSION", &line);
    out->compression = sp_compressions[0];
    out->compression_set = v != NULL;
    if (v && !(out->compression = canon_value(v, sp_compressions)))
        return bad_value(p, "EXPORT_COMPRESSION", line, "compression", v, sp_compressions,
                         err);
    v = sink_get(p, "EXPORT_PARQUET_ROW_GROUP_SIZE", &line);
    if (v) {
        char *end = NULL;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *v == '-' || *end || n < 1 || n > SP_PARQUET_ROW_GROUP_MAX) {
            sp_where_at(&where, p->path, p->name, line,
                           "EXPORT_PARQUET_ROW_GROUP_SIZE");
            return sp_model_set(err, where, SP_EDEF,
                                "'%s' is not a row count (expected 1 to %llu)", v,
                                (unsigned long long)SP_PARQUET_ROW_GROUP_MAX);
        }
        out->parquet_row_group_rows = n;
    }
    out->strategy = SP_STRATEGY_CREATE_NEW;
    const sp_kv *kv = sp_kvlist_find_canon(&sp_keys_pipe, &p->keys, "EXPORT_STRATEGY");
    if (kv && sp_strategy_parse(kv->value, &out->strategy))
        return bad_value(p, kv->key, kv->line, "strategy", kv->value, sp_strategies, err);
    if (out->topic && out->bucket_uri) {
        sp_where_at(&where, p->path, p->name, p->type_line,
                       "EXPORT_KAFKA_TOPIC");
        return sp_model_set(err, where, SP_EDEF,
                            "a sink has either EXPORT_KAFKA_TOPIC (kafka) or "
                            "EXPORT_BUCKET_URI (s3), not both");
    }
    static const char *const bounds[] = { "EXPORT_MAX_FILE_SIZE", "EXPORT_MAX_FILE_ROWS" };
    for (int i = 0; i < 2; i++) {
        int *lp = i ? &out->max_file_rows_line : &out->max_file_size_line;
        v = sink_get(p, bounds[i], lp);
        if (!v)
            continue;
        sp_where_at(&where, p->path, p->name, *lp, bounds[i]);
        if (out->topic)
            return sp_model_set(err, where, SP_EDEF,
                                "a kafka sink writes messages, not files (the key is for "
                                "EXPORT_BUCKET_URI sinks)");
        if (i ? sp_count_parse(v, &out->max_file_rows) : sp_size_parse(v, &out->max_file_size))
            return sp_model_set(err, where, SP_EDEF, "'%s' is not %s", v,
                                i ? "a positive number of rows"
                                  : "a positive size (bytes, or with a unit: 256MB, 1GiB; "
                                    "units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
    }
    if (out->topic && !strcmp(out->format, "parquet")) { /* (sp_sinkcfg asks the registry) */
        sp_where_at(&where, p->path, p->name, fmt_line, "EXPORT_FORMAT");
        return sp_model_set(err, where, SP_EDEF,
                            "parquet is a file format: a kafka sink (EXPORT_KAFKA_TOPIC) "
                            "sends one JSON message per row; remove EXPORT_FORMAT or export "
                            "to EXPORT_BUCKET_URI");
    }
    if (!out->topic && !out->bucket_uri) {
        sp_where_at(&where, p->path, p->name, p->type_line, "TYPE");
        return sp_model_set(err, where, SP_EDEF,
                            "a sink needs EXPORT_KAFKA_TOPIC (kafka) or EXPORT_BUCKET_URI "
                            "(s3)");
    }
    return 0;
}

int sp_pipe_validate(const sp_pipe *p, sp_error *err)
{
    sp_where where;
    int rc = check_name(p->path, p->name, err);
    if (rc)
        return rc;
    if (p->nnodes == 0) {
        sp_where_at(&where, p->path, p->name, 0, "NODE");
        return sp_model_set(err, where, SP_EDEF, "at least one node is required");
    }
    for (size_t i = 0; i < p->nnodes; i++) {
        const sp_node *n = &p->nodes[i];
        sp_where_at(&where, p->path, p->name, n->line, "NODE");
        if (!sp_name_ok(n->name))
            return sp_model_set(err, where, SP_EDEF,
                                "invalid node name '%s' (expected letters, digits and _)",
                                n->name ? n->name : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->nodes[j].name, n->name) == 0)
                return sp_model_set(err, where, SP_EDEF, "duplicate node '%s'",
                                    n->name);
        if (!n->sql || !n->sql[strspn(n->sql, " \t\r\n\f\v")]) { /* blank is none */
            sp_where_at(&where, p->path, p->name, n->line, "SQL");
            return sp_model_set(err, where, SP_EDEF, "node '%s' has no SQL", n->name);
        }
    }
    rc = sp_keys_check(&sp_keys_pipe, &p->keys, p->path, p->name, p->type_line, err);
    if (rc)
        return rc;
    static const char *const pipe_scopes[] = { "READ", "OVERRIDE", NULL };
    rc = check_tokens(p->tokens, p->ntokens, p->path, p->name, pipe_scopes, err);
    if (rc || p->type != SP_PIPE_SINK)
        return rc;
    sp_sink_def s;
    rc = sp_pipe_sink(p, &s, err);
    if (rc)
        return rc;
    int line;
    const char *raw = sink_get(p, "EXPORT_SCHEDULE", &line);
    sp_cron cron;
    sp_error cerr = SP_ERROR_INIT;
    if (sp_cron_parse(s.schedule, &cron, &cerr) != 0) {
        sp_where_at(&where, p->path, p->name, line, "EXPORT_SCHEDULE");
        return sp_model_set(err, where, SP_EDEF, "invalid schedule '%s': %s",
                            raw ? raw : s.schedule, cerr.msg);
    }
    const char *tpl[2] = { s.file_template, s.bucket_uri };
    const char *tkey[2] = { "EXPORT_FILE_TEMPLATE", "EXPORT_BUCKET_URI" };
    for (int i = 0; i < 2; i++) {
        size_t pos = 0;
        if (tpl[i] && !sp_template_balanced(tpl[i], &pos)) {
            sink_get(p, tkey[i], &line);
            sp_where_at(&where, p->path, p->name, line, tkey[i]);
            return sp_model_set(err, where, SP_EDEF,
                                "unbalanced braces at position %zu in '%s'", pos,
                                tpl[i]);
        }
    }
    if (s.bucket_uri && strncmp(s.bucket_uri, "s3://", 5) != 0 &&
        strncmp(s.bucket_uri, "file://", 7) != 0 && strncmp(s.bucket_uri, "gs://", 5) != 0) {
        sink_get(p, "EXPORT_BUCKET_URI", &line);
        sp_where_at(&where, p->path, p->name, line, "EXPORT_BUCKET_URI");
        return sp_model_set(err, where, SP_EDEF,
                            "unsupported URI '%s' (expected s3://bucket/prefix/, "
                            "gs://bucket/prefix/ or file:///dir/)", s.bucket_uri);
    }
    const char *why = s.bucket_uri ? sp_bucket_uri_problem(s.bucket_uri) : NULL;
    if (why) {
        sink_get(p, "EXPORT_BUCKET_URI", &line);
        sp_where_at(&where, p->path, p->name, line, "EXPORT_BUCKET_URI");
        return sp_model_set(err, where, SP_EDEF, "'%s': %s", s.bucket_uri, why);
    }
    if (!s.connection && !(s.bucket_uri && strncmp(s.bucket_uri, "file://", 7) == 0)) {
        sp_where_at(&where, p->path, p->name, p->type_line,
                       "EXPORT_CONNECTION_NAME");
        return sp_model_set(err, where, SP_EDEF,
                            "required key is missing (the sink's connection)");
    }
    return 0;
}

/* -------------------------------------------------------- resolution */

static const char *conn_default(sp_conn_type t, const char *key)
{
    const sp_keydef *d = sp_keys_find(sp_keys_for_conn(t), key);
    return d ? d->dflt : NULL;
}

static int settings_put(sp_settings *s, const char *key, char *value, int secret)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, key) == 0) {
            free(s->v[i].value);
            s->v[i].value = value;
            s->v[i].secret = secret;
            return 0;
        }
    }
    sp_setting *v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        goto oom;
    s->v = v;
    char *k = strdup(key);
    if (!k)
        goto oom;
    s->v[s->n++] = (sp_setting){ k, value, secret };
    return 0;
oom:
    free(value);
    return SP_ENOMEM;
}

struct ovr_ctx {
    const sp_connection *c;
    const sp_env *env;
    sp_settings *out;
    sp_error *err;
    int rc;
};

static int resolve_one(const sp_connection *c, const sp_env *env, const char *key,
                       const char *raw, int line, const char *origin, sp_settings *out,
                       sp_error *err)
{
    sp_where where;
    char *val = NULL;
    int used = 0;
    if (origin) {
        sp_where_at(&where, NULL, NULL, 0, NULL);
        snprintf(where.text, sizeof where.text, "%s", origin);
    } else {
        sp_where_at(&where, c->path, c->name, line, key);
    }
    int rc = sp_env_resolve(env, raw, where.text, &val, &used, err);
    if (rc) {
        sp_error_locate(err, where.path, where.line, where.key);
        return rc;
    }
    /* a secret key's value is never shown, from tb_secret or not */
    if (sp_secret_key(key) && sp_secret_register(val)) {
        free(val);
        return SP_ENOMEM;
    }
    return settings_put(out, key, val, used || sp_secret_key(key));
}

static void add_override(void *ud, const char *key, const char *value)
{
    struct ovr_ctx *x = ud;
    if (x->rc || sp_kvlist_find(&x->c->keys, key) || !*value)
        return;
    char origin[300];
    snprintf(origin, sizeof origin, "SINKPIPE_CONNECTION__%s__%s", x->c->name, key);
    x->rc = resolve_one(x->c, x->env, key, value, 0, origin, x->out, x->err);
}

int sp_connection_resolve(const sp_connection *c, const sp_env *env, sp_settings *out,
                          sp_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < c->keys.n && !rc; i++) {
        const sp_kv *kv = &c->keys.v[i];
        const char *ov = NULL;
        if (env && sp_env_conn_override(env, c->name, kv->key, &ov)) {
            if (!*ov)
                continue; /* removed */
            char origin[300];
            snprintf(origin, sizeof origin, "SINKPIPE_CONNECTION__%s__%s", c->name, kv->key);
            rc = resolve_one(c, env, kv->key, ov, kv->line, origin, out, err);
        } else {
            rc = resolve_one(c, env, kv->key, kv->value, kv->line, NULL, out, err);
        }
    }
    if (!rc && env) {
        struct ovr_ctx x = { c, env, out, err, 0 };
        sp_env_each_override(env, c->name, add_override, &x);
        rc = x.rc;
    }
    /* defaults of keys nobody set */
    const sp_keytable *t = sp_keys_for_conn(c->type);
    for (size_t i = 0; i < t->n && !rc; i++) {
        if (!t->keys[i].dflt || sp_settings_get(out, t->keys[i].key))
            continue;
        char *v = strdup(conn_default(c->type, t->keys[i].key));
        rc = v ? settings_put(out, t->keys[i].key, v, 0) : SP_ENOMEM;
    }
    if (rc) {
        if (rc == SP_ENOMEM)
            sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", c->name);
        sp_settings_release(out);
    }
    return rc;
}

const char *sp_settings_get(const sp_settings *s, const char *key)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->v[i].key, key) == 0)
            return s->v[i].value;
    return NULL;
}

void sp_settings_release(sp_settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        if (s->v[i].value) {
            if (s->v[i].secret) /* do not leave secrets in freed memory */
                memset(s->v[i].value, 0, strlen(s->v[i].value));
            free(s->v[i].value);
        }
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}
