/* sp_ch_native: ClickHouse's Native format, read chunk by chunk into
 * sp_batches (internal to the chDB engine; the same API and the same
 * batch values as sp_ch_rbread, which reads RowBinaryWithNamesAndTypes).
 *
 * Native is columnar.  A chunk from chDB holds one or more whole blocks
 * (a block never spans two chunks); each block, as ClickHouse 26.7 writes
 * it with client revision 0 (no block info, no serialization-kind byte):
 *   LEB128 column count, LEB128 row count, then per column its name and
 *   its type name (each a LEB128 length and its bytes) and, when the block
 *   has rows, its data: first the "prefixes" of the type's tree (a UInt64
 *   1 for each LowCardinality and each JSON in it, depth first, Tuple and
 *   Map elements in order), then the values, column by column:
 *     fixed-width numbers little-endian, one after another (Bool 1 byte,
 *     Date UInt16, Date32 Int32, DateTime UInt32, DateTime64 Int64, Enum8/16
 *     their number, IPv4 UInt32, Decimal its 4/8/16/32-byte scaled integer,
 *     Int/UInt128/256 16/32 bytes, UUID two UInt64 halves high first, IPv6
 *     16 bytes in network order, Nothing one byte '0');
 *     String as LEB128 length + bytes per row; FixedString(N) N bytes;
 *     JSON as String (output_format_native_write_json_as_string=1: its
 *     prefix is 1; any other version fails, naming the setting);
 *     Nullable(T): the null map (a byte per row), then T's values for every
 *     row (a default under each NULL);
 *     Array(T): a UInt64 per row, the cumulative count of elements, then
 *     the flattened elements as a column of T; Map(K, V) as
 *     Array(Tuple(K, V)); Tuple: each element's column in turn;
 *     LowCardinality(T): a UInt64 of flags (bits 0-1: an index of 1, 2, 4
 *     or 8 bytes; bit 9: keys follow; bit 10: a new dictionary; bit 8, a
 *     shared dictionary, is refused), a UInt64 key count, the keys as a
 *     column of T without Nullable (for a Nullable T, key 0 stands for
 *     NULL), a UInt64 row count and an index per row.
 *     An Array's elements of which there are none take no bytes at all.
 * Settings: the query needs output_format_native_write_json_as_string=1
 * (for JSON) and the defaults of output_format_native_encode_types_in_
 * binary_format and output_format_native_use_flattened_dynamic_and_json_
 * serialization (0).  LowCardinality needs none: chDB writes it as above
 * whatever low_cardinality_allow_in_native_format says (that setting is
 * the TCP server's).  Sparse columns come out whole.
 *
 * The batches hold exactly what sp_ch_rbread makes of the same result
 * (sp_batch.h): big integers and Decimals as canonical decimal text,
 * UUID/IPv4/IPv6 as ClickHouse prints them, Enums as their names
 * (sp_ch_text.h), a zero value under every NULL.  Only the batch
 * boundaries differ: a block goes out as batches of at most batch_rows
 * rows (fewer once about 4 MiB of text is held), all of them during the
 * sp_ch_nat_chunk call that brought the block.  A batch points into the
 * block's decoded columns (Array offsets index their elements absolutely:
 * offsets[0] may be != 0) and its strings into the chunk.  Memory is
 * bounded by one block: the columns' arrays and text buffers are reused.
 *
 * Two things RowBinaryWithNamesAndTypes says and Native does not:
 *   - an empty result is no bytes at all: no chunk comes, so there is no
 *     schema (see sp_ch_nat_finish);
 *   - a top-level DateTime column's type comes without its time zone
 *     ("DateTime" for DateTime('Asia/Tokyo'): ClickHouse leaves it out for
 *     clients of revision 0, as Native's writer is; Nullable(DateTime(…)),
 *     Array(…) and DateTime64 keep theirs).  Such a column is read, as
 *     seconds since the epoch, where sp_ch_rbread would refuse it; a caller
 *     that must refuse time zones other than UTC learns the types from
 *     elsewhere (DESCRIBE, a RowBinary header). */
#ifndef SP_CH_NATIVE_H
#define SP_CH_NATIVE_H

#include <stddef.h>

#include "sp_batch.h"
#include "sp_engine.h"

typedef struct sp_ch_nat sp_ch_nat;

/* sp_ch_nat_new: a reader calling on_schema/on_batch with ud (either may be
 * NULL); batch_rows 0 means 2048.  *out is heap (free with sp_ch_nat_free).
 * The schema and batches passed to the callbacks are owned by the reader:
 * the schema lives until sp_ch_nat_free, a batch until its callback
 * returns. */
int sp_ch_nat_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                  sp_ch_nat **out, sp_error *err);
void sp_ch_nat_free(sp_ch_nat *r); /* NULL is fine */

/* sp_ch_nat_chunk: one chunk p[0..n) of whole blocks, read but not retained
 * (n == 0: nothing, as chDB's end of stream).  The first block gives the
 * schema (on_schema, once, after that block has been read and before its
 * batches); every later one must carry the same names and types (else
 * SP_EDATA).  A type this reader cannot decode fails with SP_EUNSUPPORTED
 * naming the column, before on_schema; truncated or malformed data with
 * SP_EDATA naming the column and the block's rows.  Errors from the
 * callbacks come back as they are.  After an error the reader only fails
 * (free it). */
int sp_ch_nat_chunk(sp_ch_nat *r, const char *p, size_t n, sp_error *err);
/* sp_ch_nat_finish: the end of the result (every batch has gone out
 * already).  When no chunk ever came, there is no schema: returns 0
 * without calling on_schema (the caller decides what an empty result
 * means: chDB sends no chunk for an empty Native result). */
int sp_ch_nat_finish(sp_ch_nat *r, sp_error *err);
/* rows handed to on_batch so far */
unsigned long long sp_ch_nat_rows(const sp_ch_nat *r);

/* sp_ch_nat_supported: 1 when values of type t (all its element types
 * included) can be decoded here, else 0 (the engine then asks for
 * TabSeparatedWithNamesAndTypes): the same as sp_ch_rb_supported (0 for
 * SP_T_OTHER, BFloat16, Tuple(), a type whose RowBinary values take no
 * bytes, DateTime in a zone other than UTC).  sp_ch_nat_chunk fails with
 * SP_EUNSUPPORTED, naming the column, on any column given 0. */
int sp_ch_nat_supported(const sp_type *t);

#endif
