/* sp_format: output formats behind a small function table.
 *
 * csv     = ClickHouse CSVWithNames (header row, RFC 4180 quoting, "\N" NULL)
 * ndjson  = ClickHouse JSONEachRow (one object per line, 64-bit ints bare)
 * parquet = Apache Parquet, types mapped as ClickHouse's Parquet output maps
 *           them (sp_format_parquet.c, docs/formats.md)
 *
 * csv and ndjson are row serialisers (row/rows, no state between calls).
 * parquet is a stateful writer (w_*): it buffers one row group in columns
 * and writes a footer at the end, so its row/rows are NULL.
 *
 * Formatters append to an sp_buf and never allocate anything else.  The same
 * code serves `sinkpipe sql --format`, the object sinks and (with row_json
 * without the newline) Kafka message values. */
#ifndef SP_FORMAT_H
#define SP_FORMAT_H

#include "sp_batch.h"
#include "sp_buf.h"

/* options of a stateful writer */
typedef struct sp_fmt_opts {
    const char *compression; /* parquet pages: "none", "snappy", "gzip", "zstd";
                              * NULL: the format's default (snappy) */
    uint64_t row_group_rows; /* rows per row group; 0: the default */
    size_t row_group_bytes;  /* bytes buffered per row group; 0: the default */
} sp_fmt_opts;

typedef struct sp_fmt_writer sp_fmt_writer;

typedef struct sp_format {
    const char *name; /* "csv", "ndjson", "parquet" */
    const char *ext;  /* file extension without dot: "csv", "ndjson", "parquet" */
    /* header: what starts every object (CSV names row; NDJSON nothing;
     * Parquet its magic "PAR1", after checking that every column has a
     * Parquet mapping: an unmappable column fails here, before any row) */
    int (*header)(sp_buf *out, const sp_schema *s, sp_error *err);
    /* row: append row `i` of `b`, with its trailing newline */
    int (*row)(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t i,
               sp_error *err);
    /* rows: append rows [from, to) — the fast path */
    int (*rows)(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from,
                size_t to, sp_error *err);

    /* The stateful writer (NULL for row formats).  One writer makes one
     * file, whose header() the caller has already written: the writer
     * counts offsets from the header's end.
     * w_open: a writer for schema s (borrowed: it must outlive the writer)
     *   with options o (copied; NULL: defaults); *w freed with w_free.
     * w_rows: append rows [from, to) of b; the bytes of every row group
     *   completed on the way are appended to out.
     * w_flush: close the current row group now (memory pressure); its bytes
     *   to out.  Nothing happens when no row is buffered.
     * w_finish: the last row group and the footer to out: the file is
     *   complete.  Afterwards only w_free may be called (a next file needs
     *   its own writer: size-bounded rollover finishes one and opens one).
     * w_buffered: bytes held by the writer (buffered rows and pages). */
    int (*w_open)(sp_fmt_writer **w, const sp_schema *s, const sp_fmt_opts *o,
                  sp_error *err);
    int (*w_rows)(sp_fmt_writer *w, const sp_batch *b, size_t from, size_t to, sp_buf *out,
                  sp_error *err);
    int (*w_flush)(sp_fmt_writer *w, sp_buf *out, sp_error *err);
    int (*w_finish)(sp_fmt_writer *w, sp_buf *out, sp_error *err);
    size_t (*w_buffered)(const sp_fmt_writer *w);
    void (*w_free)(sp_fmt_writer *w);
} sp_format;

extern const sp_format sp_format_csv;
extern const sp_format sp_format_ndjson;
extern const sp_format sp_format_parquet;

/* sp_format_find: by name ("csv", "ndjson", "parquet"), NULL when unknown. */
const sp_format *sp_format_find(const char *name);
/* "csv, ndjson, parquet": for error messages */
const char *sp_format_names(void);

/* Value renderers shared by the formatters and by file-name templates.
 * sp_fmt_value_text: the value at column c, row i as plain text (what a
 * partition placeholder {col} shows: strings unescaped, DateTime as
 * "YYYY-MM-DD hh:mm:ss", numbers as in JSON). */
int sp_fmt_value_text(sp_buf *out, const sp_column *c, size_t i, sp_error *err);
/* sp_fmt_datetime: "YYYY-MM-DD hh:mm:ss" for UTC seconds (buf >= 20). */
size_t sp_fmt_datetime(char *buf, int64_t secs);
/* sp_fmt_date: "YYYY-MM-DD" for days since epoch (buf >= 11). */
size_t sp_fmt_date(char *buf, int64_t days);

#endif
