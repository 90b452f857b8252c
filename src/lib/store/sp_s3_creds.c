/* sp_s3_creds: the S3 client's credentials (docs/s3.md, "Credentials"):
 * the base ones in the documented order (the connection's S3_ACCESS_KEY and
 * S3_SECRET, the AWS_* environment, a profile of the shared credentials
 * file) and, with S3_ARN, a role's from STS AssumeRole, refreshed near
 * expiry, one refresh at a time.  Every secret is registered with
 * sp_secret and wiped after use.  Requests are sp_s3.c's. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sp_curlx.h"
#include "sp_error.h"
#include "sp_s3_int.h"
#include "sp_secret.h"
#include "sp_keys_env.h"
#include "sp_banned.h"

#define RESP_MAX ((size_t)4 << 20) /* STS answers we read (XML) */

static void trim(char **b, char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* shared_file: read [profile] of an AWS credentials file into c.  1 found,
 * 0 not found (no file or no profile), <0 error */
static int shared_file(const char *path, const char *profile, sp__s3_creds *c, sp_error *err,
                       const char *conn)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[8192];
    int in = 0, any = 0;
    while (fgets(line, sizeof line, f)) {
        char *b = line, *e = line + strcspn(line, "\n");
        trim(&b, &e);
        if (b == e || *b == '#' || *b == ';')
            continue;
        if (*b == '[') {
            char *cl = memchr(b, ']', (size_t)(e - b));
            if (!cl)
                continue;
            char *nb = b + 1, *ne = cl;
            trim(&nb, &ne);
            in = (size_t)(ne - nb) == strlen(profile) && !memcmp(nb, profile, (size_t)(ne - nb));
            any |= in;
            continue;
        }
        if (!in)
            continue;
        char *eq = memchr(b, '=', (size_t)(e - b));
        if (!eq)
            continue;
        char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
        trim(&kb, &ke);
        trim(&vb, &ve);
        size_t kl = (size_t)(ke - kb), vl = (size_t)(ve - vb);
        if (kl == 17 && !strncasecmp(kb, "aws_access_key_id", kl))
            sp__s3_copy_str(c->ak, sizeof c->ak, vb, vl);
        else if (kl == 21 && !strncasecmp(kb, "aws_secret_access_key", kl))
            sp__s3_copy_str(c->sk, sizeof c->sk, vb, vl);
        else if (kl == 17 && !strncasecmp(kb, "aws_session_token", kl))
            sp__s3_copy_str(c->token, sizeof c->token, vb, vl);
    }
    fclose(f);
    OPENSSL_cleanse(line, sizeof line);
    if (!any)
        return 0;
    if (!c->ak[0] || !c->sk[0])
        return sp_error_set(err, SP_EAUTH, 0,
                            "connection '%s': credentials file '%s': profile '%s' lacks "
                            "aws_access_key_id or aws_secret_access_key", conn, path, profile);
    return 1;
}

/* keep_secret: c's secret key and session token are never shown in any
 * message (sp_secret.h) */
static int keep_secret(const sp__s3_creds *c)
{
    return sp_secret_register(c->sk) || sp_secret_register(c->token) ? -1 : 0;
}

