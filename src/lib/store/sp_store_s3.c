/* sp_store_s3: objects in S3 — see sp_store_s3.h and docs/s3.md. */
#include "sp_store_s3.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sp_curlx.h"
#include "sp_error.h"
#include "sp_env.h"
#include "sp_oplog.h"
#include "sp_store_for.h"
#include "sp_store_upload.h"
#include "sp_banned.h"

#define DEFAULT_PART ((size_t)8 << 20)
#define MAX_PARTS 10000
#define FIRST_BUF ((size_t)64 << 10)
#define GROW_EVERY 1000 /* parts between doublings of the part size */
#define XML_MAX ((size_t)4 << 20)

typedef struct job job;

typedef struct s3_store {
    sp_store base;
    sp_s3 *s3;
    char *uri_prefix;
    size_t part_size;
    int nthreads, max_inflight;
    pthread_mutex_t mu;
    pthread_cond_t cv_job;  /* a job was queued, or stop */
    pthread_cond_t cv_done; /* a job finished */
    job *head, *tail;
    int inflight;           /* queued + uploading */
    int started, stop;
    pthread_t *threads;
    sp_curlx_pool conns; /* free connections for the writers' own requests */
    int head_forbidden; /* a HEAD got 403: existence checks are blind */
    sp_store_fill fill; /* bytes in writers' buffers not yet shipped (under mu) */
    char create_header[64], create_value[16]; /* create_new's precondition */
} s3_store;

struct sp_objw {
    s3_store *st;
    sp_store_upload u; /* buf: the part being filled; jid: the multipart upload's */
    int multipart;
    char *upload_id;
    unsigned nparts; /* parts handed to the pool */
    char **etags;    /* [MAX_PARTS], filled by the workers */
    /* under st->mu */
    int pending;     /* this writer's jobs queued or uploading */
    int aborting;
    int failed;
    sp_error failure;
    /* a background commit (commit_start .. commit_wait), under st->mu */
    int cstate;     /* CS_* */
    int coverwrite;
    job *cjob;      /* its job, allocated by commit_start */
    int crc;
    sp_error cerr;
    uint64_t csize;
};

enum { CS_NONE, CS_WAITING /* for its parts */, CS_QUEUED /* or running */, CS_DONE };

struct job {
    job *next;
    sp_objw *w;
    int commit;    /* 1: commit w (a background commit), 0: upload a part */
    unsigned part; /* 1-based */
    char *data;    /* owned */
    size_t len;
};

/* ---- connections --------------------------------------------------------- */

/* call: one request on a pooled connection */
static int call(s3_store *st, sp_s3_req *r, sp_error *err)
{
    sp_s3_handle *h = sp_curlx_pool_get(&st->conns);
    if (!h)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (s3 connection)");
    int rc = sp_s3_do(st->s3, h, r, err);
    sp_curlx_pool_put(&st->conns, h);
    return rc;
}

/* ---- upload pool --------------------------------------------------------- */

static void fail_writer(sp_objw *w, const sp_error *e) /* under mu */
{
    if (!w->failed) {
        w->failed = 1;
        w->failure = *e;
    }
}

static int finish_commit(sp_objw *w, const char *key, int overwrite, uint64_t *size,
                         sp_error *err);

/* queue_commit: w's parts are all uploaded: its commit job goes to the
 * pool (under mu) */
static void queue_commit(sp_objw *w)
{
    s3_store *st = w->st;
    job *j = w->cjob;
    w->cjob = NULL;
    j->next = NULL;
    if (st->tail)
        st->tail->next = j;
    else
        st->head = j;
    st->tail = j;
    w->cstate = CS_QUEUED;
    pthread_cond_signal(&st->cv_job);
}

/* run_commit: a worker commits w (a job of queue_commit; called and
 * returns under mu) */
static void run_commit(s3_store *st, job *j)
{
    sp_objw *w = j->w;
    free(j);
    sp_error e = SP_ERROR_INIT;
    uint64_t size = 0;
    int rc;
    if (w->aborting) {
        rc = sp_error_set(&e, SP_ECANCELLED, 0, "%s: aborted before its commit", w->u.key);
    } else {
        pthread_mutex_unlock(&st->mu);
        rc = finish_commit(w, w->u.key, w->coverwrite, &size, &e);
        pthread_mutex_lock(&st->mu);
    }
    w->crc = rc;
    w->cerr = e;
    w->csize = size;
    w->cstate = CS_DONE;
    pthread_cond_broadcast(&st->cv_done);
}

