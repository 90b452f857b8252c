#!/usr/bin/env bash
# bench/clickhouse.sh — the same pipes on both engines, side by side: the
# embedded ClickHouse (chDB 26.7, in the sinkpipe process) and a local
# clickhouse-server (tests/harness/clickhouse.sh, Debian's 18.16) over HTTP
# (called at the end of bench/run.sh; runs alone too).
#
#   select-star-csv-gz  SELECT * FROM events (BENCH_CH_ROWS rows, default
#                       2 M) -> one CSV + gzip object
#   daily_export        the seed's pipe (one day aggregated, CSV + gzip)
#
# Same rows in both engines: the same INSERT … SELECT … FROM numbers(N)
# statement run by each (the embedded one through bench/chdb_sql).
# rows/s counts the table's rows for both; RSS is sinkpipe's peak resident
# memory (the server's own memory is not included).  Informative only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${BENCH_CH_ROWS:-2000000}
. bench/lib.sh
bench_init
. tests/harness/clickhouse.sh
if ! ch_available; then echo "bench/clickhouse.sh: no clickhouse-server, skipped"; exit 0; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-bench-ch.XXXXXX")
ch_start
# (ch_stop is not errexit-safe: a trap under set -e would stop in it)
trap 'set +e; ch_stop; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

for eng in embedded clickhouse; do
  p="$work/$eng"
  mkdir -p "$p/datasources" "$p/pipes" "$p/connections"
  cp examples/seed/datasources/events.datasource "$p/datasources/"
  cp examples/seed/pipes/daily_export.pipe "$p/pipes/"
  cp examples/seed/connections/data_warehouse.connection "$p/connections/"
  cat >"$p/pipes/select_star.pipe" <<PIPE
NODE export
SQL >
    SELECT * FROM events

TYPE sink
EXPORT_BUCKET_URI file://$work/out-$eng/
EXPORT_FILE_TEMPLATE events_export
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
EXPORT_COMPRESSION gzip
PIPE
done
on() { # ENGINE cmd...: a command line (for measure) on that engine
  local eng=$1; shift
  ON=(env SINKPIPE_ENGINE=$eng SINKPIPE_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP_PORT/"
      SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT="file://$work/out-$eng" "$@")
}

echo "bench: generating $ROWS rows in both engines" >&2
gen_sql="INSERT INTO events SELECT
    toDateTime('2026-11-22 00:00:00') + (number % 259200) AS timestamp,
    ['click','view','purchase','signup'][1 + number % 4] AS event_type,
    concat('user_', toString(number % 100000)) AS user_id,
    concat('session_', toString(number % 1000000)) AS session_id,
    concat('{\"page\":\"/p/', toString(number % 977), '\",\"q\":\"a,b\"}') AS payload,
    (number % 500000) / 8 AS amount,
    (number % 1000) * 0.25 AS duration,
    concat('meta ', toString(number)) AS metadata
  FROM numbers($ROWS)"
on embedded "$sp" -p "$work/embedded" sql "SELECT 1"; "${ON[@]}" >/dev/null
"$chsql" --path "$work/embedded/.sinkpipe/clickhouse" "$gen_sql" "OPTIMIZE TABLE events FINAL" 2>/dev/null
on clickhouse "$sp" -p "$work/clickhouse" check; "${ON[@]}" >/dev/null 2>&1
ch_query "$gen_sql"
ch_query "OPTIMIZE TABLE events FINAL"

printf '\n%-20s %-11s %12s %9s %9s\n' benchmark engine "rows/s" secs "RSS MiB"
line() { printf '%-20s %-11s %12s %9s %9s\n' "$1" "$2" \
  "$(awk -v n="$ROWS" -v s="$3" 'BEGIN{printf "%.0f", n/s}')" "$3" "$(( $4 / 1024 ))"; }
for eng in embedded clickhouse; do
  on $eng "$sp" -p "$work/$eng" run select_star; measure_run "${ON[@]}"
  line select-star-csv-gz $eng "$SECS" "$RSS"
done
for eng in embedded clickhouse; do
  on $eng "$sp" -p "$work/$eng" run daily_export --now 2026-11-24T01:00:00Z; measure_run "${ON[@]}"
  line daily_export $eng "$SECS" "$RSS"
done
# the benchmark data has ties in daily_export's ORDER BY and SELECT * has
# none: rows are compared as sorted lines
same() { if cmp -s <(zcat "$1" | LC_ALL=C sort -S 1G) <(zcat "$2" | LC_ALL=C sort -S 1G); then echo same rows; else echo DIFFERENT; fi; }
echo
echo "select-star objects: $(same "$work/out-embedded/events_export.csv.gz" "$work/out-clickhouse/events_export.csv.gz")"
echo "daily_export objects: $(same "$work/out-embedded/data-warehouse/tinybird/daily/events_2026-11-23.csv.gz" \
  "$work/out-clickhouse/data-warehouse/tinybird/daily/events_2026-11-23.csv.gz")"
echo "rows/s = table rows / wall time; RSS = sinkpipe's peak resident memory (not the server's)"
