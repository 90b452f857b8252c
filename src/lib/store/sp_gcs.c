/* sp_gcs: the GCS JSON API client and its OAuth2 tokens — see sp_gcs.h and
 * docs/gcs.md. */
#include "sp_gcs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sp_curlx.h"
#include "sp_error.h"
#include "sp_clock.h"
#include "sp_banned.h"

#define RESP_MAX ((size_t)1 << 20)
#define TOKEN_MAX 4096

struct sp_gcs {
    char *conn, *bucket, *endpoint; /* endpoint without trailing '/' */
    sp_gcs_key key;
    int max_attempts, base_ms, cap_ms, stall_ms, connect_ms;
    pthread_mutex_t mu; /* the token below; held during a refresh */
    char token[TOKEN_MAX];
    int have_token;
    int64_t obtained_ms, expires_in;
    int ntokens;
};

/* ---- keys and JWTs -------------------------------------------------------- */

void sp_gcs_key_release(sp_gcs_key *k)
{
    if (!k)
        return;
    free(k->client_email);
    free(k->private_key_id);
    free(k->token_uri);
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

static int http_url(const char *u)
{
    return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) &&
           u[strcspn(u, ":") + 3] != '\0';
}

int sp_gcs_key_parse(const char *text, const char *conn, sp_gcs_key *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    const char *K = "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON";
    if (!text || !*text)
        return sp_error_set(err, SP_EDEF, 0, "connection '%s': %s is empty", conn, K);
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) { /* je.text may quote the key: not shown */
        json_decref(j);
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': %s: not a JSON object (expected the "
                            "service account key file's content)", conn, K);
    }
    int rc = 0;
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *email = json_string_value(json_object_get(j, "client_email"));
    const char *pem = json_string_value(json_object_get(j, "private_key"));
    const char *kid = json_string_value(json_object_get(j, "private_key_id"));
    const char *turi = json_string_value(json_object_get(j, "token_uri"));
    if (type && strcmp(type, "service_account"))
        rc = sp_error_set(err, SP_EDEF, 0,
                          "connection '%s': %s: type '%.60s' (expected service_account)",
                          conn, K, type);
    else if (!email || !*email)
        rc = sp_error_set(err, SP_EDEF, 0, "connection '%s': %s: no client_email", conn, K);
    else if (!pem || !*pem)
        rc = sp_error_set(err, SP_EDEF, 0, "connection '%s': %s: no private_key", conn, K);
    else if (turi && !http_url(turi))
        rc = sp_error_set(err, SP_EDEF, 0,
                          "connection '%s': %s: token_uri '%.200s' is not an http(s) URL",
                          conn, K, turi);
    if (!rc) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!pk || EVP_PKEY_base_id(pk) != EVP_PKEY_RSA) {
            EVP_PKEY_free(pk);
            rc = sp_error_set(err, SP_EDEF, 0,
                              "connection '%s': %s: private_key is not an RSA private key "
                              "in PEM form", conn, K);
        } else {
            out->pkey = pk;
        }
    }
    if (!rc) {
        out->client_email = strdup(email);
        out->private_key_id = kid && *kid ? strdup(kid) : NULL;
        out->token_uri = strdup(turi && *turi ? turi : SP_GCS_DEFAULT_TOKEN_URI);
        if (!out->client_email || !out->token_uri || (kid && *kid && !out->private_key_id))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs key)");
    }
    /* the parsed tree holds the private key: wipe it before freeing */
    if (pem)
        OPENSSL_cleanse((char *)pem, strlen(pem));
    json_decref(j);
    if (rc)
        sp_gcs_key_release(out);
    return rc;
}

/* b64url: base64url without padding of p[0..n) appended to out */
static int b64url(sp_buf *out, const void *p, size_t n, sp_error *err)
{
    size_t cap = 4 * ((n + 2) / 3) + 1;
    int rc = sp_buf_grow(out, cap, err);
    if (rc)
        return rc;
    char *d = out->data + out->len;
    int len = EVP_EncodeBlock((unsigned char *)d, p, (int)n);
    while (len > 0 && d[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++)
        d[i] = d[i] == '+' ? '-' : d[i] == '/' ? '_' : d[i];
    out->len += (size_t)len;
    out->data[out->len] = '\0';
    return 0;
}

/* b64url_json: the compact JSON of j, base64url-encoded, appended */
static int b64url_json(sp_buf *out, json_t *j, sp_error *err)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (jwt)");
    int rc = b64url(out, s, strlen(s), err);
    free(s);
    return rc;
}