/* resolve_base: the base credentials, in the documented order (under mu) */
static int resolve_base(sp_s3 *s, sp_error *err)
{
    if (s->have_base)
        return 0;
    sp__s3_creds *c = &s->base;
    memset(c, 0, sizeof *c);
    if (s->cfg_ak || s->cfg_sk) {
        if (!s->cfg_ak || !s->cfg_sk)
            return sp_error_set(err, SP_EAUTH, 0,
                                "connection '%s': S3_ACCESS_KEY and S3_SECRET go together "
                                "(only %s is set)", s->conn,
                                s->cfg_ak ? "S3_ACCESS_KEY" : "S3_SECRET");
        sp__s3_copy_str(c->ak, sizeof c->ak, s->cfg_ak, strlen(s->cfg_ak));
        sp__s3_copy_str(c->sk, sizeof c->sk, s->cfg_sk, strlen(s->cfg_sk));
        snprintf(s->source, sizeof s->source, "connection");
        s->have_base = 1;
        if (keep_secret(c))
            return sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", s->conn);
        return 0;
    }
    const sp_env *env = s->env;
    const char *ak = env ? sp__s3_nz(sp_keys_env_get(env, "AWS_ACCESS_KEY_ID")) : NULL;
    const char *sk = env ? sp__s3_nz(sp_keys_env_get(env, "AWS_SECRET_ACCESS_KEY")) : NULL;
    if (ak || sk) {
        if (!ak || !sk)
            return sp_error_set(err, SP_EAUTH, 0,
                                "connection '%s': AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY go together (only %s is set)",
                                s->conn, ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
        const char *tok = sp__s3_nz(sp_keys_env_get(env, "AWS_SESSION_TOKEN"));
        sp__s3_copy_str(c->ak, sizeof c->ak, ak, strlen(ak));
        sp__s3_copy_str(c->sk, sizeof c->sk, sk, strlen(sk));
        if (tok)
            sp__s3_copy_str(c->token, sizeof c->token, tok, strlen(tok));
        snprintf(s->source, sizeof s->source, "environment");
        s->have_base = 1;
        if (keep_secret(c))
            return sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", s->conn);
        return 0;
    }
    char path[4096];
    const char *file = env ? sp__s3_nz(sp_keys_env_get(env, "AWS_SHARED_CREDENTIALS_FILE")) : NULL;
    const char *home = env ? sp__s3_nz(sp_keys_env_get(env, "HOME")) : NULL;
    if (file)
        snprintf(path, sizeof path, "%s", file);
    else if (home)
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    else
        path[0] = '\0';
    const char *profile = env ? sp__s3_nz(sp_keys_env_get(env, "AWS_PROFILE")) : NULL;
    if (!profile)
        profile = "default";
    if (path[0]) {
        int f = shared_file(path, profile, c, err, s->conn);
        if (f < 0)
            return f;
        if (f) {
            snprintf(s->source, sizeof s->source, "shared file '%.400s' profile '%.64s'", path,
                     profile);
            s->have_base = 1;
            if (keep_secret(c))
                return sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory",
                                    s->conn);
            return 0;
        }
    }
    return sp_error_set(err, SP_EAUTH, 0,
                        "connection '%s': no credentials: set S3_ACCESS_KEY and S3_SECRET, "
                        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile "
                        "'%s' in %s", s->conn, profile, path[0] ? path : "~/.aws/credentials");
}

