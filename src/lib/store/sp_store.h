/* sp_store: object stores behind a small function table — where the objects
 * of file-like sinks land.  Implementations: the local folder (file:// URIs
 * and S3 connections whose S3_ENDPOINT is file:///path) in sp_store_file.c;
 * S3 and S3-compatible stores in sp_store_s3.c (sp_store_s3.h); Google
 * Cloud Storage's JSON API in sp_store_gcs.c (sp_store_gcs.h).
 *
 * An object is written through a writer: begin() starts it (invisible under
 * its final name), write() streams bytes, commit() makes it visible
 * atomically, abort() discards it.  A run that fails aborts every writer it
 * began, so no partial object is ever visible.
 *
 * What a writer leaves outside the object's final name while it is open (a
 * temp file, a multipart upload) is written to the run's journal
 * (sp_journal.h, meta->journal) before it is created, and marked done at
 * commit or abort.  When a run dies in between, the next run or daemon
 * start opens the same store from the journal and calls recover() on the
 * entry: each backend undoes what it journaled itself. */
#ifndef SP_STORE_H
#define SP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sinkpipe.h"
#include "sp_journal.h"
#include "sp_error.h"

typedef struct sp_store sp_store;
typedef struct sp_objw sp_objw;

typedef struct sp_obj_meta {
    const char *job_id;
    const char *pipe;
    const char *content_type;     /* "text/csv", "application/x-ndjson" */
    const char *content_encoding; /* "gzip" or NULL */
    /* cancel: the run's cancel flag (borrowed, may be NULL): once raised, a
     * store stops the writer's uploads and commit fails with SP_ECANCELLED
     * up to the moment the object is being made visible */
    atomic_int *cancel;
    /* journal: the run's journal (borrowed, may be NULL: nothing recorded) */
    sp_journal *journal;
    /* overwrite: what the writer's commit will pass (replace = 1).  Stores
     * that bind an upload's precondition when it starts (GCS resumable
     * sessions) read it at begin(); 0 (create_new) is the safe default */
    int overwrite;
} sp_obj_meta;

typedef struct sp_store_vt {
    const char *name; /* "file", "s3", "gcs" */
    /* exists: *out = 1 when `key` exists */
    int (*exists)(sp_store *s, const char *key, int *out, sp_error *err);
    int (*begin)(sp_store *s, const char *key, const sp_obj_meta *meta,
                 sp_objw **w, sp_error *err);
    int (*write)(sp_objw *w, const void *data, size_t n, sp_error *err);
    /* commit: overwrite = 0 fails with SP_EEXIST (and keeps the writer open,
     * so the caller can retry under another key with commit_as) when the
     * key exists; *size receives the stored size.  Frees w on success. */
    int (*commit)(sp_objw *w, int overwrite, uint64_t *size, sp_error *err);
    /* commit_as: as commit, under a different key (create_new siblings) */
    int (*commit_as)(sp_objw *w, const char *key, int overwrite, uint64_t *size,
                     sp_error *err);
    /* commit_start, commit_wait (optional, NULL: use commit): commit in the
     * background, so that many objects commit side by side.  commit_start
     * queues w's commit (its writes are over); commit_wait waits for it and
     * returns as commit would: frees w on success, keeps it otherwise (the
     * caller then aborts it, or tries commit_as on SP_EEXIST).  Between the
     * two only commit_wait or abort may be called on w (abort waits for a
     * commit already running, which may have landed: call commit_wait to
     * know). */
    int (*commit_start)(sp_objw *w, int overwrite, sp_error *err);
    int (*commit_wait)(sp_objw *w, uint64_t *size, sp_error *err);
    void (*abort)(sp_objw *w); /* discard and free w */
    /* uri: append the full URI of `key` (e.g. s3://bucket/key) */
    int (*uri)(sp_store *s, const char *key, char *buf, size_t bufsz);
    void (*free)(sp_store *s);
    /* recover: undo what a dead run's writer left, from the journal entry
     * this backend wrote (borrowed): remove a temp file, abort a multipart
     * upload.  0 when undone or already gone (`what` receives one line
     * saying what was done, for check/jobs); an error keeps the entry for
     * a later recovery.  NULL: the store journals nothing. */
    int (*recover)(sp_store *s, const json_t *entry, char *what, size_t whatsz,
                   sp_error *err);
    /* names_at_begin: 1 when a writer cannot change its key at commit (S3
     * multipart uploads): the caller resolves create_new sibling names with
     * exists() before begin(), and commit_as is then only a race fallback */
    int names_at_begin;
} sp_store_vt;