int sp_gcs_jwt(const sp_gcs_key *k, const char *scope, int64_t now, int lifetime,
               sp_buf *out, sp_error *err)
{
    json_t *h = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    if (h && k->private_key_id)
        json_object_set_new(h, "kid", json_string(k->private_key_id));
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", k->client_email, "scope", scope,
                          "aud", k->token_uri, "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + lifetime));
    sp_buf_reset(out);
    int rc = b64url_json(out, h, err);
    if (!rc)
        rc = sp_buf_addch(out, '.', err);
    if (!rc)
        rc = b64url_json(out, c, err);
    else
        json_decref(c);
    if (rc)
        return rc;
    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestSignUpdate(md, out->data, out->len) == 1 &&
             EVP_DigestSignFinal(md, NULL, &siglen) == 1 && siglen <= sizeof sig &&
             EVP_DigestSignFinal(md, sig, &siglen) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return sp_error_set(err, SP_EINTERNAL, 0, "cannot sign the token request (RS256)");
    rc = sp_buf_addch(out, '.', err);
    return rc ? rc : b64url(out, sig, siglen, err);
}

int sp_gcs_token_usable(int64_t now_ms, int64_t obtained_ms, int64_t expires_in)
{
    int64_t life = expires_in * 1000;
    int64_t margin = life / 10;
    if (margin > 300000)
        margin = 300000;
    return now_ms >= obtained_ms && now_ms < obtained_ms + life - margin;
}

/* ---- client ------------------------------------------------------------- */

int sp_gcs_open(const sp_gcs_conf *c, sp_gcs **out, sp_error *err)
{
    *out = NULL;
    const char *conn = c->conn_name ? c->conn_name : "";
    if (sp_curlx_global_init(err))
        return SP_EINTERNAL;
    if (!c->bucket || !*c->bucket)
        return sp_error_set(err, SP_EINVAL, 0, "connection '%s': no bucket", conn);
    const char *ep = c->endpoint && *c->endpoint ? c->endpoint : SP_GCS_DEFAULT_ENDPOINT;
    if (!http_url(ep) || strchr(ep, '?') || strchr(ep, '#'))
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': GCS_ENDPOINT '%s': expected http://host[:port] "
                            "or https://host[:port]", conn, ep);
    sp_gcs *g = calloc(1, sizeof *g);
    if (!g)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs client)");
    pthread_mutex_init(&g->mu, NULL);
    g->conn = strdup(conn);
    g->bucket = strdup(c->bucket);
    g->endpoint = strdup(ep);
    g->max_attempts = c->max_attempts > 0 ? c->max_attempts : 6;
    g->base_ms = c->retry_base_ms > 0 ? c->retry_base_ms : 200;
    g->cap_ms = c->retry_cap_ms > 0 ? c->retry_cap_ms : 10000;
    g->stall_ms = c->stall_ms > 0 ? c->stall_ms : 30000;
    g->connect_ms = c->connect_ms > 0 ? c->connect_ms : 10000;
    int rc = 0;
    if (!g->conn || !g->bucket || !g->endpoint)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs client)");
    if (!rc) {
        size_t n = strlen(g->endpoint);
        while (n > 8 && g->endpoint[n - 1] == '/')
            g->endpoint[--n] = '\0';
        rc = sp_gcs_key_parse(c->key_json, conn, &g->key, err);
    }
    if (rc) {
        sp_gcs_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void sp_gcs_free(sp_gcs *g)
{
    if (!g)
        return;
    free(g->conn);
    free(g->bucket);
    free(g->endpoint);
    sp_gcs_key_release(&g->key);
    OPENSSL_cleanse(g->token, sizeof g->token);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

const char *sp_gcs_conn_name(const sp_gcs *g)
{
    return g->conn;
}

int sp_gcs_max_attempts(const sp_gcs *g)
{
    return g->max_attempts;
}

void sp_gcs_uri(const sp_gcs *g, const char *key, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "gs://%s/%s", g->bucket, key ? key : "");
}

int sp_gcs_encode(sp_buf *out, const char *s, sp_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            rc = sp_buf_addch(out, (char)*p, err);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            rc = sp_buf_add(out, e, 3, err);
        }
    }
    return rc;
}

