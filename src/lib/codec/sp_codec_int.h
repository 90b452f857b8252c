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

#define SP_GZIP_SLOTS_DEFAULT 4 /* chunks in flight per threaded state */
#define SP_GZIP_SLOTS_MAX 64

/* sp__gzip_open_chunk: as sp_codec_gzip.open with `chunk` bytes of input per
 * gzip member (chunk >= 1; 0 means the default).  *st is freed with
 * sp_codec_gzip.free. */
int sp__gzip_open_chunk(sp_codec_state **st, int level, size_t chunk,
                        sp_error *err);

/* sp__gzip_open_opts: as sp__gzip_open_chunk with `slots` chunks in the ring
 * (1..SP_GZIP_SLOTS_MAX; 0 means SP_GZIP_SLOTS_DEFAULT) and `threaded` 0 for
 * the inline mode (compress in the caller's thread, one slot; `slots` is then
 * ignored).  Output is byte-identical across modes for one chunk size. */
int sp__gzip_open_opts(sp_codec_state **st, int level, size_t chunk,
                       int slots, int threaded, sp_error *err);

/* sp__gzip_fail_member: test hook, call before the first write: member
 * number `member` (0-based) is reported as a compression failure
 * (SP_ECODEC) by whichever thread compresses it; -1 turns it off */
void sp__gzip_fail_member(sp_codec_state *st, long member);

/* sp__gzip_worker_started: test hook, 1 once st has started its worker */
int sp__gzip_worker_started(const sp_codec_state *st);

#define SP_ZSTD_LEVEL_DEFAULT 1 /* level 0 means this: the fastest regular level */
#define SP_ZSTD_LEVEL_MAX 19    /* 20..22 ("ultra") need hundreds of MiB */
#define SP_ZSTD_WORKERS_DEFAULT 2 /* libzstd worker threads per state */
#define SP_ZSTD_WORKERS_MAX 16

/* sp__zstd_open_opts: as sp_codec_zstd.open with `workers` libzstd worker
 * threads (0: compress in the caller's thread; capped at what the library
 * supports).  *st is freed with sp_codec_zstd.free. */
int sp__zstd_open_opts(sp_codec_state **st, int level, int workers, sp_error *err);

/* sp__zstd_workers_max: the most workers this libzstd supports (0 when it
 * was built without threads) */
int sp__zstd_workers_max(void);

/* sp__zstd_workers: the workers st was opened with (after capping) */
int sp__zstd_workers(const sp_codec_state *st);

/* sp__zstd_break: test hook, call before the first write: promise libzstd
 * a stable input buffer (ZSTD_c_stableInBuffer), which write() does not
 * keep, so libzstd itself fails the first write whose buffer moved — a real
 * compression failure, in every thread mode.  -1 when libzstd refuses. */
int sp__zstd_break(sp_codec_state *st);

/* sp__snappy_mask_crc: the framing format's masked CRC-32C */
static inline uint32_t sp__snappy_mask_crc(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

#endif