static void *worker(void *arg)
{
    s3_store *st = arg;
    sp_s3_handle *h = sp_curlx_handle_new();
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->head && !st->stop)
            pthread_cond_wait(&st->cv_job, &st->mu);
        if (!st->head)
            break; /* stop, queue drained */
        job *j = st->head;
        st->head = j->next;
        if (!st->head)
            st->tail = NULL;
        sp_objw *w = j->w;
        if (j->commit) {
            run_commit(st, j);
            continue;
        }
        int skip = w->aborting || w->failed;
        pthread_mutex_unlock(&st->mu);
        sp_error e = SP_ERROR_INIT;
        int rc = 0;
        char *etag = NULL;
        if (!skip) {
            char pn[16];
            snprintf(pn, sizeof pn, "%u", j->part);
            sp_sigv4_kv q[] = { { "partNumber", pn }, { "uploadId", w->upload_id } };
            sp_s3_req r = { .method = "PUT", .key = w->u.key, .query = q, .nquery = 2,
                            .body = j->data, .len = j->len, .content_md5 = 1,
                            .cancel = w->u.m.cancel };
            rc = h ? sp_s3_do(st->s3, h, &r, &e)
                   : sp_error_set(&e, SP_ENOMEM, 0, "out of memory (s3 connection)");
            if (!rc && !r.etag[0])
                rc = sp_error_set(&e, SP_ESINK, 0, "%s: part %u: no ETag in the answer",
                                  w->u.key, j->part);
            if (!rc && !(etag = strdup(r.etag)))
                rc = sp_error_set(&e, SP_ENOMEM, 0, "out of memory (etag)");
        }
        free(j->data);
        pthread_mutex_lock(&st->mu);
        if (rc)
            fail_writer(w, &e);
        else if (etag)
            w->etags[j->part - 1] = etag;
        w->pending--;
        st->inflight--;
        free(j);
        if (!w->pending && w->cstate == CS_WAITING)
            queue_commit(w);
        pthread_cond_broadcast(&st->cv_done);
    }
    pthread_mutex_unlock(&st->mu);
    sp_curlx_handle_free(h);
    return NULL;
}

static int start_pool(s3_store *st, sp_error *err) /* under mu */
{
    if (st->started)
        return 0;
    st->threads = calloc((size_t)st->nthreads, sizeof *st->threads);
    if (!st->threads)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (upload threads)");
    for (int i = 0; i < st->nthreads; i++) {
        if (pthread_create(&st->threads[i], NULL, worker, st) != 0) {
            st->nthreads = i;
            if (i == 0) {
                free(st->threads);
                st->threads = NULL;
                return sp_error_set(err, SP_EINTERNAL, 0, "cannot start upload threads");
            }
            break;
        }
    }
    st->started = 1;
    return 0;
}

/* wait_writer: until none of w's jobs is queued or running */
static void wait_writer(sp_objw *w)
{
    s3_store *st = w->st;
    pthread_mutex_lock(&st->mu);
    while (w->pending)
        pthread_cond_wait(&st->cv_done, &st->mu);
    pthread_mutex_unlock(&st->mu);
}

/* ---- writers ------------------------------------------------------------- */

static size_t part_len(const s3_store *st, unsigned part /* 1-based */)
{
    unsigned shift = (part - 1) / GROW_EVERY;
    return st->part_size << (shift > 9 ? 9 : shift);
}

static void writer_free(sp_objw *w)
{
    if (!w)
        return;
    sp_store_upload_release(&w->u, &w->st->fill);
    free(w->upload_id);
    if (w->etags)
        for (unsigned i = 0; i < MAX_PARTS; i++)
            free(w->etags[i]);
    free(w->etags);
    free(w->cjob);
    free(w);
}

/* meta_headers: the object's metadata headers into h (returns the count) */
static size_t meta_headers(const sp_objw *w, sp_sigv4_kv *h)
{
    size_t n = 0;
    if (w->u.m.ctype)
        h[n++] = (sp_sigv4_kv){ "content-type", w->u.m.ctype };
    if (w->u.m.cenc)
        h[n++] = (sp_sigv4_kv){ "content-encoding", w->u.m.cenc };
    if (w->u.m.job_id)
        h[n++] = (sp_sigv4_kv){ "x-amz-meta-job-id", w->u.m.job_id };
    if (w->u.m.pipe)
        h[n++] = (sp_sigv4_kv){ "x-amz-meta-pipe", w->u.m.pipe };
    return n;
}

