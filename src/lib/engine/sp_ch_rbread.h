/* sp_ch_rbread: ClickHouse's RowBinaryWithNamesAndTypes, read chunk by
 * chunk into sp_batches (internal to the chDB engine; sp_ch_tsv reads the
 * same results as text).
 *
 * chDB streams a result as chunks; each chunk is a whole document:
 *   LEB128 column count N, N names, N type names (each a LEB128 length and
 *   its bytes), then rows up to the end of the chunk (a row never spans two
 *   chunks).  Per value, as sp_ch_rowbin writes it: little-endian numbers
 *   (Bool 1 byte, Date UInt16 days, Date32 Int32 days, DateTime UInt32 s,
 *   DateTime64 Int64 ticks, Enum8/16 its number, IPv4 UInt32, Decimal its
 *   scaled integer of 4/8/16/32 bytes by precision, Int/UInt128/256 16/32
 *   bytes); String as LEB128 length + bytes (JSON too, with
 *   output_format_binary_write_json_as_string=1); FixedString(N) N bytes;
 *   UUID two UInt64 halves, high half first; IPv6 16 bytes in network order;
 *   Nullable(T) a flag byte (1 = NULL, no value follows) then T;
 *   LowCardinality(T) as T; Array/Map a LEB128 count then the elements (key,
 *   value pairs); Tuple its elements in order.
 *
 * The batches hold exactly what sp_ch_tsv makes of the same result: the
 * same physical storage (sp_batch.h), big integers and Decimals as canonical
 * decimal text, UUID/IPv4/IPv6 as ClickHouse prints them, Enums as their
 * names (sp_ch_text.h), a zero value under every NULL.
 *
 * Rows go out in batches of at most batch_rows rows, or earlier once about
 * 4 MiB of text is held.  Memory is bounded by one batch: column arrays and
 * the text arena are reused.  String values point into the chunk while
 * sp_ch_rb_chunk runs; the rows of a batch not yet handed out when it
 * returns have their strings copied, so the caller may free the chunk. */
#ifndef SP_CH_RBREAD_H
#define SP_CH_RBREAD_H

#include <stddef.h>

#include "sp_batch.h"
#include "sp_engine.h"

typedef struct sp_ch_rb sp_ch_rb;

/* sp_ch_rb_new: a reader calling on_schema/on_batch with ud (either may be
 * NULL); batch_rows 0 means 2048.  *out is heap (free with sp_ch_rb_free).
 * The schema and batches passed to the callbacks are owned by the reader:
 * the schema lives until sp_ch_rb_free, a batch until its callback returns. */
int sp_ch_rb_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                 sp_ch_rb **out, sp_error *err);
void sp_ch_rb_free(sp_ch_rb *r); /* NULL is fine */

/* sp_ch_rb_chunk: one whole chunk p[0..n), read but not retained (n == 0:
 * nothing, as chDB's end of stream).  The first chunk's header gives the
 * schema (on_schema, once); every later one must carry the same names and
 * types (else SP_EDATA).  A type this reader cannot decode fails with
 * SP_EUNSUPPORTED naming the column (as does a DateTime outside UTC, like
 * sp_ch_tsv); truncated or malformed data with SP_EDATA naming the column
 * and the row.  Errors from the callbacks come back as they are.  After an
 * error the reader only fails (free it). */
int sp_ch_rb_chunk(sp_ch_rb *r, const char *p, size_t n, sp_error *err);
/* sp_ch_rb_finish: the last, partial batch goes out.  When no chunk ever
 * came, there is no schema: returns 0 without calling on_schema (the caller
 * decides what an empty stream means). */
int sp_ch_rb_finish(sp_ch_rb *r, sp_error *err);
/* rows handed to on_batch so far */
unsigned long long sp_ch_rb_rows(const sp_ch_rb *r);

/* sp_ch_rb_supported: 1 when values of type t (all its element types
 * included) can be decoded here, else 0 (the engine then asks for
 * TabSeparatedWithNamesAndTypes).  0 for SP_T_OTHER (Variant, Dynamic,
 * AggregateFunction…), Tuple(), a type whose values take no bytes at all
 * (Nothing outside Nullable/Array/Map) and DateTime in a zone other than
 * UTC (sp_ch_tsv refuses it too).  sp_ch_rb_chunk fails with
 * SP_EUNSUPPORTED, naming the column, on any column given 0. */
int sp_ch_rb_supported(const sp_type *t);

#endif
