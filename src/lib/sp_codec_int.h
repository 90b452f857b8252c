/* sp_codec_int: internals of the codecs shared with their tests.
 * Not part of the module contract (sp_codec.h is). */
#ifndef SP_CODEC_INT_H
#define SP_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sp_codec.h"

#define SP_GZIP_CHUNK_DEFAULT ((size_t)1 << 20) /* 1 MiB of input per member */
#define SP_GZIP_LEVEL_MAX 12                    /* libdeflate's maximum */
#define SP_SNAPPY_CHUNK 65536 /* framing format: input bytes per chunk */

/* sp__gzip_open_chunk: as sp_codec_gzip.open with `chunk` bytes of input per
 * gzip member (chunk >= 1; 0 means the default).  *st is freed with
 * sp_codec_gzip.free. */
int sp__gzip_open_chunk(sp_codec_state **st, int level, size_t chunk,
                        sp_error *err);

/* sp__snappy_mask_crc: the framing format's masked CRC-32C */
static inline uint32_t sp__snappy_mask_crc(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

#endif
