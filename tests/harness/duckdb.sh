# tests/harness/duckdb.sh — DuckDB (npm @duckdb/node-api, pinned in
# tests/harness/duckdb/package-lock.json) for tests and benchmarks: an
# independent Parquet reader (read_parquet) and writer (COPY … FORMAT
# parquet).  Sourced.
#   duckdb_install LOGFILE  sets DUCKDB_DIR to a folder whose node_modules
#                           holds DuckDB; non-zero (log in LOGFILE) if npm
#                           cannot install it
#   duckdb_sql SQL...       runs the statements (one argument each) on an
#                           in-memory database (or the file
#                           $DUCKDB_DATABASE) and prints the last one's
#                           rows as CSV (no header; NULL empty, strings in
#                           double quotes when they need them)
# The cache is outside the repository: $SINKPIPE_DUCKDB_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/sinkpipe/duckdb, one folder per lockfile hash.
. "$(dirname "${BASH_SOURCE[0]}")/npm.sh"
duckdb_install() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  DUCKDB_SCRIPT=$here/duckdb_sql.mjs
  npm_cached_install "$here/duckdb" "${SINKPIPE_DUCKDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sinkpipe/duckdb}" "$1" || return 1
  DUCKDB_DIR=$NPM_DIR
}

duckdb_sql() {
  NODE_PATH=$DUCKDB_DIR/node_modules node "$DUCKDB_SCRIPT" "$@"
}
