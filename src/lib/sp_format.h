/* sp_format: output formats (row serialisers) behind a small function table.
 *
 * csv    = ClickHouse CSVWithNames (header row, RFC 4180 quoting, "\N" NULL)
 * ndjson = ClickHouse JSONEachRow (one object per line, 64-bit ints bare)
 *
 * Formatters append to an sp_buf and never allocate anything else.  The same
 * code serves `sinkpipe sql --format`, the object sinks and (with row_json
 * without the newline) Kafka message values. */
#ifndef SP_FORMAT_H
#define SP_FORMAT_H

#include "sp_batch.h"
#include "sp_buf.h"

typedef struct sp_format {
    const char *name; /* "csv", "ndjson" */
    const char *ext;  /* file extension without dot: "csv", "ndjson" */
    /* header: what starts every object (CSV names row; NDJSON nothing) */
    int (*header)(sp_buf *out, const sp_schema *s, sp_error *err);
    /* row: append row `i` of `b`, with its trailing newline */
    int (*row)(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t i,
               sp_error *err);
    /* rows: append rows [from, to) — the fast path */
    int (*rows)(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from,
                size_t to, sp_error *err);
} sp_format;

extern const sp_format sp_format_csv;
extern const sp_format sp_format_ndjson;

/* sp_format_find: by name ("csv", "ndjson"), NULL when unknown. */
const sp_format *sp_format_find(const char *name);
/* "csv, ndjson": for error messages */
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
/* sp_civil_from_days: proleptic Gregorian y/m/d for days since epoch. */
void sp_civil_from_days(int64_t days, int *y, int *m, int *d);
int64_t sp_days_from_civil(int y, int m, int d);

#endif
