/* sp_sinkcfg: a sink pipe resolved for one run: its sink definition, the
 * run's overrides and the connection settings (secrets, overrides). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_format.h"
#include "sp_keys.h"
#include "sp_sink.h"
#include "sp_banned.h"

static int pick(const char *pipe, const char *key, const char *what, const char *over,
                const char *dflt, const char *const *vals, char **out, sp_error *err)
{
    const char *v = over && *over ? over : dflt;
    for (size_t i = 0; vals[i]; i++) {
        if (strcasecmp(vals[i], v) == 0) {
            *out = strdup(vals[i]);
            return *out ? 0 : sp_error_set(err, SP_ENOMEM, 0, "pipe '%s': out of memory", pipe);
        }
    }
    char list[256];
    sp_keys_values(vals, list, sizeof list);
    return sp_error_set(err, SP_EPARAM, 0, "pipe '%s': %s: unknown %s '%s' (expected %s)", pipe,
                        key, what, v, list);
}

/* bound: the sink definition's file bound, or the run's override of it
 * ("0" lifts the bound) */
static int bound(const char *pipe, const char *key, const char *over, uint64_t dflt, int rows,
                 uint64_t *out, sp_error *err)
{
    *out = dflt;
    if (!over)
        return 0;
    if (!strcmp(over, "0")) {
        *out = 0;
        return 0;
    }
    if (rows ? sp_count_parse(over, out) : sp_size_parse(over, out))
        return sp_error_set(err, SP_EPARAM, 0, "pipe '%s': %s: '%s' is not %s", pipe, key, over,
                            rows ? "a number of rows"
                                 : "a size (bytes, or with a unit: 256MB, 1GiB; units B, KB, "
                                   "MB, GB, TB, KiB, MiB, GiB, TiB)");
    return 0;
}

static int dup_opt(const char *pipe, const char *s, char **out, sp_error *err)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : sp_error_set(err, SP_ENOMEM, 0, "pipe '%s': out of memory", pipe);
}

int sp_sinkcfg_build(sp_project *p, const sp_pipe *pipe, const struct sp_run_opts *opts,
                     sp_sinkcfg *out, sp_error *err)
{
    static const char *const strategies[] = { "create_new", "replace", "truncate", NULL };
    memset(out, 0, sizeof *out);
    out->pipe = pipe;
    out->keys = &pipe->keys;
    out->conn_type = SP_CONN_S3;
    sp_sink_def s;
    int rc = sp_pipe_sink(pipe, &s, err);
    if (rc)
        return rc;
    const char *n = pipe->name;
    rc = pick(n, "EXPORT_FORMAT", "format", opts ? opts->format : NULL, s.format, sp_formats,
              &out->format, err);
    out->compression_set = s.compression_set || (opts && opts->compression && *opts->compression);
    out->parquet_row_group_rows = s.parquet_row_group_rows;
    if (!rc && s.topic && !sp_format_find(out->format)->row) /* a file format */
        rc = sp_error_set(err, SP_EPARAM, 0,
                          "pipe '%s': format %s: a kafka sink sends one JSON message per "
                          "row; %s is for EXPORT_BUCKET_URI sinks",
                          n, out->format, out->format);
    rc = rc ? rc
            : pick(n, "EXPORT_COMPRESSION", "compression", opts ? opts->compression : NULL,
                   s.compression, sp_compressions, &out->compression, err);
    out->strategy = s.strategy;
    rc = rc ? rc
            : bound(n, "EXPORT_MAX_FILE_SIZE", opts ? opts->max_file_size : NULL,
                    s.max_file_size, 0, &out->max_file_size, err);
    rc = rc ? rc
            : bound(n, "EXPORT_MAX_FILE_ROWS", opts ? opts->max_file_rows : NULL,
                    s.max_file_rows, 1, &out->max_file_rows, err);
    if (!rc && s.topic && (out->max_file_size || out->max_file_rows))
        rc = sp_error_set(err, SP_EPARAM, 0,
                          "pipe '%s': EXPORT_MAX_FILE_SIZE/EXPORT_MAX_FILE_ROWS: a kafka sink "
                          "writes messages, not files",
                          n);
    if (!rc && opts && opts->strategy && *opts->strategy) {
        char *tmp = NULL;
        rc = pick(n, "EXPORT_STRATEGY", "strategy", opts->strategy, NULL, strategies, &tmp,
                  err);
        if (!rc)
            sp_strategy_parse(tmp, &out->strategy);
        free(tmp);
    }
    rc = rc ? rc : dup_opt(n, s.topic, &out->topic, err);
    rc = rc ? rc : dup_opt(n, s.bucket_uri, &out->bucket_uri, err);
    rc = rc ? rc
            : dup_opt(n, opts && opts->file_template ? opts->file_template : s.file_template,
                      &out->file_template, err);
    rc = rc ? rc : dup_opt(n, s.schedule, &out->schedule, err);
    if (!rc && out->file_template) {
        size_t pos;
        if (!sp_template_balanced(out->file_template, &pos))
            rc = sp_error_set(err, SP_EPARAM, 0,
                              "pipe '%s': EXPORT_FILE_TEMPLATE: unbalanced braces at position "
                              "%zu in '%s'",
                              n, pos, out->file_template);
    }
    if (rc)
        goto fail;
    out->connection_name = s.connection;
    if (!s.connection) {
        if (s.bucket_uri && strncmp(s.bucket_uri, "file://", 7) == 0)
            return 0; /* a local folder needs no connection */
        rc = sp_error_set(err, SP_EDEF, 0,
                          "pipe '%s': EXPORT_CONNECTION_NAME: required key is missing", n);
        goto fail;
    }
    const sp_connection *c = sp_project_find_connection(p, s.connection);
    if (!c) {
        rc = sp_error_set(err, SP_EDEF, 0,
                          "pipe '%s': EXPORT_CONNECTION_NAME: unknown connection '%s'", n,
                          s.connection);
        goto fail;
    }
    out->conn_type = c->type;
    if (s.topic && c->type != SP_CONN_KAFKA) {
        rc = sp_error_set(err, SP_EDEF, 0,
                          "pipe '%s': EXPORT_CONNECTION_NAME: connection '%s' is not a kafka "
                          "connection",
                          n, c->name);
        goto fail;
    }
    if (s.bucket_uri && c->type == SP_CONN_KAFKA) {
        rc = sp_error_set(err, SP_EDEF, 0,
                          "pipe '%s': EXPORT_CONNECTION_NAME: connection '%s' is a kafka "
                          "connection, not s3",
                          n, c->name);
        goto fail;
    }
    const sp_env *env;
    rc = sp_project_env(p, &env, err);
    rc = rc ? rc : sp_connection_resolve(c, env, &out->conn, err);
    if (!rc) {
        out->env = env;
        return 0;
    }
fail:
    sp_sinkcfg_release(out);
    return rc;
}

void sp_sinkcfg_release(sp_sinkcfg *c)
{
    if (!c)
        return;
    sp_settings_release(&c->conn);
    free(c->topic);
    free(c->bucket_uri);
    free(c->file_template);
    free(c->format);
    free(c->compression);
    free(c->schedule);
    c->topic = c->bucket_uri = c->file_template = c->format = c->compression = c->schedule =
        NULL;
}
