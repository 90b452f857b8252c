/* sp_sdk: the public C constructors of definitions (the C form of the
 * TypeScript SDK's defineKafkaConnection / defineS3Connection /
 * defineSinkPipe / defineDatasource) and the *_free functions.  They build
 * exactly what the datafile parser builds (path NULL, line 0). */
#include <stdlib.h>
#include <string.h>

#include "sp_model.h"
#include "sp_banned.h"

/* dup_ok: s was NULL or copied */
#define DUP(dst, src) (((dst) = sp_strdup0(src)) != NULL || (src) == NULL)

static int add_opt(sp_kvlist *l, const char *key, const char *value)
{
    return value ? sp_kvlist_add(l, key, value, 0) : 0;
}

static int add_settings(sp_kvlist *l, const char *const *settings)
{
    for (size_t i = 0; settings && settings[i]; i += 2) {
        if (!settings[i + 1])
            return SP_EINVAL;
        int rc = sp_kvlist_add(l, settings[i], settings[i + 1], 0);
        if (rc)
            return rc;
    }
    return 0;
}

static sp_connection *conn_new(const char *name, sp_conn_type t)
{
    sp_connection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = t;
    if (!DUP(c->name, name ? name : "")) {
        free(c);
        return NULL;
    }
    return c;
}

sp_connection *sp_kafka_connection(const char *name, const struct sp_kafka_opts *o)
{
    sp_connection *c = conn_new(name, SP_CONN_KAFKA);
    if (!c || !o)
        return c;
    int rc = add_opt(&c->keys, "KAFKA_BOOTSTRAP_SERVERS", o->bootstrap_servers);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_SECURITY_PROTOCOL", o->security_protocol);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_SASL_MECHANISM", o->sasl_mechanism);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_KEY", o->key);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_SECRET", o->secret);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_SCHEMA_REGISTRY_URL", o->schema_registry_url);
    rc = rc ? rc : add_opt(&c->keys, "KAFKA_SSL_CA_PEM", o->ssl_ca_pem);
    rc = rc ? rc : add_settings(&c->keys, o->settings);
    if (rc == SP_ENOMEM) {
        sp_connection_free(c);
        return NULL;
    }
    return c;
}

sp_connection *sp_s3_connection(const char *name, const struct sp_s3_opts *o)
{
    sp_connection *c = conn_new(name, SP_CONN_S3);
    if (!c || !o)
        return c;
    int rc = add_opt(&c->keys, "S3_REGION", o->region);
    rc = rc ? rc : add_opt(&c->keys, "S3_ARN", o->arn);
    rc = rc ? rc : add_opt(&c->keys, "S3_ACCESS_KEY", o->access_key);
    rc = rc ? rc : add_opt(&c->keys, "S3_SECRET", o->secret);
    rc = rc ? rc : add_opt(&c->keys, "S3_ENDPOINT", o->endpoint);
    rc = rc ? rc : add_settings(&c->keys, o->settings);
    if (rc == SP_ENOMEM) {
        sp_connection_free(c);
        return NULL;
    }
    return c;
}

static int tokens_copy(const struct sp_token_opts *o, sp_token **out, size_t *nout)
{
    size_t n = 0;
    while (o && (o[n].name || o[n].scope))
        n++;
    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    sp_token *t = calloc(n, sizeof *t);
    if (!t)
        return SP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!DUP(t[i].name, o[i].name) || !DUP(t[i].scope, o[i].scope)) {
            sp_token_defs_free(t, n);
            return SP_ENOMEM;
        }
    }
    *out = t;
    *nout = n;
    return 0;
}

/* sdk_sql: the SDK trims node SQL and marks it templated when it holds
 * {{ }} or {% %} */
static int sdk_sql(const char *sql, char **out, int *templated)
{
    const char *s = sql ? sql : "";
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *out = strndup(s, n);
    if (!*out)
        return SP_ENOMEM;
    *templated = strstr(*out, "{{") != NULL || strstr(*out, "{%") != NULL;
    return 0;
}

