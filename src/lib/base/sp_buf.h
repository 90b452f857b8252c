/* sp_buf: a growable byte buffer with a hard ceiling (after curl's dynbuf and
 * git's strbuf).
 *
 * Invariants: `data` is NULL or points to `cap` bytes owned by the buffer;
 * when data != NULL, data[len] == '\0' (there is always room for the
 * terminator, so the content can be used as a C string when it holds no NUL);
 * len <= max.  A buffer never grows past `max` bytes of content: an append
 * that would cross it fails with SP_ETOOBIG and leaves the buffer unchanged.
 * Zero-initialised memory is NOT a valid buffer: use SP_BUF_INIT(max) or
 * sp_buf_init(). */
#ifndef SP_BUF_H
#define SP_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "sinkpipe.h"

typedef struct sp_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* ceiling on len */
} sp_buf;

#define SP_BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }
#define SP_BUF_DEFAULT_MAX ((size_t)1 << 30) /* 1 GiB */

void sp_buf_init(sp_buf *b, size_t max);
/* sp_buf_release: free the memory; the buffer is re-initialised (same max). */
void sp_buf_release(sp_buf *b);
/* sp_buf_reset: len = 0, memory kept. */
void sp_buf_reset(sp_buf *b);
/* sp_buf_grow: make room for `extra` more bytes (+ terminator).  0 or
 * SP_ENOMEM / SP_ETOOBIG.  err may be NULL. */
int sp_buf_grow(sp_buf *b, size_t extra, sp_error *err);
int sp_buf_add(sp_buf *b, const void *p, size_t n, sp_error *err);
int sp_buf_adds(sp_buf *b, const char *s, sp_error *err);
int sp_buf_addch(sp_buf *b, char c, sp_error *err);
int sp_buf_addf(sp_buf *b, sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sp_buf_vaddf(sp_buf *b, sp_error *err, const char *fmt, va_list ap);
/* sp_buf_detach: return the heap string (caller frees; never NULL on
 * success: an empty buffer gives ""), buffer re-initialised.  NULL on ENOMEM */
char *sp_buf_detach(sp_buf *b);
/* sp_buf_consume: drop the first n bytes (n <= len). */
void sp_buf_consume(sp_buf *b, size_t n);

/* Unchecked fast path for hot loops: the caller has called sp_buf_grow()
 * for at least n bytes first. */
static inline void sp_buf_add_unchecked(sp_buf *b, const void *p, size_t n)
{
    __builtin_memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* sp_buf_add_cb: sp_buf_add as a byte-sink callback (ud is the sp_buf) */
int sp_buf_add_cb(void *ud, const char *p, size_t n, sp_error *err);

/* Heap copies of strings, the library's one set (caller frees).
 * sp_strdup0: a copy of s, or NULL when s is NULL (so NULL with s set means
 * out of memory).  sp_memdup0: n bytes of p then a NUL (p may hold NULs;
 * n 0 gives ""); NULL on out of memory. */
char *sp_strdup0(const char *s);
/* sp_strdup_nz: as sp_strdup0, with "" taken as NULL (an unset setting) */
char *sp_strdup_nz(const char *s);
char *sp_memdup0(const void *p, size_t n);

#endif
