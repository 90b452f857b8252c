/* sp_s3_check: `check` of every S3 and GCS connection
 * (sp_project_check_s3) — the settings an upload would use, validated
 * without any network: region name, endpoint URLs (connection keys and
 * AWS_ENDPOINT_URL*), key pairs that go together; for GCS, one kind of
 * credentials, the service-account key parsed (JSON, client_email, an RSA
 * private key, token_uri) and GCS_ENDPOINT.  A file:// endpoint (local
 * folder) is checked for being absolute.  Credentials are not looked up
 * (a dry run and check need none). */
#include <stdio.h>
#include <string.h>

#include "sp_env.h"
#include "sp_error.h"
#include "sp_gcs.h"
#include "sp_model.h"
#include "sp_s3.h"
#include "sp_banned.h"

/* diag: msg under "path:line: KEY: " (the key's line; the TYPE line when
 * the connection does not set the key).  The reason shown starts at offset
 * `named` of msg when the key is shown (after "KEY " that the head already
 * says), else at `head` (after "connection 'x': ", which the path says). */
static void diag_at(sp_project *p, const sp_connection *c, const char *key, const char *msg,
                    size_t head, size_t named)
{
    const sp_kv *kv = sp_kvlist_find(&c->keys, key);
    int line = kv ? kv->line : c->type_line;
    const char *shown = kv ? key : "TYPE";
    char where[600];
    sp_model_where(where, sizeof where, c->path, c->name, line, shown);
    size_t off = kv ? named : head;
    const char *reason = off < strlen(msg) ? msg + off : msg;
    char text[sizeof where + 1100];
    snprintf(text, sizeof text, "%s: %s", where, reason);
    sp_project_add_diag_at(p, c->path, line, shown, SP_EDEF, text);
}

static void diag(sp_project *p, const sp_connection *c, const char *key, const char *msg)
{
    diag_at(p, c, key, msg, 0, 0);
}

/* check_one: 1 when the connection has an error (reported) */
static int check_one(sp_project *p, const sp_connection *c, const sp_settings *s,
                     const sp_env *env)
{
    const char *ep = sp_settings_get(s, "S3_ENDPOINT");
    if (ep && !strncmp(ep, "file://", 7)) {
        if (ep[7] != '/') {
            char m[600];
            snprintf(m, sizeof m, "S3_ENDPOINT '%s': relative file:// paths are not supported "
                     "(expected file:///abs/dir)", ep);
            diag_at(p, c, "S3_ENDPOINT", m, 0, strlen("S3_ENDPOINT "));
            return 1;
        }
        return 0; /* a local folder: no S3 settings matter */
    }
    const char *ak = sp_settings_get(s, "S3_ACCESS_KEY");
    const char *sk = sp_settings_get(s, "S3_SECRET");
    if ((ak && *ak) != (sk && *sk)) {
        diag(p, c, ak && *ak ? "S3_ACCESS_KEY" : "S3_SECRET",
             "S3_ACCESS_KEY and S3_SECRET go together");
        return 1;
    }
    const char *ext = sp_settings_get(s, "S3_EXTERNAL_ID");
    const char *arn = sp_settings_get(s, "S3_ARN");
    if (ext && *ext && !(arn && *arn)) {
        diag(p, c, "S3_EXTERNAL_ID", "an external id is only used with S3_ARN");
        return 1;
    }
    sp_s3_conf conf = {
        .conn_name = c->name,
        .bucket = "check",
        .region = sp_settings_get(s, "S3_REGION"),
        .endpoint = ep,
        .path_style = sp_settings_get(s, "S3_PATH_STYLE"),
        .role_arn = arn,
        .external_id = ext,
        .sts_endpoint = sp_settings_get(s, "S3_STS_ENDPOINT"),
        .env = env,
    };
    sp_s3 *s3 = NULL;
    sp_error e = SP_ERROR_INIT;
    sp_s3_where w = { NULL, 0, 0 };
    conf.where = &w;
    if (sp_s3_open(&conf, &s3, &e) == 0) {
        sp_s3_free(s3);
        return 0;
    }
    diag_at(p, c, w.key ? w.key : "TYPE", e.msg, w.head, w.reason);
    return 1;
}