int sp_gcs_url(const sp_gcs *g, sp_gcs_url_kind kind, const char *key, const char *query,
               sp_buf *out, sp_error *err)
{
    sp_buf_reset(out);
    int rc = sp_buf_addf(out, err, "%s/%sstorage/v1/b/", g->endpoint,
                         kind == SP_GCS_UPLOAD ? "upload/" : "");
    if (!rc)
        rc = sp_gcs_encode(out, g->bucket, err);
    if (!rc && kind == SP_GCS_UPLOAD)
        rc = sp_buf_adds(out, "/o", err);
    if (!rc && kind == SP_GCS_OBJECT) {
        rc = sp_buf_adds(out, "/o/", err);
        if (!rc)
            rc = sp_gcs_encode(out, key ? key : "", err);
    }
    if (!rc && query && *query)
        rc = sp_buf_addf(out, err, "?%s", query);
    return rc;
}

/* ---- requests with retries ---------------------------------------------- */

void sp_gcs_backoff(const sp_gcs *g, int attempt, atomic_int *cancel)
{
    sp_curlx_backoff(g->base_ms, g->cap_ms, attempt, cancel);
}

/* json_reason: "what the server said" from a JSON error body: GCS's
 * {"error": {"code", "message"}} or OAuth's {"error", "error_description"} */
static void json_reason(const sp_buf *b, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!b->len)
        return;
    json_t *j = json_loadb(b->data, b->len, 0, NULL);
    json_t *e = j ? json_object_get(j, "error") : NULL;
    const char *m = NULL, *d = NULL;
    if (json_is_object(e))
        m = json_string_value(json_object_get(e, "message"));
    else if (json_is_string(e)) {
        m = json_string_value(e);
        d = json_string_value(json_object_get(j, "error_description"));
    }
    if (m)
        snprintf(out, outsz, "%.200s%s%.200s", m, d ? ": " : "", d ? d : "");
    json_decref(j);
}

static const char *status_text(long st)
{
    switch (st) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "HTTP error";
    }
}

/* send: method url with retries (unless single); token: the bearer token
 * (NULL: none).  *status and r's headers are the last answer's.
 * `what` names the target in messages. */
typedef struct call {
    const char *method, *url, *what;
    const char *const *headers;
    size_t nheaders;
    const char *bearer;
    const void *body;
    size_t len;
    sp_buf *resp;
    int single;
    atomic_int *cancel;
    long status;
    char location[2048], range[64];
    int attempts;
    int retriable; /* of the failure */
    CURLcode cc;
} call;

