/* sp_sink_objects: the file-like sink (file:// bucket URIs and S3
 * connections) — see docs/objects.md for the user-facing rules.
 *
 * Rows are routed to partitions, one per distinct rendered object name,
 * kept in a hash map.  A partition holds its formatted text (it starts with
 * the format's header); past FLUSH_AT bytes the text goes through the codec
 * into a store writer that stays invisible until finish() commits it.
 *
 * Bounds: at most MAX_PARTS partitions; at most MEM_MAX bytes of text across
 * them (over it the largest are flushed); at most MAX_WRITERS writers open
 * before finish (each may hold a file descriptor) and MAX_CODECS codec states
 * (a gzip state holds ~2 MiB): when a partition needs a codec and all are
 * taken, the least recently used one is finished — concatenated gzip members,
 * zstd frames and Snappy framed streams are valid streams — and reopened on
 * demand.
 *
 * Size-bounded files (EXPORT_MAX_FILE_SIZE / _ROWS, docs/objects.md): each
 * partition writes a sequence of files <name>_0001, _0002, ...  Rows go in
 * slices (put_rows); before a slice is kept, the file's size with it is
 * estimated as bytes stored so far + raw bytes not yet measured x the
 * compression ratio last measured.  Near the bound the codec is flushed to
 * measure the file exactly (measure).  A slice that does not fit is cut
 * down to one row, and a row that does not fit starts the next file: the
 * file is finished and committed exactly as at the end of the run (commit),
 * then the partition starts over under the next number (roll).  Nothing in
 * this depends on the format or the codec.
 *
 * Parquet (a stateful format, sp_format.h) has no codec: each partition
 * holds a writer that buffers its row group in columns; the bytes of each
 * completed row group join the partition's text, and the writer's own
 * buffer counts towards MEM_MAX (over it, the largest partition's row
 * group is closed early).  Its footer is written when the object is
 * prepared for commit; a next file (EXPORT_MAX_FILE_ROWS) gets a new
 * writer (part_begin_file).  EXPORT_MAX_FILE_SIZE is refused with parquet
 * at the definition (sp_model.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_codec.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_keys.h"
#include "sp_objname.h"
#include "sp_sink.h"
#include "sp_store_for.h"
#include "sp_banned.h"

#define FLUSH_AT ((size_t)256 << 10)
#define MEM_MAX ((size_t)64 << 20)
#define MEM_LOW ((size_t)48 << 20)
#define PART_TEXT_MAX ((size_t)256 << 20)
#define MAX_PARTS 10000
#define MAX_WRITERS 256
#define MAX_CODECS 8
#define MAX_SIBLINGS 100000
#define KEY_MAX 4096

typedef struct opart {
    char *name; /* rendered key without extensions */
    size_t nlen;
    uint64_t hash;
    sp_buf text;        /* formatted text not yet streamed */
    sp_codec_state *cs; /* live codec state, or NULL */
    sp_objw *w;         /* writer once streaming began, or NULL */
    uint64_t rows;
    uint64_t raw;       /* uncompressed bytes (header included) */
    uint64_t last_use;  /* codec LRU clock */
    sp_fmt_writer *fw;  /* stateful format's writer (parquet), or NULL */
    size_t fw_held;     /* its buffered bytes, as counted in s->buffered */
    int coded;          /* a codec stream was started for it */
    unsigned k;         /* sibling index the writer began under (0: none) */
    /* the current file (rows and raw above count it alone when rolling) */
    unsigned seq;       /* its number when files roll over (1, 2, ...), else 0 */
    uint64_t sent;      /* bytes written to its writer (as stored) */
    uint64_t pend;      /* raw bytes in the codec since it last flushed */
} opart;

typedef struct objects_sink {
    sp_sink base;
    sp_sink_ctx ctx;
    char job_id[64];
    const sp_schema *schema;
    const sp_format *fmt;
    sp_fmt_opts fopts;     /* stateful formats: page compression, row groups */
    const sp_codec *codec; /* NULL: no compression (always for parquet) */
    char ext[32];          /* ".csv", ".ndjson.gz", ... */
    char fext[16];         /* ".csv" */
    sp_store_dest dest;
    sp_objname *name;
    int is_static;
    unsigned split;
    sp_obj_meta meta;
    sp_buf header;
    opart **parts; /* creation order */
    size_t nparts, capparts;
    size_t *slots; /* hash map: index + 1, 0 = empty; nslots a power of two */
    size_t nslots;
    opart **by_no; /* static names with {N}: partition of each index */
    size_t buffered;
    size_t nwriters, ncodecs;
    uint64_t row_no, tick;
    sp_buf key;
    sp_buf out;
    sp_buf preview;
    size_t preview_kept;
    /* size-bounded files */
    uint64_t max_size, max_rows; /* 0: no bound */
    double ratio;                /* stored / raw bytes, last measured (1 before) */
    uint64_t fmt_rows, fmt_bytes; /* rows formatted and their bytes (row size) */
    sp_buf carry;                /* a row moving to the next file */
    sp_run_result rolled;        /* files committed when rolling over */
} objects_sink;

