/* sp_keys_env: the environment settings' table and their readers (see
 * sp_keys_env.h); docs/configuration.md is generated from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define VALS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------- environment settings */

/* ENV(key, flags, type, lo, hi, values, default, doc) */
#define ENV(k, f, t, lo, hi, v, d, doc) { k, f, v, d, NULL, 0, doc, t, lo, hi }
#define KT_INT SP_KT_INT
#define MS_MAX 3600000.0 /* an hour, in milliseconds */

static const sp_keydef env_engine[] = {
    ENV("SINKPIPE_ENGINE", 0, SP_KT_ENUM, 0, 0, VALS("embedded", "clickhouse"),
        "embedded", "the engine: the embedded ClickHouse (chDB) or a ClickHouse server "
        "(docs/engine-clickhouse.md)"),
    ENV("SINKPIPE_LIBCHDB", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the libchdb.so file to load (default: the one `make` found; docs/engine.md)"),
    ENV("SINKPIPE_CLICKHOUSE_URL", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "with SINKPIPE_ENGINE=clickhouse: the server's HTTP interface, http://host:8123/ or "
        "https://host:8443/ (required)"),
    ENV("SINKPIPE_CLICKHOUSE_USER", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "user (HTTP basic auth); unset: the server's default"),
    ENV("SINKPIPE_CLICKHOUSE_PASSWORD", SP_K_SECRET, SP_KT_TEXT, 0, 0, NULL, NULL, "password"),
    ENV("SINKPIPE_CLICKHOUSE_DATABASE", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "database of the tables; `{project}` in it: one database per project folder, created "
        "when missing"),
    ENV("SINKPIPE_CLICKHOUSE_SETTINGS", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "settings sent with every request, name=value&name=value"),
};

static const sp_keydef env_s3[] = {
    ENV("SINKPIPE_S3_PART_SIZE", 0, KT_INT, 5242880, 5368709120.0, NULL, "8388608",
        "first part size in bytes (at least S3's 5 MiB) and the single-PUT threshold"),
    ENV("SINKPIPE_S3_THREADS", 0, KT_INT, 1, 64, NULL, "4", "upload threads per store"),
    ENV("SINKPIPE_S3_MAX_INFLIGHT", 0, KT_INT, 1, 1024, NULL, NULL,
        "parts queued or uploading per store; unset: threads + 2"),
    ENV("SINKPIPE_S3_MAX_ATTEMPTS", 0, KT_INT, 1, 100, NULL, "6", "attempts per request"),
    ENV("SINKPIPE_S3_RETRY_BASE_MS", 0, KT_INT, 1, MS_MAX, NULL, "200",
        "first backoff between attempts, in milliseconds"),
    ENV("SINKPIPE_S3_RETRY_CAP_MS", 0, KT_INT, 1, MS_MAX, NULL, "10000",
        "backoff ceiling, in milliseconds"),
    ENV("SINKPIPE_S3_STALL_MS", 0, KT_INT, 1, MS_MAX, NULL, "30000",
        "no byte moving (up or down) for this many milliseconds is a timeout, retried"),
    ENV("SINKPIPE_S3_ROLE_SECONDS", 0, KT_INT, 900, 43200, NULL, "3600",
        "DurationSeconds of AssumeRole"),
    ENV("SINKPIPE_S3_REFRESH_MARGIN_S", 0, KT_INT, 1, 43200, NULL, "300",
        "refresh temporary credentials this many seconds before they expire"),
};

static const sp_keydef env_gcs[] = {
    ENV("SINKPIPE_GCS_CHUNK_SIZE", 0, KT_INT, 1, 1073741824, NULL, "8388608",
        "resumable upload chunk in bytes, rounded up to 256 KiB; also the largest "
        "one-request object"),
    ENV("SINKPIPE_GCS_MAX_ATTEMPTS", 0, KT_INT, 1, 100, NULL, "6", "attempts per request"),
    ENV("SINKPIPE_GCS_RETRY_BASE_MS", 0, KT_INT, 1, MS_MAX, NULL, "200",
        "first backoff between attempts, in milliseconds"),
    ENV("SINKPIPE_GCS_RETRY_CAP_MS", 0, KT_INT, 1, MS_MAX, NULL, "10000",
        "backoff ceiling, in milliseconds"),
    ENV("SINKPIPE_GCS_STALL_MS", 0, KT_INT, 1, MS_MAX, NULL, "30000",
        "no byte moving for this many milliseconds is a timeout, retried"),
};

/* the AWS SDKs' variables that S3 connections follow (docs/s3.md) */
static const sp_keydef env_aws[] = {
    ENV("AWS_ACCESS_KEY_ID", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "S3 connections without S3_ACCESS_KEY or S3_ARN: the access key (with "
        "AWS_SECRET_ACCESS_KEY)"),
    ENV("AWS_SECRET_ACCESS_KEY", SP_K_SECRET, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the secret key of AWS_ACCESS_KEY_ID"),
    ENV("AWS_SESSION_TOKEN", SP_K_SECRET, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the session token of temporary keys"),
    ENV("AWS_SHARED_CREDENTIALS_FILE", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the shared credentials file; unset: $HOME/.aws/credentials"),
    ENV("AWS_PROFILE", 0, SP_KT_TEXT, 0, 0, NULL, "default",
        "the profile read from the shared credentials file"),
    ENV("HOME", 0, SP_KT_TEXT, 0, 0, NULL, NULL, "where $HOME/.aws/credentials is looked for"),
    ENV("AWS_ENDPOINT_URL_S3", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "S3 endpoint of connections without S3_ENDPOINT"),
    ENV("AWS_ENDPOINT_URL_STS", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "STS endpoint of connections without S3_STS_ENDPOINT"),
    ENV("AWS_ENDPOINT_URL", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "S3 and STS endpoint when the two above are unset"),
};

/* settings of `sinkpipe serve` (docs/serve.md) */
static const sp_keydef env_serve[] = {
    ENV("SINKPIPE_ADMIN_TOKEN", SP_K_SECRET, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the admin token; unset: created at the first start, printed once, stored hashed"),
    ENV("SINKPIPE_TOKEN_<name>", SP_K_SECRET, SP_KT_TEXT, 0, 0, NULL, NULL,
        "the value of datafile token <name> (TOKEN name READ|OVERRIDE|APPEND); unset: created "
        "like the admin token"),
    ENV("SINKPIPE_SERVE_MAX_JOBS", 0, KT_INT, 1, 64, NULL, "2", "jobs in flight at once"),
    ENV("SINKPIPE_SERVE_LOCAL_TOKENS", 0, SP_KT_BOOL, 0, 0, NULL, "false",
        "answer GET /tokens (the Tinybird SDK's `--local` mode) with SINKPIPE_ADMIN_TOKEN, to "
        "loopback clients only"),
    ENV("SINKPIPE_SERVE_CATCH_UP", 0, SP_KT_BOOL, 0, 0, NULL, "true",
        "run the latest schedule slot missed while the daemon was down, once, at start-up"),
    ENV("SINKPIPE_SERVE_GRACE", 0, SP_KT_NUM, 0, 86400, NULL, "30",
        "seconds running jobs get at SIGTERM/SIGINT before they are cancelled"),
    ENV("SINKPIPE_SERVE_MAX_BODY", 0, KT_INT, 1, 1e10, NULL, "10485760",
        "largest request body in bytes (larger: 413)"),
    ENV("SINKPIPE_SERVE_KEEP_JOBS", 0, KT_INT, 1, 1e7, NULL, "1000",
        "finished jobs kept in memory and read back from the ops log at start"),
    ENV("SINKPIPE_SERVE_MAX_CONNECTIONS", 0, KT_INT, 16, 8192, NULL, "1024",
        "HTTP connections open at once, each on its own thread; more are refused"),
    ENV("SINKPIPE_SERVE_MAX_CONNECTIONS_PER_IP", 0, KT_INT, 1, 8192, NULL, "128",
        "HTTP connections open at once from one client address; more are refused"),
    ENV("SINKPIPE_SERVE_IDLE_TIMEOUT", 0, KT_INT, 1, 3600, NULL, "10",
        "seconds an HTTP connection may send nothing (slow headers or body, idle keep-alive) "
        "before it is closed"),
    ENV("SINKPIPE_SERVE_FAKE_NOW", 0, SP_KT_TIME, 0, 0, NULL, NULL,
        "test hook: the scheduler's clock starts at this ISO 8601 time"),
    ENV("SINKPIPE_SERVE_CLOCK_SPEED", 0, SP_KT_NUM, 0.001, 1e6, NULL, "1",
        "test hook: with SINKPIPE_SERVE_FAKE_NOW, the scheduler's clock runs this many times "
        "faster"),
    ENV("SINKPIPE_CONNECTION__<connection>__<KEY>", 0, SP_KT_TEXT, 0, 0, NULL, NULL,
        "overrides key KEY of connection <connection> (an empty value removes it); not only "
        "for serve: every command reads it"),
};

const sp_keytable sp_keys_env_engine = { "engine setting", env_engine, NELEM(env_engine) };
const sp_keytable sp_keys_env_s3 = { "s3 setting", env_s3, NELEM(env_s3) };
const sp_keytable sp_keys_env_gcs = { "gcs setting", env_gcs, NELEM(env_gcs) };
const sp_keytable sp_keys_env_aws = { "aws setting", env_aws, NELEM(env_aws) };
const sp_keytable sp_keys_env_serve = { "serve setting", env_serve, NELEM(env_serve) };
const sp_keytable *const sp_keys_env_tables[] = { &sp_keys_env_engine, &sp_keys_env_s3,
                                           &sp_keys_env_gcs, &sp_keys_env_aws,
                                           &sp_keys_env_serve, NULL };
void sp_keys_join(char *out, size_t n, size_t *len, const char *s)
{
    if (*len >= n)
        return;
    int w = snprintf(out + *len, n - *len, "%s%s", *len ? ", " : "", s);
    if (w > 0)
        *len += (size_t)w;
    if (*len >= n)
        *len = n - 1;
}

void sp_keys_values(const char *const *values, char *out, size_t n)
{
    size_t len = 0;
    if (n)
        out[0] = '\0';
    for (size_t i = 0; values && values[i]; i++)
        sp_keys_join(out, n, &len, values[i]);
}

/* ------------------------------------------- reading environment settings */

const sp_keydef *sp_keys_env_def(const char *name)
{
    for (size_t t = 0; sp_keys_env_tables[t]; t++)
        for (size_t i = 0; i < sp_keys_env_tables[t]->n; i++) {
            const sp_keydef *d = &sp_keys_env_tables[t]->keys[i];
            const char *lt = strchr(d->key, '<');
            if (lt ? !strncmp(d->key, name, (size_t)(lt - d->key)) && name[lt - d->key]
                   : !strcmp(d->key, name))
                return d;
        }
    return NULL;
}

/* raw: the value set in env ("" counts as unset), else NULL */
static const char *raw(const sp_env *env, const char *name)
{
    const char *v = env ? sp_env_get(env, name) : NULL;
    return v && *v ? v : NULL;
}

const char *sp_keys_env_get(const sp_env *env, const char *name)
{
    const sp_keydef *d = sp_keys_env_def(name);
    if (!d)
        return NULL;
    const char *v = raw(env, name);
    return v ? v : d->dflt;
}

/* lookup: the entry and the value to parse (set, else the default): 1 when
 * there is one, 0 when not, a negative sp_code for a name not in the tables */
static int lookup(const sp_env *env, const char *name, sp_keytype type, const sp_keydef **d,
                  const char **v, sp_error *err)
{
    *d = sp_keys_env_def(name);
    if (!*d || (*d)->type != type)
        return sp_error_set(err, SP_EINTERNAL, 0, "%s: not a setting of this type", name);
    *v = raw(env, name);
    if (!*v)
        *v = (*d)->dflt;
    return *v != NULL;
}

int sp_keys_env_num(const sp_env *env, const char *name, double *out, sp_error *err)
{
    const sp_keydef *d;
    const char *v;
    int has = lookup(env, name, SP_KT_NUM, &d, &v, err);
    if (has <= 0)
        return has;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= d->lo && x <= d->hi))
        return sp_error_set(err, SP_EINVAL, 0, "%s: '%.64s' is not a number from %g to %g",
                            name, v, d->lo, d->hi);
    *out = x;
    return 0;
}

int sp_keys_env_int(const sp_env *env, const char *name, int64_t *out, sp_error *err)
{
    const sp_keydef *d;
    const char *v;
    int has = lookup(env, name, SP_KT_INT, &d, &v, err);
    if (has <= 0)
        return has;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || *v == '+' || (double)x < d->lo || (double)x > d->hi)
        return sp_error_set(err, SP_EINVAL, 0,
                            "%s: '%.64s' is not a whole number from %.0f to %.0f", name, v,
                            d->lo, d->hi);
    *out = (int64_t)x;
    return 0;
}

int sp_keys_env_bool(const sp_env *env, const char *name, int *out, sp_error *err)
{
    const sp_keydef *d;
    const char *v;
    int has = lookup(env, name, SP_KT_BOOL, &d, &v, err);
    if (has <= 0)
        return has;
    if (!strcasecmp(v, "true") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
        *out = 0;
    else
        return sp_error_set(err, SP_EINVAL, 0, "%s: '%.64s' is not true or false", name, v);
    return 0;
}

int sp_keys_env_enum(const sp_env *env, const char *name, const char **out, sp_error *err)
{
    const sp_keydef *d;
    const char *v;
    int has = lookup(env, name, SP_KT_ENUM, &d, &v, err);
    if (has <= 0)
        return has;
    for (size_t i = 0; d->values[i]; i++)
        if ((d->flags & SP_K_CI) ? !strcasecmp(d->values[i], v) : !strcmp(d->values[i], v)) {
            *out = d->values[i];
            return 0;
        }
    /* the noun: the last word of the name (SINKPIPE_ENGINE: engine) */
    char list[256], noun[32];
    const char *us = strrchr(name, '_');
    size_t j = 0;
    for (const char *c = us ? us + 1 : "value"; *c && j + 1 < sizeof noun; c++)
        noun[j++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    noun[j] = '\0';
    sp_keys_values(d->values, list, sizeof list);
    return sp_error_set(err, SP_EINVAL, 0, "%s: unknown %s '%.64s' (expected %s)", name, noun, v,
                        list);
}
