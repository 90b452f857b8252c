/* sp_s3: the S3 client — see sp_s3.h and docs/s3.md: endpoints, signed
 * requests on libcurl with retries and S3's errors (the transport); the
 * credentials it signs with are sp_s3_creds.c's (sp_s3_int.h). */
#include "sp_s3_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <expat.h>
#include <openssl/evp.h>

#include "sp_curlx.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_secret.h"
#include "sp_banned.h"

#define ERRBODY_MAX ((size_t)64 << 10)

struct sp_s3_handle {
    CURL *curl;
};

/* ---- small helpers ------------------------------------------------------- */

int64_t sp__s3_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void sp_md5_base64(const void *data, size_t n, char out[25])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!EVP_Digest(data, n, md, &ml, EVP_md5(), NULL) || ml != 16)
        memset(md, 0, 16);
    EVP_EncodeBlock((unsigned char *)out, md, 16); /* 24 chars + NUL */
}

/* ---- XML ----------------------------------------------------------------- */

typedef struct xml_find {
    const char *name;
    char *out;
    size_t outsz, len;
    int depth_in; /* inside the element */
    int found;
} xml_find;

static const char *local_name(const char *n)
{
    const char *c = strrchr(n, ':');
    return c ? c + 1 : n;
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xml_find *x = ud;
    (void)atts;
    if (x->depth_in)
        x->depth_in++;
    else if (!x->found && !strcmp(local_name(name), x->name)) {
        x->depth_in = 1;
        x->len = 0;
        if (x->outsz)
            x->out[0] = '\0';
    }
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    xml_find *x = ud;
    (void)name;
    if (x->depth_in && --x->depth_in == 0)
        x->found = 1;
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
    xml_find *x = ud;
    if (x->depth_in != 1 || x->outsz == 0)
        return;
    size_t room = x->outsz - 1 - x->len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(x->out + x->len, s, n);
    x->len += n;
    x->out[x->len] = '\0';
}

int sp_s3_xml_text(const char *xml, size_t n, const char *name, char *out, size_t outsz)
{
    if (outsz)
        out[0] = '\0';
    if (!xml || !n)
        return 0;
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p)
        return 0;
    xml_find x = { name, out, outsz, 0, 0, 0 };
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
    int ok = XML_Parse(p, xml, (int)(n > (size_t)INT32_MAX ? INT32_MAX : n), 1) !=
             XML_STATUS_ERROR;
    XML_ParserFree(p);
    return ok && x.found;
}

/* ---- endpoints ----------------------------------------------------------- */

static void endpoint_release(sp__s3_endpoint *e)
{
    free(e->scheme);
    free(e->hostport);
    free(e->base);
    memset(e, 0, sizeof *e);
}

/* endpoint_parse: "scheme://host[:port][/base]" */
static int endpoint_parse(const char *url, sp__s3_endpoint *e, const char *conn, const char *key,
                          sp_error *err)
{
    memset(e, 0, sizeof *e);
    const char *sep = strstr(url, "://");
    if (!sep || (strncmp(url, "http", 4) != 0) ||
        (sep - url != 4 && sep - url != 5) || (sep - url == 5 && url[4] != 's'))
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': %s '%s': expected http://host[:port] or "
                            "https://host[:port]", conn, key, url);
    const char *h = sep + 3;
    size_t hl = strcspn(h, "/?#");
    if (hl == 0)
        return sp_error_set(err, SP_EDEF, 0, "connection '%s': %s '%s': no host", conn,
                            key, url);
    const char *b = h + hl;
    size_t bl = strcspn(b, "?#");
    while (bl && b[bl - 1] == '/')
        bl--;
    e->scheme = malloc((size_t)(sep - url) + 1);
    e->hostport = malloc(hl + 1);
    e->base = malloc(bl + 1);
    if (!e->scheme || !e->hostport || !e->base) {
        endpoint_release(e);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (endpoint)");
    }
    sp__s3_copy_str(e->scheme, (size_t)(sep - url) + 1, url, (size_t)(sep - url));
    sp__s3_copy_str(e->hostport, hl + 1, h, hl);
    sp__s3_copy_str(e->base, bl + 1, b, bl);
    return 0;
}