/* ---- partitions ---------------------------------------------------------- */

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int map_grow(objects_sink *s, sp_error *err)
{
    size_t n = s->nslots ? s->nslots * 2 : 64;
    size_t *sl = calloc(n, sizeof *sl);
    if (!sl)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (partition map)");
    for (size_t i = 0; i < s->nparts; i++) {
        size_t j = (size_t)s->parts[i]->hash & (n - 1);
        while (sl[j])
            j = (j + 1) & (n - 1);
        sl[j] = i + 1;
    }
    free(s->slots);
    s->slots = sl;
    s->nslots = n;
    return 0;
}

static void part_free(opart *p)
{
    if (!p)
        return;
    free(p->name); /* a writer (fw) is freed by release_all */
    sp_buf_release(&p->text);
    free(p);
}

/* part_begin_file: p's (empty) text starts with the format's header and, for
 * a stateful format (parquet), p gets a fresh writer: what every file of p
 * starts with (a next file of p too, after the previous one was prepared) */
static int part_begin_file(objects_sink *s, opart *p, sp_error *err)
{
    int rc = 0;
    if (s->header.len && (rc = sp_buf_add(&p->text, s->header.data, s->header.len, err)))
        return rc;
    if (s->fmt->w_open && (rc = s->fmt->w_open(&p->fw, s->schema, &s->fopts, err)))
        return rc;
    p->raw += s->header.len;
    s->buffered += s->header.len;
    return 0;
}

/* get_part: the partition named key[0..n), created (with the header) if new */
static int get_part(objects_sink *s, const char *key, size_t n, opart **out,
                    sp_error *err)
{
    uint64_t h = fnv1a(key, n);
    if (s->nslots) {
        for (size_t j = (size_t)h & (s->nslots - 1); s->slots[j];
             j = (j + 1) & (s->nslots - 1)) {
            opart *p = s->parts[s->slots[j] - 1];
            if (p->hash == h && p->nlen == n && !memcmp(p->name, key, n)) {
                *out = p;
                return 0;
            }
        }
    }
    if (s->nparts >= MAX_PARTS)
        return sp_error_set(err, SP_ETOOBIG, 0,
                            "file template '%s' makes more than %d objects in one run; "
                            "partition by a coarser value (e.g. {ts, '%%Y-%%m-%%d'} "
                            "instead of a timestamp)",
                            s->ctx.cfg->file_template, MAX_PARTS);
    int rc;
    if ((s->nparts + 1) * 2 > s->nslots && (rc = map_grow(s, err)))
        return rc;
    if (s->nparts == s->capparts) {
        size_t nc = s->capparts ? s->capparts * 2 : 16;
        opart **np = realloc(s->parts, nc * sizeof *np);
        if (!np)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (partitions)");
        s->parts = np;
        s->capparts = nc;
    }
    opart *p = calloc(1, sizeof *p);
    if (!p || !(p->name = malloc(n + 1))) {
        free(p);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (partition)");
    }
    memcpy(p->name, key, n);
    p->name[n] = '\0';
    p->nlen = n;
    p->hash = h;
    p->seq = s->max_size || s->max_rows ? 1 : 0;
    sp_buf_init(&p->text, PART_TEXT_MAX);
    if ((rc = part_begin_file(s, p, err))) {
        part_free(p);
        return rc;
    }
    size_t j = (size_t)h & (s->nslots - 1);
    while (s->slots[j])
        j = (j + 1) & (s->nslots - 1);
    s->parts[s->nparts++] = p;
    s->slots[j] = s->nparts;
    *out = p;
    return 0;
}

/* full_key: name [+ "_<seq>"] [+ ".k"] + ext into s->key */
static int full_key(objects_sink *s, const opart *p, unsigned k, sp_error *err)
{
    sp_buf_reset(&s->key);
    int rc = sp_buf_adds(&s->key, p->name, err);
    if (!rc && p->seq)
        rc = sp_buf_addf(&s->key, err, "_%04u", p->seq);
    if (!rc && k)
        rc = sp_buf_addf(&s->key, err, ".%u", k);
    return rc ? rc : sp_buf_adds(&s->key, s->ext, err);
}

/* ---- streaming ----------------------------------------------------------- */

static int put_out(objects_sink *s, opart *p, sp_error *err)
{
    int rc = 0;
    if (s->out.len)
        rc = s->dest.store->vt->write(p->w, s->out.data, s->out.len, err);
    p->sent += s->out.len;
    sp_buf_reset(&s->out);
    return rc;
}

static int codec_close(objects_sink *s, opart *p, sp_error *err)
{
    if (!p->cs)
        return 0;
    sp_buf_reset(&s->out);
    int rc = s->codec->finish(p->cs, &s->out, err);
    if (!rc)
        rc = put_out(s, p, err);
    s->codec->free(p->cs);
    p->cs = NULL;
    p->pend = 0;
    s->ncodecs--;
    return rc;
}

static int codec_open(objects_sink *s, opart *p, sp_error *err)
{
    if (s->ncodecs >= MAX_CODECS) {
        opart *lru = NULL;
        for (size_t i = 0; i < s->nparts; i++) {
            opart *q = s->parts[i];
            if (q->cs && q != p && (!lru || q->last_use < lru->last_use))
                lru = q;
        }
        int rc = lru ? codec_close(s, lru, err) : 0;
        if (rc)
            return rc;
    }
    int rc = s->codec->open(&p->cs, 0, err);
    if (rc)
        return rc;
    s->ncodecs++;
    p->coded = 1;
    return 0;
}