static int s3_exists(sp_store *s, const char *key, int *out, sp_error *err)
{
    s3_store *st = (s3_store *)s;
    *out = 0;
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    sp_error e = SP_ERROR_INIT;
    sp_s3_req r = { .method = "HEAD", .key = key };
    rc = call(st, &r, &e);
    if (!rc) {
        *out = 1;
        return 0;
    }
    if (rc == SP_ENOTFOUND && r.status == 404)
        return 0;
    if (r.status == 403) {
        /* credentials that may only PutObject: S3 answers 403 for a HEAD of
         * any key.  Unknown counts as absent; If-None-Match: * at commit
         * still guarantees create_new never overwrites (a wrong secret
         * fails at the upload, whose answer says why). */
        pthread_mutex_lock(&st->mu);
        st->head_forbidden = 1;
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    return sp_error_copy(err, &e);
}

static int s3_begin(sp_store *s, const char *key, const sp_obj_meta *meta, sp_objw **wp,
                    sp_error *err)
{
    s3_store *st = (s3_store *)s;
    *wp = NULL;
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    sp_objw *w = calloc(1, sizeof *w);
    if (!w)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')", key);
    w->st = st;
    if ((rc = sp_store_upload_init(&w->u, key, meta, err))) {
        writer_free(w);
        return rc;
    }
    *wp = w;
    return 0;
}

/* start_multipart: CreateMultipartUpload for w */
static int start_multipart(sp_objw *w, sp_error *err)
{
    s3_store *st = w->st;
    sp_buf resp = SP_BUF_INIT(XML_MAX);
    sp_sigv4_kv q[] = { { "uploads", NULL } };
    sp_sigv4_kv h[8];
    size_t nh = meta_headers(w, h);
    sp_s3_req r = { .method = "POST", .key = w->u.key, .query = q, .nquery = 1,
                    .headers = h, .nheaders = nh, .resp = &resp, .cancel = w->u.m.cancel };
    /* journaled first: if the answer is lost, or this process dies before
     * the upload id is known, recovery lists the key's uploads */
    int rc = 0;
    if (w->u.jn) {
        char bucket[1100];
        sp_s3_uri(st->s3, NULL, bucket, sizeof bucket);
        json_t *e = json_object();
        json_object_set_new(e, "store", json_string("s3"));
        json_object_set_new(e, "bucket", json_string(bucket));
        json_object_set_new(e, "key", json_string(w->u.key));
        rc = sp_journal_add(w->u.jn, e, &w->u.jid, err);
        json_decref(e);
    }
    if (!rc)
        rc = call(st, &r, err);
    char id[2048];
    if (!rc && !sp_s3_xml_text(resp.data, resp.len, "UploadId", id, sizeof id))
        rc = sp_error_set(err, SP_ESINK, 0, "%s: CreateMultipartUpload: no UploadId in the "
                          "answer", w->u.key);
    if (!rc && (!(w->upload_id = strdup(id)) ||
                !(w->etags = calloc(MAX_PARTS, sizeof *w->etags))))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (upload of '%s')", w->u.key);
    if (!rc)
        w->multipart = 1;
    if (!rc)
        rc = sp_journal_set(w->u.jn, w->u.jid, "upload_id", w->upload_id, err);
    sp_buf_release(&resp);
    return rc;
}

/* ship: hand the full buffer to the pool as the next part (blocks while the
 * store has max_inflight parts in flight) */
static int ship(sp_objw *w, sp_error *err)
{
    s3_store *st = w->st;
    int rc = 0;
    if (!w->multipart && (rc = start_multipart(w, err)))
        return rc;
    if (w->nparts >= MAX_PARTS)
        return sp_error_set(err, SP_ETOOBIG, 0, "%s: more than %d parts", w->u.key, MAX_PARTS);
    job *j = malloc(sizeof *j);
    if (!j)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (upload job)");
    pthread_mutex_lock(&st->mu);
    rc = start_pool(st, err);
    while (!rc && st->inflight >= st->max_inflight && !w->failed)
        pthread_cond_wait(&st->cv_done, &st->mu);
    if (!rc && w->failed)
        rc = sp_error_copy(err, &w->failure);
    if (rc) {
        pthread_mutex_unlock(&st->mu);
        free(j);
        return rc;
    }
    j->next = NULL;
    j->w = w;
    j->commit = 0;
    j->part = ++w->nparts;
    j->data = w->u.buf;
    j->len = w->u.len;
    if (st->tail)
        st->tail->next = j;
    else
        st->head = j;
    st->tail = j;
    st->inflight++;
    sp_store_fill_sub(&st->fill, w->u.len, 1);
    w->pending++;
    pthread_cond_signal(&st->cv_job);
    pthread_mutex_unlock(&st->mu);
    w->u.buf = NULL;
    w->u.len = w->u.cap = 0;
    return 0;
}

static int s3_write(sp_objw *w, const void *data, size_t n, sp_error *err)
{
    const char *p = data;
    int over = 0;
    while (n) {
        size_t target = part_len(w->st, w->nparts + 1);
        if (w->u.len == w->u.cap) {
            size_t nc;
            if (w->multipart || w->nparts)
                nc = target; /* a known multipart: the whole part at once */
            else
                nc = w->u.cap ? w->u.cap * 2 : FIRST_BUF;
            if (nc > target)
                nc = target;
            if (w->u.len == target) {
                int rc = ship(w, err);
                if (rc)
                    return rc;
                continue;
            }
            int rc = sp_store_upload_room(&w->u, nc, "part", err);
            if (rc)
                return rc;
        }
        size_t k = sp_store_upload_take(&w->u, &w->st->fill, p, n, &over);
        p += k;
        n -= k;
    }
    /* past the store's budget (many partitions open at once): a writer
     * holding at least a minimum part ships it early */
    if (over && w->u.len >= SP_S3_MIN_PART)
        return ship(w, err);
    return 0;
}

/* complete_xml: the CompleteMultipartUpload body */
static int complete_xml(sp_objw *w, sp_buf *b, sp_error *err)
{
    int rc = sp_buf_adds(b, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
                            "2006-03-01/\">", err);
    for (unsigned i = 0; i < w->nparts && !rc; i++)
        rc = sp_buf_addf(b, err, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                         i + 1, w->etags[i]);
    return rc ? rc : sp_buf_adds(b, "</CompleteMultipartUpload>", err);
}

/* expected_etag: the ETag S3 gives w's object: the hex MD5 of a single
 * PUT, or for a multipart upload the MD5 of the parts' binary MD5s, "-N" */
static int expected_etag(const sp_objw *w, char *out, size_t outsz)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    char hex[33];
    if (!w->multipart) {
        if (!EVP_Digest(w->u.buf ? w->u.buf : "", w->u.len, md, &ml, EVP_md5(), NULL))
            return -1;
        sp_hex(md, 16, hex);
        snprintf(out, outsz, "\"%s\"", hex);
        return 0;
    }
    unsigned char *all = malloc((size_t)w->nparts * 16 + 1);
    if (!all)
        return -1;
    for (unsigned i = 0; i < w->nparts; i++) {
        const char *e = w->etags[i];
        if (*e == '"')
            e++;
        for (int j = 0; j < 16; j++) {
            unsigned v = 0;
            if (sscanf(e + 2 * j, "%2x", &v) != 1) {
                free(all);
                return -1;
            }
            all[16 * i + (unsigned)j] = (unsigned char)v;
        }
    }
    int ok = EVP_Digest(all, (size_t)w->nparts * 16, md, &ml, EVP_md5(), NULL);
    free(all);
    if (!ok)
        return -1;
    sp_hex(md, 16, hex);
    snprintf(out, outsz, "\"%s-%u\"", hex, w->nparts);
    return 0;
}

