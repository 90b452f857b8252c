/* sp_store_s3: the object store on S3 (sp_store_vt over sp_s3).
 *
 * An object of at most one part (part_size, 8 MiB by default) is kept in
 * memory and sent as one PUT at commit.  A larger one becomes a multipart
 * upload as soon as its first part is full: parts are handed to a small pool
 * of upload threads (the writer's buffer moves to the job, no copy) that
 * hash them (Content-MD5, and SHA-256 over http) and upload them while the
 * query keeps streaming.  At most max_inflight parts are queued or uploading
 * per store; write() blocks while that many are (backpressure), so memory
 * is bounded by part size x (max_inflight + open writers); past 64 MiB
 * buffered across a store's writers, one holding >= 5 MiB ships it early.
 * Part sizes grow:
 * part n is part_size << ((n - 1) / 1000), so 10,000 parts hold any S3
 * object (5 TiB).
 *
 * commit(overwrite = 0) ("create_new"): HEAD first (an existing key is
 * SP_EEXIST and the writer stays usable), then PUT / CompleteMultipartUpload
 * with If-None-Match: * (a 412 is SP_EEXIST too).  A multipart upload is
 * bound to its key, so commit_as under another key works only for single-
 * PUT objects; the sink therefore resolves create_new names before begin()
 * on this store (vt->names_at_begin), and a key that appears during a
 * multipart upload fails the run (SP_ESINK) — it is never overwritten.
 * abort(): queued parts are dropped, running ones awaited, then
 * AbortMultipartUpload (retried): no partial object, no orphaned parts. */
#ifndef SP_STORE_S3_H
#define SP_STORE_S3_H

#include "sp_s3.h"
#include "sp_store.h"

#define SP_S3_MIN_PART ((size_t)5 << 20)

typedef struct sp_store_s3_opts {
    size_t part_size; /* first part size, >= 5 MiB; 0 = 8 MiB */
    int threads;      /* upload threads; 0 = 4 */
    int max_inflight; /* parts queued or uploading; 0 = threads + 2 */
    /* the create_new precondition of PUT / CompleteMultipartUpload: NULL =
     * "if-none-match: *" (S3); GCS's XML API: "x-goog-if-generation-match"
     * with "0" */
    const char *create_header, *create_value;
} sp_store_s3_opts;

/* sp_store_s3_open: a store on bucket conf->bucket (the client is made from
 * conf, strings copied).  uri_prefix: what uri() puts before a key
 * ("s3://bucket/").  o may be NULL (defaults). */
int sp_store_s3_open(const sp_s3_conf *conf, const sp_store_s3_opts *o,
                     const char *uri_prefix, sp_store **out, sp_error *err);

/* sp_store_s3_probe: HeadBucket, so that an unknown bucket, a wrong region
 * or refused credentials (and a denied S3_ARN role) fail the run before its
 * query: SP_ENOTFOUND / SP_EAUTH / SP_ESINK naming the connection and
 * bucket.  A 403 is not an error here (a writer may lack s3:ListBucket; the
 * first upload then says what S3 thinks). */
int sp_store_s3_probe(sp_store *s, sp_error *err);

struct sp_env;
/* sp_store_s3_open_env: sp_store_s3_open with the SINKPIPE_S3_* knobs of
 * env (retries and stall into *conf; part size, threads, in-flight parts)
 * and create_new through create_header: "0" (NULL: S3's If-None-Match),
 * then sp_store_s3_probe, so that a wrong bucket or credentials fail
 * before the query.  *out NULL on failure. */
int sp_store_s3_open_env(sp_s3_conf *conf, const char *create_header,
                         const struct sp_env *env, const char *uri_prefix, sp_store **out,
                         sp_error *err);

#endif
