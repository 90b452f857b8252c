/* sp_store_upload: an object being uploaded to a remote store, and the
 * store's budget of buffered bytes (see sp_store_upload.h). */
#include <stdlib.h>
#include <string.h>

#include "sp_store_upload.h"
#include "sp_banned.h"

int sp_store_upload_init(sp_store_upload *u, const char *key, const sp_obj_meta *meta,
                         sp_error *err)
{
    memset(u, 0, sizeof *u);
    u->jid = -1;
    u->jn = meta ? meta->journal : NULL;
    if (!(u->key = strdup(key)))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')", key);
    return sp_objw_meta_copy(&u->m, meta, key, err);
}

void sp_store_upload_release(sp_store_upload *u, sp_store_fill *f)
{
    if (u->len)
        sp_store_fill_sub(f, u->len, 0);
    free(u->key);
    sp_objw_meta_release(&u->m);
    free(u->buf);
    memset(u, 0, sizeof *u);
}

int sp_store_upload_room(sp_store_upload *u, size_t nc, const char *what, sp_error *err)
{
    char *nb = realloc(u->buf, nc);
    if (!nb)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (%s of '%s')", what, u->key);
    u->buf = nb;
    u->cap = nc;
    return 0;
}

size_t sp_store_upload_take(sp_store_upload *u, sp_store_fill *f, const char *p, size_t n,
                            int *over)
{
    size_t k = u->cap - u->len;
    if (k > n)
        k = n;
    memcpy(u->buf + u->len, p, k);
    u->len += k;
    u->size += k;
    pthread_mutex_lock(f->mu);
    f->filling += k;
    *over = f->filling > SP_STORE_FILL_BUDGET;
    pthread_mutex_unlock(f->mu);
    return k;
}

void sp_store_fill_sub(sp_store_fill *f, size_t n, int locked)
{
    if (!locked)
        pthread_mutex_lock(f->mu);
    f->filling -= n;
    if (!locked)
        pthread_mutex_unlock(f->mu);
}
