/* sp_store_gcs: objects in Google Cloud Storage through the JSON API — see
 * sp_store_gcs.h and docs/gcs.md. */
#include "sp_store_gcs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sp_curlx.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_store_for.h"
#include "sp_store_s3.h"
#include "sp_store_upload.h"
#include "sp_banned.h"

#define DEFAULT_CHUNK ((size_t)8 << 20)
#define FIRST_BUF ((size_t)64 << 10)
#define META_MAX ((size_t)1 << 20)

typedef struct gcs_store {
    sp_store base;
    sp_gcs *g;
    char *uri_prefix;
    size_t chunk;
    sp_curlx_pool conns;
    pthread_mutex_t mu; /* fill */
    sp_store_fill fill; /* bytes in writers' buffers */
} gcs_store;

struct sp_objw {
    gcs_store *st;
    sp_store_upload u; /* buf: bytes not yet in the session; m.overwrite: the
                        * session's precondition; jid: the session's entry */
    uint64_t sent;   /* bytes the session holds */
    char *session;   /* resumable session URI, or NULL */
    EVP_MD_CTX *md5; /* over every byte written */
};

/* ---- connections ---------------------------------------------------------- */

static int call(gcs_store *st, sp_gcs_req *r, sp_error *err)
{
    sp_gcs_handle *h = sp_curlx_pool_get(&st->conns);
    if (!h)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs connection)");
    int rc = sp_gcs_do(st->g, h, r, err);
    sp_curlx_pool_put(&st->conns, h);
    return rc;
}

/* ---- helpers ------------------------------------------------------------- */

static int appeared(const sp_objw *w, sp_error *err)
{
    return sp_error_set(err, SP_ESINK, 0,
                        "object '%s' appeared while it was being uploaded (create_new "
                        "never overwrites); run again", w->u.key);
}

/* md5_b64: base64 of the MD5 of everything written so far (w->md5 is kept
 * going) */
static int md5_b64(const sp_objw *w, char out[25])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_MD_CTX_copy_ex(c, w->md5) && EVP_DigestFinal_ex(c, md, &ml) && ml == 16;
    EVP_MD_CTX_free(c);
    if (ok)
        EVP_EncodeBlock((unsigned char *)out, md, 16);
    return ok ? 0 : -1;
}

