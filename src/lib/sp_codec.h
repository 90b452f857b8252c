/* sp_codec: streaming compressors behind a small function table.
 *
 *   none   -> bytes pass through
 *   gzip   -> RFC 1952 gzip; libdeflate compresses each chunk (1 MiB of input
 *             by default) as its own gzip member; the concatenation is a
 *             valid .gz stream that gzip -d, zcat, Python, ClickHouse, Spark and
 *             ClickHouse all read
 *   snappy -> the Snappy framing format (".sz" stream: stream identifier,
 *             compressed chunks of <= 64 KiB input with masked CRC-32C)
 *
 * A codec state buffers at most one chunk of input.  Output is appended to
 * the caller's sp_buf. */
#ifndef SP_CODEC_H
#define SP_CODEC_H

#include <stddef.h>

#include "sp_buf.h"

typedef struct sp_codec_state sp_codec_state;

typedef struct sp_codec {
    const char *name; /* "none", "gzip", "snappy" */
    const char *ext;  /* "" (none), "gz", "snappy" */
    /* level: codec-specific, 0 = default (gzip: 1) */
    int (*open)(sp_codec_state **st, int level, sp_error *err);
    /* write: consume n bytes, append any finished output to out */
    int (*write)(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                 sp_error *err);
    /* finish: flush everything left; the state can then only be freed */
    int (*finish)(sp_codec_state *st, sp_buf *out, sp_error *err);
    void (*free)(sp_codec_state *st);
} sp_codec;

extern const sp_codec sp_codec_none;
extern const sp_codec sp_codec_gzip;
extern const sp_codec sp_codec_snappy;

const sp_codec *sp_codec_find(const char *name); /* NULL when unknown */
const char *sp_codec_names(void);                 /* "none, gzip, snappy" */

#endif
