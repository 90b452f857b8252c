/* sp_store_upload: what the writers of the remote stores share (internal to
 * sp_store_s3 and sp_store_gcs): an object being uploaded holds its key,
 * its metadata, the bytes buffered for its next part (S3) or chunk (GCS)
 * and its journal entry; a store counts the bytes all its writers buffer
 * against a budget, past which they upload early (many partitions open at
 * once).  The protocols themselves (S3 multipart, GCS resumable sessions)
 * stay in their stores. */
#ifndef SP_STORE_UPLOAD_H
#define SP_STORE_UPLOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_error.h"
#include "sp_journal.h"
#include "sp_store.h"

/* Past this many bytes buffered across a store's writers, a writer ships
 * what it holds early instead of growing to a full part or chunk. */
#define SP_STORE_FILL_BUDGET ((size_t)64 << 20)

/* the bytes a store's writers buffer; mu is the store's (S3 guards its job
 * queue with it too), borrowed */
typedef struct sp_store_fill {
    pthread_mutex_t *mu;
    size_t filling;
} sp_store_fill;

typedef struct sp_store_upload {
    char *key;
    sp_objw_meta m;
    char *buf;      /* the bytes not yet uploaded (owned) */
    size_t len, cap;
    uint64_t size;  /* bytes written */
    sp_journal *jn; /* the run's journal (borrowed, may be NULL) */
    long jid;       /* the upload's journal entry, -1: none */
} sp_store_upload;

/* sp_store_upload_init: u for the object `key` (copied) with meta (NULL:
 * none; its journal borrowed); SP_ENOMEM naming the object (u then holds
 * nothing: sp_store_upload_release is still fine). */
int sp_store_upload_init(sp_store_upload *u, const char *key, const sp_obj_meta *meta,
                         sp_error *err);
/* sp_store_upload_release: free what u holds; its buffered bytes leave f's
 * count. */
void sp_store_upload_release(sp_store_upload *u, sp_store_fill *f);
/* sp_store_upload_room: u's buffer to nc bytes (>= u->len); SP_ENOMEM
 * naming the `what` ("part", "chunk") of the object. */
int sp_store_upload_room(sp_store_upload *u, size_t nc, const char *what, sp_error *err);
/* sp_store_upload_take: as much of p[0..n) as u's buffer has room for,
 * appended and counted in f; returns how much; *over: f is past
 * SP_STORE_FILL_BUDGET. */
size_t sp_store_upload_take(sp_store_upload *u, sp_store_fill *f, const char *p, size_t n,
                            int *over);
/* sp_store_fill_sub: n bytes left the writers' buffers (uploaded); call
 * with f->mu held when `locked`. */
void sp_store_fill_sub(sp_store_fill *f, size_t n, int locked);

#endif
