/* sp_ch_colbuf: column buffers of the binary result readers (see
 * sp_ch_colbuf.h). */
#include <stdlib.h>

#include "sp_ch_colbuf.h"
#include "sp_banned.h"

int sp_ch_colbuf_reserve(sp_ch_colbuf *b, size_t need, size_t esz, int nullable, int offsets)
{
    if (b->cap >= need)
        return 0;
    size_t nc = b->cap * 2 > need ? b->cap * 2 : need < 64 ? 64 : need;
    SP_CH_COLBUF_GROW(b->nulls, nullable ? nc : 0);
    SP_CH_COLBUF_GROW(b->v.any, nc * esz);
    SP_CH_COLBUF_GROW(b->offsets, offsets ? (nc + 1) * sizeof *b->offsets : 0);
    if (b->offsets)
        b->offsets[0] = 0;
    b->cap = nc;
    return 0;
}

void sp_ch_colbuf_release(sp_ch_colbuf *b)
{
    free(b->nulls);
    free(b->v.any);
    free(b->offsets);
    *b = (sp_ch_colbuf){ 0 };
}

size_t sp_ch_colbuf_nchild(const sp_type *t)
{
    return t->kind == SP_T_ARRAY ? 1 : t->kind == SP_T_MAP ? 2
         : t->kind == SP_T_TUPLE ? t->nelems : 0;
}

const sp_type *sp_ch_colbuf_child(const sp_type *t, size_t i)
{
    return t->kind == SP_T_TUPLE ? t->elems[i] : i ? t->elem
         : t->kind == SP_T_MAP ? t->key : t->elem;
}

unsigned sp_ch_colbuf_decimal_width(int precision)
{
    return precision <= 9 ? 4 : precision <= 18 ? 8 : precision <= 38 ? 16 : 32;
}

int sp_ch_colbuf_failed(int rc, sp_error *err)
{
    for (char *c = err ? err->msg : NULL; c && *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    return rc;
}