struct sp_store {
    const sp_store_vt *vt;
};

/* sp_store_uri_join: "<prefix><key>" into buf — what a store's uri() writes.
 * SP_EINVAL on NULL/empty buffer or NULL key, SP_ETOOBIG when it does not
 * fit (buf then holds a truncated string). */
static inline int sp_store_uri_join(const char *prefix, const char *key, char *buf,
                                    size_t bufsz)
{
    if (!buf || bufsz == 0 || !key)
        return SP_EINVAL;
    int n = snprintf(buf, bufsz, "%s%s", prefix ? prefix : "", key);
    if (n < 0)
        return SP_EINTERNAL;
    return (size_t)n >= bufsz ? SP_ETOOBIG : 0;
}

/* An object's metadata as a writer keeps it: owned copies of sp_obj_meta's
 * strings (NULL where unset) and its flags. */
typedef struct sp_objw_meta {
    char *job_id, *pipe, *ctype, *cenc;
    atomic_int *cancel; /* borrowed */
    int overwrite;
} sp_objw_meta;

static inline void sp_objw_meta_release(sp_objw_meta *m)
{
    free(m->job_id);
    free(m->pipe);
    free(m->ctype);
    free(m->cenc);
    memset(m, 0, sizeof *m);
}

static inline char *sp_objw__dup(const char *s, int *bad)
{
    char *d = s ? strdup(s) : NULL;
    *bad |= s && !d;
    return d;
}

/* sp_objw_meta_copy: src (NULL: nothing set) into dst; SP_ENOMEM naming
 * the object `key` (dst then empty). */
static inline int sp_objw_meta_copy(sp_objw_meta *dst, const sp_obj_meta *src,
                                    const char *key, sp_error *err)
{
    int bad = 0;
    memset(dst, 0, sizeof *dst);
    if (src) {
        dst->job_id = sp_objw__dup(src->job_id, &bad);
        dst->pipe = sp_objw__dup(src->pipe, &bad);
        dst->ctype = sp_objw__dup(src->content_type, &bad);
        dst->cenc = sp_objw__dup(src->content_encoding, &bad);
        dst->cancel = src->cancel;
        dst->overwrite = src->overwrite;
    }
    if (!bad)
        return 0;
    sp_objw_meta_release(dst);
    return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')", key);
}

/* sp_store_check_key: SP_EINVAL for an empty key or one longer than 1024
 * bytes (S3's and GCS's limit). */
static inline int sp_store_check_key(const char *key, sp_error *err)
{
    if (!key || !*key)
        return sp_error_set(err, SP_EINVAL, 0, "store: empty object key");
    if (strlen(key) > 1024)
        return sp_error_set(err, SP_EINVAL, 0,
                            "store: object key '%.80s...' is longer than 1024 bytes", key);
    return 0;
}

/* sp_store_check_cancel: SP_ECANCELLED once the run's cancel flag is raised */
static inline int sp_store_check_cancel(const sp_objw_meta *m, const char *key, sp_error *err)
{
    if (sp_cancelled(m->cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "cancelled before '%s' was committed", key);
    return 0;
}

/* sp_store_file_open: objects under `root` (a folder; created if missing):
 * key "a/b.csv" is the file root/a/b.csv.  uri_prefix is what uri() puts
 * before the key (e.g. "s3://bucket/" or "file:///root/"). */
int sp_store_file_open(const char *root, const char *uri_prefix, sp_store **out,
                       sp_error *err);

#endif