static int send_call(const sp_gcs *g, sp_gcs_handle *h, call *c, sp_error *err)
{
    sp_buf line = SP_BUF_INIT(TOKEN_MAX + 64), ebody = SP_BUF_INIT(64 << 10);
    sp_buf *resp = c->resp ? c->resp : &ebody;
    struct curl_slist *hs = NULL;
    int rc = 0;
    for (size_t i = 0; i < c->nheaders && !rc; i++)
        rc = sp_curlx_header(&hs, c->headers[i], err);
    if (!rc && c->bearer) {
        rc = sp_buf_addf(&line, err, "Authorization: Bearer %s", c->bearer);
        if (!rc)
            rc = sp_curlx_header(&hs, line.data, err);
    }
    if (line.data)
        OPENSSL_cleanse(line.data, line.len);
    if (!rc)
        rc = sp_curlx_header(&hs, "Expect:", err);
    c->attempts = 0;
    for (int attempt = 0; !rc; attempt++) {
        if (sp_cancelled(c->cancel)) {
            rc = sp_error_set(err, SP_ECANCELLED, 0, "connection '%s': %s: cancelled",
                              g->conn, c->what);
            break;
        }
        sp_curlx_hdr hv[] = { { "location", c->location, sizeof c->location },
                              { "range", c->range, sizeof c->range } };
        sp_curlx x = { .method = c->method, .url = c->url, .headers = hs, .body = c->body,
                       .len = c->len, .resp = resp, .hdrs = hv, .nhdrs = 2,
                       .stall_ms = g->stall_ms, .connect_ms = g->connect_ms,
                       .cancel = c->cancel };
        c->attempts++;
        c->cc = sp_curlx_perform(h, &x);
        c->status = x.status;
        if (c->cc == CURLE_ABORTED_BY_CALLBACK && x.cancelled) {
            rc = sp_error_set(err, SP_ECANCELLED, 0, "connection '%s': %s: cancelled",
                              g->conn, c->what);
            break;
        }
        if (c->cc == CURLE_OK && ((c->status >= 200 && c->status < 300) || c->status == 308))
            break;
        sp_error ae = SP_ERROR_INIT; /* this attempt's failure, classified */
        if (c->cc != CURLE_OK) {
            sp_error_set(&ae, SP_ENET, sp_curlx_transient(c->cc) ? SP_RETRIABLE : SP_FATAL,
                         "connection '%s': %s: %s", g->conn, c->what,
                         x.stalled ? "timeout: no byte moved" : curl_easy_strerror(c->cc));
        } else {
            char why[420];
            json_reason(resp, why, sizeof why);
            long st = c->status;
            int code = st == 404 ? SP_ENOTFOUND : st == 412 ? SP_EEXIST
                     : st == 401 || st == 403 ? SP_EAUTH : SP_ESINK;
            sp_error_set(&ae, code, sp_curlx_status_retriable(st) ? SP_RETRIABLE : SP_FATAL,
                         "connection '%s': %s: %ld %s%s%s", g->conn, c->what, st,
                         status_text(st), why[0] ? ": " : "", why);
        }
        c->retriable = ae.retriable;
        if (ae.retriable && !c->single && attempt + 1 < g->max_attempts) {
            sp_gcs_backoff(g, attempt, c->cancel);
            continue;
        }
        if (ae.retriable && attempt > 0)
            rc = sp_error_set(err, ae.code, SP_RETRIABLE, "%s (gave up after %d attempts)",
                              ae.msg, attempt + 1);
        else
            rc = sp_error_copy(err, &ae);
    }
    curl_slist_free_all(hs);
    sp_buf_release(&line);
    sp_buf_release(&ebody);
    return rc;
}

/* ---- tokens -------------------------------------------------------------- */

/* fetch_token: the JWT-bearer grant at the key's token_uri (under mu) */
static int fetch_token(sp_gcs *g, atomic_int *cancel, sp_error *err)
{
    sp_buf jwt = SP_BUF_INIT(16384), form = SP_BUF_INIT(20000), resp = SP_BUF_INIT(RESP_MAX);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t0 = sp_clock_mono_ms();
    int rc = sp_gcs_jwt(&g->key, SP_GCS_SCOPE, (int64_t)now.tv_sec, 3600, &jwt, err);
    if (!rc)
        rc = sp_buf_adds(&form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
                                "jwt-bearer&assertion=", err);
    if (!rc)
        rc = sp_buf_add(&form, jwt.data, jwt.len, err); /* base64url and '.': unreserved */
    sp_gcs_handle *h = rc ? NULL : sp_curlx_handle_new();
    if (!rc && !h)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (token request)");
    char what[600];
    snprintf(what, sizeof what, "token endpoint '%.500s'", g->key.token_uri);
    static const char *const hdr[] = { "Content-Type: application/x-www-form-urlencoded" };
    call c = { .method = "POST", .url = g->key.token_uri, .what = what, .headers = hdr,
               .nheaders = 1, .body = form.data, .len = form.len, .resp = &resp,
               .cancel = cancel };
    sp_error e = SP_ERROR_INIT;
    if (!rc && (rc = send_call(g, h, &c, &e))) {
        int code = e.code == SP_ESINK && c.status >= 400 && c.status < 500 ? SP_EAUTH : e.code;
        sp_error_set(err, code, sp_error_flag(&e), "%s", e.msg);
    }
    sp_curlx_handle_free(h);
    json_t *j = rc ? NULL : json_loadb(resp.data, resp.len, 0, NULL);
    const char *tok = j ? json_string_value(json_object_get(j, "access_token")) : NULL;
    json_t *exp = j ? json_object_get(j, "expires_in") : NULL;
    if (!rc) {
        if (!tok || !*tok || strlen(tok) >= sizeof g->token || !json_is_integer(exp) ||
            json_integer_value(exp) <= 0)
            rc = sp_error_set(err, SP_EAUTH, 0,
                              "connection '%s': %s: the answer holds no access_token and "
                              "expires_in", g->conn, what);
        else {
            snprintf(g->token, sizeof g->token, "%s", tok);
            g->have_token = 1;
            g->obtained_ms = t0;
            g->expires_in = (int64_t)json_integer_value(exp);
            g->ntokens++;
        }
    }
    if (tok)
        OPENSSL_cleanse((char *)tok, strlen(tok));
    json_decref(j);
    if (jwt.data)
        OPENSSL_cleanse(jwt.data, jwt.len);
    if (form.data)
        OPENSSL_cleanse(form.data, form.len);
    if (resp.data)
        OPENSSL_cleanse(resp.data, resp.len);
    sp_buf_release(&jwt);
    sp_buf_release(&form);
    sp_buf_release(&resp);
    return rc;
}