/* begin: start p's writer under its first-choice key — or, on stores whose
 * writers cannot change key at commit (S3 multipart), under the first free
 * sibling name of a create_new pipe */
static int begin(objects_sink *s, opart *p, sp_error *err)
{
    sp_store *st = s->dest.store;
    unsigned k = 0;
    int rc = full_key(s, p, 0, err);
    if (!rc && st->vt->names_at_begin && s->ctx.cfg->strategy != SP_STRATEGY_REPLACE) {
        for (;;) {
            int ex = 0;
            if ((rc = st->vt->exists(st, s->key.data, &ex, err)) || !ex)
                break;
            if (++k >= MAX_SIBLINGS) {
                rc = sp_error_set(err, SP_EEXIST, 0, "object '%s' and %d siblings exist",
                                  p->name, MAX_SIBLINGS);
                break;
            }
            if ((rc = full_key(s, p, k, err)))
                break;
        }
    }
    if (!rc)
        rc = st->vt->begin(st, s->key.data, &s->meta, &p->w, err);
    if (!rc) {
        s->nwriters++;
        p->k = k;
    }
    return rc;
}

/* stream_upto: push the first n bytes of p's pending text through the
 * codec into its writer; the rest moves to the front */
static int stream_upto(objects_sink *s, opart *p, size_t n, sp_error *err)
{
    int rc = 0;
    if (!n)
        return 0;
    if (!s->codec) {
        rc = s->dest.store->vt->write(p->w, p->text.data, n, err);
        p->sent += n;
    } else {
        if (!p->cs)
            rc = codec_open(s, p, err);
        p->last_use = ++s->tick;
        sp_buf_reset(&s->out);
        if (!rc)
            rc = s->codec->write(p->cs, p->text.data, n, &s->out, err);
        if (!rc)
            rc = put_out(s, p, err);
        p->pend += n;
    }
    s->buffered -= n;
    memmove(p->text.data, p->text.data + n, p->text.len - n);
    p->text.len -= n;
    return rc;
}

/* stream: push all of p's pending text through the codec into its writer */
static int stream(objects_sink *s, opart *p, sp_error *err)
{
    return stream_upto(s, p, p->text.len, err);
}

/* try_flush: stream p if it has (or may get) a writer; *done says so */
static int try_flush(objects_sink *s, opart *p, int *done, sp_error *err)
{
    *done = 0;
    if (!p->w) {
        if (s->nwriters >= MAX_WRITERS)
            return 0;
        int rc = begin(s, p, err);
        if (rc)
            return rc;
    }
    *done = 1;
    return stream(s, p, err);
}

/* held: what p holds in memory (text, and a stateful writer's buffer) */
static size_t held(const opart *p)
{
    return p->text.len + p->fw_held;
}

/* fw_account: after p's writer changed, its buffer in s->buffered */
static void fw_account(objects_sink *s, opart *p)
{
    size_t now = p->fw && s->fmt->w_buffered ? s->fmt->w_buffered(p->fw) : 0;
    s->buffered = s->buffered - p->fw_held + now;
    p->fw_held = now;
}

/* fw_close_group: p's writer closes its row group into p's text */
static int fw_close_group(objects_sink *s, opart *p, sp_error *err)
{
    size_t before = p->text.len;
    int rc = s->fmt->w_flush(p->fw, &p->text, err);
    p->raw += p->text.len - before;
    s->buffered += p->text.len - before;
    fw_account(s, p);
    return rc;
}

