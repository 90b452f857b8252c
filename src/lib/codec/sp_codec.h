/* sp_codec: streaming compressors behind a small function table.
 *
 *   none   -> bytes pass through
 *   gzip   -> RFC 1952 gzip; libdeflate compresses each chunk (1 MiB of input
 *             by default) as its own gzip member; the concatenation is a
 *             valid .gz stream that gzip -d, zcat, Python, Spark and
 *             ClickHouse all read
 *   snappy -> the Snappy framing format (".sz" stream: stream identifier,
 *             compressed chunks of <= 64 KiB input with masked CRC-32C)
 *   zstd   -> one Zstandard frame (RFC 8878) with a content checksum,
 *             compressed by libzstd's worker threads
 *   lz4    -> one LZ4 frame (".lz4": 64 KiB linked blocks, content
 *             checksum), liblz4's LZ4F API
 *
 * A codec's table entry owns everything about it: its name (and the alias
 * the HTTP API accepts), file extension, content encoding and content type.
 * Adding a codec is one new file sp_codec_<name>.c defining
 * `const sp_codec sp_codec_<name>` and one word in SP_CODECS below.
 *
 * A codec state buffers a bounded amount of input.  Output is appended to
 * the caller's sp_buf. */
#ifndef SP_CODEC_H
#define SP_CODEC_H

#include <stddef.h>

#include "sp_buf.h"

/* SP_CODECS: the registry, in the order error messages list the names; the
 * first word is the default (no compression).
 * Each word w names the table entry sp_codec_<w> whose .name is "w". */
#define SP_CODECS(X) X(none) X(gzip) X(snappy) X(zstd) X(lz4)

typedef struct sp_codec_state sp_codec_state;

typedef struct sp_codec {
    const char *name;  /* "none", "gzip", "snappy", "zstd", "lz4" */
    const char *alias; /* another spelling the HTTP API accepts ("gz"), or NULL */
    const char *ext;   /* file extension without dot: "" (none), "gz", ... */
    /* content_encoding: the object's Content-Encoding ("gzip"), or NULL */
    const char *content_encoding;
    /* content_type: the object's Content-Type, or NULL for the format's */
    const char *content_type;
    /* level: codec-specific, 0 = default (gzip: 1, zstd: 1) */
    int (*open)(sp_codec_state **st, int level, sp_error *err);
    /* write: consume n bytes, append any finished output to out */
    int (*write)(sp_codec_state *st, const void *in, size_t n, sp_buf *out,
                 sp_error *err);
    /* flush: append to out everything written so far (the output is then
     * the whole input compressed, short of the stream's end); the stream
     * goes on.  Costs a little ratio: call it rarely. */
    int (*flush)(sp_codec_state *st, sp_buf *out, sp_error *err);
    /* finish: flush everything left; the state can then only be freed */
    int (*finish)(sp_codec_state *st, sp_buf *out, sp_error *err);
    void (*free)(sp_codec_state *st);
} sp_codec;

#define SP_CODEC_DECLARE_(w) extern const sp_codec sp_codec_##w;
SP_CODECS(SP_CODEC_DECLARE_)
#undef SP_CODEC_DECLARE_

/* sp_codec_find: by name or alias (exact, lowercase); NULL when unknown */
const sp_codec *sp_codec_find(const char *name);
const char *sp_codec_names(void); /* "none, gzip, snappy, zstd, lz4" */
/* sp_codec_aliases: the other spellings, "gz, zst", into buf (truncated to
 * bufsz); returns buf */
const char *sp_codec_aliases(char *buf, size_t bufsz);

#endif