int sp_s3_credentials_source(sp_s3 *s, char *buf, size_t bufsz, sp_error *err)
{
    pthread_mutex_lock(&s->mu);
    int rc = resolve_base(s, err);
    if (!rc)
        snprintf(buf, bufsz, "%s", s->source);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* iso_date: parse "2026-11-24T01:02:03Z" (with optional fraction) */
static int64_t iso_date(const char *d)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!d[0] || !strptime(d, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

static int form_add(sp_buf *b, const char *k, const char *v, sp_error *err)
{
    int rc = sp_buf_addf(b, err, "%s%s=", b->len ? "&" : "", k);
    return rc ? rc : sp_sigv4_encode(b, v, strlen(v), 0, err);
}

/* assume_role: STS AssumeRole with the base credentials into s->role
 * (called with role_mu held, mu not held) */
static int assume_role(sp_s3 *s, sp_error *err)
{
    sp_buf body = SP_BUF_INIT(16384), resp = SP_BUF_INIT(RESP_MAX);
    char dur[16];
    snprintf(dur, sizeof dur, "%d", s->role_seconds);
    int rc = form_add(&body, "Action", "AssumeRole", err);
    rc = rc ? rc : form_add(&body, "Version", "2011-06-15", err);
    rc = rc ? rc : form_add(&body, "RoleArn", s->role_arn, err);
    rc = rc ? rc : form_add(&body, "RoleSessionName", s->session_name, err);
    rc = rc ? rc : form_add(&body, "DurationSeconds", dur, err);
    if (!rc && s->external_id)
        rc = form_add(&body, "ExternalId", s->external_id, err);
    if (rc)
        goto out;
    sp_s3_handle *h = sp_curlx_handle_new();
    if (!h) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (sts)");
        goto out;
    }
    char what[600], path[1024];
    snprintf(what, sizeof what, "AssumeRole '%s'", s->role_arn);
    snprintf(path, sizeof path, "%s/", s->sts.base);
    sp__s3_target t = { &s->sts, s->sts.hostport, path, "sts", what };
    sp_sigv4_kv ct[] = { { "content-type", "application/x-www-form-urlencoded; charset=utf-8" } };
    sp_s3_req r = { .method = "POST", .headers = ct, .nheaders = 1, .body = body.data,
                    .len = body.len, .resp = &resp };
    rc = sp__s3_request(s, h, &t, &r, 1, err);
    sp_curlx_handle_free(h);
    if (rc)
        goto out;
    sp__s3_creds c;
    memset(&c, 0, sizeof c);
    char exp[64] = "";
    sp_s3_xml_text(resp.data, resp.len, "AccessKeyId", c.ak, sizeof c.ak);
    sp_s3_xml_text(resp.data, resp.len, "SecretAccessKey", c.sk, sizeof c.sk);
    sp_s3_xml_text(resp.data, resp.len, "SessionToken", c.token, sizeof c.token);
    sp_s3_xml_text(resp.data, resp.len, "Expiration", exp, sizeof exp);
    c.expires = iso_date(exp);
    if (!c.ak[0] || !c.sk[0] || !c.token[0]) {
        rc = sp_error_set(err, SP_EAUTH, 0,
                          "connection '%s': AssumeRole '%s': the answer holds no credentials",
                          s->conn, s->role_arn);
    } else if (keep_secret(&c)) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", s->conn);
    } else {
        pthread_mutex_lock(&s->mu);
        s->role = c;
        s->have_role = 1;
        pthread_mutex_unlock(&s->mu);
    }
    OPENSSL_cleanse(&c, sizeof c);
out:
    if (resp.data)
        OPENSSL_cleanse(resp.data, resp.len);
    sp_buf_release(&body);
    sp_buf_release(&resp);
    return rc;
}

/* whether the role's credentials must be (re)fetched (under mu) */
static int role_stale(sp_s3 *s)
{
    return !s->have_role || (s->role.expires &&
                             sp__s3_now() + s->clock_offset >= s->role.expires - s->margin_s);
}

int sp__s3_get_creds(sp_s3 *s, int for_sts, int force, sp__s3_creds *out, sp_error *err)
{
    pthread_mutex_lock(&s->mu);
    int rc = resolve_base(s, err);
    int need = !rc && !for_sts && s->role_arn && (force || role_stale(s));
    if (!rc && !need)
        *out = for_sts || !s->role_arn ? s->base : s->role;
    pthread_mutex_unlock(&s->mu);
    if (!need)
        return rc;
    /* one refresh at a time; the others wait and take its result */
    pthread_mutex_lock(&s->role_mu);
    pthread_mutex_lock(&s->mu);
    need = force || role_stale(s);
    pthread_mutex_unlock(&s->mu);
    if (need)
        rc = assume_role(s, err);
    pthread_mutex_lock(&s->mu);
    if (!rc)
        *out = s->role;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->role_mu);
    return rc;
}

int sp_s3_access_key(sp_s3 *s, char *buf, size_t bufsz, sp_error *err)
{
    sp__s3_creds c;
    int rc = sp__s3_get_creds(s, 0, 0, &c, err);
    if (!rc)
        snprintf(buf, bufsz, "%s", c.ak);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}
