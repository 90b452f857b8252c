/* sp_store_for: the object store a file-like sink writes to, chosen from its
 * bucket URI and connection by the store registry (SP_STORES below; the
 * factory is sp_store.c).
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
 * hold placeholders: the sink puts it before the file template.
 *
 * A store's registry entry owns everything about it: its name (journal
 * entries' "store", a run's service), its URI scheme, the connection type
 * it needs and the connection key that can point it at a local folder, and
 * its constructor.  Adding a store is one new file sp_store_<name>.c
 * defining `const sp_store_backend sp_store_backend_<name>` and one word in
 * SP_STORES. */
#ifndef SP_STORE_FOR_H
#define SP_STORE_FOR_H

#include <stdlib.h>

#include "sp_env.h"
#include "sp_model.h"
#include "sp_keys_env.h"
#include "sp_store.h"

/* What opens a store: a bucket URI and its connection, whatever the caller
 * (a run's sink, the recovery of a dead run's leftovers).  Borrowed. */
typedef struct sp_store_conf {
    const char *bucket_uri;      /* template text, e.g. s3://b/{year}/ */
    const char *connection_name; /* NULL: none (file:// URIs) */
    sp_conn_type conn_type;      /* the connection's type (when named) */
    const sp_settings *conn;     /* resolved connection keys, NULL: none */
    const sp_env *env;           /* the project's environment (the AWS
                                  * credentials chain, tuning knobs) */
} sp_store_conf;

/* SP_STORES: the registry, in the order errors list the schemes.  Each word
 * w names the entry sp_store_backend_<w> whose .name is "w". */
#define SP_STORES(X) X(file) X(s3) X(gcs)

typedef struct sp_store_backend {
    const char *name;   /* "file", "s3", "gcs" */
    const char *scheme; /* bucket URIs "<scheme>://...": "file", "s3", "gs" */
    int folder;         /* 1: the URI holds a local path (file:///abs/...),
                         * 0: a bucket name then a key prefix */
    int needs_conn;     /* 1: the URI needs a connection of type conn_type */
    sp_conn_type conn_type;
    /* endpoint_key: the connection key whose file:///dir value puts bucket
     * b in the local folder /dir/b (tests, demos), or NULL */
    const char *endpoint_key;
    /* open: the store of bucket or folder `root`, whose object URIs start
     * with uri_prefix (copied).  Not called for a dry run of a bucket store
     * (no network, no credentials); a folder store's dry run calls it with
     * dry_run = 1: nothing is created (a missing folder gives *out NULL). */
    int (*open)(const sp_store_conf *c, const char *root, const char *uri_prefix,
                int dry_run, sp_store **out, sp_error *err);
} sp_store_backend;

#define SP_STORE_DECLARE_(w) extern const sp_store_backend sp_store_backend_##w;
SP_STORES(SP_STORE_DECLARE_)
#undef SP_STORE_DECLARE_

/* sp_store_backend_find: by name ("file", "s3", "gcs"); NULL when unknown */
const sp_store_backend *sp_store_backend_find(const char *name);
/* sp_store_backend_of_uri: the store of a bucket URI's scheme, NULL when none */
const sp_store_backend *sp_store_backend_of_uri(const char *uri);

/* sp_store_knob: an integer tuning setting (SINKPIPE_S3_*, SINKPIPE_GCS_*)
 * checked against the key table (sp_keys_env.c: type, range, default); 0
 * when unset without a default (the store's own default).  The first
 * invalid value sets *rc and err; later calls then read nothing. */
static inline int64_t sp_store_knob(const sp_env *env, const char *name, int *rc, sp_error *err)
{
    int64_t v = 0;
    if (!*rc && env)
        *rc = sp_keys_env_int(env, name, &v, err);
    return v;
}

/* A parsed EXPORT_BUCKET_URI.  All strings owned (sp_bucket_uri_release). */
typedef struct sp_bucket_uri {
    const sp_store_backend *backend; /* the store of its scheme */
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

/* sp_store_open_for: open the store of c's bucket URI and connection.
 * dry_run = 1 creates nothing (a missing local folder gives store NULL).
 * On failure *out is empty.  Release with sp_store_dest_release. */
int sp_store_open_for(const sp_store_conf *c, int dry_run, sp_store_dest *out,
                      sp_error *err);
void sp_store_dest_release(sp_store_dest *d);

#endif
