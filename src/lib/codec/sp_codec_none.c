/* sp_codec_none: bytes pass through unchanged. */
#include <stdlib.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_error.h"
#include "sp_banned.h"

typedef struct none_state {
    int finished;
} none_state;

static int none_open(sp_codec_state **st, int level, sp_error *err)
{
    (void)level;
    none_state *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (codec none)");
    *st = (sp_codec_state *)s;
    return 0;
}

static int none_write(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                      sp_error *err)
{
    none_state *s = (none_state *)st;
    if (s->finished)
        return sp_error_set(err, SP_EINTERNAL, 0,
                            "codec none: write after finish");
    return n ? sp_buf_add(out, in, n, err) : 0;
}

static int none_flush(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    (void)st;
    (void)out;
    (void)err;
    return 0; /* nothing is ever held */
}

static int none_finish(sp_codec_state *st, sp_buf *out, sp_error *err)
{
    (void)out;
    (void)err;
    ((none_state *)st)->finished = 1;
    return 0;
}

static void none_free(sp_codec_state *st)
{
    free(st);
}

const sp_codec sp_codec_none = {
    .name = "none",
    .ext = "",
    .open = none_open,
    .write = none_write,
    .flush = none_flush,
    .finish = none_finish,
    .free = none_free,
};
