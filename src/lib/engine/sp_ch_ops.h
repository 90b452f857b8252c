/* sp_ch_ops: the ClickHouse engine's operations on a datasource's rows
 * (internal to the engine): copies, truncate, delete. */
#ifndef SP_CH_OPS_H
#define SP_CH_OPS_H

#include <stdint.h>

#include "sp_engine.h"

/* sp_engine_vt's copy, truncate and delete_rows (sp_engine.h) */
int sp_ch_ops_copy(sp_engine *base, const char *target, const char *sql, int replace,
                   const sp_query_opts *o, uint64_t *rows, sp_error *err);
int sp_ch_ops_truncate(sp_engine *base, const char *ds, sp_error *err);
int sp_ch_ops_delete_rows(sp_engine *base, const char *ds, const char *cond, int dry_run,
                          uint64_t *rows, sp_error *err);
/* sp_engine_vt's drop_empty */
int sp_ch_ops_drop_empty(sp_engine *base, const char *ds, uint64_t *rows, sp_error *err);

#endif
