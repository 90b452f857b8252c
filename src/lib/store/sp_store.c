/* sp_store: the factory that picks the object store of a file-like sink
 * (see sp_store_for.h).  Adding a store touches this file once: a branch
 * in sp_store_open_for that calls the store's open function. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_store_for.h"
#include "sp_store_gcs.h"
#include "sp_store_s3.h"
#include "sp_banned.h"

/* join: malloc'd a + b, NULL on ENOMEM */
static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* prefix_of: the key prefix text s[0..n): "" or ending in '/' */
static char *prefix_of(const char *s, size_t n)
{
    while (n && s[0] == '/') { /* no leading '/' in keys */
        s++;
        n--;
    }
    if (n == 0)
        return sp_memdup0("", 0);
    char *p = malloc(n + 2);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    if (s[n - 1] != '/')
        p[n++] = '/';
    p[n] = '\0';
    return p;
}

void sp_bucket_uri_release(sp_bucket_uri *u)
{
    if (!u)
        return;
    free(u->root);
    free(u->key_prefix);
    u->root = u->key_prefix = NULL;
}

int sp_bucket_uri_parse(const char *uri, sp_bucket_uri *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!uri || !*uri)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI is empty (expected "
                            "s3://bucket/prefix/, gs://bucket/prefix/ or file:///abs/path/)");
    const char *why = sp_bucket_uri_problem(uri);
    if (why)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI '%s': %s", uri, why);
    int gs = !strncmp(uri, "gs://", 5);
    if (gs || !strncmp(uri, "s3://", 5)) {
        const char *b = uri + 5;
        size_t bl = strcspn(b, "/");
        if (bl == 0)
            return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI '%s': no bucket name",
                                uri);
        if (memchr(b, '{', bl) || memchr(b, '}', bl))
            return sp_error_set(err, SP_EDEF, 0,
                                "EXPORT_BUCKET_URI '%s': the bucket name cannot hold a "
                                "placeholder (only the prefix can)", uri);
        out->scheme = gs ? SP_BUCKET_GCS : SP_BUCKET_S3;
        out->root = sp_memdup0(b, bl);
        out->key_prefix = prefix_of(b + bl, strlen(b + bl));
    } else if (!strncmp(uri, "file://", 7)) {
        const char *path = uri + 7;
        if (path[0] != '/')
            return sp_error_set(err, SP_EDEF, 0,
                                "EXPORT_BUCKET_URI '%s': relative file:// paths are not "
                                "supported (expected file:///abs/path/)", uri);
        /* root: up to the last '/' before the first placeholder */
        const char *brace = strchr(path, '{');
        size_t rl;
        if (brace) {
            rl = 0;
            for (const char *q = path; q < brace; q++)
                if (*q == '/')
                    rl = (size_t)(q - path);
        } else {
            rl = strlen(path);
        }
        size_t rest = rl;
        while (rl > 1 && path[rl - 1] == '/')
            rl--;
        out->scheme = SP_BUCKET_FILE;
        out->root = rl ? sp_memdup0(path, rl) : sp_memdup0("/", 1);
        out->key_prefix = prefix_of(path + rest, strlen(path + rest));
    } else {
        return sp_error_set(err, SP_EDEF, 0,
                            "EXPORT_BUCKET_URI '%s': expected s3://bucket/prefix/, "
                            "gs://bucket/prefix/ or file:///abs/path/", uri);
    }
    if (!out->root || !out->key_prefix) {
        sp_bucket_uri_release(out);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (bucket uri)");
    }
    return 0;
}

void sp_store_dest_release(sp_store_dest *d)
{
    if (!d)
        return;
    if (d->store)
        d->store->vt->free(d->store);
    free(d->uri_prefix);
    free(d->key_prefix);
    memset(d, 0, sizeof *d);
}

/* open_folder: the local folder store, or none for a dry run when the
 * folder is missing (nothing to check for existence, nothing to create) */
static int open_folder(const char *root, const char *uri_prefix, int dry_run,
                       sp_store **out, sp_error *err)
{
    struct stat sb;
    *out = NULL;
    if (dry_run && stat(root, &sb) != 0 && errno == ENOENT)
        return 0;
    return sp_store_file_open(root, uri_prefix, out, err);
}

/* knob: an integer tuning setting from the environment, checked against
 * the key table (sp_keys.c: range, default); 0 when unset without a default
 * (the module's own default).  The first invalid value sets *rc. */
static int64_t knob(const sp_env *env, const char *name, int *rc, sp_error *err)
{
    int64_t v = 0;
    if (!*rc)
        *rc = sp_keys_env_int(env, name, &v, err);
    return v;
}

/* open_s3: a real S3 (or S3-compatible) endpoint: the connection's keys,
 * the project's environment for the AWS chain, and the SINKPIPE_S3_*
 * tuning knobs (docs/s3.md) */
