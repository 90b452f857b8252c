/* sp_render: a pipe's nodes rendered and composed into the one statement
 * the engine runs (sp_render.c). */
#ifndef SP_RENDER_H
#define SP_RENDER_H

#include <stdint.h>

#include "sp_buf.h"
#include "sp_engine.h"
#include "sp_model.h"
#include "sp_template.h"

/* sp_pipe_render_sql: render every node of `pipe` with `params` and compose
 * them into one statement (ClickHouse dialect) appended to sql.  Another
 * pipe of `proj` named as a table (FROM/JOIN) is inlined as its result,
 * rendered with the same params (proj NULL: no pipe is read as a table).
 * Template errors point at the node's SQL line; a pipe reading itself
 * through others is an SP_EDEF naming the cycle. */
int sp_pipe_render_sql(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                       size_t nparams, sp_buf *sql, sp_error *err);
/* sp_pipe_render_sql_ex: the same with sp_template flags; SP_TEMPLATE_CHECK
 * renders what `check` runs: every parameter without a value takes its
 * default or a placeholder of its type (Tinybird's test mode).  st (may be
 * NULL) receives the HTTP answer a failure asks for (error(),
 * custom_error(), bad params: sp_template.h); the caller frees st->body. */
int sp_pipe_render_sql_ex(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                          size_t nparams, unsigned tflags, sp_template_status *st, sp_buf *sql,
                          sp_error *err);

/* sp_query_render_sql: a query (`sinkpipe sql`, /v0/sql) as one node of no
 * pipe: templates rendered with params when it has any, the project's pipes
 * it reads by name inlined. */
int sp_query_render_sql(const sp_project *proj, const char *sql, const sp_param *params,
                        size_t nparams, sp_buf *out, sp_error *err);

/* sp_discard_schema / sp_discard_batch: query callbacks that keep nothing
 * (a query run for its errors only) */
int sp_discard_schema(void *ud, const sp_schema *s, sp_error *err);
int sp_discard_batch(void *ud, const sp_batch *b, sp_error *err);

/* sp_pipe_failing_node: the index of the first node whose SQL (with the
 * nodes before it) ClickHouse refuses, found by running each prefix with
 * LIMIT 0; -1 when none (or another kind of failure).  For messages. */
long sp_pipe_failing_node(sp_engine *e, const sp_project *proj, const sp_pipe *pipe,
                          const sp_param *params, size_t nparams, int64_t now_unix);
long sp_pipe_failing_node_ex(sp_engine *e, const sp_project *proj, const sp_pipe *pipe,
                             const sp_param *params, size_t nparams, unsigned tflags,
                             int64_t now_unix);

#endif