/* landed: key holds w's object (HEAD, same ETag) */
static int landed(const sp_objw *w, const char *key)
{
    char want[80];
    if (expected_etag(w, want, sizeof want))
        return 0;
    sp_error e = SP_ERROR_INIT;
    sp_s3_req r = { .method = "HEAD", .key = key };
    return call(w->st, &r, &e) == 0 && !strcmp(r.etag, want);
}

static int s3_commit_as(sp_objw *w, const char *key, int overwrite, uint64_t *size,
                        sp_error *err)
{
    s3_store *st = w->st;
    int rc = sp_store_check_key(key, err);
    if (rc)
        return rc;
    int same = !strcmp(key, w->u.key);
    if (w->multipart && !same) {
        pthread_mutex_lock(&st->mu);
        int blind = st->head_forbidden;
        pthread_mutex_unlock(&st->mu);
        if (blind)
            return sp_error_set(err, SP_ESINK, 0,
                                "object '%s' exists and create_new never overwrites; these "
                                "credentials cannot check existence before an upload (HEAD "
                                "is forbidden: grant s3:GetObject), so a large object cannot "
                                "move to a sibling name", w->u.key);
        return sp_error_set(err, SP_ESINK, 0,
                            "object '%s' appeared while it was being uploaded (create_new "
                            "never overwrites); run again", w->u.key);
    }
    if ((rc = sp_store_check_cancel(&w->u.m, w->u.key, err)))
        return rc;
    /* the last part first: an exists check cannot save it from being sent,
     * and ship() reports earlier part failures */
    if (w->multipart && w->u.len && (rc = ship(w, err)))
        return rc;
    if (w->multipart)
        wait_writer(w);
    rc = finish_commit(w, key, overwrite, size, err);
    if (!rc)
        writer_free(w);
    return rc;
}