static int set(const char *v)
{
    return v && *v;
}

/* check_gcs: 1 when the GCS connection has an error (reported) */
static int check_gcs(sp_project *p, const sp_connection *c, const sp_settings *s)
{
    const char *ep = sp_settings_get(s, "GCS_ENDPOINT");
    const char *json = sp_settings_get(s, "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON");
    const char *id = sp_settings_get(s, "GCS_HMAC_ACCESS_ID");
    const char *sk = sp_settings_get(s, "GCS_HMAC_SECRET");
    char m[700];
    if (set(ep) && !strncmp(ep, "file://", 7)) {
        if (ep[7] == '/')
            return 0; /* a local folder: no credentials matter */
        snprintf(m, sizeof m, "GCS_ENDPOINT '%.500s': relative file:// paths are not "
                 "supported (expected file:///abs/dir)", ep);
        diag_at(p, c, "GCS_ENDPOINT", m, 0, strlen("GCS_ENDPOINT "));
        return 1;
    }
    if (set(ep) && ((strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
                    strpbrk(ep, "?# "))) {
        snprintf(m, sizeof m, "GCS_ENDPOINT '%.500s': expected http://host[:port] or "
                 "https://host[:port]", ep);
        diag_at(p, c, "GCS_ENDPOINT", m, 0, strlen("GCS_ENDPOINT "));
        return 1;
    }
    if (set(json) && (set(id) || set(sk))) {
        diag(p, c, set(id) ? "GCS_HMAC_ACCESS_ID" : "GCS_HMAC_SECRET",
             "set GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON or GCS_HMAC_ACCESS_ID and "
             "GCS_HMAC_SECRET, not both");
        return 1;
    }
    if (set(id) != set(sk)) {
        diag(p, c, set(id) ? "GCS_HMAC_ACCESS_ID" : "GCS_HMAC_SECRET",
             "GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET go together");
        return 1;
    }
    if (!set(json) && !set(id)) {
        diag(p, c, "TYPE", "no credentials: set GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON (a "
             "service account key) or GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET");
        return 1;
    }
    if (!set(json))
        return 0;
    sp_gcs_key k;
    sp_error e = SP_ERROR_INIT;
    int rc = sp_gcs_key_parse(json, c->name, &k, &e);
    sp_gcs_key_release(&k);
    if (!rc)
        return 0;
    /* SP_EDEF reads "connection 'x': KEY: reason" (sp_gcs.h); json is set */
    const char *K = "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON";
    size_t off = e.code == SP_EDEF ? sp_error_head_len(c->name, K, ": ") : 0;
    diag_at(p, c, K, e.msg, off, off);
    return 1;
}

int sp_project_check_s3(sp_project *p, sp_error *err)
{
    const sp_env *env = NULL;
    int rc = sp_project_env(p, &env, err);
    if (rc)
        return rc;
    int bad = 0;
    for (size_t i = 0; i < p->nconns; i++) {
        const sp_connection *c = p->conns[i];
        if (c->type != SP_CONN_S3 && c->type != SP_CONN_GCS)
            continue;
        sp_settings s;
        sp_error e = SP_ERROR_INIT;
        if (sp_connection_resolve(c, env, &s, &e) != 0)
            continue; /* missing secrets: sp_project_check_secrets reports them */
        bad += c->type == SP_CONN_GCS ? check_gcs(p, c, &s) : check_one(p, c, &s, env);
        sp_settings_release(&s);
    }
    if (bad)
        return sp_error_set(err, SP_EDEF, 0, "%d s3/gcs connection%s with configuration errors",
                            bad, bad == 1 ? "" : "s");
    return 0;
}