static int endpoint_aws(sp__s3_endpoint *e, const char *svc, const char *region, sp_error *err)
{
    char url[512];
    snprintf(url, sizeof url, "https://%s.%s.amazonaws.com%s", svc, region,
             !strncmp(region, "cn-", 3) ? ".cn" : "");
    return endpoint_parse(url, e, "", "endpoint", err);
}

static int valid_region(const char *r)
{
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    return 1;
}

/* ---- client -------------------------------------------------------------- */

/* where_at: the error just set reads "connection 'conn': " then, when
 * key_named, "KEY " before its reason */
static int where_at(const sp_s3_conf *c, const char *conn, const char *key, int key_named,
                    int rc)
{
    if (c->where) {
        c->where->key = key;
        c->where->head = sp_error_head_len(conn, NULL, NULL);
        c->where->reason = key_named ? sp_error_head_len(conn, key, " ") : c->where->head;
    }
    return rc;
}

int sp_s3_open(const sp_s3_conf *c, sp_s3 **out, sp_error *err)
{
    *out = NULL;
    const char *conn = c->conn_name ? c->conn_name : "";
    if (sp_curlx_global_init(err))
        return SP_EINTERNAL;
    if (!sp__s3_nz(c->region))
        return where_at(c, conn, "S3_REGION", 0,
                        sp_error_set(err, SP_EDEF, 0, "connection '%s': S3_REGION is required",
                                     conn));
    if (!valid_region(c->region))
        return where_at(c, conn, "S3_REGION", 1,
                        sp_error_set(err, SP_EDEF, 0,
                                     "connection '%s': S3_REGION '%s' is not a region name "
                                     "(e.g. us-east-1)", conn, c->region));
    if (!sp__s3_nz(c->bucket))
        return where_at(c, conn, NULL, 0,
                        sp_error_set(err, SP_EINVAL, 0, "connection '%s': no bucket", conn));
    sp_s3 *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (s3 client)");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->role_mu, NULL);
    s->conn = sp_strdup_nz(conn);
    s->bucket = sp_strdup_nz(c->bucket);
    s->region = sp_strdup_nz(c->region);
    s->cfg_ak = sp_strdup_nz(c->access_key);
    s->cfg_sk = sp_strdup_nz(c->secret);
    s->role_arn = sp_strdup_nz(c->role_arn);
    s->external_id = sp_strdup_nz(c->external_id);
    s->env = c->env;
    snprintf(s->scheme, sizeof s->scheme, "%s", sp__s3_nz(c->uri_scheme) ? c->uri_scheme : "s3");
    s->max_attempts = c->max_attempts > 0 ? c->max_attempts : 6;
    s->base_ms = c->retry_base_ms > 0 ? c->retry_base_ms : 200;
    s->cap_ms = c->retry_cap_ms > 0 ? c->retry_cap_ms : 10000;
    s->stall_ms = c->stall_ms > 0 ? c->stall_ms : 30000;
    s->connect_ms = c->connect_ms > 0 ? c->connect_ms : 10000;
    s->role_seconds = c->role_seconds > 0 ? c->role_seconds : 3600;
    s->margin_s = c->refresh_margin_s > 0 ? c->refresh_margin_s : 300;
    char sn[128];
    snprintf(sn, sizeof sn, "sinkpipe-%s", conn[0] ? conn : "s3");
    for (char *q = sn; *q; q++) /* RoleSessionName: [\w+=,.@-]{2,64} */
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
              (*q >= '0' && *q <= '9') || strchr("_+=,.@-", *q)))
            *q = '-';
    sn[64] = '\0';
    s->session_name = sp_strdup0(sp__s3_nz(c->session_name) ? c->session_name : sn);
    int rc = 0;
    if (!s->conn || !s->bucket || !s->region || !s->session_name ||
        (sp__s3_nz(c->access_key) && !s->cfg_ak) || (sp__s3_nz(c->secret) && !s->cfg_sk) ||
        (sp__s3_nz(c->role_arn) && !s->role_arn) || (sp__s3_nz(c->external_id) && !s->external_id))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (s3 client)");
    /* endpoints */
    const sp_env *env = c->env;
    const char *ep = sp__s3_nz(c->endpoint);
    const char *epkey = "S3_ENDPOINT";
    if (!ep && env && sp__s3_nz(sp_keys_env_get(env, "AWS_ENDPOINT_URL_S3"))) {
        ep = sp_keys_env_get(env, "AWS_ENDPOINT_URL_S3");
        epkey = "AWS_ENDPOINT_URL_S3";
    }
    if (!ep && env && sp__s3_nz(sp_keys_env_get(env, "AWS_ENDPOINT_URL"))) {
        ep = sp_keys_env_get(env, "AWS_ENDPOINT_URL");
        epkey = "AWS_ENDPOINT_URL";
    }
    s->aws_s3 = !ep;
    if (!rc)
        rc = ep ? endpoint_parse(ep, &s->s3, conn, epkey, err)
                : endpoint_aws(&s->s3, "s3", s->region, err);
    if (rc == SP_EDEF)
        where_at(c, conn, epkey, 1, rc);
    const char *sts = sp__s3_nz(c->sts_endpoint);
    const char *stskey = "S3_STS_ENDPOINT";
    if (!sts && env && sp__s3_nz(sp_keys_env_get(env, "AWS_ENDPOINT_URL_STS"))) {
        sts = sp_keys_env_get(env, "AWS_ENDPOINT_URL_STS");
        stskey = "AWS_ENDPOINT_URL_STS";
    }
    if (!sts && env && sp__s3_nz(sp_keys_env_get(env, "AWS_ENDPOINT_URL"))) {
        sts = sp_keys_env_get(env, "AWS_ENDPOINT_URL");
        stskey = "AWS_ENDPOINT_URL";
    }
    s->aws_sts = !sts;
    if (!rc)
        rc = sts ? endpoint_parse(sts, &s->sts, conn, stskey, err)
                 : endpoint_aws(&s->sts, "sts", s->region, err);
    if (rc == SP_EDEF)
        where_at(c, conn, stskey, 1, rc);
    if (!rc) {
        if (sp__s3_nz(c->path_style))
            s->virtual_host = !strcasecmp(c->path_style, "false");
        else
            s->virtual_host = !ep;
        /* dotted bucket names break TLS host matching on virtual hosts */
        if (s->virtual_host && !ep && strchr(s->bucket, '.'))
            s->virtual_host = 0;
    }
    if (rc) {
        sp_s3_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sp_s3_free(sp_s3 *s)
{
    if (!s)
        return;
    free(s->conn);
    free(s->bucket);
    free(s->region);
    if (s->cfg_sk)
        OPENSSL_cleanse(s->cfg_sk, strlen(s->cfg_sk));
    free(s->cfg_ak);
    free(s->cfg_sk);
    free(s->role_arn);
    free(s->external_id);
    free(s->session_name);
    endpoint_release(&s->s3);
    endpoint_release(&s->sts);
    OPENSSL_cleanse(&s->base, sizeof s->base);
    OPENSSL_cleanse(&s->role, sizeof s->role);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->role_mu);
    free(s);
}