/* finish_commit: commit w under key once its parts are uploaded (the PUT
 * or CompleteMultipartUpload); w stays allocated */
static int finish_commit(sp_objw *w, const char *key, int overwrite, uint64_t *size,
                         sp_error *err)
{
    s3_store *st = w->st;
    int rc = 0;
    if (w->multipart) {
        pthread_mutex_lock(&st->mu);
        if (w->failed)
            rc = sp_error_copy(err, &w->failure);
        pthread_mutex_unlock(&st->mu);
        if (rc)
            return rc;
    }
    if (!overwrite) { /* create_new: check before writing */
        int ex = 0;
        if ((rc = s3_exists(&st->base, key, &ex, err)))
            return rc;
        if (ex)
            return sp_error_set(err, SP_EEXIST, 0, "object '%s' already exists", key);
    }
    /* the last moment a cancel is honoured: the request below makes the
     * object visible, and is not interrupted (it may take effect even if
     * its answer is lost, and then the object is delivered) */
    if ((rc = sp_store_check_cancel(&w->u.m, w->u.key, err)))
        return rc;
    sp_sigv4_kv h[8];
    size_t nh;
    char code[64] = "";
    int inm = !overwrite;
    sp_error ce; /* this call's error, handed to err at the end */
again:
    sp_error_clear(&ce);
    nh = 0;
    if (inm)
        h[nh++] = (sp_sigv4_kv){ st->create_header, st->create_value };
    if (!w->multipart) {
        nh += meta_headers(w, h + nh);
        sp_s3_req r = { .method = "PUT", .key = key, .headers = h, .nheaders = nh,
                        .body = w->u.buf ? w->u.buf : "", .len = w->u.len, .content_md5 = 1 };
        rc = call(st, &r, &ce);
        snprintf(code, sizeof code, "%s", r.code);
    } else {
        sp_buf xml = SP_BUF_INIT(XML_MAX), resp = SP_BUF_INIT(XML_MAX);
        sp_sigv4_kv q[] = { { "uploadId", w->upload_id } };
        h[nh++] = (sp_sigv4_kv){ "content-type", "application/xml" };
        rc = complete_xml(w, &xml, &ce);
        sp_s3_req r = { .method = "POST", .key = key, .query = q, .nquery = 1,
                        .headers = h, .nheaders = nh, .body = xml.data, .len = xml.len,
                        .resp = &resp };
        if (!rc) {
            rc = call(st, &r, &ce);
            snprintf(code, sizeof code, "%s", r.code);
        }
        sp_buf_release(&xml);
        sp_buf_release(&resp);
    }
    if (rc && inm && !strcmp(code, "NotImplemented")) {
        /* a store without conditional writes: the HEAD above was the check */
        inm = 0;
        goto again;
    }
    if (rc && (rc == SP_EEXIST || !strcmp(code, "NoSuchUpload")) && landed(w, key))
        rc = 0; /* an earlier attempt took effect and its answer was lost (ours,
                 * or libcurl's own resend on a connection that died): the
                 * object under the key is ours — same ETag, the MD5 of our
                 * bytes */
    if (rc == SP_EEXIST) /* short and uniform: the caller may retry */
        return sp_error_set(err, SP_EEXIST, 0, "object '%s' already exists", key);
    if (rc)
        return sp_error_set(err, ce.code ? ce.code : rc, sp_error_flag(&ce), "%s", ce.msg);
    if (rc)
        return rc;
    if (size)
        *size = w->u.size;
    if (w->multipart) {
        free(w->upload_id); /* completed: nothing left to abort */
        w->upload_id = NULL;
        sp_journal_done(w->u.jn, w->u.jid);
        w->u.jid = -1;
    }
    return 0;
}

