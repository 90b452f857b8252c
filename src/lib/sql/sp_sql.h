/* sp_sql: engine-independent handling of a pipe's SQL.
 *
 * sp_sql_compose: a pipe's nodes into one statement: each reference to an
 *   earlier node's name in a FROM/JOIN position becomes a parenthesised
 *   subquery aliased by that name (works on every ClickHouse, including old
 *   servers without WITH … AS (SELECT)).  The SQL itself is ClickHouse's and
 *   runs as written.  On failure *failed (may be NULL) is the index of the
 *   node whose SQL could not be composed (out->max bounds each node's
 *   expansion: a node read many times by many nodes grows geometrically). */
#ifndef SP_SQL_H
#define SP_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_buf.h"

int sp_sql_compose(const char *const *names, const char *const *sqls, size_t n,
                   sp_buf *out, size_t *failed, sp_error *err);

/* sp_sql_table_refs: fn(ud, name, len) for each table name in a FROM or
 * JOIN position of sql (bare or quoted, not db-qualified, not a table
 * function): the names a pipe may mean as its nodes or other pipes.  A
 * non-zero return of fn stops and is returned. */
typedef int (*sp_sql_ref_fn)(void *ud, const char *name, size_t len, sp_error *err);
int sp_sql_table_refs(const char *sql, sp_sql_ref_fn fn, void *ud, sp_error *err);

/* sp_sql_logical_time: sql with now(), today() and yesterday() replaced by
 * constants of the logical time now_unix (UTC), each aliased as ClickHouse
 * names the call (`now()`), so result names do not change; a trailing ';'
 * and FORMAT clause are dropped (sinkpipe reads results in its own
 * format).  Appends to out. */
int sp_sql_logical_time(const char *sql, int64_t now_unix, sp_buf *out, sp_error *err);

#endif
