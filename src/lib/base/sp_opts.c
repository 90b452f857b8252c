/* sp_opts: growable option structs (see sp_opts.h). */
#include <string.h>

#include "sp_error.h"
#include "sp_opts.h"
#include "sp_banned.h"

int sp_opts_load(void *dst, size_t dsize, const void *src, const char *what, sp_error *err)
{
    memset(dst, 0, dsize);
    size_t size = dsize;
    if (src) {
        memcpy(&size, src, sizeof size);
        if (size < sizeof size)
            return sp_error_set(err, SP_EINVAL, 0,
                                "%s: size is not set (set .size = sizeof(struct %s))", what,
                                what);
        const unsigned char *extra = (const unsigned char *)src + dsize;
        for (size_t i = 0; size > dsize && i < size - dsize; i++)
            if (extra[i])
                return sp_error_set(err, SP_EUNSUPPORTED, 0,
                                    "%s: sets options this library (%s) does not know", what,
                                    SINKPIPE_VERSION);
        memcpy(dst, src, size < dsize ? size : dsize);
    }
    memcpy(dst, &dsize, sizeof dsize);
    return 0;
}