static int s3_commit(sp_objw *w, int overwrite, uint64_t *size, sp_error *err)
{
    return s3_commit_as(w, w->u.key, overwrite, size, err);
}

/* s3_commit_start: the last part goes to the pool, and the commit is queued
 * behind the object's parts: the last of them to finish queues it, so no
 * upload thread ever waits for another */
static int s3_commit_start(sp_objw *w, int overwrite, sp_error *err)
{
    s3_store *st = w->st;
    int rc = sp_store_check_cancel(&w->u.m, w->u.key, err);
    if (!rc && w->multipart && w->u.len)
        rc = ship(w, err);
    if (rc)
        return rc;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (commit of '%s')", w->u.key);
    j->w = w;
    j->commit = 1;
    pthread_mutex_lock(&st->mu);
    rc = start_pool(st, err);
    if (!rc) {
        w->cjob = j;
        w->coverwrite = overwrite;
        w->cstate = CS_WAITING;
        if (!w->pending)
            queue_commit(w);
    }
    pthread_mutex_unlock(&st->mu);
    if (rc)
        free(j);
    return rc;
}

static int s3_commit_wait(sp_objw *w, uint64_t *size, sp_error *err)
{
    s3_store *st = w->st;
    pthread_mutex_lock(&st->mu);
    while (w->cstate == CS_WAITING || w->cstate == CS_QUEUED)
        pthread_cond_wait(&st->cv_done, &st->mu);
    int rc = w->crc;
    sp_error e = w->cerr;
    uint64_t n = w->csize;
    w->cstate = CS_NONE;
    pthread_mutex_unlock(&st->mu);
    if (rc)
        return sp_error_set(err, e.code ? e.code : rc, sp_error_flag(&e), "%s", e.msg);
    if (size)
        *size = n;
    writer_free(w);
    return 0;
}

static void s3_abort(sp_objw *w)
{
    if (!w)
        return;
    s3_store *st = w->st;
    pthread_mutex_lock(&st->mu);
    w->aborting = 1; /* queued parts are dropped, a queued commit too */
    pthread_mutex_unlock(&st->mu);
    wait_writer(w);
    pthread_mutex_lock(&st->mu); /* a background commit ends first */
    while (w->cstate == CS_WAITING || w->cstate == CS_QUEUED)
        pthread_cond_wait(&st->cv_done, &st->mu);
    pthread_mutex_unlock(&st->mu);
    if (w->multipart && w->upload_id) {
        sp_sigv4_kv q[] = { { "uploadId", w->upload_id } };
        sp_s3_req r = { .method = "DELETE", .key = w->u.key, .query = q, .nquery = 1 };
        sp_error e = SP_ERROR_INIT;
        /* retried inside; NoSuchUpload is fine.  A failure stays open in the
         * journal: the next run's recovery aborts it */
        if (!call(st, &r, &e) || r.status == 404)
            sp_journal_done(w->u.jn, w->u.jid);
    }
    /* a CreateMultipartUpload that failed may still have taken effect: its
     * entry stays open, and recovery lists the key's uploads */
    writer_free(w);
}

static int s3_uri(sp_store *s, const char *key, char *buf, size_t bufsz)
{
    return sp_store_uri_join(((s3_store *)s)->uri_prefix, key, buf, bufsz);
}

static void s3_free(sp_store *s)
{
    s3_store *st = (s3_store *)s;
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_broadcast(&st->cv_job);
    pthread_mutex_unlock(&st->mu);
    if (st->started)
        for (int i = 0; i < st->nthreads; i++)
            pthread_join(st->threads[i], NULL);
    free(st->threads);
    sp_curlx_pool_release(&st->conns);
    sp_s3_free(st->s3);
    free(st->uri_prefix);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv_job);
    pthread_cond_destroy(&st->cv_done);
    free(st);
}

