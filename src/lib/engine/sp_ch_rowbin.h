/* sp_ch_rowbin: sp_batch rows -> ClickHouse's RowBinary (internal to the
 * ClickHouse engine's append).
 *
 * Binary, so floats arrive bit for bit (old servers' text parsers round
 * some decimals differently from strtod) and nothing needs escaping.
 * Layout per value: little-endian fixed-width numbers; Date as UInt16
 * days, DateTime as UInt32 seconds, DateTime64 as Int64 ticks; String as
 * LEB128 length + bytes; FixedString(N) as N bytes; Decimal as its scaled
 * integer (32/64/128/256 bits by precision); UUID as two little-endian
 * 64-bit halves; Enum as its number; Nullable as a 1-byte NULL flag before
 * the value; Array/Map as LEB128 count + elements; Tuple as its elements.
 * LowCardinality(T) is written as T. */
#ifndef SP_CH_ROWBIN_H
#define SP_CH_ROWBIN_H

#include "sp_batch.h"
#include "sp_buf.h"

/* sp_ch_rowbin_rows: append rows [from, to) of b (columns typed by s) to
 * out.  SP_EUNSUPPORTED names the column whose type has no binary form
 * here, SP_EDATA a value that does not fit its type. */
int sp_ch_rowbin_rows(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from, size_t to,
                      sp_error *err);

#endif
