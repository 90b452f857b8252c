/* sp_ch_query: the ClickHouse engine's reading path (internal to the
 * engine): streamed queries and scalar expressions. */
#ifndef SP_CH_QUERY_H
#define SP_CH_QUERY_H

#include <stdint.h>

#include "sp_engine.h"

/* sp_engine_vt's query and eval_scalar (sp_engine.h) */
int sp_ch_query_run(sp_engine *base, const char *sql, const sp_query_opts *o,
                    sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                    sp_query_stats *stats, sp_error *err);
int sp_ch_query_eval(sp_engine *base, const char *expr, int64_t now_unix, char **out,
                     sp_error *err);

#endif