static int open_s3(const sp_sinkcfg *cfg, const char *bucket, const char *uri_prefix,
                   sp_store **out, sp_error *err)
{
    const sp_settings *c = &cfg->conn;
    const sp_env *env = cfg->env;
    int rc = 0;
    sp_s3_conf conf = {
        .conn_name = cfg->connection_name,
        .bucket = bucket,
        .region = sp_settings_get(c, "S3_REGION"),
        .endpoint = sp_settings_get(c, "S3_ENDPOINT"),
        .path_style = sp_settings_get(c, "S3_PATH_STYLE"),
        .access_key = sp_settings_get(c, "S3_ACCESS_KEY"),
        .secret = sp_settings_get(c, "S3_SECRET"),
        .role_arn = sp_settings_get(c, "S3_ARN"),
        .external_id = sp_settings_get(c, "S3_EXTERNAL_ID"),
        .sts_endpoint = sp_settings_get(c, "S3_STS_ENDPOINT"),
        .env = env,
        .max_attempts = (int)knob(env, "SINKPIPE_S3_MAX_ATTEMPTS", &rc, err),
        .retry_base_ms = (int)knob(env, "SINKPIPE_S3_RETRY_BASE_MS", &rc, err),
        .retry_cap_ms = (int)knob(env, "SINKPIPE_S3_RETRY_CAP_MS", &rc, err),
        .stall_ms = (int)knob(env, "SINKPIPE_S3_STALL_MS", &rc, err),
        .role_seconds = (int)knob(env, "SINKPIPE_S3_ROLE_SECONDS", &rc, err),
        .refresh_margin_s = (int)knob(env, "SINKPIPE_S3_REFRESH_MARGIN_S", &rc, err),
    };
    sp_store_s3_opts o = {
        .part_size = (size_t)knob(env, "SINKPIPE_S3_PART_SIZE", &rc, err),
        .threads = (int)knob(env, "SINKPIPE_S3_THREADS", &rc, err),
        .max_inflight = (int)knob(env, "SINKPIPE_S3_MAX_INFLIGHT", &rc, err),
    };
    if (rc)
        return rc;
    rc = sp_store_s3_open(&conf, &o, uri_prefix, out, err);
    if (!rc && (rc = sp_store_s3_probe(*out, err))) { /* fail before the query */
        (*out)->vt->free(*out);
        *out = NULL;
    }
    return rc;
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* open_gcs: GCS — the JSON API with a service-account key, or the XML API
 * (the S3 store, SigV4 with the HMAC keys) — and the SINKPIPE_GCS_* /
 * SINKPIPE_S3_* tuning knobs (docs/gcs.md) */
static int open_gcs(const sp_sinkcfg *cfg, const char *bucket, const char *uri_prefix,
                    sp_store **out, sp_error *err)
{
    const sp_settings *c = &cfg->conn;
    const sp_env *env = cfg->env;
    const char *conn = cfg->connection_name ? cfg->connection_name : "";
    const char *json = sp_settings_get(c, "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON");
    const char *id = sp_settings_get(c, "GCS_HMAC_ACCESS_ID");
    const char *secret = sp_settings_get(c, "GCS_HMAC_SECRET");
    const char *ep = sp_settings_get(c, "GCS_ENDPOINT");
    int rc = 0;
    if (nonempty(json) && (nonempty(id) || nonempty(secret)))
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': set GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON or "
                            "GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET, not both", conn);
    if (nonempty(json)) {
        sp_gcs_conf conf = {
            .conn_name = conn,
            .bucket = bucket,
            .endpoint = ep,
            .key_json = json,
            .max_attempts = (int)knob(env, "SINKPIPE_GCS_MAX_ATTEMPTS", &rc, err),
            .retry_base_ms = (int)knob(env, "SINKPIPE_GCS_RETRY_BASE_MS", &rc, err),
            .retry_cap_ms = (int)knob(env, "SINKPIPE_GCS_RETRY_CAP_MS", &rc, err),
            .stall_ms = (int)knob(env, "SINKPIPE_GCS_STALL_MS", &rc, err),
        };
        sp_store_gcs_opts o = {
            .chunk_size = (size_t)knob(env, "SINKPIPE_GCS_CHUNK_SIZE", &rc, err),
        };
        if (rc)
            return rc;
        rc = sp_store_gcs_open(&conf, &o, uri_prefix, out, err);
        if (!rc && (rc = sp_store_gcs_probe(*out, err))) {
            (*out)->vt->free(*out);
            *out = NULL;
        }
        return rc;
    }
    if (!nonempty(id) || !nonempty(secret))
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': %s", conn,
                            nonempty(id) || nonempty(secret)
                                ? "GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET go together"
                                : "no credentials: set GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON "
                                  "(a service account key) or GCS_HMAC_ACCESS_ID and "
                                  "GCS_HMAC_SECRET");
    sp_s3_conf conf = {
        .conn_name = conn,
        .bucket = bucket,
        .region = "auto",
        .endpoint = nonempty(ep) ? ep : SP_GCS_DEFAULT_ENDPOINT,
        .path_style = "true",
        .access_key = id,
        .secret = secret,
        .uri_scheme = "gs",
        .max_attempts = (int)knob(env, "SINKPIPE_S3_MAX_ATTEMPTS", &rc, err),
        .retry_base_ms = (int)knob(env, "SINKPIPE_S3_RETRY_BASE_MS", &rc, err),
        .retry_cap_ms = (int)knob(env, "SINKPIPE_S3_RETRY_CAP_MS", &rc, err),
        .stall_ms = (int)knob(env, "SINKPIPE_S3_STALL_MS", &rc, err),
    };
    sp_store_s3_opts o = {
        .part_size = (size_t)knob(env, "SINKPIPE_S3_PART_SIZE", &rc, err),
        .threads = (int)knob(env, "SINKPIPE_S3_THREADS", &rc, err),
        .max_inflight = (int)knob(env, "SINKPIPE_S3_MAX_INFLIGHT", &rc, err),
        .create_header = "x-goog-if-generation-match",
        .create_value = "0",
    };
    if (rc)
        return rc;
    rc = sp_store_s3_open(&conf, &o, uri_prefix, out, err);
    if (!rc && (rc = sp_store_s3_probe(*out, err))) {
        (*out)->vt->free(*out);
        *out = NULL;
    }
    return rc;
}