int sp_store_s3_probe(sp_store *s, sp_error *err)
{
    s3_store *st = (s3_store *)s;
    sp_error e = SP_ERROR_INIT;
    sp_s3_req r = { .method = "HEAD" };
    int rc = call(st, &r, &e);
    if (!rc || r.status == 403)
        return 0;
    if (r.status == 404) {
        char uri[1100];
        sp_s3_uri(st->s3, NULL, uri, sizeof uri);
        return sp_error_set(err, SP_ENOTFOUND, 0,
                            "connection '%s': %s: NoSuchBucket: The specified bucket does "
                            "not exist", sp_s3_conn_name(st->s3), uri);
    }
    return sp_error_copy(err, &e);
}

/* abort_upload: AbortMultipartUpload; 1 when it was already gone */
static int abort_upload(s3_store *st, const char *key, const char *id, sp_error *err)
{
    sp_sigv4_kv q[] = { { "uploadId", id } };
    sp_s3_req r = { .method = "DELETE", .key = key, .query = q, .nquery = 1 };
    sp_error e = SP_ERROR_INIT;
    int rc = call(st, &r, &e);
    if (!rc)
        return 0;
    if (r.status == 404)
        return 1;
    return sp_error_set(err, e.code ? e.code : rc, sp_error_flag(&e), "%s", e.msg);
}

/* abort_listed: abort the uploads of exactly `key` begun since `since`
 * (unix seconds, minus a margin for clock skew): a dead run's upload whose
 * id never reached its journal.  *n receives how many were aborted. */
static int abort_listed(s3_store *st, const char *key, int64_t since, int *n, sp_error *err)
{
    sp_buf resp = SP_BUF_INIT(XML_MAX);
    sp_sigv4_kv q[] = { { "prefix", key }, { "uploads", NULL } };
    sp_s3_req r = { .method = "GET", .query = q, .nquery = 2, .resp = &resp };
    int rc = call(st, &r, err);
    *n = 0;
    const char *p = resp.data, *end = resp.data ? resp.data + resp.len : NULL;
    while (!rc && p && p < end) {
        const char *a = strstr(p, "<Upload>"), *b = a ? strstr(a, "</Upload>") : NULL;
        if (!a || !b)
            break;
        b += strlen("</Upload>");
        char k[1100], id[2048], ini[64];
        size_t bl = (size_t)(b - a);
        int64_t t = 0;
        /* Initiated: 2026-11-25T09:00:00.000Z */
        if (sp_s3_xml_text(a, bl, "Initiated", ini, sizeof ini) && strlen(ini) >= 19) {
            ini[10] = ' ';
            ini[19] = '\0';
        }
        if (sp_s3_xml_text(a, bl, "Key", k, sizeof k) &&
            sp_s3_xml_text(a, bl, "UploadId", id, sizeof id) && !strcmp(k, key) &&
            (sp_time_parse_text(ini, &t) || t >= since - 300)) {
            int gone = abort_upload(st, key, id, err);
            if (gone < 0)
                rc = gone;
            else if (!gone)
                (*n)++;
        }
        p = b;
    }
    sp_buf_release(&resp);
    return rc;
}

static int s3_recover(sp_store *s, const json_t *entry, char *what, size_t whatsz,
                      sp_error *err)
{
    s3_store *st = (s3_store *)s;
    const char *key = json_string_value(json_object_get(entry, "key"));
    const char *id = json_string_value(json_object_get(entry, "upload_id"));
    if (!key || !*key)
        return sp_error_set(err, SP_EINVAL, 0, "journal entry names no object key");
    char uri[1200];
    sp_s3_uri(st->s3, key, uri, sizeof uri);
    if (id) {
        int gone = abort_upload(st, key, id, err);
        if (gone < 0)
            return gone;
        snprintf(what, whatsz, gone ? "multipart upload %s of %s was already gone"
                                    : "aborted multipart upload %s of %s", id, uri);
        return 0;
    }
    int n = 0;
    int rc = abort_listed(st, key, (int64_t)json_integer_value(json_object_get(entry, "at")),
                          &n, err);
    if (!rc)
        snprintf(what, whatsz, "aborted %d multipart upload%s of %s (begun, id not journaled)",
                 n, n == 1 ? "" : "s", uri);
    return rc;
}

static const sp_store_vt s3_vt = {
    .name = "s3",
    .exists = s3_exists,
    .begin = s3_begin,
    .write = s3_write,
    .commit = s3_commit,
    .commit_as = s3_commit_as,
    .commit_start = s3_commit_start,
    .commit_wait = s3_commit_wait,
    .abort = s3_abort,
    .uri = s3_uri,
    .free = s3_free,
    .recover = s3_recover,
    .names_at_begin = 1,
};

