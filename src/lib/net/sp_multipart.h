/* sp_multipart: multipart/form-data bodies (RFC 7578) read in place — the
 * files the SDK and curl -F send to the Datasource API.
 *
 * The body is held whole (the HTTP layer bounds it); parts are handed out
 * as pointers into it, never copied. */
#ifndef SP_MULTIPART_H
#define SP_MULTIPART_H

#include <stddef.h>

#include "sinkpipe.h"

typedef struct sp_part {
    const char *name;     /* form field name (NUL-terminated copy, bounded) */
    const char *filename; /* "" when the part is no file */
    const char *data;     /* the part's bytes, inside the body */
    size_t len;
} sp_part;

/* fn: called for each part in order; non-zero stops and is returned */
typedef int (*sp_part_fn)(void *ud, const sp_part *p, sp_error *err);

/* sp_multipart_boundary: 1 when content_type is multipart/form-data with a
 * boundary (copied into out, at most 70 bytes as RFC 2046 allows). */
int sp_multipart_boundary(const char *content_type, char *out, size_t outsz);

/* sp_multipart_each: every part of body.  SP_EINVAL with a reason when the
 * body is not well-formed (no opening boundary, a part without headers'
 * end, no closing boundary). */
int sp_multipart_each(const char *boundary, const char *body, size_t len, sp_part_fn fn,
                      void *ud, sp_error *err);

#endif
