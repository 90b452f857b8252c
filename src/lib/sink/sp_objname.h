/* sp_objname: object names from bucket URIs and file templates.
 *
 * A compiled template is a list of literal parts and placeholders:
 *   {param}             a request parameter (checked first)
 *   {col}               the value of result column col (partitions rows)
 *   {col, '%Y-%m-%d'}   a Date/DateTime column formatted with ClickHouse
 *                       formatDateTime specifiers (partitions rows)
 *   {date} {time} {year} {month} {day} {hour} {minute}
 *                       the run's logical time in UTC (date = YYYY-MM-DD,
 *                       time = HHMMSS) — used when no param/column has the name
 *   {job_id}            the run's job id
 *   {N}                 digits: rows are spread over N objects, {N} renders
 *                       the object's index 0..N-1
 * A rendered value can never escape its prefix: '/', "..", '\\', control
 * characters and '%' are percent-encoded. */
#ifndef SP_OBJNAME_H
#define SP_OBJNAME_H

#include <stddef.h>
#include <stdint.h>

#include "sp_batch.h"
#include "sp_buf.h"

typedef struct sp_objname sp_objname;

typedef struct sp_objname_ctx {
    const sp_param *params;
    size_t nparams;
    int64_t now_unix;
    const char *job_id;
    const sp_schema *schema; /* result columns; NULL: none allowed */
} sp_objname_ctx;

/* sp_objname_compile: parse `tmpl` (where = "EXPORT_FILE_TEMPLATE" etc. for
 * errors); unknown placeholders (not a param, column or built-in) are
 * SP_EDEF "unknown placeholder '{x}' (expected a parameter, a result
 * column, or date, time, year, month, day, hour, minute, job_id, N)". */
int sp_objname_compile(const char *tmpl, const char *where, const sp_objname_ctx *ctx,
                       sp_objname **out, sp_error *err);
void sp_objname_free(sp_objname *t);
/* sp_objname_is_static: 1 when the name does not depend on the row. */
int sp_objname_is_static(const sp_objname *t);
/* sp_objname_split: N of a {N} placeholder, 0 when none. */
unsigned sp_objname_split(const sp_objname *t);
/* sp_objname_render: the name for row i of b (b may be NULL when static);
 * `part` is the {N} index. */
int sp_objname_render(const sp_objname *t, const sp_batch *b, size_t i, unsigned part,
                      sp_buf *out, sp_error *err);

#endif