/* get_token: a usable token into out; stale: the one the server refused */
static int get_token(sp_gcs *g, const char *stale, atomic_int *cancel, char *out,
                     sp_error *err)
{
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    int need = !g->have_token || !sp_gcs_token_usable(sp_clock_mono_ms(), g->obtained_ms, g->expires_in) ||
               (stale && !strcmp(stale, g->token));
    if (need)
        rc = fetch_token(g, cancel, err);
    if (!rc)
        memcpy(out, g->token, TOKEN_MAX);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int sp_gcs_token_count(sp_gcs *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->ntokens;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* ---- requests ------------------------------------------------------------ */

int sp_gcs_do(sp_gcs *g, sp_gcs_handle *h, sp_gcs_req *r, sp_error *err)
{
    char what[1200];
    sp_gcs_uri(g, r->key, what, sizeof what);
    size_t el = strlen(g->endpoint);
    if (strncmp(r->url, g->endpoint, el) || (r->url[el] != '/' && r->url[el] != '\0'))
        return sp_error_set(err, SP_ESINK, 0,
                            "connection '%s': %s: the server sent an upload URL outside "
                            "GCS_ENDPOINT '%s'", g->conn, what, g->endpoint);
    char *tok = malloc(TOKEN_MAX);
    if (!tok)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (token)");
    int rc = get_token(g, NULL, r->cancel, tok, err);
    call c = { .method = r->method, .url = r->url, .what = what, .headers = r->headers,
               .nheaders = r->nheaders, .bearer = tok, .body = r->body, .len = r->len,
               .resp = r->resp, .single = r->single, .cancel = r->cancel };
    int attempts = 0;
    for (int refreshed = 0; !rc;) {
        sp_error e = SP_ERROR_INIT;
        rc = send_call(g, h, &c, &e);
        attempts += c.attempts;
        if (rc && c.status == 401 && !refreshed) {
            /* expired or revoked early: one new token, then once more */
            refreshed = 1;
            rc = get_token(g, tok, r->cancel, tok, err);
            continue;
        }
        if (rc)
            sp_error_copy(err, &e);
        break;
    }
    r->status = c.status;
    r->attempts = attempts;
    snprintf(r->location, sizeof r->location, "%s", c.location);
    snprintf(r->range, sizeof r->range, "%s", c.range);
    OPENSSL_cleanse(tok, TOKEN_MAX);
    free(tok);
    return rc;
}

int sp_gcs_cancel_upload(sp_gcs *g, sp_gcs_handle *h, const char *session_uri, sp_error *err)
{
    sp_gcs_req r = { .method = "DELETE", .url = session_uri };
    sp_error e = SP_ERROR_INIT;
    int rc = sp_gcs_do(g, h, &r, &e);
    if (!rc || r.status == 499 || r.status == 404 || r.status == 410)
        return 0;
    return sp_error_copy(err, &e);
}