int sp_store_s3_open(const sp_s3_conf *conf, const sp_store_s3_opts *o,
                     const char *uri_prefix, sp_store **out, sp_error *err)
{
    *out = NULL;
    s3_store *st = calloc(1, sizeof *st);
    if (!st)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (s3 store)");
    st->base.vt = &s3_vt;
    pthread_mutex_init(&st->mu, NULL);
    st->fill.mu = &st->mu;
    sp_curlx_pool_init(&st->conns);
    pthread_cond_init(&st->cv_job, NULL);
    pthread_cond_init(&st->cv_done, NULL);
    st->part_size = o && o->part_size ? o->part_size : DEFAULT_PART;
    if (st->part_size < SP_S3_MIN_PART)
        st->part_size = SP_S3_MIN_PART;
    st->nthreads = o && o->threads > 0 ? o->threads : 4;
    if (st->nthreads > 64)
        st->nthreads = 64;
    st->max_inflight = o && o->max_inflight > 0 ? o->max_inflight : st->nthreads + 2;
    int custom = o && o->create_header && o->create_value;
    snprintf(st->create_header, sizeof st->create_header, "%s",
             custom ? o->create_header : "if-none-match");
    snprintf(st->create_value, sizeof st->create_value, "%s", custom ? o->create_value : "*");
    int rc = sp_s3_open(conf, &st->s3, err);
    if (!rc && !(st->uri_prefix = strdup(uri_prefix ? uri_prefix : "")))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (s3 store)");
    if (rc) {
        s3_free(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}

/* ------------------------------------------------- the registry entry */

/* open_s3: a real S3 (or S3-compatible) endpoint: the connection's keys,
 * the project's environment for the AWS chain, and the SINKPIPE_S3_*
 * tuning knobs (docs/s3.md) */
int sp_store_s3_open_env(sp_s3_conf *conf, const char *create_header, const sp_env *env,
                         const char *uri_prefix, sp_store **out, sp_error *err)
{
    int rc = 0;
    conf->max_attempts = (int)sp_store_knob(env, "SINKPIPE_S3_MAX_ATTEMPTS", &rc, err);
    conf->retry_base_ms = (int)sp_store_knob(env, "SINKPIPE_S3_RETRY_BASE_MS", &rc, err);
    conf->retry_cap_ms = (int)sp_store_knob(env, "SINKPIPE_S3_RETRY_CAP_MS", &rc, err);
    conf->stall_ms = (int)sp_store_knob(env, "SINKPIPE_S3_STALL_MS", &rc, err);
    sp_store_s3_opts o = {
        .part_size = (size_t)sp_store_knob(env, "SINKPIPE_S3_PART_SIZE", &rc, err),
        .threads = (int)sp_store_knob(env, "SINKPIPE_S3_THREADS", &rc, err),
        .max_inflight = (int)sp_store_knob(env, "SINKPIPE_S3_MAX_INFLIGHT", &rc, err),
        .create_header = create_header,
        .create_value = create_header ? "0" : NULL,
    };
    if (rc)
        return rc;
    rc = sp_store_s3_open(conf, &o, uri_prefix, out, err);
    if (!rc && (rc = sp_store_s3_probe(*out, err))) { /* fail before the query */
        (*out)->vt->free(*out);
        *out = NULL;
    }
    return rc;
}

static int open_s3(const sp_store_conf *sc, const char *bucket, const char *uri_prefix,
                   int dry_run, sp_store **out, sp_error *err)
{
    (void)dry_run; /* the factory opens no bucket store for a dry run */
    const sp_settings *c = sc->conn;
    const sp_env *env = sc->env;
    int rc = 0;
    sp_s3_conf conf = {
        .conn_name = sc->connection_name,
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
        .role_seconds = (int)sp_store_knob(env, "SINKPIPE_S3_ROLE_SECONDS", &rc, err),
        .refresh_margin_s = (int)sp_store_knob(env, "SINKPIPE_S3_REFRESH_MARGIN_S", &rc, err),
    };
    if (rc)
        return rc;
    return sp_store_s3_open_env(&conf, NULL, env, uri_prefix, out, err);
}

const sp_store_backend sp_store_backend_s3 = {
    .name = "s3",
    .scheme = "s3",
    .needs_conn = 1,
    .conn_type = SP_CONN_S3,
    .endpoint_key = "S3_ENDPOINT",
    .open = open_s3,
};
