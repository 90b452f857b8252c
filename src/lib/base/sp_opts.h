/* sp_opts: the public option structs that grow (sinkpipe.h: struct
 * sp_run_opts, struct sp_serve_opts).  Each begins with `size_t size`, the
 * size of the struct the caller was compiled with; the library reads the
 * fields that fit in it and takes the rest as zero (their defaults), so new
 * fields go at the end and programs built against an older header keep
 * working. */
#ifndef SP_OPTS_H
#define SP_OPTS_H

#include <stddef.h>

#include "sinkpipe.h"

/* sp_opts_load: copy the caller's options src (NULL: all defaults) into
 * dst, the library's struct of dsize bytes: the fields src's size covers,
 * zero for the others, dst's size set to dsize.  SP_EINVAL when src's size
 * is not set; SP_EUNSUPPORTED when src sets fields this library does not
 * know (built against a newer sinkpipe.h): errors name `what`. */
int sp_opts_load(void *dst, size_t dsize, const void *src, const char *what, sp_error *err);

#endif
