/* sp_sigv4: AWS Signature Version 4 — see sp_sigv4.h. */
#include "sp_sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sp_error.h"
#include "sp_banned.h"

#define SIG_MAX ((size_t)1 << 20) /* ceiling of one canonical request */

void sp_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void sp_sha256_hex(const void *data, size_t n, char out[SP_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!EVP_Digest(data, n, md, &ml, EVP_sha256(), NULL) || ml != 32) {
        memset(md, 0, sizeof md);
    }
    sp_hex(md, 32, out);
}

void sp_sigv4_amzdate(int64_t t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

int sp_sigv4_encode(sp_buf *out, const char *s, size_t n, int keep_slash, sp_error *err)
{
    static const char hx[] = "0123456789ABCDEF";
    int rc = sp_buf_grow(out, n * 3, err);
    if (rc)
        return rc;
    char *d = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            *d++ = (char)c;
        } else {
            *d++ = '%';
            *d++ = hx[c >> 4];
            *d++ = hx[c & 15];
        }
    }
    out->len = (size_t)(d - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* ---- query --------------------------------------------------------------- */

typedef struct enc_kv {
    char *name, *value; /* encoded, malloc'd */
} enc_kv;

static int cmp_kv(const void *a, const void *b)
{
    const enc_kv *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s, sp_error *err)
{
    sp_buf b = SP_BUF_INIT(SIG_MAX);
    if (sp_sigv4_encode(&b, s ? s : "", s ? strlen(s) : 0, 0, err))
        return NULL;
    if (!b.data && sp_buf_grow(&b, 1, err))
        return NULL;
    return sp_buf_detach(&b);
}

int sp_sigv4_query(sp_buf *out, const sp_sigv4_kv *q, size_t n, sp_error *err)
{
    if (n == 0)
        return sp_buf_grow(out, 0, err);
    enc_kv *e = calloc(n, sizeof *e);
    int rc = 0;
    if (!e)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (signature)");
    for (size_t i = 0; i < n && !rc; i++) {
        e[i].name = encode_dup(q[i].name, err);
        e[i].value = e[i].name ? encode_dup(q[i].value, err) : NULL;
        if (!e[i].name || !e[i].value)
            rc = err && err->code ? err->code : SP_ENOMEM;
    }
    if (!rc) {
        qsort(e, n, sizeof *e, cmp_kv);
        for (size_t i = 0; i < n && !rc; i++)
            rc = sp_buf_addf(out, err, "%s%s=%s", i ? "&" : "", e[i].name, e[i].value);
    }
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
    return rc;
}

/* ---- headers ------------------------------------------------------------- */

typedef struct hdr {
    char *name;  /* lowercased, malloc'd */
    const char *value;
    size_t order; /* stable sort: repeated names keep their order */
} hdr;

static int cmp_hdr(const void *a, const void *b)
{
    const hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* add_trimmed: value without leading/trailing blanks, inner runs of blanks
 * as one space */
static int add_trimmed(sp_buf *b, const char *v, sp_error *err)
{
    if (!v)
        return 0;
    size_t n = strlen(v);
    int rc = sp_buf_grow(b, n, err);
    if (rc)
        return rc;
    char *d = b->data + b->len;
    int space = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = any;
            continue;
        }
        if (space)
            *d++ = ' ';
        space = 0;
        any = 1;
        *d++ = c;
    }
    b->len = (size_t)(d - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* canon_headers: append the canonical headers block (each "name:value\n")
 * to creq and the signed-header list to sh */
static int canon_headers(const sp_sigv4_req *r, sp_buf *creq, sp_buf *sh, sp_error *err)
{
    size_t n = r->nheaders;
    hdr *h = calloc(n ? n : 1, sizeof *h);
    int rc = 0;
    if (!h)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (signature)");
    for (size_t i = 0; i < n && !rc; i++) {
        const char *nm = r->headers[i].name ? r->headers[i].name : "";
        size_t nl = strlen(nm);
        while (nl && (nm[nl - 1] == ' ' || nm[nl - 1] == '\t'))
            nl--;
        h[i].name = malloc(nl + 1);
        if (!h[i].name) {
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (signature)");
            break;
        }
        for (size_t j = 0; j < nl; j++) {
            char c = nm[j];
            h[i].name[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        h[i].name[nl] = '\0';
        h[i].value = r->headers[i].value;
        h[i].order = i;
    }
    if (!rc) {
        qsort(h, n, sizeof *h, cmp_hdr);
        for (size_t i = 0; i < n && !rc; i++) {
            int first = i == 0 || strcmp(h[i].name, h[i - 1].name);
            if (first) {
                if (i)
                    rc = sp_buf_addch(creq, '\n', err);
                if (!rc)
                    rc = sp_buf_addf(creq, err, "%s:", h[i].name);
                if (!rc)
                    rc = sp_buf_addf(sh, err, "%s%s", i ? ";" : "", h[i].name);
            } else {
                rc = sp_buf_addch(creq, ',', err);
            }
            if (!rc)
                rc = add_trimmed(creq, h[i].value, err);
        }
        if (!rc && n)
            rc = sp_buf_addch(creq, '\n', err);
    }
    for (size_t i = 0; i < n; i++)
        free(h[i].name);
    free(h);
    return rc;
}

/* ---- signing ------------------------------------------------------------- */

static int hmac(const void *key, size_t kl, const char *msg, size_t ml,
                unsigned char out[32])
{
    unsigned int ol = 0;
    if (!HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, ml, out, &ol) ||
        ol != 32)
        return -1;
    return 0;
}

int sp_sigv4_sign(const sp_sigv4_req *r, sp_buf *auth, sp_sigv4_debug *dbg,
                  sp_error *err)
{
    if (!r->method || !r->path || !r->payload_hash || !r->access_key ||
        !r->secret_key || !r->region || !r->service)
        return sp_error_set(err, SP_EINVAL, 0, "signature: incomplete request");
    sp_buf creq = SP_BUF_INIT(SIG_MAX), sh = SP_BUF_INIT(SIG_MAX);
    sp_buf sts = SP_BUF_INIT(SIG_MAX);
    char amzdate[17], day[9], hash[SP_SHA256_HEX_LEN + 1];
    sp_sigv4_amzdate(r->time, amzdate);
    memcpy(day, amzdate, 8);
    day[8] = '\0';
    int rc = sp_buf_addf(&creq, err, "%s\n", r->method);
    if (!rc)
        rc = sp_sigv4_encode(&creq, r->path, strlen(r->path), 1, err);
    if (!rc)
        rc = sp_buf_addch(&creq, '\n', err);
    if (!rc)
        rc = sp_sigv4_query(&creq, r->query, r->nquery, err);
    if (!rc)
        rc = sp_buf_addch(&creq, '\n', err);
    if (!rc)
        rc = canon_headers(r, &creq, &sh, err);
    if (!rc)
        rc = sp_buf_addf(&creq, err, "\n%s\n%s", sh.data ? sh.data : "", r->payload_hash);
    if (!rc) {
        sp_sha256_hex(creq.data, creq.len, hash);
        rc = sp_buf_addf(&sts, err, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                         amzdate, day, r->region, r->service, hash);
    }
    if (!rc) {
        /* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, day), region),
         * service), "aws4_request") */
        unsigned char k[32], sig[32];
        size_t sl = strlen(r->secret_key);
        char *ks = malloc(sl + 5);
        int bad = !ks;
        if (ks) {
            memcpy(ks, "AWS4", 4);
            memcpy(ks + 4, r->secret_key, sl + 1);
            bad = hmac(ks, sl + 4, day, 8, k) ||
                  hmac(k, 32, r->region, strlen(r->region), k) ||
                  hmac(k, 32, r->service, strlen(r->service), k) ||
                  hmac(k, 32, "aws4_request", 12, k) ||
                  hmac(k, 32, sts.data, sts.len, sig);
            OPENSSL_cleanse(ks, sl + 4);
            free(ks);
        }
        OPENSSL_cleanse(k, sizeof k);
        if (bad) {
            rc = sp_error_set(err, SP_EINTERNAL, 0, "signature: HMAC-SHA256 failed");
        } else {
            char sighex[65];
            sp_hex(sig, 32, sighex);
            rc = sp_buf_addf(auth, err,
                             "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                             "SignedHeaders=%s, Signature=%s",
                             r->access_key, day, r->region, r->service,
                             sh.data ? sh.data : "", sighex);
        }
    }
    if (!rc && dbg) {
        rc = sp_buf_add(&dbg->creq, creq.data, creq.len, err);
        if (!rc)
            rc = sp_buf_add(&dbg->sts, sts.data, sts.len, err);
    }
    sp_buf_release(&creq);
    sp_buf_release(&sh);
    sp_buf_release(&sts);
    return rc;
}
