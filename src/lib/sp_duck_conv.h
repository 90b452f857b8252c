/* sp_duck_conv: conversions between DuckDB vectors and sp_batch columns,
 * used by the embedded engine (sp_engine_duckdb.c) only.
 *
 * Result side (sp_duck_conv.c): a reader built once per query from the
 * result's column types turns each data chunk into an sp_batch.  Fixed-width
 * vectors whose layout matches sp_batch (BIGINT, UBIGINT, DOUBLE, every
 * TIMESTAMP kind) are used in place; narrower ones are widened into scratch
 * arrays reused across chunks; VARCHAR/BLOB become sp_str pointing into the
 * chunk; HUGEINT/UHUGEINT/DECIMAL/UUID/TIME become text in per-node scratch.
 * Everything a batch points to lives until the next convert or release.
 *
 * Append side (sp_duck_append.c): sp_batch rows into a duckdb_data_chunk of
 * the table's column types, and the ClickHouse type -> DuckDB type text used
 * by CREATE TABLE. */
#ifndef SP_DUCK_CONV_H
#define SP_DUCK_CONV_H

#include <stddef.h>
#include <stdint.h>

#include <duckdb.h>

#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_type.h"

/* sp__duck_to_sptype: a result column's DuckDB type as an sp_type (heap,
 * caller frees with sp_type_free).  `col` names the column in errors.
 * SP_EUNSUPPORTED for types with no mapping (BIT, UNION, BIGNUM, TIME_TZ). */
int sp__duck_to_sptype(duckdb_logical_type lt, const char *col, sp_type **out, sp_error *err);

typedef struct sp__dnode sp__dnode;

typedef struct sp__dreader {
    size_t ncols;
    sp__dnode *nodes; /* ncols conversion trees */
    sp_column *cols;  /* ncols, the batch's columns */
} sp__dreader;

/* sp__dreader_init: prepare for a result with the given column types
 * (borrowed during the call) and the schema built from them (borrowed for
 * the reader's life: the columns point at its types). */
int sp__dreader_init(sp__dreader *r, duckdb_logical_type *types, const sp_schema *s,
                     sp_error *err);
/* sp__dreader_convert: chunk -> *out (valid until the next convert/release
 * and while the chunk lives). */
int sp__dreader_convert(sp__dreader *r, duckdb_data_chunk ch, sp_batch *out, sp_error *err);
void sp__dreader_release(sp__dreader *r);

/* sp__duck_type_text: the DuckDB type for a ClickHouse type (no NOT NULL);
 * json_ok = 0 maps JSON to VARCHAR.  `col` names the column in errors. */
int sp__duck_type_text(const sp_type *t, int json_ok, const char *col, sp_buf *out,
                       sp_error *err);

/* sp__duck_fill_chunk: rows [from, from+n) of batch b (schema s) into chunk
 * ch (whose vectors have the table's column types, same order); n is at most
 * duckdb_vector_size().  Sets the chunk's size.  SP_EDATA for a value that
 * does not fit its column (decimal out of range, bad UUID text). */
int sp__duck_fill_chunk(duckdb_data_chunk ch, const sp_schema *s, const sp_batch *b,
                        size_t from, size_t n, sp_error *err);

/* Canonical text of a 128-bit integer with `scale` decimal places, trailing
 * fractional zeros dropped ("-12.5", "3"); buf needs 48 bytes.  Returns the
 * length. */
size_t sp__duck_i128_text(__int128 v, int scale, char *buf);
size_t sp__duck_u128_text(unsigned __int128 v, char *buf);
/* sp__duck_parse_decimal: "-12.345" (optional sign, digits, optional
 * fraction; extra fraction digits are truncated) scaled by 10^scale.
 * 0 or -1 on bad text / overflow of 38 digits. */
int sp__duck_parse_decimal(const char *p, size_t n, int scale, __int128 *out);
int sp__duck_parse_uuid(const char *p, size_t n, unsigned __int128 *out);

#endif