const char *sp_s3_conn_name(const sp_s3 *s)
{
    return s->conn;
}

void sp_s3_uri(const sp_s3 *s, const char *key, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s://%s/%s", s->scheme, s->bucket, key ? key : "");
}

/* ---- requests ------------------------------------------------------------ */

/* http_date: parse an RFC 7231 date ("Sun, 06 Nov 1994 08:49:37 GMT") */
static int64_t http_date(const char *d)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!d[0] || !strptime(d, "%a, %d %b %Y %H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

/* exchange: one attempt.  *cc receives curl's result; r->status etc. the
 * response. */
static CURLcode exchange(sp_s3 *s, sp_s3_handle *h, const sp__s3_target *t, sp_s3_req *r,
                         const sp__s3_creds *c, const char *payload_hash, const char *md5,
                         sp_curlx *x, sp_error *err, int *rc)
{
    char amz[17];
    int64_t when = sp__s3_now();
    pthread_mutex_lock(&s->mu);
    when += s->clock_offset;
    pthread_mutex_unlock(&s->mu);
    sp_sigv4_amzdate(when, amz);
    sp_sigv4_kv hs[32];
    size_t nh = 0;
    hs[nh++] = (sp_sigv4_kv){ "host", t->host };
    hs[nh++] = (sp_sigv4_kv){ "x-amz-date", amz };
    if (!strcmp(t->service, "s3"))
        hs[nh++] = (sp_sigv4_kv){ "x-amz-content-sha256", payload_hash };
    if (c->token[0])
        hs[nh++] = (sp_sigv4_kv){ "x-amz-security-token", c->token };
    if (md5)
        hs[nh++] = (sp_sigv4_kv){ "content-md5", md5 };
    for (size_t i = 0; i < r->nheaders && nh < 32; i++)
        hs[nh++] = r->headers[i];
    sp_sigv4_req sr = {
        .method = r->method, .path = t->path, .query = r->query, .nquery = r->nquery,
        .headers = hs, .nheaders = nh, .payload_hash = payload_hash,
        .access_key = c->ak, .secret_key = c->sk, .region = s->region,
        .service = t->service, .time = when,
    };
    sp_buf auth = SP_BUF_INIT(8192), url = SP_BUF_INIT(16384), line = SP_BUF_INIT(8192);
    struct curl_slist *sl = NULL;
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    *rc = sp_sigv4_sign(&sr, &auth, NULL, err);
    if (!*rc)
        *rc = sp_buf_addf(&url, err, "%s://%s", t->ep->scheme, t->host);
    if (!*rc)
        *rc = sp_sigv4_encode(&url, t->path, strlen(t->path), 1, err);
    if (!*rc && r->nquery) {
        *rc = sp_buf_addch(&url, '?', err);
        if (!*rc)
            *rc = sp_sigv4_query(&url, r->query, r->nquery, err);
    }
    for (size_t i = 0; i < nh && !*rc; i++) {
        sp_buf_reset(&line);
        *rc = sp_buf_addf(&line, err, "%s: %s", hs[i].name, hs[i].value ? hs[i].value : "");
        if (!*rc)
            *rc = sp_curlx_header(&sl, line.data, err);
    }
    if (!*rc) {
        sp_buf_reset(&line);
        *rc = sp_buf_addf(&line, err, "Authorization: %s", auth.data);
        if (!*rc)
            *rc = sp_curlx_header(&sl, line.data, err);
        /* curl's own additions that must not be sent: Expect (a round trip
         * per request) and a form Content-Type on POSTs */
        if (!*rc)
            *rc = sp_curlx_header(&sl, "Expect:", err);
        int has_ct = 0;
        for (size_t i = 0; i < r->nheaders; i++)
            has_ct |= !strcasecmp(r->headers[i].name, "content-type");
        if (!*rc && !has_ct)
            *rc = sp_curlx_header(&sl, "Content-Type:", err);
    }
    if (line.data) /* it held the Authorization and token lines */
        OPENSSL_cleanse(line.data, line.len);
    if (!*rc) {
        x->method = r->method;
        x->url = url.data;
        x->headers = sl;
        x->body = r->body;
        x->len = r->len;
        x->stall_ms = s->stall_ms;
        x->connect_ms = s->connect_ms;
        x->cancel = r->cancel;
        cc = sp_curlx_perform(h, x);
        r->status = x->status;
    }
    curl_slist_free_all(sl);
    sp_buf_release(&auth);
    sp_buf_release(&url);
    sp_buf_release(&line);
    return cc;
}

static int auth_code(const char *code)
{
    static const char *const codes[] = {
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
        "ExpiredToken", "AuthorizationHeaderMalformed", "InvalidClientTokenId",
        "AccountProblem", "AllAccessDisabled", "MissingSecurityHeader",
        "InvalidSecurity", "UnrecognizedClientException", "IncompleteSignature",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (!strcmp(code, codes[i]))
            return 1;
    return 0;
}

/* status_retriable: an S3 error answer that may pass on its own: what
 * every HTTP client retries (408, 429, 5xx but 501), S3's own transient
 * codes, and a skewed clock (the offset is taken from the answer) */
static int status_retriable(long status, const char *code)
{
    return sp_curlx_status_retriable(status) || !strcmp(code, "RequestTimeout") ||
           !strcmp(code, "SlowDown") || !strcmp(code, "InternalError") ||
           !strcmp(code, "RequestTimeTooSkewed");
}

/* status_class: the sp_code of an S3 error answer */
static int status_class(long status, const char *code)
{
    if (status == 412)
        return SP_EEXIST;
    if (status == 404)
        return SP_ENOTFOUND;
    if (status == 403 || status == 401 || auth_code(code))
        return SP_EAUTH;
    return SP_ESINK;
}

/* request: send with retries to a target */
int sp__s3_request(sp_s3 *s, sp_s3_handle *h, const sp__s3_target *t, sp_s3_req *r,
                   int for_sts, sp_error *err)
{
    char payload[SP_SHA256_HEX_LEN + 1];
    char md5[25];
    int https = !strcmp(t->ep->scheme, "https");
    /* over TLS the transport protects the body and Content-MD5 proves it:
     * no need to hash it twice */
    if (https && !for_sts && r->len)
        snprintf(payload, sizeof payload, "UNSIGNED-PAYLOAD");
    else
        sp_sha256_hex(r->body ? r->body : "", r->len, payload);
    if (r->content_md5)
        sp_md5_base64(r->body ? r->body : "", r->len, md5);
    sp_buf errbody = SP_BUF_INIT(ERRBODY_MAX);
    sp_buf *resp = r->resp ? r->resp : &errbody;
    char msg[512] = "";
    int rc = 0, refreshed = 0;
    CURLcode cc = CURLE_OK;
    r->code[0] = '\0';
    r->attempts = 0;
    for (int attempt = 0;; attempt++) {
        if (sp_cancelled(r->cancel)) {
            rc = sp_error_set(err, SP_ECANCELLED, 0, "connection '%s': %s: cancelled", s->conn,
                              t->what);
            break;
        }
        sp__s3_creds c;
        memset(&c, 0, sizeof c);
        rc = sp__s3_get_creds(s, for_sts, 0, &c, err);
        if (rc)
            break;
        char date[64], region[64], clen[32];
        sp_curlx_hdr hv[] = { { "etag", r->etag, sizeof r->etag },
                              { "date", date, sizeof date },
                              { "x-amz-bucket-region", region, sizeof region },
                              { "content-length", clen, sizeof clen } };
        sp_curlx x = { .resp = resp, .hdrs = hv, .nhdrs = 4 };
        r->attempts++;
        sp_buf_reset(resp);
        r->code[0] = msg[0] = '\0';
        int erc = 0;
        cc = exchange(s, h, t, r, &c, payload, r->content_md5 ? md5 : NULL, &x, err, &erc);
        OPENSSL_cleanse(&c, sizeof c);
        if (erc) {
            rc = erc;
            break;
        }
        if (cc == CURLE_ABORTED_BY_CALLBACK && x.cancelled) {
            rc = sp_error_set(err, SP_ECANCELLED, 0, "connection '%s': %s: cancelled", s->conn,
                              t->what);
            break;
        }
        r->content_length = clen[0] ? strtoull(clen, NULL, 10) : 0;
        sp_error ae = SP_ERROR_INIT; /* this attempt's failure, classified */
        if (cc != CURLE_OK) {
            if (x.stalled)
                snprintf(msg, sizeof msg, "timeout: no byte moved for %d ms", s->stall_ms);
            else
                snprintf(msg, sizeof msg, "%s", curl_easy_strerror(cc));
            if (cc == CURLE_COULDNT_RESOLVE_HOST && (for_sts ? s->aws_sts : s->aws_s3)) {
                size_t ml = strlen(msg);
                snprintf(msg + ml, sizeof msg - ml, " (is S3_REGION '%s' right?)", s->region);
            }
            sp_error_set(&ae, SP_ENET, sp_curlx_transient(cc) ? SP_RETRIABLE : SP_FATAL,
                         "connection '%s': %s: %s://%s: %s", s->conn, t->what, t->ep->scheme,
                         t->host, msg);
        } else {
            int is_err = r->status < 200 || r->status > 299;
            /* CompleteMultipartUpload and CopyObject may answer 200 with an
             * <Error> body */
            if (!is_err && resp->len && !strcmp(r->method, "POST") && !for_sts &&
                memmem(resp->data, resp->len < 512 ? resp->len : 512, "<Error>", 7))
                is_err = 1;
            if (!is_err) {
                rc = 0;
                break;
            }
            char m[384] = "";
            sp_s3_xml_text(resp->data, resp->len, "Code", r->code, sizeof r->code);
            sp_s3_xml_text(resp->data, resp->len, "Message", m, sizeof m);
            if (!r->code[0]) {
                const char *c0 = r->status == 404 ? "NotFound"
                               : r->status == 403 ? "Forbidden"
                               : r->status == 412 ? "PreconditionFailed"
                               : r->status == 503 ? "ServiceUnavailable"
                               : r->status == 301 ? "PermanentRedirect"
                               : r->status == 400 ? "BadRequest"
                               : r->status == 405 ? "MethodNotAllowed"
                               : r->status == 409 ? "Conflict"
                               : r->status >= 500 ? "InternalError" : "";
                if (c0[0])
                    snprintf(r->code, sizeof r->code, "%s", c0);
                else
                    snprintf(r->code, sizeof r->code, "HTTP%ld", r->status);
            }
            if (m[0])
                snprintf(msg, sizeof msg, "%s: %s", r->code, m);
            else
                snprintf(msg, sizeof msg, "%s (HTTP %ld)", r->code, r->status);
            if (region[0] && strcmp(region, s->region)) {
                size_t ml = strlen(msg);
                snprintf(msg + ml, sizeof msg - ml,
                         " (the bucket is in region '%s', S3_REGION is '%s')", region,
                         s->region);
            }
            if (!strcmp(r->code, "RequestTimeTooSkewed")) {
                int64_t server = http_date(date);
                if (server) {
                    pthread_mutex_lock(&s->mu);
                    s->clock_offset = server - sp__s3_now();
                    pthread_mutex_unlock(&s->mu);
                }
            }
            if (!for_sts && s->role_arn && !refreshed &&
                (!strcmp(r->code, "ExpiredToken") || !strcmp(r->code, "InvalidToken"))) {
                sp__s3_creds tmp;
                refreshed = 1;
                rc = sp__s3_get_creds(s, 0, 1, &tmp, err);
                OPENSSL_cleanse(&tmp, sizeof tmp);
                if (rc)
                    break;
                attempt--; /* a refresh is not a failed attempt */
                continue;
            }
            sp_error_set(&ae, status_class(r->status, r->code),
                         status_retriable(r->status, r->code) ? SP_RETRIABLE : SP_FATAL,
                         "connection '%s': %s: %s", s->conn, t->what, msg);
        }
        if (!ae.retriable || attempt + 1 >= s->max_attempts) {
            if (ae.retriable && attempt > 0)
                rc = sp_error_set(err, ae.code, SP_RETRIABLE, "%s (gave up after %d attempts)",
                                  ae.msg, attempt + 1);
            else
                rc = sp_error_copy(err, &ae);
            break;
        }
        sp_curlx_backoff(s->base_ms, s->cap_ms, attempt, r->cancel);
    }
    sp_buf_release(&errbody);
    return rc;
}

/* ---- S3 requests --------------------------------------------------------- */

int sp_s3_do(sp_s3 *s, sp_s3_handle *h, sp_s3_req *r, sp_error *err)
{
    sp_buf host = SP_BUF_INIT(1024), path = SP_BUF_INIT(8192);
    char what[1200];
    sp_s3_uri(s, r->key, what, sizeof what);
    int rc;
    if (s->virtual_host) {
        rc = sp_buf_addf(&host, err, "%s.%s", s->bucket, s->s3.hostport);
        rc = rc ? rc : sp_buf_addf(&path, err, "%s/%s", s->s3.base, r->key ? r->key : "");
    } else {
        rc = sp_buf_addf(&host, err, "%s", s->s3.hostport);
        rc = rc ? rc : sp_buf_addf(&path, err, "%s/%s%s%s", s->s3.base, s->bucket,
                                   r->key ? "/" : "", r->key ? r->key : "");
    }
    if (!rc) {
        sp__s3_target t = { &s->s3, host.data, path.data, "s3", what };
        rc = sp__s3_request(s, h, &t, r, 0, err);
    }
    sp_buf_release(&host);
    sp_buf_release(&path);
    return rc;
}