/* relieve: flush the largest partitions until under MEM_LOW */
static int relieve(objects_sink *s, sp_error *err)
{
    while (s->buffered > MEM_LOW) {
        opart *big = NULL;
        for (size_t i = 0; i < s->nparts; i++) {
            opart *q = s->parts[i];
            if (held(q) && (q->w || s->nwriters < MAX_WRITERS) &&
                (!big || held(q) > held(big)))
                big = q;
        }
        if (big && big->fw_held) {
            int rc = fw_close_group(s, big, err);
            if (rc)
                return rc;
        }
        if (!big)
            return sp_error_set(err, SP_ETOOBIG, 0,
                                "file template '%s': more than %zu MiB buffered across "
                                "%zu objects while %d are already being written; "
                                "partition by a coarser value",
                                s->ctx.cfg->file_template, MEM_MAX >> 20, s->nparts,
                                MAX_WRITERS);
        int done, rc = try_flush(s, big, &done, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* added: account for text just appended to p */
static int added(objects_sink *s, opart *p, size_t before, sp_error *err)
{
    size_t n = p->text.len - before;
    p->raw += n;
    s->buffered += n;
    if (p->fw)
        fw_account(s, p);
    if (s->ctx.dry_run) { /* only the sizes matter */
        s->buffered -= p->text.len;
        sp_buf_reset(&p->text);
        while (s->buffered > MEM_LOW) { /* Parquet writers' buffers */
            opart *big = NULL;
            for (size_t i = 0; i < s->nparts; i++)
                if (s->parts[i]->fw_held && (!big || s->parts[i]->fw_held > big->fw_held))
                    big = s->parts[i];
            int rc = big ? fw_close_group(s, big, err) : 0;
            if (rc || !big)
                return rc;
            s->buffered -= big->text.len;
            sp_buf_reset(&big->text);
        }
        return 0;
    }
    int done, rc = 0;
    if (p->text.len >= FLUSH_AT)
        rc = try_flush(s, p, &done, err);
    if (!rc && s->buffered > MEM_MAX)
        rc = relieve(s, err);
    return rc;
}

/* ---- size-bounded files -------------------------------------------------- */

/* FILE_CODA: bytes a codec may add when it finishes a measured stream (a
 * last gzip member's header and trailer, zstd's last block and checksum) */
#define FILE_CODA 64
#define PQ_FOOTER_ROOM 16384.0 /* a Parquet footer, kept free under a size bound */

/* measure: p's text and its codec's held input go out (the codec flushes),
 * so p->sent is the file's exact size so far; the first `keep` bytes of
 * text are held back (the slice being decided).  A partition that cannot
 * begin a writer (MAX_WRITERS) stays estimated. */
static int measure(objects_sink *s, opart *p, size_t keep, sp_error *err)
{
    int rc = 0;
    if (!p->w) {
        if (s->nwriters >= MAX_WRITERS)
            return 0;
        if ((rc = begin(s, p, err)))
            return rc;
    }
    rc = stream_upto(s, p, p->text.len - keep, err);
    if (!rc && p->cs) {
        sp_buf_reset(&s->out);
        rc = s->codec->flush(p->cs, &s->out, err);
        if (!rc)
            rc = put_out(s, p, err);
    }
    if (rc)
        return rc;
    p->pend = 0;
    /* p->raw: every byte before the slice, all of it measured now */
    if (p->raw >= 4096 && p->sent)
        s->ratio = (double)p->sent / (double)p->raw;
    return 0;
}

/* fits: may the slice of n bytes at the end of p's text stay in this file?
 * Measures the file when the estimate says so. */
static int fits(objects_sink *s, opart *p, size_t n, int *fit, sp_error *err)
{
    *fit = 1;
    if (!s->max_size)
        return 0;
    if (s->ctx.dry_run) { /* sizes before compression, known exactly */
        *fit = p->raw + n <= s->max_size;
        return 0;
    }
    int coded = s->codec != NULL;
    double r = coded ? s->ratio : 1.0;
    double room = (double)s->max_size - (coded ? FILE_CODA : 0) - (double)p->sent;
    double unknown = (double)(p->pend + p->text.len - n) * r;
    double est = unknown + (double)n * r;
    /* measure when the estimate runs over, or when the part not measured
     * is more than half of the room left (so the error of the ratio can
     * only touch a small part of the file) */
    if (coded && unknown > 0 && (est > room || 2 * unknown > room)) {
        int rc = measure(s, p, n, err);
        if (rc)
            return rc;
        room = (double)s->max_size - FILE_CODA - (double)p->sent;
        est = (double)(p->pend + p->text.len - n) * s->ratio + (double)n * s->ratio;
    }
    *fit = est <= room;
    return 0;
}

/* slice_rows: how many rows the next slice may hold so that it most likely
 * fits in half the room left (at least 1) */
static size_t slice_rows(objects_sink *s, const opart *p, size_t want)
{
    if (!s->max_size || !s->fmt_rows)
        return s->max_size ? 1 : want;
    double r = s->codec && !s->ctx.dry_run ? s->ratio : 1.0;
    double used = s->ctx.dry_run ? (double)p->raw
                                 : (double)p->sent + (double)(p->pend + p->text.len) * r;
    double room = ((double)s->max_size - used) / 2;
    double row = (double)s->fmt_bytes / (double)s->fmt_rows * r;
    double k = room > row ? room / (row > 1 ? row : 1) : 1;
    return k < (double)want ? (size_t)k : want;
}

static int commit(objects_sink *s, opart *p, sp_run_result *res, sp_error *err);
static int dry_object(objects_sink *s, opart *p, sp_run_result *res, sp_error *err);

/* roll: finish and commit p's file (as at the end of the run), then start
 * the partition's next file */
static int roll(objects_sink *s, opart *p, sp_error *err)
{
    int rc;
    if (s->ctx.dry_run) {
        rc = dry_object(s, p, &s->rolled, err);
        s->buffered -= p->text.len;
        sp_buf_reset(&p->text);
    } else {
        rc = commit(s, p, &s->rolled, err); /* frees the writer, releases text */
    }
    if (rc)
        return rc;
    p->seq++;
    p->rows = p->sent = p->pend = 0;
    p->coded = 0;
    p->k = 0;
    p->raw = 0;
    return part_begin_file(s, p, err); /* the header, a new writer (parquet) */
}

/* put_rows: rows [from, to) of b into partition p, rolling over to the
 * partition's next file at the bounds */
static int put_rows(objects_sink *s, opart *p, const sp_batch *b, size_t from, size_t to,
                    sp_error *err)
{
    size_t cap = to - from; /* shrinks when a slice did not fit */
    int rc = 0;
    while (from < to && !rc) {
        if (s->max_rows && p->rows >= s->max_rows) {
            rc = roll(s, p, err);
            continue;
        }
        size_t k = to - from;
        if (s->max_rows && k > s->max_rows - p->rows)
            k = (size_t)(s->max_rows - p->rows);
        k = slice_rows(s, p, k < cap ? k : cap);
        size_t before = p->text.len;
        if (p->fw) { /* parquet: rows into the writer */
            size_t held = s->fmt->w_buffered ? s->fmt->w_buffered(p->fw) : 0;
            if (s->max_size) {
                /* the file so far: bytes out, the row group held at its size
                 * in memory (more than compressed: files end at or under the
                 * bound) and room for the footer; a file holds a row */
                double used = (double)p->sent + (double)(p->pend + p->text.len) +
                              (double)held + PQ_FOOTER_ROOM;
                if (p->rows && used >= (double)s->max_size) {
                    rc = roll(s, p, err);
                    continue;
                }
                double room = ((double)s->max_size - used) / 2;
                double row = s->fmt_rows ? (double)s->fmt_bytes / (double)s->fmt_rows : 64;
                double kk = room > row ? room / (row > 1 ? row : 1) : 1;
                if (kk < (double)k)
                    k = (size_t)kk;
            }
            rc = s->fmt->w_rows(p->fw, b, from, from + k, &p->text, err);
            if (!rc) {
                size_t grown = p->text.len - before + s->fmt->w_buffered(p->fw);
                if (grown > held) { /* a closed row group shrinks: not a row's size */
                    s->fmt_rows += k;
                    s->fmt_bytes += grown - held;
                }
                p->rows += k;
                from += k;
                cap = to - from;
                rc = added(s, p, before, err);
            }
            continue;
        }
        rc = k == 1 ? s->fmt->row(&p->text, s->schema, b, from, err)
                    : s->fmt->rows(&p->text, s->schema, b, from, from + k, err);
        size_t n = rc ? 0 : p->text.len - before;
        int fit = 1;
        if (!rc && p->rows)
            rc = fits(s, p, n, &fit, err);
        if (rc)
            break;
        before = p->text.len - n; /* measure() may have moved the text */
        if (!fit && k > 1) { /* retry with fewer rows */
            p->text.len = before;
            cap = k / 2;
            continue;
        }
        if (!fit) { /* this row starts the next file */
            sp_buf_reset(&s->carry);
            rc = sp_buf_add(&s->carry, p->text.data + before, n, err);
            p->text.len = before;
            if (!rc)
                rc = roll(s, p, err);
            before = p->text.len;
            if (!rc)
                rc = sp_buf_add(&p->text, s->carry.data, n, err);
            if (rc)
                break;
        }
        s->fmt_rows += k;
        s->fmt_bytes += p->text.len - before;
        p->rows += k;
        from += k;
        cap = to - from;
        rc = added(s, p, before, err);
    }
    return rc;
}

/* ---- the vtable ---------------------------------------------------------- */

static void release_all(objects_sink *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        opart *p = s->parts[i];
        if (p->cs) {
            s->codec->free(p->cs);
            p->cs = NULL;
        }
        if (p->w) {
            s->dest.store->vt->abort(p->w);
            p->w = NULL;
        }
        if (p->fw) {
            s->fmt->w_free(p->fw);
            p->fw = NULL;
            s->buffered -= p->fw_held;
            p->fw_held = 0;
        }
        s->buffered -= p->text.len;
        sp_buf_release(&p->text);
    }
    s->ncodecs = s->nwriters = 0;
}

static void ob_free(sp_sink *k)
{
    objects_sink *s = (objects_sink *)k;
    if (!s)
        return;
    release_all(s);
    for (size_t i = 0; i < s->nparts; i++)
        part_free(s->parts[i]);
    free(s->parts);
    free(s->slots);
    free(s->by_no);
    sp_objname_free(s->name);
    sp_store_dest_release(&s->dest);
    sp_buf_release(&s->header);
    sp_buf_release(&s->key);
    sp_buf_release(&s->out);
    sp_buf_release(&s->preview);
    sp_buf_release(&s->carry);
    sp_run_result_release(&s->rolled);
    free(s);
}

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && !memcmp(s + n - m, suf, m);
}

/* setup_name: key template = bucket prefix + file template without a
 * trailing ".<format>[.<codec>]" */
static int setup_name(objects_sink *s, const sp_schema *schema, sp_error *err)
{
    const sp_sinkcfg *cfg = s->ctx.cfg;
    const char *ft = cfg->file_template ? cfg->file_template : "";
    while (*ft == '/')
        ft++;
    size_t n = strlen(ft);
    if (n == 0)
        return sp_error_set_pipe(err, cfg->pipe ? cfg->pipe->name : "", SP_EDEF, 0,
                                 "pipe '%s': EXPORT_FILE_TEMPLATE is empty (expected a file "
                                 "name template such as events_{date})",
                                 cfg->pipe ? cfg->pipe->name : "");
    if (ends_with(ft, n, s->ext))
        n -= strlen(s->ext);
    else if (ends_with(ft, n, s->fext))
        n -= strlen(s->fext);
    if (n == 0 || ft[n - 1] == '/')
        return sp_error_set_pipe(err, cfg->pipe ? cfg->pipe->name : "", SP_EDEF, 0,
                                 "pipe '%s': EXPORT_FILE_TEMPLATE '%s' does not name a file",
                                 cfg->pipe ? cfg->pipe->name : "", ft);
    sp_buf t = SP_BUF_INIT(KEY_MAX);
    int rc = sp_buf_adds(&t, s->dest.key_prefix, err);
    if (!rc)
        rc = sp_buf_add(&t, ft, n, err);
    sp_objname_ctx oc = { s->ctx.params, s->ctx.nparams, s->ctx.now_unix, s->job_id,
                          schema };
    /* errors point at the datafile line, or at the run's override */
    char where[1200] = "EXPORT_FILE_TEMPLATE";
    const sp_kv *kv = cfg->keys ? sp_kvlist_find(cfg->keys, "EXPORT_FILE_TEMPLATE") : NULL;
    if (kv && cfg->pipe && cfg->file_template && !strcmp(kv->value, cfg->file_template))
        sp_model_where(where, sizeof where, cfg->pipe->path, cfg->pipe->name, kv->line,
                       "EXPORT_FILE_TEMPLATE");
    else if (kv)
        snprintf(where, sizeof where, "file_template override");
    if (!rc)
        rc = sp_objname_compile(t.data, where, &oc, &s->name, err);
    sp_buf_release(&t);
    if (rc)
        return rc;
    s->is_static = sp_objname_is_static(s->name);
    s->split = sp_objname_split(s->name);
    if (s->split > MAX_PARTS)
        return sp_error_set(err, SP_ETOOBIG, 0,
                            "EXPORT_FILE_TEMPLATE: {%u} asks for more than %d objects",
                            s->split, MAX_PARTS);
    if (s->is_static && s->split &&
        !(s->by_no = calloc(s->split, sizeof *s->by_no)))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (partitions)");
    return 0;
}

static int ob_open(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *schema,
                   sp_error *err);
static int ob_write(sp_sink *k, const sp_batch *b, sp_error *err);
static int ob_finish(sp_sink *k, sp_run_result *res, sp_error *err);
static void ob_abort(sp_sink *k, sp_run_result *res);

/* every pipe that is not another sink's writes objects (bucket URIs) */
static int ob_serves(const sp_sinkcfg *cfg)
{
    (void)cfg;
    return 1;
}

/* the store of the bucket URI: "s3", "gcs", "file" */
static const char *ob_service(const sp_sinkcfg *cfg)
{
    const sp_store_backend *b = sp_store_backend_of_uri(cfg->bucket_uri);
    return b ? b->name : "s3";
}

const sp_sink_vt sp_sink_objects = {
    .name = "objects",
    .open = ob_open,
    .write = ob_write,
    .finish = ob_finish,
    .abort = ob_abort,
    .free = ob_free,
    .serves = ob_serves,
    .service = ob_service,
    .dry_run = 1,
};

static int ob_open(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *schema,
                   sp_error *err)
{
    *out = NULL;
    const sp_sinkcfg *cfg = ctx->cfg;
    /* unset: the registries' first entries, the defaults */
    const char *fname = cfg->format && *cfg->format ? cfg->format : sp_formats[0];
    const char *cname = cfg->compression && *cfg->compression ? cfg->compression
                                                              : sp_compressions[0];
    const sp_format *fmt = sp_format_find(fname);
    /* parquet compresses its own pages (EXPORT_COMPRESSION names their codec) */
    const sp_codec *codec = fmt && fmt->w_open ? &sp_codec_none : sp_codec_find(cname);
    if (!fmt)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_FORMAT: unknown format '%s' "
                            "(expected %s)", fname, sp_format_names());
    if (!codec)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_COMPRESSION: unknown compression "
                            "'%s' (expected %s)", cname, sp_codec_names());
    objects_sink *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (objects sink)");
    s->base.vt = &sp_sink_objects;
    s->ctx = *ctx;
    if (!s->ctx.preview_rows)
        s->ctx.preview_rows = 10;
    snprintf(s->job_id, sizeof s->job_id, "%s", ctx->job_id ? ctx->job_id : "");
    s->schema = schema;
    s->fmt = fmt;
    s->codec = codec->ext && *codec->ext && !fmt->w_open ? codec : NULL;
    if (fmt->w_open) { /* EXPORT_COMPRESSION picks the page compression */
        s->fopts.compression = cfg->compression_set ? cname : NULL;
        s->fopts.row_group_rows = cfg->parquet_row_group_rows;
        s->fopts.row_group_bytes = MEM_LOW / 2;
    }
    snprintf(s->fext, sizeof s->fext, ".%s", fmt->ext);
    snprintf(s->ext, sizeof s->ext, ".%s%s%s", fmt->ext, s->codec ? "." : "",
             s->codec ? s->codec->ext : "");
    s->meta.job_id = s->job_id;
    s->meta.pipe = cfg->pipe ? cfg->pipe->name : NULL;
    s->meta.content_type = codec->content_type ? codec->content_type : fmt->content_type;
    s->meta.content_encoding = codec->content_encoding;
    s->meta.cancel = ctx->cancel;
    s->meta.journal = ctx->journal;
    s->meta.overwrite = cfg->strategy == SP_STRATEGY_REPLACE;
    sp_buf_init(&s->header, MEM_MAX);
    sp_buf_init(&s->key, KEY_MAX);
    sp_buf_init(&s->out, PART_TEXT_MAX);
    sp_buf_init(&s->preview, PART_TEXT_MAX);
    sp_buf_init(&s->carry, PART_TEXT_MAX);
    s->max_size = cfg->max_file_size;
    s->max_rows = cfg->max_file_rows;
    s->ratio = 1.0;
    sp_store_conf sc = { cfg->bucket_uri, cfg->connection_name, cfg->conn_type, &cfg->conn,
                         cfg->env };
    int rc = sp_store_open_for(&sc, ctx->dry_run, &s->dest, err);
    if (!rc)
        rc = setup_name(s, schema, err);
    if (!rc)
        rc = fmt->header(&s->header, schema, err);
    if (!rc && ctx->dry_run && !fmt->rows) /* a binary format previews as csv */
        rc = sp_format_csv.header(&s->preview, schema, err);
    else if (!rc && ctx->dry_run)
        rc = sp_buf_add(&s->preview, s->header.data ? s->header.data : "",
                        s->header.len, err);
    if (rc) {
        ob_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int keep_preview(objects_sink *s, const sp_batch *b, sp_error *err)
{
    size_t want = s->ctx.preview_rows - s->preview_kept;
    size_t n = b->nrows < want ? b->nrows : want;
    if (!n)
        return 0;
    s->preview_kept += n;
    const sp_format *f = s->fmt->rows ? s->fmt : &sp_format_csv;
    return f->rows(&s->preview, s->schema, b, 0, n, err);
}

static int ob_write(sp_sink *k, const sp_batch *b, sp_error *err)
{
    objects_sink *s = (objects_sink *)k;
    int rc = 0;
    if (sp_cancelled(s->ctx.cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    if (s->ctx.dry_run && (rc = keep_preview(s, b, err)))
        return rc;
    if (!b->nrows)
        return 0;
    opart *p = NULL;
    if (s->is_static && !s->split) { /* fast path: one object, whole batch */
        sp_buf_reset(&s->key);
        rc = sp_objname_render(s->name, NULL, 0, 0, &s->key, err);
        if (!rc)
            rc = get_part(s, s->key.data, s->key.len, &p, err);
        if (!rc)
            rc = put_rows(s, p, b, 0, b->nrows, err);
        s->row_no += b->nrows;
        return rc;
    }
    for (size_t i = 0; i < b->nrows && !rc; i++) {
        unsigned no = s->split ? (unsigned)(s->row_no % s->split) : 0;
        s->row_no++;
        p = s->by_no ? s->by_no[no] : NULL;
        if (!p) {
            sp_buf_reset(&s->key);
            rc = sp_objname_render(s->name, b, i, no, &s->key, err);
            if (!rc)
                rc = get_part(s, s->key.data, s->key.len, &p, err);
            if (rc)
                break;
            if (s->by_no)
                s->by_no[no] = p;
        }
        rc = put_rows(s, p, b, i, i + 1, err);
    }
    return rc;
}

/* fw_finish: p's stateful writer writes its last row group and footer
 * into p's text and is freed: the file is complete */
static int fw_finish(objects_sink *s, opart *p, sp_error *err)
{
    if (!p->fw)
        return 0;
    size_t before = p->text.len;
    int rc = s->fmt->w_finish(p->fw, &p->text, err);
    p->raw += p->text.len - before;
    s->buffered += p->text.len - before;
    s->fmt->w_free(p->fw);
    p->fw = NULL;
    fw_account(s, p);
    return rc;
}

/* prepare: finish p's stream: every byte of it is in its writer */
static int prepare(objects_sink *s, opart *p, sp_error *err)
{
    int rc = fw_finish(s, p, err);
    if (!rc && !p->w)
        rc = begin(s, p, err);
    if (!rc)
        rc = stream(s, p, err);
    if (!rc && s->codec && !p->coded)
        rc = codec_open(s, p, err); /* an empty stream is still a valid one */
    if (!rc)
        rc = codec_close(s, p, err);
    sp_buf_release(&p->text); /* the writer holds the bytes now */
    return rc;
}

static int settle(objects_sink *s, opart *p, int rc, sp_error *e, uint64_t size,
                  sp_run_result *res, sp_error *err);

/* commit: finish p's stream and publish it; on success add it to res */
static int commit(objects_sink *s, opart *p, sp_run_result *res, sp_error *err)
{
    const sp_store_vt *vt = s->dest.store->vt;
    int rc = prepare(s, p, err);
    if (rc)
        return rc;
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    int overwrite = s->ctx.cfg->strategy == SP_STRATEGY_REPLACE;
    rc = vt->commit(p->w, overwrite, &size, &e);
    return settle(s, p, rc, &e, size, res, err);
}

/* settle: after p's commit answered rc (error e): create_new's sibling
 * names on SP_EEXIST, then p listed in res on success */
static int settle(objects_sink *s, opart *p, int rc, sp_error *e, uint64_t size,
                  sp_run_result *res, sp_error *err)
{
    const sp_store_vt *vt = s->dest.store->vt;
    int overwrite = s->ctx.cfg->strategy == SP_STRATEGY_REPLACE;
    unsigned k = p->k; /* the sibling the writer began under */
    while (rc == SP_EEXIST && !overwrite && ++k < MAX_SIBLINGS) {
        sp_error_clear(e);
        rc = full_key(s, p, k, err);
        if (!rc)
            rc = vt->commit_as(p->w, s->key.data, 0, &size, e);
    }
    if (rc) {
        if (e->code)
            sp_error_copy(err, e);
        return rc;
    }
    p->w = NULL; /* freed by the store */
    s->nwriters--;
    rc = full_key(s, p, k, err);
    size_t ul = strlen(s->dest.uri_prefix) + s->key.len + 256;
    char *uri = rc ? NULL : malloc(ul);
    if (!rc && (!uri || vt->uri(s->dest.store, s->key.data, uri, ul) ||
                sp_run_result_add_object(res, uri, size, p->rows)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (run result)");
    free(uri);
    if (!rc) {
        res->written_rows += p->rows;
        res->written_bytes += size;
    }
    return rc;
}

/* dry_object: the object p would be, listed in res */
static int dry_object(objects_sink *s, opart *p, sp_run_result *res, sp_error *err)
{
    int rc = fw_finish(s, p, err); /* its size includes the footer */
    s->buffered -= p->text.len;
    sp_buf_reset(&p->text);
    if (!rc)
        rc = full_key(s, p, 0, err);
    sp_store *st = s->dest.store;
    int create_new = s->ctx.cfg->strategy != SP_STRATEGY_REPLACE;
    for (unsigned k = 1; !rc && st && create_new; k++) {
        int ex = 0;
        if ((rc = st->vt->exists(st, s->key.data, &ex, err)) || !ex)
            break;
        if (k >= MAX_SIBLINGS)
            return sp_error_set(err, SP_EEXIST, 0, "object '%s' and %d siblings exist",
                                p->name, MAX_SIBLINGS);
        rc = full_key(s, p, k, err);
    }
    if (rc)
        return rc;
    sp_buf uri = SP_BUF_INIT(KEY_MAX * 2);
    rc = sp_buf_addf(&uri, err, "%s%s", s->dest.uri_prefix, s->key.data);
    if (!rc && sp_run_result_add_object(res, uri.data, p->raw, p->rows))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (run result)");
    sp_buf_release(&uri);
    return rc;
}

/* COMMIT_WINDOW: objects whose background commit was started and not yet
 * collected (the store's upload threads bound how many run at once) */
#define COMMIT_WINDOW 32

/* commit_all: every object committed in the background, side by side
 * (stores with commit_start).  Objects are started and collected in
 * order; after a failure no more start, but every started one is
 * collected, so res lists exactly the objects committed. */
static int commit_all(objects_sink *s, sp_run_result *res, sp_error *err)
{
    const sp_store_vt *vt = s->dest.store->vt;
    int overwrite = s->ctx.cfg->strategy == SP_STRATEGY_REPLACE;
    size_t started = 0, done = 0;
    int rc = 0;
    for (;;) {
        if (!rc && started < s->nparts && started - done < COMMIT_WINDOW) {
            /* a cancel is honoured up to each object's commit */
            opart *p = s->parts[started];
            if (sp_cancelled(s->ctx.cancel))
                rc = sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
            if (!rc)
                rc = prepare(s, p, err);
            if (!rc)
                rc = vt->commit_start(p->w, overwrite, err);
            if (!rc)
                started++;
            continue;
        }
        if (done == started)
            break;
        opart *p = s->parts[done++];
        uint64_t size = 0;
        sp_error e = SP_ERROR_INIT;
        int r = vt->commit_wait(p->w, &size, &e);
        r = settle(s, p, r, &e, size, res, err); /* first failure wins in err */
        if (r && !rc)
            rc = r;
    }
    return rc;
}

/* take_rolled: the files committed when rolling over, into res (first) */
static int take_rolled(objects_sink *s, sp_run_result *res, sp_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < s->rolled.nobjects && !rc; i++) {
        const sp_object_info *o = &s->rolled.objects[i];
        if (sp_run_result_add_object(res, o->uri, o->size, o->rows))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (run result)");
    }
    res->written_rows += s->rolled.written_rows;
    res->written_bytes += s->rolled.written_bytes;
    sp_run_result_release(&s->rolled);
    memset(&s->rolled, 0, sizeof s->rolled);
    return rc;
}

static int ob_finish(sp_sink *k, sp_run_result *res, sp_error *err)
{
    objects_sink *s = (objects_sink *)k;
    int rc = take_rolled(s, res, err);
    opart *p;
    if (!rc && sp_cancelled(s->ctx.cancel))
        rc = sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    /* a static name always makes its object, even with no rows */
    if (!rc && s->nparts == 0 && s->is_static) {
        sp_buf_reset(&s->key);
        rc = sp_objname_render(s->name, NULL, 0, 0, &s->key, err);
        if (!rc)
            rc = get_part(s, s->key.data, s->key.len, &p, err);
        if (!rc && s->ctx.dry_run)
            rc = added(s, p, p->text.len, err);
    }
    const sp_store_vt *vt = s->dest.store ? s->dest.store->vt : NULL;
    if (!rc && !s->ctx.dry_run && vt && vt->commit_start && vt->commit_wait) {
        rc = commit_all(s, res, err);
    } else {
        for (size_t i = 0; i < s->nparts && !rc; i++) {
            /* a cancel is honoured up to each object's commit: what was
             * committed before it stays listed in res */
            if (sp_cancelled(s->ctx.cancel))
                rc = sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
            else
                rc = s->ctx.dry_run ? dry_object(s, s->parts[i], res, err)
                                    : commit(s, s->parts[i], res, err);
        }
    }
    if (!rc && s->ctx.dry_run) {
        free(res->preview);
        res->preview = sp_buf_detach(&s->preview);
        if (!res->preview)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (preview)");
    }
    release_all(s); /* on failure: abort whatever is left */
    return rc;
}

static void ob_abort(sp_sink *k, sp_run_result *res)
{
    objects_sink *s = (objects_sink *)k;
    sp_error e = SP_ERROR_INIT;
    if (res)
        (void)take_rolled(s, res, &e); /* what rolled over was published */
    release_all(s);
}
