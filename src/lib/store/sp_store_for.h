/* sp_store_for: the object store a file-like sink writes to, chosen from its
 * bucket URI and connection (the factory in sp_store.c).
 *
 *   file:///abs/dir/...            a local folder; root = the longest
 *                                  placeholder-free leading folder, URIs
 *                                  "file://<root>/<key>"
 *   s3://bucket/prefix/ + an S3 connection whose S3_ENDPOINT is
 *     file:///dir                  the local folder /dir/<bucket>, URIs
 *                                  "s3://<bucket>/<key>"
 *     anything else                S3 or an S3-compatible store
 *                                  (sp_store_s3.h), URIs "s3://<bucket>/<key>";
 *                                  a dry run opens none (no network)
 *   gs://bucket/prefix/ + a GCS connection whose GCS_ENDPOINT is
 *     file:///dir                  the local folder /dir/<bucket>, URIs
 *                                  "gs://<bucket>/<key>"
 *     anything else, with          GCS's JSON API (sp_store_gcs.h)
 *       GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON
 *     anything else, with          GCS's XML API through the S3 store
 *       GCS_HMAC_ACCESS_ID/SECRET  (SigV4, region "auto"); URIs
 *                                  "gs://<bucket>/<key>"; a dry run opens none
 * An s3:// URI needs an S3 connection, a gs:// URI a GCS one.
 *
 * The part of the bucket URI after the store's root is a key prefix that may
 * hold placeholders: the sink puts it before the file template. */
#ifndef SP_STORE_FOR_H
#define SP_STORE_FOR_H

#include "sp_sink.h"
#include "sp_store.h"

typedef enum sp_bucket_scheme { SP_BUCKET_FILE, SP_BUCKET_S3, SP_BUCKET_GCS } sp_bucket_scheme;

/* A parsed EXPORT_BUCKET_URI.  All strings owned (sp_bucket_uri_release). */
typedef struct sp_bucket_uri {
    sp_bucket_scheme scheme;
    char *root;       /* file: absolute folder without trailing '/' ("/" for
                       * the file system root); s3, gs: the bucket name */
    char *key_prefix; /* template text after the root: "" or ending in '/' */
} sp_bucket_uri;

/* sp_bucket_uri_parse: split `uri`.  SP_EDEF naming the URI when it is not
 * s3://bucket/..., gs://bucket/... or file:///abs/..., when the bucket holds a placeholder,
 * or when a file:// path is relative. */
int sp_bucket_uri_parse(const char *uri, sp_bucket_uri *out, sp_error *err);
void sp_bucket_uri_release(sp_bucket_uri *u);

/* Where a sink's objects go. */
typedef struct sp_store_dest {
    sp_store *store;  /* owned; NULL only for a dry run whose destination
                       * folder does not exist yet (then no object exists) */
    char *uri_prefix; /* owned: what store->uri() puts before a key */
    char *key_prefix; /* owned: bucket URI template text before the file
                       * template ("" or ending in '/') */
} sp_store_dest;

/* sp_store_open_for: open the store of cfg's bucket URI and connection.
 * dry_run = 1 creates nothing (a missing local folder gives store NULL).
 * On failure *out is empty.  Release with sp_store_dest_release. */
int sp_store_open_for(const sp_sinkcfg *cfg, int dry_run, sp_store_dest *out,
                      sp_error *err);
void sp_store_dest_release(sp_store_dest *d);

#endif
