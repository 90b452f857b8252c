#!/usr/bin/env bash
# bench/run.sh — `make bench`: sinkpipe side by side with its peers, on the
# same data in the same run; prints throughput, the ratio and peak memory.
#
#   export-csv-gzip   sinkpipe run (file sink, CSV + gzip)  vs  DuckDB's own
#                     COPY (SELECT * FROM events) TO '…' (FORMAT csv, HEADER,
#                     COMPRESSION gzip) through the same libduckdb
#   export-csv        the same without compression
#
# BENCH_ROWS (default 10000000) sets the size.  Results are informative:
# nothing here fails because a machine is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${BENCH_ROWS:-10000000}
root=$PWD
case "$BUILD" in /*) bdir=$BUILD ;; *) bdir=$root/$BUILD ;; esac
sp="$bdir/sinkpipe"
measure="$bdir/bench/measure"
duck="$bdir/bench/duck"
work=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

proj="$work/project"
mkdir -p "$proj/datasources" "$proj/pipes" "$work/out"
cp examples/seed/datasources/events.datasource "$proj/datasources/"
cat > "$proj/pipes/bench_export.pipe" <<PIPE
NODE export
SQL >
    SELECT * FROM events

TYPE sink
EXPORT_BUCKET_URI file://$work/out/
EXPORT_FILE_TEMPLATE events_export
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
EXPORT_COMPRESSION gzip
PIPE

echo "bench: generating $ROWS rows in the embedded engine" >&2
"$sp" -p "$proj" sql "SELECT 1" >/dev/null   # creates the database and tables
db="$proj/.sinkpipe/sinkpipe.duckdb"
"$duck" "$db" "INSERT INTO events BY NAME SELECT
    CAST(TIMESTAMP '2026-11-22 00:00:00' + to_seconds(i % 259200) AS TIMESTAMP_S) AS timestamp,
    ['click','view','purchase','signup'][1 + (i % 4)::INTEGER] AS event_type,
    'user_' || (i % 100000) AS user_id,
    'session_' || (i % 1000000) AS session_id,
    '{\"page\":\"/p/' || (i % 977) || '\",\"q\":\"a,b\"}' AS payload,
    (i % 500000) / 7.0 AS amount,
    (i % 1000) * 0.25 AS duration,
    'meta ' || i AS metadata
  FROM range($ROWS) t(i)"

# run "label" cmd… → sets SECS RSS
run() {
  local log="$work/measure.log"
  "$measure" "$@" >/dev/null 2>"$log" || { cat "$log" >&2; return 1; }
  read -r SECS RSS < <(grep '^measure:' "$log" | tail -1 | cut -d' ' -f2-)
}

row() { # name ours_secs ours_rss peer_secs peer_rss bytes
  local r
  r=$(awk -v a="$2" -v b="$4" 'BEGIN{printf "%.2f", b/a}')
  printf '%-16s %12s %10s %9s | %12s %10s %9s | %6sx\n' "$1" \
    "$(awk -v n="$ROWS" -v s="$2" 'BEGIN{printf "%.0f", n/s}')" "$2" "$(( $3 / 1024 ))" \
    "$(awk -v n="$ROWS" -v s="$4" 'BEGIN{printf "%.0f", n/s}')" "$4" "$(( $5 / 1024 ))" "$r"
}

printf '\n%-16s %12s %10s %9s | %12s %10s %9s | %7s\n' benchmark "rows/s" "secs" "RSS MiB" \
  "peer rows/s" "peer secs" "peer MiB" "ratio"

# CSV + gzip
run "$sp" -p "$proj" run bench_export --compression gzip; s1=$SECS m1=$RSS
run "$duck" "$db" "COPY (SELECT * FROM events) TO '$work/duck.csv.gz' (FORMAT csv, HEADER, COMPRESSION gzip)"; s2=$SECS m2=$RSS
row export-csv-gzip "$s1" "$m1" "$s2" "$m2"
# plain CSV
run "$sp" -p "$proj" run bench_export --compression none; s3=$SECS m3=$RSS
run "$duck" "$db" "COPY (SELECT * FROM events) TO '$work/duck.csv' (FORMAT csv, HEADER)"; s4=$SECS m4=$RSS
row export-csv "$s3" "$m3" "$s4" "$m4"

ours_gz=$(stat -c %s "$work/out/events_export.csv.gz")
peer_gz=$(stat -c %s "$work/duck.csv.gz")
ours_csv=$(stat -c %s "$work/out/events_export.csv")
echo
echo "sizes: sinkpipe csv.gz $ours_gz bytes, DuckDB csv.gz $peer_gz bytes, csv $ours_csv bytes"
echo "ratio = peer time / sinkpipe time (higher is better for sinkpipe); RSS = peak resident memory"
BUILD="$BUILD" bash bench/kafka.sh
BUILD="$BUILD" bash bench/clickhouse.sh
BUILD="$BUILD" bash bench/s3.sh
