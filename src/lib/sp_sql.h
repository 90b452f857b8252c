/* sp_sql: engine-independent SQL handling and the ClickHouse -> DuckDB
 * dialect pass.
 *
 * sp_sql_compose: a pipe's nodes into one statement: each reference to an
 *   earlier node's name in a FROM/JOIN position becomes a parenthesised
 *   subquery aliased by that name (works on every engine, including old
 *   ClickHouse without WITH … AS (SELECT)).
 * sp_sql_to_duckdb: a token-level rewrite of ClickHouse syntax DuckDB cannot
 *   take as macros: parametric aggregates quantile(0.9)(x), any(x), LIMIT n
 *   BY cols, the ternary a ? b : c, WITH <expr> AS name scalar aliases,
 *   backtick identifiers, SETTINGS / FORMAT clauses, FINAL, toStartOfInterval
 *   … INTERVAL, and so on (docs/sql-dialect.md lists every rule).
 * sp_sql_duckdb_prelude: the CREATE MACRO statements (and settings) that
 *   give DuckDB the ClickHouse functions (count(), uniqExact, toStartOfHour,
 *   formatDateTime, now() reading the run's logical time, …).  The engine
 *   runs them once per connection.  now() reads getvariable('sp_now'), which
 *   the engine sets (SET VARIABLE sp_now = TIMESTAMP '…') before each query. */
#ifndef SP_SQL_H
#define SP_SQL_H

#include <stddef.h>

#include "sinkpipe.h"
#include "sp_buf.h"

int sp_sql_compose(const char *const *names, const char *const *sqls, size_t n,
                   sp_buf *out, sp_error *err);
int sp_sql_to_duckdb(const char *sql, sp_buf *out, sp_error *err);
const char *sp_sql_duckdb_prelude(void);

/* sp_sql_quote_ident / sp_sql_quote_string: append a safely quoted
 * identifier ("a""b") or string literal ('it''s') for DuckDB. */
int sp_sql_quote_ident(sp_buf *out, const char *s, sp_error *err);
int sp_sql_quote_string(sp_buf *out, const char *s, size_t n, sp_error *err);

#endif