/* meta_json: the object resource we send (name, types, our metadata) */
static char *meta_json(const sp_objw *w, const char *key, const char *md5)
{
    json_t *j = json_pack("{s:s}", "name", key);
    json_t *m = json_object();
    if (!j || !m) {
        json_decref(j);
        json_decref(m);
        return NULL;
    }
    if (w->u.m.ctype)
        json_object_set_new(j, "contentType", json_string(w->u.m.ctype));
    if (w->u.m.cenc)
        json_object_set_new(j, "contentEncoding", json_string(w->u.m.cenc));
    if (md5)
        json_object_set_new(j, "md5Hash", json_string(md5));
    if (w->u.m.job_id)
        json_object_set_new(m, "job-id", json_string(w->u.m.job_id));
    if (w->u.m.pipe)
        json_object_set_new(m, "pipe", json_string(w->u.m.pipe));
    json_object_set_new(j, "metadata", m);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* ---- store --------------------------------------------------------------- */

static int gcs_exists(sp_store *s, const char *key, int *out, sp_error *err)
{
    gcs_store *st = (gcs_store *)s;
    *out = 0;
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    sp_buf url = SP_BUF_INIT(8192);
    sp_error e = SP_ERROR_INIT;
    sp_gcs_req r = { .method = "GET", .key = key };
    rc = sp_gcs_url(st->g, SP_GCS_OBJECT, key, "fields=name", &url, err);
    if (!rc) {
        r.url = url.data;
        rc = call(st, &r, &e);
        if (!rc)
            *out = 1;
        else if (r.status == 404 || (r.status == 403 && e.code == SP_EAUTH))
            rc = 0; /* 403: a writer that may not read; the precondition of the
                     * upload still guarantees create_new never overwrites */
        else
            rc = sp_error_copy(err, &e);
    }
    sp_buf_release(&url);
    return rc;
}

static void writer_free(sp_objw *w)
{
    if (!w)
        return;
    sp_store_upload_release(&w->u, &w->st->fill);
    free(w->session);
    EVP_MD_CTX_free(w->md5);
    free(w);
}

static int gcs_begin(sp_store *s, const char *key, const sp_obj_meta *meta, sp_objw **wp,
                     sp_error *err)
{
    gcs_store *st = (gcs_store *)s;
    *wp = NULL;
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    sp_objw *w = calloc(1, sizeof *w);
    if (!w)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')", key);
    w->st = st;
    w->md5 = EVP_MD_CTX_new();
    if (!w->md5 || !EVP_DigestInit_ex(w->md5, EVP_md5(), NULL)) {
        writer_free(w);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')", key);
    }
    if ((rc = sp_store_upload_init(&w->u, key, meta, err))) {
        writer_free(w);
        return rc;
    }
    *wp = w;
    return 0;
}

/* start_session: a resumable upload session for w (its URI in w->session) */
static int start_session(sp_objw *w, sp_error *err)
{
    gcs_store *st = w->st;
    sp_buf url = SP_BUF_INIT(8192), q = SP_BUF_INIT(8192);
    char *meta = meta_json(w, w->u.key, NULL);
    int rc = meta ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory (metadata)");
    if (!rc)
        rc = sp_buf_adds(&q, "uploadType=resumable&name=", err);
    if (!rc)
        rc = sp_gcs_encode(&q, w->u.key, err);
    if (!rc && !w->u.m.overwrite)
        rc = sp_buf_adds(&q, "&ifGenerationMatch=0", err);
    if (!rc)
        rc = sp_gcs_url(st->g, SP_GCS_UPLOAD, NULL, q.data, &url, err);
    char ct[300];
    snprintf(ct, sizeof ct, "X-Upload-Content-Type: %.200s",
             w->u.m.ctype ? w->u.m.ctype : "application/octet-stream");
    const char *hs[] = { "Content-Type: application/json; charset=UTF-8", ct };
    sp_gcs_req r = { .method = "POST", .url = url.data, .key = w->u.key, .headers = hs,
                     .nheaders = 2, .body = meta, .len = meta ? strlen(meta) : 0,
                     .cancel = w->u.m.cancel };
    sp_error e = SP_ERROR_INIT;
    /* journaled first: a dead run's session is cancelled by the next run
     * (its URI is set once known; without it the session only expires) */
    if (!rc && w->u.jn) {
        json_t *je = json_object();
        json_object_set_new(je, "store", json_string("gcs"));
        json_object_set_new(je, "key", json_string(w->u.key));
        rc = sp_journal_add(w->u.jn, je, &w->u.jid, err);
        json_decref(je);
    }
    if (!rc && (rc = call(st, &r, &e))) {
        if (rc == SP_EEXIST)
            rc = appeared(w, err);
        else
            sp_error_copy(err, &e);
    }
    if (!rc && !r.location[0])
        rc = sp_error_set(err, SP_ESINK, 0, "%s: resumable upload: no session URI in the "
                          "answer", w->u.key);
    if (!rc && !(w->session = strdup(r.location)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (session of '%s')", w->u.key);
    if (!rc && w->u.jn)
        rc = sp_journal_set(w->u.jn, w->u.jid, "session", w->session, err);
    free(meta);
    sp_buf_release(&url);
    sp_buf_release(&q);
    return rc;
}

/* persisted: the byte count a 308's Range header says the session holds
 * ("bytes=0-N": N + 1; no header: 0); -1 when unreadable */
static int64_t persisted(const char *range)
{
    if (!range[0])
        return 0;
    unsigned long long a = 0, b = 0;
    char tail;
    if (sscanf(range, "bytes=%llu-%llu%c", &a, &b, &tail) != 2 || a != 0)
        return -1;
    return (int64_t)b + 1;
}

/* put_range: send data[0..n) — the bytes after the w->sent the session
 * holds — as a chunk, the last one when `final`; resumes from what the
 * session holds after a transient failure.  On success w->sent += n. */
static int put_range(sp_objw *w, const char *data, size_t n, int final, sp_error *err)
{
    gcs_store *st = w->st;
    const uint64_t base = w->sent, total = base + n;
    char md5[25] = "", hash[48] = "";
    if (final && !md5_b64(w, md5))
        snprintf(hash, sizeof hash, "X-Goog-Hash: md5=%s", md5);
    size_t off = 0;
    int query = 0; /* ask the session how much it holds before sending */
    int resynced = 0;
    int max = sp_gcs_max_attempts(st->g);
    sp_error e = SP_ERROR_INIT;
    for (int attempt = 0;; attempt++) {
        char cr[128];
        sp_error_clear(&e);
        const char *hs[2] = { cr, hash };
        sp_gcs_req r = { .method = "PUT", .url = w->session, .key = w->u.key, .headers = hs,
                         .nheaders = 1, .single = 1, .cancel = w->u.m.cancel };
        if (query && !final) {
            snprintf(cr, sizeof cr, "Content-Range: bytes */*");
        } else if (query || off == n) { /* only a final chunk can be empty */
            snprintf(cr, sizeof cr, "Content-Range: bytes */%llu", (unsigned long long)total);
            r.nheaders = hash[0] ? 2 : 1;
        } else {
            char tot[32] = "*";
            if (final)
                snprintf(tot, sizeof tot, "%llu", (unsigned long long)total);
            snprintf(cr, sizeof cr, "Content-Range: bytes %llu-%llu/%s",
                     (unsigned long long)(base + off), (unsigned long long)(total - 1), tot);
            r.body = data + off;
            r.len = n - off;
            r.nheaders = final && hash[0] ? 2 : 1;
        }
        int rc = call(st, &r, &e);
        if (!rc && r.status != 308) {
            if (final) { /* the object exists: ours */
                w->sent = total;
                return 0;
            }
            return sp_error_set(err, SP_ESINK, 0, "%s: the upload session ended before its "
                                "last chunk", w->u.key);
        }
        if (!rc) { /* 308: the session holds p bytes */
            int64_t p = persisted(r.range);
            if (p < (int64_t)base || (uint64_t)p > total)
                return sp_error_set(err, SP_ESINK, 0,
                                    "%s: the upload session holds %lld bytes (expected "
                                    "%llu to %llu)", w->u.key, (long long)p,
                                    (unsigned long long)base, (unsigned long long)total);
            off = (size_t)((uint64_t)p - base);
            query = 0;
            if (!final && off == n) {
                w->sent = total;
                return 0;
            }
            if (attempt + 1 < max)
                continue; /* send the rest (not a failure: no backoff) */
            return sp_error_set(err, SP_ESINK, 1, "%s: the upload session keeps refusing "
                                "bytes after %llu", w->u.key, (unsigned long long)p);
        }
        if (rc == SP_ECANCELLED)
            return sp_error_set(err, rc, 0, "%s", e.msg);
        if (rc == SP_EEXIST)
            return appeared(w, err);
        if (r.status == 404 || r.status == 410)
            return sp_error_set(err, SP_ESINK, 1, "%s (the upload session is gone)", e.msg);
        if (r.status == 400 && !query && !resynced) {
            /* the session disagrees about the offset: libcurl resends a
             * request on its own when a reused connection died, and the
             * first copy may have landed.  Ask, and go on from there. */
            resynced = 1;
            query = 1;
            continue;
        }
        if (!e.retriable || attempt + 1 >= max) {
            if (e.retriable && attempt > 0)
                return sp_error_set(err, e.code, 1, "%s (gave up after %d attempts)", e.msg,
                                    attempt + 1);
            return sp_error_copy(err, &e);
        }
        sp_gcs_backoff(st->g, attempt, w->u.m.cancel);
        query = 1;
    }
}

/* ship: the first n bytes of w's buffer (a multiple of 256 KiB) go to the
 * session as a chunk (started on the first one) */
static int ship(sp_objw *w, size_t n, sp_error *err)
{
    int rc = sp_store_check_cancel(&w->u.m, w->u.key, err);
    if (!rc && !w->session)
        rc = start_session(w, err);
    if (!rc)
        rc = put_range(w, w->u.buf, n, 0, err);
    if (rc)
        return rc;
    memmove(w->u.buf, w->u.buf + n, w->u.len - n);
    w->u.len -= n;
    sp_store_fill_sub(&w->st->fill, n, 0);
    return 0;
}

static int gcs_write(sp_objw *w, const void *data, size_t n, sp_error *err)
{
    gcs_store *st = w->st;
    const char *p = data;
    int over = 0;
    if (n && !EVP_DigestUpdate(w->md5, data, n))
        return sp_error_set(err, SP_EINTERNAL, 0, "md5 failed");
    while (n) {
        if (w->u.len == st->chunk) { /* more bytes follow: not the last chunk */
            int rc = ship(w, w->u.len, err);
            if (rc)
                return rc;
        }
        if (w->u.len == w->u.cap) {
            size_t nc = w->u.cap ? w->u.cap * 2 : FIRST_BUF;
            if (nc > st->chunk)
                nc = st->chunk;
            int rc = sp_store_upload_room(&w->u, nc, "chunk", err);
            if (rc)
                return rc;
        }
        size_t k = sp_store_upload_take(&w->u, &st->fill, p, n, &over);
        p += k;
        n -= k;
    }
    /* many partitions buffering at once: ship early, whole 256 KiB units,
     * keeping a tail so the last chunk is never empty-handed */
    if (over && w->u.len > SP_GCS_CHUNK_UNIT)
        return ship(w, (w->u.len - 1) / SP_GCS_CHUNK_UNIT * SP_GCS_CHUNK_UNIT, err);
    return 0;
}

/* landed: key holds w's bytes (an earlier attempt of a lost answer) */
static int landed(sp_objw *w, const char *key, const char *md5)
{
    sp_buf url = SP_BUF_INIT(8192), resp = SP_BUF_INIT(META_MAX);
    sp_error e = SP_ERROR_INIT;
    sp_gcs_req r = { .method = "GET", .key = key, .resp = &resp };
    int ok = 0;
    if (!sp_gcs_url(w->st->g, SP_GCS_OBJECT, key, "fields=md5Hash", &url, &e)) {
        r.url = url.data;
        if (!call(w->st, &r, &e)) {
            json_t *j = json_loadb(resp.data, resp.len, 0, NULL);
            const char *h = json_string_value(json_object_get(j, "md5Hash"));
            ok = h && !strcmp(h, md5);
            json_decref(j);
        }
    }
    sp_buf_release(&url);
    sp_buf_release(&resp);
    return ok;
}

/* put_whole: the object in one multipart upload (metadata + media) */
static int put_whole(sp_objw *w, const char *key, int overwrite, sp_error *err)
{
    gcs_store *st = w->st;
    char md5[25];
    if (md5_b64(w, md5))
        return sp_error_set(err, SP_EINTERNAL, 0, "md5 failed");
    char bnd[48];
    unsigned char rnd[16];
    do { /* a boundary that is not in the bytes */
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return sp_error_set(err, SP_EINTERNAL, 0, "no random bytes");
        int o = snprintf(bnd, sizeof bnd, "sinkpipe_");
        for (size_t i = 0; i < sizeof rnd; i++)
            o += snprintf(bnd + o, sizeof bnd - (size_t)o, "%02x", rnd[i]);
    } while (w->u.len && memmem(w->u.buf, w->u.len, bnd, strlen(bnd)));
    char *meta = meta_json(w, key, md5);
    sp_buf body = SP_BUF_INIT(w->u.len + META_MAX), q = SP_BUF_INIT(8192),
           url = SP_BUF_INIT(8192);
    int rc = meta ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory (metadata)");
    if (!rc)
        rc = sp_buf_addf(&body, err, "--%s\r\nContent-Type: application/json; charset=UTF-8"
                         "\r\n\r\n%s\r\n--%s\r\nContent-Type: %s\r\n\r\n", bnd, meta, bnd,
                         w->u.m.ctype ? w->u.m.ctype : "application/octet-stream");
    if (!rc && w->u.len)
        rc = sp_buf_add(&body, w->u.buf, w->u.len, err);
    if (!rc)
        rc = sp_buf_addf(&body, err, "\r\n--%s--\r\n", bnd);
    if (!rc)
        rc = sp_buf_addf(&q, err, "uploadType=multipart%s",
                         overwrite ? "" : "&ifGenerationMatch=0");
    if (!rc)
        rc = sp_gcs_url(st->g, SP_GCS_UPLOAD, NULL, q.data, &url, err);
    char ct[96];
    snprintf(ct, sizeof ct, "Content-Type: multipart/related; boundary=%s", bnd);
    const char *hs[] = { ct };
    sp_gcs_req r = { .method = "POST", .url = url.data, .key = key, .headers = hs,
                     .nheaders = 1, .body = body.data, .len = body.len };
    sp_error e = SP_ERROR_INIT;
    if (!rc && (rc = call(st, &r, &e))) {
        if (rc == SP_EEXIST && r.attempts > 1 && landed(w, key, md5))
            rc = 0; /* an earlier attempt took effect and its answer was lost */
        else if (rc == SP_EEXIST)
            rc = sp_error_set(err, SP_EEXIST, 0, "object '%s' already exists", key);
        else
            sp_error_copy(err, &e);
    }
    free(meta);
    sp_buf_release(&body);
    sp_buf_release(&q);
    sp_buf_release(&url);
    return rc;
}

static int gcs_commit_as(sp_objw *w, const char *key, int overwrite, uint64_t *size,
                         sp_error *err)
{
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    if (w->session && strcmp(key, w->u.key))
        return appeared(w, err); /* a session is bound to its name */
    if ((rc = sp_store_check_cancel(&w->u.m, w->u.key, err)))
        return rc;
    if (!overwrite && (!w->session || w->u.m.overwrite)) {
        /* create_new: check first (the precondition then guards the race;
         * a session started for replace has none) */
        int ex = 0;
        if ((rc = gcs_exists(&w->st->base, key, &ex, err)))
            return rc;
        if (ex && w->session)
            return appeared(w, err);
        if (ex)
            return sp_error_set(err, SP_EEXIST, 0, "object '%s' already exists", key);
    }
    /* the last moment a cancel is honoured: the request below makes the
     * object visible */
    if ((rc = sp_store_check_cancel(&w->u.m, w->u.key, err)))
        return rc;
    if (w->session)
        rc = put_range(w, w->u.buf, w->u.len, 1, err);
    else
        rc = put_whole(w, key, overwrite, err);
    if (rc)
        return rc;
    if (size)
        *size = w->u.size;
    free(w->session); /* complete: nothing left to cancel */
    w->session = NULL;
    if (w->u.jn && w->u.jid >= 0)
        sp_journal_done(w->u.jn, w->u.jid);
    writer_free(w);
    return 0;
}

static int gcs_commit(sp_objw *w, int overwrite, uint64_t *size, sp_error *err)
{
    return gcs_commit_as(w, w->u.key, overwrite, size, err);
}

static void gcs_abort(sp_objw *w)
{
    if (!w)
        return;
    if (w->session) {
        sp_gcs_handle *h = sp_curlx_pool_get(&w->st->conns);
        sp_error e = SP_ERROR_INIT;
        /* retried inside; a session that could not be cancelled stays in
         * the journal for the next run */
        if (h && sp_gcs_cancel_upload(w->st->g, h, w->session, &e) == 0 && w->u.jn &&
            w->u.jid >= 0)
            sp_journal_done(w->u.jn, w->u.jid);
        sp_curlx_pool_put(&w->st->conns, h);
    } else if (w->u.jn && w->u.jid >= 0) {
        sp_journal_done(w->u.jn, w->u.jid); /* no session was opened */
    }
    writer_free(w);
}

static int gcs_uri(sp_store *s, const char *key, char *buf, size_t bufsz);

/* recover: cancel a dead run's resumable session (its URI never shown:
 * whoever holds it may upload) */
static int gcs_recover(sp_store *s, const json_t *entry, char *what, size_t whatsz,
                       sp_error *err)
{
    gcs_store *st = (gcs_store *)s;
    const char *key = json_string_value(json_object_get(entry, "key"));
    const char *session = json_string_value(json_object_get(entry, "session"));
    char uri[1200];
    if (!key || !*key)
        return sp_error_set(err, SP_EINVAL, 0, "journal entry names no object key");
    gcs_uri(s, key, uri, sizeof uri);
    if (!session || !*session) {
        snprintf(what, whatsz,
                 "upload session of %s: never opened, or its URI was not journaled (GCS "
                 "expires unfinished sessions; no object was made)",
                 uri);
        return 0;
    }
    sp_gcs_handle *h = sp_curlx_pool_get(&st->conns);
    if (!h)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs connection)");
    int rc = sp_gcs_cancel_upload(st->g, h, session, err);
    sp_curlx_pool_put(&st->conns, h);
    if (!rc)
        snprintf(what, whatsz, "cancelled the resumable upload session of %s", uri);
    return rc;
}

static int gcs_uri(sp_store *s, const char *key, char *buf, size_t bufsz)
{
    return sp_store_uri_join(((gcs_store *)s)->uri_prefix, key, buf, bufsz);
}

static void gcs_free(sp_store *s)
{
    gcs_store *st = (gcs_store *)s;
    if (!st)
        return;
    sp_curlx_pool_release(&st->conns);
    sp_gcs_free(st->g);
    free(st->uri_prefix);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

int sp_store_gcs_probe(sp_store *s, sp_error *err)
{
    gcs_store *st = (gcs_store *)s;
    sp_buf url = SP_BUF_INIT(8192);
    sp_error e = SP_ERROR_INIT;
    sp_gcs_req r = { .method = "GET" };
    int rc = sp_gcs_url(st->g, SP_GCS_BUCKET, NULL, "fields=name", &url, err);
    if (!rc) {
        r.url = url.data;
        rc = call(st, &r, &e);
    }
    sp_buf_release(&url);
    if (!rc || (r.status == 403 && e.code == SP_EAUTH))
        return 0;
    if (r.status == 404) {
        char uri[1100];
        sp_gcs_uri(st->g, NULL, uri, sizeof uri);
        return sp_error_set(err, SP_ENOTFOUND, 0, "connection '%s': %s: the bucket does not "
                            "exist", sp_gcs_conn_name(st->g), uri);
    }
    return rc == SP_ENOMEM ? rc : sp_error_copy(err, &e);
}

static const sp_store_vt gcs_vt = {
    .name = "gcs",
    .exists = gcs_exists,
    .begin = gcs_begin,
    .write = gcs_write,
    .commit = gcs_commit,
    .commit_as = gcs_commit_as,
    .abort = gcs_abort,
    .uri = gcs_uri,
    .recover = gcs_recover,
    .free = gcs_free,
    .names_at_begin = 1,
};

int sp_store_gcs_open(const sp_gcs_conf *conf, const sp_store_gcs_opts *o,
                      const char *uri_prefix, sp_store **out, sp_error *err)
{
    *out = NULL;
    gcs_store *st = calloc(1, sizeof *st);
    if (!st)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs store)");
    st->base.vt = &gcs_vt;
    pthread_mutex_init(&st->mu, NULL);
    st->fill.mu = &st->mu;
    sp_curlx_pool_init(&st->conns);
    size_t c = o && o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
    if (c > ((size_t)1 << 30))
        c = (size_t)1 << 30;
    st->chunk = (c + SP_GCS_CHUNK_UNIT - 1) / SP_GCS_CHUNK_UNIT * SP_GCS_CHUNK_UNIT;
    int rc = sp_gcs_open(conf, &st->g, err);
    if (!rc && !(st->uri_prefix = strdup(uri_prefix ? uri_prefix : "")))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (gcs store)");
    if (rc) {
        gcs_free(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}

/* ------------------------------------------------- the registry entry */

static int nonempty(const char *s)
{
    return s && *s;
}

/* open_gcs: GCS — the JSON API with a service-account key, or the XML API
 * (the S3 store, SigV4 with the HMAC keys) — and the SINKPIPE_GCS_* /
 * SINKPIPE_S3_* tuning knobs (docs/gcs.md) */
static int open_gcs(const sp_store_conf *sc, const char *bucket, const char *uri_prefix,
                    int dry_run, sp_store **out, sp_error *err)
{
    (void)dry_run; /* the factory opens no bucket store for a dry run */
    const sp_settings *c = sc->conn;
    const sp_env *env = sc->env;
    const char *conn = sc->connection_name ? sc->connection_name : "";
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
            .max_attempts = (int)sp_store_knob(env, "SINKPIPE_GCS_MAX_ATTEMPTS", &rc, err),
            .retry_base_ms = (int)sp_store_knob(env, "SINKPIPE_GCS_RETRY_BASE_MS", &rc, err),
            .retry_cap_ms = (int)sp_store_knob(env, "SINKPIPE_GCS_RETRY_CAP_MS", &rc, err),
            .stall_ms = (int)sp_store_knob(env, "SINKPIPE_GCS_STALL_MS", &rc, err),
        };
        sp_store_gcs_opts o = {
            .chunk_size = (size_t)sp_store_knob(env, "SINKPIPE_GCS_CHUNK_SIZE", &rc, err),
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
    };
    /* create_new through GCS's precondition header */
    return sp_store_s3_open_env(&conf, "x-goog-if-generation-match", env, uri_prefix, out, err);
}

const sp_store_backend sp_store_backend_gcs = {
    .name = "gcs",
    .scheme = "gs",
    .needs_conn = 1,
    .conn_type = SP_CONN_GCS,
    .endpoint_key = "GCS_ENDPOINT",
    .open = open_gcs,
};