sp_pipe *sp_sink_pipe(const char *name, const struct sp_sink_pipe_opts *o)
{
    sp_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->type = SP_PIPE_SINK;
    int rc = DUP(p->name, name ? name : "") ? 0 : SP_ENOMEM;
    if (!o)
        goto done;
    if (!rc && !DUP(p->description, o->description))
        rc = SP_ENOMEM;
    size_t n = 0;
    while (o->nodes && (o->nodes[n].name || o->nodes[n].sql))
        n++;
    if (!rc && n) {
        p->nodes = calloc(n, sizeof *p->nodes);
        if (!p->nodes)
            rc = SP_ENOMEM;
        for (size_t i = 0; !rc && i < n; i++) {
            sp_node *nd = &p->nodes[i];
            p->nnodes++;
            if (!DUP(nd->name, o->nodes[i].name ? o->nodes[i].name : "") ||
                !DUP(nd->description, o->nodes[i].description) ||
                sdk_sql(o->nodes[i].sql, &nd->sql, &nd->templated))
                rc = SP_ENOMEM;
        }
    }
    const struct sp_sink_opts *s = o->sink;
    if (!rc && s) {
        rc = add_opt(&p->keys, "EXPORT_CONNECTION_NAME",
                     s->connection ? sp_connection_name(s->connection) : NULL);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_KAFKA_TOPIC", s->topic);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_BUCKET_URI", s->bucket_uri);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_FILE_TEMPLATE", s->file_template);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_SCHEDULE", s->schedule);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_FORMAT", s->format);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_STRATEGY", s->strategy);
        rc = rc ? rc : add_opt(&p->keys, "EXPORT_COMPRESSION", s->compression);
        rc = rc ? rc : add_settings(&p->keys, s->settings);
    }
    if (!rc)
        rc = tokens_copy(o->tokens, &p->tokens, &p->ntokens);
done:
    if (rc == SP_ENOMEM) {
        sp_pipe_free(p);
        return NULL;
    }
    return p;
}

sp_datasource *sp_datasource_new(const char *name, const struct sp_datasource_opts *o)
{
    sp_datasource *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    int rc = DUP(d->name, name ? name : "") ? 0 : SP_ENOMEM;
    if (!o)
        goto done;
    if (!rc && !DUP(d->description, o->description))
        rc = SP_ENOMEM;
    size_t n = 0;
    while (o->schema && (o->schema[n].name || o->schema[n].type))
        n++;
    if (!rc && n) {
        d->cols = calloc(n, sizeof *d->cols);
        if (!d->cols)
            rc = SP_ENOMEM;
        for (size_t i = 0; !rc && i < n; i++) {
            const struct sp_column_opts *c = &o->schema[i];
            sp_column_def *cd = &d->cols[i];
            d->ncols++;
            const char *jp = c->jsonpath;
            if (jp && strncmp(jp, "json:", 5) == 0)
                jp += 5;
            if (!DUP(cd->name, c->name ? c->name : "") || !DUP(cd->type, c->type ? c->type : "") ||
                !DUP(cd->jsonpath, jp) || !DUP(cd->default_expr, c->default_expr) ||
                !DUP(cd->codec, c->codec))
                rc = SP_ENOMEM;
        }
    }
    if (!rc)
        rc = add_opt(&d->keys, "ENGINE", o->engine);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_PARTITION_KEY", o->partition_key);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_SORTING_KEY", o->sorting_key);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_PRIMARY_KEY", o->primary_key);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_TTL", o->ttl);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_VER", o->ver);
    rc = rc ? rc : add_opt(&d->keys, "ENGINE_SETTINGS", o->engine_settings);
    rc = rc ? rc : add_settings(&d->keys, o->settings);
    if (!rc)
        rc = tokens_copy(o->tokens, &d->tokens, &d->ntokens);
done:
    if (rc == SP_ENOMEM) {
        sp_datasource_free(d);
        return NULL;
    }
    return d;
}
