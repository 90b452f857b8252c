/* sp_run: internal helpers shared by runs and checks. */
#ifndef SP_RUN_H
#define SP_RUN_H

#include "sp_buf.h"
#include "sp_model.h"

/* sp_pipe_render_sql: render every node of `pipe` with `params` and compose
 * them into one statement (ClickHouse dialect) appended to sql.  Template
 * errors point at the node's SQL line. */
int sp_pipe_render_sql(const sp_pipe *pipe, const sp_param *params, size_t nparams,
                       sp_buf *sql, sp_error *err);

#endif