int sp_store_open_for(const sp_sinkcfg *cfg, int dry_run, sp_store_dest *out,
                      sp_error *err)
{
    memset(out, 0, sizeof *out);
    sp_bucket_uri u;
    int rc = sp_bucket_uri_parse(cfg->bucket_uri, &u, err);
    if (rc)
        return rc;
    char *root = NULL;
    if (u.scheme == SP_BUCKET_FILE) {
        root = join(u.root, "");
        out->uri_prefix = !strcmp(u.root, "/") ? join("file://", "/")
                                                : join("file://", u.root);
        if (out->uri_prefix && strcmp(u.root, "/")) {
            char *p = join(out->uri_prefix, "/");
            free(out->uri_prefix);
            out->uri_prefix = p;
        }
    } else {
        int gs = u.scheme == SP_BUCKET_GCS;
        const char *cname = cfg->connection_name ? cfg->connection_name : "";
        if (gs != (cfg->conn_type == SP_CONN_GCS)) {
            rc = sp_error_set(err, SP_EDEF, 0,
                              "EXPORT_BUCKET_URI '%s': a %s:// URI needs a %s connection "
                              "(connection '%s' is not)", cfg->bucket_uri, gs ? "gs" : "s3",
                              gs ? "gcs" : "s3", cname);
            goto out;
        }
        const char *epkey = gs ? "GCS_ENDPOINT" : "S3_ENDPOINT";
        const char *ep = sp_settings_get(&cfg->conn, epkey);
        char *pre = join(gs ? "gs://" : "s3://", u.root);
        out->uri_prefix = pre ? join(pre, "/") : NULL;
        free(pre);
        if (ep && !strncmp(ep, "file://", 7)) {
            const char *dir = ep + 7;
            if (dir[0] != '/') {
                rc = sp_error_set(err, SP_EDEF, 0,
                                  "connection '%s': %s '%s': relative file:// "
                                  "paths are not supported (expected file:///abs/dir)",
                                  cname, epkey, ep);
                goto out;
            }
            size_t dl = strlen(dir);
            while (dl > 1 && dir[dl - 1] == '/')
                dl--;
            char *d = sp_memdup0(dir, dl);
            root = d ? join(d, dl == 1 ? "" : "/") : NULL;
            free(d);
            if (root) {
                char *r = join(root, u.root);
                free(root);
                root = r;
            }
        } else if (out->uri_prefix) {
            /* a dry run needs no S3 access (nor credentials): keys are
             * resolved without existence checks */
            if (!dry_run)
                rc = gs ? open_gcs(cfg, u.root, out->uri_prefix, &out->store, err)
                        : open_s3(cfg, u.root, out->uri_prefix, &out->store, err);
            goto out;
        }
    }
    if (!root || !out->uri_prefix) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (store)");
        goto out;
    }
    rc = open_folder(root, out->uri_prefix, dry_run, &out->store, err);
out:
    if (!rc) {
        out->key_prefix = u.key_prefix;
        u.key_prefix = NULL;
    }
    free(root);
    sp_bucket_uri_release(&u);
    if (rc)
        sp_store_dest_release(out);
    return rc;
}
