# bench/lib.sh — helpers of the bench scripts (sourced; needs BUILD and the
# repository root as the current folder).
#
#   bench_init                  sets root bdir sp measure chsql gen http_load
#   measure_run CMD...          runs CMD under bench/measure: SECS (wall) and
#                               RSS (peak resident KiB, with its children);
#                               CMD's stdout goes to $MEASURE_OUT (default
#                               /dev/null), its stderr to $work/measure.log
#   median X...                 the median of numbers
#   new_project DIR             a project with the seed's events datasource
#   fill_events PROJ ROWS FILE  the project's events table holds ROWS rows
#                               of FILE (NDJSON from gen_events; repeated
#                               when it is shorter), loaded by the embedded
#                               ClickHouse itself (bench/chdb_sql: fast)
#   rows_of FILE FORMAT         rows of a file as ClickHouse reads it
#                               (CSVWithNames, .gz too)

bench_init() {
  root=$PWD
  case "$BUILD" in /*) bdir=$BUILD ;; *) bdir=$root/$BUILD ;; esac
  sp="$bdir/sinkpipe"
  measure="$bdir/bench/measure"
  chsql="$bdir/bench/chdb_sql"
  http_load="$bdir/bench/http_load"
  gen="$bdir/tools/gen_events"
  local f
  for f in "$sp" "$measure" "$chsql" "$http_load" "$gen"; do
    [ -x "$f" ] || { echo "bench: $f is missing (make bench builds it)" >&2; return 1; }
  done
}

measure_run() {
  local log="$work/measure.log"
  "$measure" "$@" >"${MEASURE_OUT:-/dev/null}" 2>"$log" || { tail -5 "$log" >&2; return 1; }
  read -r SECS RSS < <(grep '^measure:' "$log" | tail -1 | cut -d' ' -f2-)
}

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR]=$1} END{if (NR % 2) printf "%.3f", a[(NR+1)/2]; else printf "%.3f", (a[NR/2]+a[NR/2+1])/2}'
}

new_project() {
  mkdir -p "$1/datasources" "$1/pipes" "$1/connections"
  cp "$root/examples/seed/datasources/events.datasource" "$1/datasources/"
}

fill_events() {
  local proj=$1 rows=$2 file=$3 db="$1/.sinkpipe/clickhouse" have
  "$sp" -p "$proj" sql "SELECT 1" >/dev/null   # the table, as sinkpipe creates it
  "$chsql" --path "$db" \
    "INSERT INTO events SELECT * FROM file('$file', JSONEachRow) LIMIT $rows" 2>/dev/null || return 1
  while have=$("$chsql" --path "$db" "SELECT count() FROM events" 2>/dev/null) &&
        [ "$have" -lt "$rows" ]; do
    "$chsql" --path "$db" "INSERT INTO events SELECT * FROM events LIMIT $((rows - have))" \
      2>/dev/null || return 1
  done
  "$chsql" --path "$db" "OPTIMIZE TABLE events FINAL" 2>/dev/null
}

rows_of() {
  "$chsql" "SELECT count() FROM file('$1', $2)" 2>/dev/null
}
