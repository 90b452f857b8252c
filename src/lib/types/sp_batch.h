/* sp_batch: the columnar batch that flows from an engine to the formatters
 * and sinks.
 *
 * An engine describes its result once with an sp_schema, then hands over
 * batches of at most a few thousand rows.  A batch and everything it points
 * to is owned by the engine and valid only during the callback that receives
 * it: a consumer that needs data later copies it.
 *
 * Physical storage by kind (the `v` union):
 *   BOOL, UINT8..UINT64            -> v.u64[row]
 *   INT8..INT64                    -> v.i64[row]
 *   DATE, DATE32                   -> v.i64[row]  days since 1970-01-01
 *   DATETIME                       -> v.i64[row]  seconds since the epoch
 *   DATETIME64(s)                  -> v.i64[row]  ticks of 10^-s seconds
 *   FLOAT32, FLOAT64               -> v.f64[row]  (FLOAT32 holds a float's value)
 *   STRING, FIXEDSTRING, UUID, IPV4, IPV6, ENUM*  -> v.str[row]  text, not escaped
 *   INT128/256, UINT128/256, DECIMAL            -> v.str[row]  canonical decimal
 *                                                  text ("-12.5", "340282...")
 *   JSON                           -> v.str[row]  a JSON document's text
 *   ARRAY                          -> offsets[row]..offsets[row+1] index the
 *                                     elements in child[0] (offsets has
 *                                     nrows+1 entries, offsets[0] may be != 0)
 *   MAP                            -> offsets as ARRAY; keys in child[0],
 *                                     values in child[1]
 *   TUPLE                          -> one child per element, same rows
 * nulls: NULL when the column has no NULLs in this batch, else nulls[row]
 * is 1 for NULL.  Text is {ptr, len}, not NUL-terminated. */
#ifndef SP_BATCH_H
#define SP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "sp_type.h"

typedef struct sp_str {
    const char *p;
    size_t n;
} sp_str;

typedef struct sp_column {
    const sp_type *type; /* same pointer as the schema's */
    const uint8_t *nulls;
    union {
        const int64_t *i64;
        const uint64_t *u64;
        const double *f64;
        const sp_str *str;
    } v;
    const uint64_t *offsets;   /* ARRAY, MAP */
    struct sp_column *child;   /* ARRAY: 1, MAP: 2, TUPLE: nelems */
    size_t nchild;
} sp_column;

typedef struct sp_schema {
    size_t ncols;
    char **names;    /* column names, UTF-8 */
    sp_type **types; /* column types */
} sp_schema;

typedef struct sp_batch {
    size_t nrows;
    size_t ncols;
    const sp_column *cols; /* ncols entries, schema order */
} sp_batch;

/* sp_schema_free: free names, types and the arrays (not the struct itself
 * unless it was made by sp_schema_new). */
sp_schema *sp_schema_new(size_t ncols); /* zeroed arrays of ncols, NULL on ENOMEM */
void sp_schema_free(sp_schema *s);
/* sp_schema_find: column index by name, or -1. */
long sp_schema_find(const sp_schema *s, const char *name);

#endif
