/* sp_store_gcs: the object store on Google Cloud Storage's JSON API
 * (sp_store_vt over sp_gcs), for connections with a service-account key.
 * (GCS connections with HMAC keys use sp_store_s3 against GCS's XML API.)
 *
 * An object of at most one chunk (chunk_size, 8 MiB by default, a multiple
 * of 256 KiB) is kept in memory and sent at commit as one multipart upload
 * (metadata + media; ifGenerationMatch=0 for create_new).  A larger one
 * becomes a resumable upload as soon as its first chunk is full: the
 * session is started (with ifGenerationMatch=0 unless meta->overwrite) and
 * each full chunk is PUT with Content-Range "bytes a-b/ *" while the query
 * streams; past 64 MiB buffered across a store's writers, a writer ships
 * what it holds early (rounded down to 256 KiB).  Commit PUTs the last
 * chunk with the total size: only then does the object exist, so nothing is
 * visible before commit.  A failed chunk PUT (network error, 408, 429, 5xx)
 * asks the session how much it holds (Content-Range "bytes * / *") and
 * resends from there, with backoff.
 *
 * create_new: exists() is a GET of the object's metadata; the sink resolves
 * sibling names before begin() (vt->names_at_begin); the preconditions make
 * sure an object that appears meanwhile is never overwritten (a 412 is
 * SP_EEXIST; for a resumable upload the run then fails, as on S3).
 * abort(): the session is ended with DELETE on its URI
 * (sp_gcs_cancel_upload). */
#ifndef SP_STORE_GCS_H
#define SP_STORE_GCS_H

#include "sp_gcs.h"
#include "sp_store.h"

#define SP_GCS_CHUNK_UNIT ((size_t)256 << 10)

typedef struct sp_store_gcs_opts {
    size_t chunk_size; /* rounded up to a multiple of 256 KiB; 0 = 8 MiB */
} sp_store_gcs_opts;

/* sp_store_gcs_open: a store on bucket conf->bucket (the client is made
 * from conf).  uri_prefix: what uri() puts before a key ("gs://bucket/").
 * o may be NULL. */
int sp_store_gcs_open(const sp_gcs_conf *conf, const sp_store_gcs_opts *o,
                      const char *uri_prefix, sp_store **out, sp_error *err);

/* sp_store_gcs_probe: GET of the bucket (this fetches the first token, so a
 * refused key fails here, before the run's query): SP_ENOTFOUND for an
 * unknown bucket, SP_EAUTH for a refused key.  A 403 on the bucket itself
 * is not an error (a writer may lack storage.buckets.get). */
int sp_store_gcs_probe(sp_store *s, sp_error *err);

#endif
