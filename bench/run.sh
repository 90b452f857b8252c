#!/usr/bin/env bash
# bench/run.sh — `make bench`: sinkpipe side by side with a peer, in one run,
# on the same data; prints both wall times (median of BENCH_N runs, the two
# sides alternating), the ratio (peer time / sinkpipe time: > 1 means
# sinkpipe is faster), the target and the peak RSS of each side.
#
#   export-csv        `sinkpipe run` of a pipe `SELECT * FROM events` (file
#                     sink, CSV, no compression) on a table of BENCH_ROWS
#                     rows loaded with `sinkpipe append`  vs  ClickHouse's
#                     own `SELECT * FROM events INTO OUTFILE '…' FORMAT
#                     CSVWithNames` in chDB (bench/chdb_sql: the same
#                     libchdb.so on the same stored table).  Checked: the
#                     same rows, the same bytes once lines are sorted.
#   export-csv-gzip   the same with gzip (`… COMPRESSION 'gzip'`); checked:
#                     the same number of rows.
#   export-csv-zstd   the same with zstd (EXPORT_COMPRESSION zstd: query,
#                     CSV and libzstd's 2 workers at level 1)  vs  the zstd
#                     CLI compressing the plain CSV of the same query
#                     (`zstd -T2 -1`, the CSV already written).  Checked:
#                     the same rows, and the same bytes once decompressed
#                     and sorted; the note gives both sizes (ratio).
#   ingest-ndjson     `sinkpipe append events FILE` (BENCH_ROWS rows of
#                     gen_events NDJSON, a fresh project each run)  vs
#                     `INSERT INTO events SELECT * FROM file('FILE',
#                     JSONEachRow)` in chDB (a fresh folder each run, the
#                     table as sinkpipe creates it).  Checked: count() and
#                     sum(cityHash64(*)) of the two tables are equal.
#   events-api        `sinkpipe serve`, BENCH_EVENTS_CLIENTS (16) concurrent
#                     clients (bench/http_load) posting BENCH_EVENTS_BATCH
#                     (50) rows of NDJSON to POST /v0/events?name=events&
#                     wait=true for BENCH_EVENTS_SECS (10) seconds  vs  the
#                     same batches as HTTP `INSERT INTO events FORMAT
#                     JSONEachRow` to Debian's clickhouse-server
#                     (tests/harness/clickhouse.sh).  The ratio is calls/s
#                     over the peer's; checked: rows stored = rows
#                     acknowledged.
#   export-parquet    `sinkpipe run` of the same pipe with EXPORT_FORMAT
#                     parquet (snappy pages, the default)  vs  chDB's
#                     `… INTO OUTFILE '…' FORMAT Parquet` with snappy
#                     (output_format_parquet_compression_method)  and  DuckDB's
#                     `COPY events TO '…' (FORMAT parquet, COMPRESSION snappy)`
#                     (npm @duckdb/node-api, tests/harness/duckdb.sh; the
#                     NDJSON loaded into a DuckDB file first, untimed; each
#                     side's time includes its process start).  The ratio is
#                     against the faster peer.  Checked: count() and
#                     sum(cityHash64(*)) of ours and chDB's files read back by
#                     ClickHouse are equal, DuckDB's row count.
#   export-rss        peak RSS of `sinkpipe run` (CSV) on BENCH_RSS_BIG
#                     (10 M) rows vs BENCH_RSS_SMALL (1 M) rows; chDB's INTO
#                     OUTFILE beside it for reference.
#
# then bench/kafka.sh, bench/clickhouse.sh and bench/s3.sh (their own
# sizes: see each).  BENCH_ONLY="export parquet ingest events rss kafka
# clickhouse s3" (any subset) picks what runs.  Wall time is of the whole process for
# both sides (each starts its embedded ClickHouse: ~0.2 s).  Everything
# runs on loopback and stops at the end (traps).  Results are informative:
# nothing fails because of speed; a failed check prints DIFFERENT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${BENCH_ROWS:-5000000}
N=${BENCH_N:-3}
EV_SECS=${BENCH_EVENTS_SECS:-10}
EV_CLIENTS=${BENCH_EVENTS_CLIENTS:-16}
EV_BATCH=${BENCH_EVENTS_BATCH:-50}
RSS_BIG=${BENCH_RSS_BIG:-10000000}
RSS_SMALL=${BENCH_RSS_SMALL:-1000000}
ONLY=" ${BENCH_ONLY:-export parquet ingest events rss kafka clickhouse s3} "
want() { [[ $ONLY == *" $1 "* ]]; }
. bench/lib.sh
bench_init
. tests/harness/clickhouse.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-bench.XXXXXX")
serve_pid=
cleanup() {
  set +e
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null || true
    local i=0
    while kill -0 "$serve_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=
  fi
  ch_stop 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "bench: $*" >&2; }
mib() { echo $(( $1 / 1024 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", (a > 0 ? b / a : 0)}'; }
declare -a TABLE NOTES
line() { # name ours peer ratio target ours_rss peer_rss check
  TABLE+=("$(printf '%-18s %13s %13s %7s %8s %8s %8s  %s' "$@")")
  say "${TABLE[-1]}"
}
chver=$("$chsql" "SELECT version()" 2>/dev/null || echo '?')

load0=$(cut -d' ' -f1-3 /proc/loadavg)
data="$work/events.ndjson"
say "generating $ROWS rows of NDJSON (gen_events)"
"$gen" --rows "$ROWS" >"$data"

# --------------------------------------------------------------- ingest
# sinkpipe's first project (loaded with `sinkpipe append`) is the table the
# exports read
xproj="$work/export"
ingest() {
  local i ta=() tb=() ra=0 rb=0 p f ddl sum_ours sum_peer
  for ((i = 1; i <= N; i++)); do
    p="$work/ingest-sp"; [ "$i" = 1 ] && p=$xproj
    rm -rf "$p"; new_project "$p"; sync
    measure_run "$sp" -p "$p" append events "$data" || { say "ingest: sinkpipe append failed"; return 1; }
    ta+=("$SECS"); ra=$(( RSS > ra ? RSS : ra ))
    [ "$i" = 1 ] && ddl=$("$chsql" --path "$xproj/.sinkpipe/clickhouse" --format TSVRaw \
                            "SHOW CREATE TABLE events" 2>/dev/null)
    f="$work/ingest-ch"; rm -rf "$f"; sync
    measure_run "$chsql" --path "$f" "$ddl" \
      "INSERT INTO events SELECT * FROM file('$data', JSONEachRow)" ||
      { say "ingest: chDB INSERT failed"; return 1; }
    tb+=("$SECS"); rb=$(( RSS > rb ? RSS : rb ))
    say "ingest run $i: sinkpipe ${ta[-1]} s, chDB ${tb[-1]} s"
    [ "$p" = "$xproj" ] || rm -rf "$p"
  done
  local q="SELECT count(), sum(cityHash64(*)) FROM events"
  sum_ours=$("$chsql" --path "$xproj/.sinkpipe/clickhouse" --format CSV "$q" 2>/dev/null)
  sum_peer=$("$chsql" --path "$f" --format CSV "$q" 2>/dev/null)
  rm -rf "$f"
  local check="DIFFERENT tables ($sum_ours vs $sum_peer)"
  [ "$sum_ours" = "$sum_peer" ] && [ "${sum_ours%%,*}" = "$ROWS" ] &&
    check="same table: $ROWS rows, same sum(cityHash64(*))"
  local a b; a=$(median "${ta[@]}") b=$(median "${tb[@]}")
  line ingest-ndjson "$a s" "$b s" "$(ratio "$a" "$b")" ">= 1.0x" "$(mib $ra)" "$(mib $rb)" "$check"
  NOTES+=("ingest-ndjson: $ROWS rows ($(( $(stat -c %s "$data") / 1048576 )) MiB NDJSON): sinkpipe $(awk -v n="$ROWS" -v s="$a" 'BEGIN{printf "%.0f", n/s}') rows/s, chDB $(awk -v n="$ROWS" -v s="$b" 'BEGIN{printf "%.0f", n/s}') rows/s")
}

# --------------------------------------------------------------- export
# export_setup PIPE FORMAT: xproj's events table loaded (by `ingest`, or
# here), all its parts merged (no background merge during a timed run),
# and pipe PIPE exporting `SELECT * FROM events` to $out/events_export in
# FORMAT (EXPORT_COMPRESSION unset: a run's --compression picks it)
export_setup() {
  mkdir -p "$out" "$xproj/pipes"
  if [ ! -d "$db" ]; then   # `ingest` did not run: load the table here
    new_project "$xproj"; say "loading $ROWS rows with sinkpipe append"
    "$sp" -p "$xproj" append events "$data" >/dev/null 2>&1
  fi
  cat >"$xproj/pipes/$1.pipe" <<PIPE
NODE export
SQL >
    SELECT * FROM events

TYPE sink
EXPORT_BUCKET_URI file://$out/
EXPORT_FILE_TEMPLATE events_export
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT $2
EXPORT_STRATEGY replace
PIPE
  "$chsql" --path "$db" "OPTIMIZE TABLE events FINAL" 2>/dev/null
}

export_bench() {
  local db="$xproj/.sinkpipe/clickhouse" out="$work/out"
  export_setup bench_export csv
  local comp ext name target ours peer i ta tb ra rb a b check
  local plain="$work/plain.csv"
  for comp in none gzip zstd; do
    case $comp in
      none) ext=csv name=export-csv target=">= 1.5x" c_sql= ;;
      gzip) ext=csv.gz name=export-csv-gzip target=">= 3.0x" c_sql=" COMPRESSION 'gzip'" ;;
      zstd) ext=csv.zst name=export-csv-zstd target=">= 1.0x"
            # the peer compresses the plain CSV of the same query
            "$sp" -p "$xproj" run bench_export --compression none >/dev/null 2>&1 &&
              mv "$out/events_export.csv" "$plain" || { say "$comp: plain CSV failed"; return 1; } ;;
    esac
    ours="$out/events_export.$ext" peer="$work/chdb.$ext"
    ta=() tb=() ra=0 rb=0
    for ((i = 1; i <= N; i++)); do
      rm -f "$ours"; sync
      measure_run "$sp" -p "$xproj" run bench_export --compression $comp ||
        { say "$name: sinkpipe run failed"; return 1; }
      ta+=("$SECS"); ra=$(( RSS > ra ? RSS : ra ))
      rm -f "$peer"; sync
      if [ $comp = zstd ]; then
        measure_run zstd -T2 -1 -q -f "$plain" -o "$peer" || { say "$name: zstd -T2 failed"; return 1; }
      else
        measure_run "$chsql" --path "$db" \
          "SELECT * FROM events INTO OUTFILE '$peer'$c_sql FORMAT CSVWithNames" ||
          { say "$name: chDB INTO OUTFILE failed"; return 1; }
      fi
      tb+=("$SECS"); rb=$(( RSS > rb ? RSS : rb ))
      say "$name run $i: sinkpipe ${ta[-1]} s, peer ${tb[-1]} s"
    done
    local n1 n2
    n1=$(rows_of "$ours" CSVWithNames) n2=$(rows_of "$peer" CSVWithNames)
    check="DIFFERENT row counts: $n1 vs $n2"
    if [ "$n1" = "$n2" ] && [ "$n1" = "$ROWS" ]; then
      check="same rows ($n1)"
      if [ $comp = none ]; then
        if cmp -s "$ours" "$peer"; then check="$check, same bytes"
        elif [ "$(LC_ALL=C sort -S 1G "$ours" | md5sum)" = "$(LC_ALL=C sort -S 1G "$peer" | md5sum)" ]; then
          check="$check, same bytes once sorted"
        else check="DIFFERENT bytes (sorted lines), $check"; fi
      elif [ $comp = zstd ]; then
        if [ "$(zstd -dc "$ours" | LC_ALL=C sort -S 1G | md5sum)" = "$(LC_ALL=C sort -S 1G "$plain" | md5sum)" ]; then
          check="$check, same bytes decompressed and sorted"
        else check="DIFFERENT bytes (decompressed, sorted), $check"; fi
      fi
    fi
    a=$(median "${ta[@]}") b=$(median "${tb[@]}")
    line "$name" "$a s" "$b s" "$(ratio "$a" "$b")" "$target" "$(mib $ra)" "$(mib $rb)" "$check"
    if [ $comp = zstd ]; then
      NOTES+=("$name: $ROWS rows, $(stat -c %s "$plain") bytes of CSV; sinkpipe $(stat -c %s "$ours") bytes, zstd -T2 -1 $(stat -c %s "$peer") bytes (peer: the CLI compressing the CSV already written, no query)")
    else
      NOTES+=("$name: $ROWS rows; sinkpipe $(stat -c %s "$ours") bytes, chDB $(stat -c %s "$peer") bytes")
    fi
    rm -f "$ours" "$peer"
    if [ $comp = zstd ]; then rm -f "$plain"; fi
  done
}

# --------------------------------------------------------------- parquet
parquet_bench() {
  local db="$xproj/.sinkpipe/clickhouse" out="$work/out" duck="$work/duck.db"
  . tests/harness/duckdb.sh
  duckdb_install "$work/duckdb.log" || { say "parquet: DuckDB does not install"; tail -3 "$work/duckdb.log" >&2; return 1; }
  export_setup bench_parquet parquet
  rm -f "$duck"
  (export DUCKDB_DATABASE=$duck; duckdb_sql "CREATE TABLE events AS SELECT * FROM read_json('$data', format = 'newline_delimited', columns = {timestamp: 'TIMESTAMP', event_type: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', payload: 'VARCHAR', amount: 'DOUBLE', duration: 'DOUBLE', metadata: 'VARCHAR'})" \
    "SELECT count(*) FROM events" >/dev/null) || { say "parquet: loading DuckDB failed"; return 1; }
  local ours="$out/events_export.parquet" peer="$work/chdb.parquet" dpeer="$work/duck.parquet"
  local i ta=() tb=() tc=() ra=0 rb=0 rc=0 a b c best check
  for ((i = 1; i <= N; i++)); do
    rm -f "$ours"; sync
    measure_run "$sp" -p "$xproj" run bench_parquet || { say "parquet: sinkpipe run failed"; return 1; }
    ta+=("$SECS"); ra=$(( RSS > ra ? RSS : ra ))
    rm -f "$peer"; sync
    measure_run "$chsql" --path "$db" \
      "SELECT * FROM events INTO OUTFILE '$peer' FORMAT Parquet SETTINGS output_format_parquet_compression_method = 'snappy'" ||
      { say "parquet: chDB INTO OUTFILE failed"; return 1; }
    tb+=("$SECS"); rb=$(( RSS > rb ? RSS : rb ))
    rm -f "$dpeer"; sync
    measure_run env DUCKDB_DATABASE="$duck" NODE_PATH="$DUCKDB_DIR/node_modules" node "$DUCKDB_SCRIPT" \
      "COPY events TO '$dpeer' (FORMAT parquet, COMPRESSION snappy)" ||
      { say "parquet: DuckDB COPY failed"; return 1; }
    tc+=("$SECS"); rc=$(( RSS > rc ? RSS : rc ))
    say "export-parquet run $i: sinkpipe ${ta[-1]} s, chDB ${tb[-1]} s, DuckDB ${tc[-1]} s"
  done
  local q="count(), sum(cityHash64(*))" s1 s2 n3
  s1=$("$chsql" --format CSV "SELECT $q FROM file('$ours', Parquet)" 2>/dev/null)
  s2=$("$chsql" --format CSV "SELECT $q FROM file('$peer', Parquet)" 2>/dev/null)
  n3=$("$chsql" --format CSV "SELECT count() FROM file('$dpeer', Parquet)" 2>/dev/null)
  check="DIFFERENT: ours $s1, chDB $s2, DuckDB $n3 rows"
  [ "$s1" = "$s2" ] && [ "${s1%%,*}" = "$ROWS" ] && [ "$n3" = "$ROWS" ] &&
    check="same rows and hash as chDB's file; DuckDB $n3 rows"
  a=$(median "${ta[@]}") b=$(median "${tb[@]}") c=$(median "${tc[@]}")
  best=$(awk -v b="$b" -v c="$c" 'BEGIN{print (b < c ? b : c)}')
  line export-parquet "$a s" "$best s" "$(ratio "$a" "$best")" ">= 1.0x" "$(mib $ra)" "$(mib $(( rb > rc ? rb : rc )))" "$check"
  NOTES+=("export-parquet: $ROWS rows; sinkpipe $a s, $(mib $ra) MiB, $(stat -c %s "$ours") bytes; chDB $b s, $(mib $rb) MiB, $(stat -c %s "$peer") bytes; DuckDB $c s, $(mib $rc) MiB, $(stat -c %s "$dpeer") bytes (peer = the faster)")
  rm -f "$ours" "$peer" "$dpeer" "$duck"
}

# --------------------------------------------------------------- events API
events_bench() {
  local proj="$work/serve" evdata="$work/events_api.ndjson" log="$work/serve.log" i addr
  local rows_api=$(( EV_BATCH * 4000 ))
  "$gen" --rows "$rows_api" --seed 7 >"$evdata"
  new_project "$proj"
  export SINKPIPE_ADMIN_TOKEN
  SINKPIPE_ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  : >"$log"
  "$sp" -p "$proj" serve --listen 127.0.0.1:0 2>"$log" &
  serve_pid=$!
  addr=
  for ((i = 0; i < 300; i++)); do   # deadline: 30 s
    addr=$(sed -n 's/^listening on //p' "$log" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1   # polling interval while waiting for the daemon's address, bounded above
  done
  if [ -z "$addr" ]; then say "events-api: sinkpipe serve did not start"; tail -5 "$log" >&2; return 1; fi
  local ours peer stored_ours stored_peer rss_ours rss_peer
  ours=$("$http_load" --url "http://$addr/v0/events?name=events&wait=true" --data "$evdata" \
           --batch "$EV_BATCH" --concurrency "$EV_CLIENTS" --duration "$EV_SECS" \
           --header "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN") || { say "events-api: http_load failed"; return 1; }
  stored_ours=$("$sp" -p "$proj" sql --format csv "SELECT count() AS n FROM events" 2>/dev/null | tail -1)
  rss_ours=$(awk '/^VmHWM:/{print $2}' "/proc/$serve_pid/status")
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
  unset SINKPIPE_ADMIN_TOKEN

  if ! ch_available; then say "events-api: no clickhouse-server: peer skipped"; peer=; else
    ch_start || { say "events-api: clickhouse-server did not start"; return 1; }
    trap cleanup EXIT   # ch_start set its own
    local ddl="CREATE TABLE events (timestamp DateTime, event_type String, user_id String,
      session_id String, payload String, amount Float64, duration Float64, metadata String)
      ENGINE = MergeTree ORDER BY (event_type, timestamp)"
    ch_query "$ddl"
    peer=$("$http_load" --url "http://127.0.0.1:$CH_HTTP_PORT/?query=INSERT%20INTO%20events%20FORMAT%20JSONEachRow" \
             --data "$evdata" --batch "$EV_BATCH" --concurrency "$EV_CLIENTS" --duration "$EV_SECS") ||
      { say "events-api: http_load (server) failed"; return 1; }
    stored_peer=$(ch_query "SELECT count() FROM events")
    rss_peer=$(awk '/^VmHWM:/{print $2}' "/proc/$CH_PID/status")
    srv=$(ch_query "SELECT version()")
    ch_stop
  fi
  get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }
  local co cp check
  co=$(get "$ours" calls_per_s)
  check="sinkpipe: stored $stored_ours of $(get "$ours" rows) acknowledged"
  [ "$stored_ours" = "$(get "$ours" rows)" ] || check="DIFFERENT: $check"
  if [ -n "${peer:-}" ]; then
    cp=$(get "$peer" calls_per_s)
    if [ "$stored_peer" = "$(get "$peer" rows)" ]; then check="$check; server: the same"
    else check="$check; DIFFERENT: server stored $stored_peer of $(get "$peer" rows)"; fi
    line events-api "$co call/s" "$cp call/s" "$(ratio "$cp" "$co")" ">= 1.0x" \
      "$(mib "$rss_ours")" "$(mib "$rss_peer")" "$check"
  else
    line events-api "$co call/s" "-" "-" ">= 1.0x" "$(mib "$rss_ours")" "-" "$check"
  fi
  local who
  for who in ours peer; do
    [ -n "${!who:-}" ] || continue
    local r=${!who} label="sinkpipe serve"
    [ $who = ours ] || label="clickhouse-server ${srv:-?}"
    NOTES+=("events-api, $label: $(get "$r" calls_per_s) calls/s (target >= 2000), $(get "$r" rows_per_s) rows/s, p50 $(get "$r" p50_ms) ms, p99 $(get "$r" p99_ms) ms, errors $(get "$r" errors), quarantined $(get "$r" quarantined)")
  done
}

# --------------------------------------------------------------- RSS
rss_bench() {
  local n big small rs=() rc=() ts=() out="$work/rss-out"
  mkdir -p "$out"
  for n in "$RSS_SMALL" "$RSS_BIG"; do
    local p="$work/rss-$n"
    new_project "$p"
    say "export-rss: loading $n rows"
    fill_events "$p" "$n" "$data" || { say "export-rss: loading failed"; return 1; }
    cat >"$p/pipes/bench_export.pipe" <<PIPE
NODE export
SQL >
    SELECT * FROM events

TYPE sink
EXPORT_BUCKET_URI file://$out/
EXPORT_FILE_TEMPLATE events_$n
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
PIPE
    sync
    measure_run "$sp" -p "$p" run bench_export || { say "export-rss: sinkpipe run failed"; return 1; }
    rs+=("$RSS") ts+=("$SECS")
    rm -f "$out/events_$n.csv"; sync
    measure_run "$chsql" --path "$p/.sinkpipe/clickhouse" \
      "SELECT * FROM events INTO OUTFILE '$out/chdb_$n.csv' FORMAT CSVWithNames" ||
      { say "export-rss: chDB failed"; return 1; }
    rc+=("$RSS")
    rm -rf "$p" "$out/chdb_$n.csv"
  done
  RSS_LINES=("$(printf '%-28s %10s %10s %8s %8s' "peak RSS of an export (CSV)" \
                 "$RSS_SMALL" "$RSS_BIG" "big/small" target)"
             "$(printf '%-28s %10s %10s %8s %8s' "sinkpipe run" "$(mib "${rs[0]}") MiB" \
                 "$(mib "${rs[1]}") MiB" "$(ratio "${rs[0]}" "${rs[1]}")" "<= 1.2x")"
             "$(printf '%-28s %10s %10s %8s %8s' "chDB INTO OUTFILE (ref.)" "$(mib "${rc[0]}") MiB" \
                 "$(mib "${rc[1]}") MiB" "$(ratio "${rc[0]}" "${rc[1]}")" "")")
  say "export-rss: sinkpipe $(mib "${rs[0]}") MiB ($RSS_SMALL rows, ${ts[0]} s) vs $(mib "${rs[1]}") MiB ($RSS_BIG rows, ${ts[1]} s)"
}

RSS_LINES=()
want ingest && { ingest || say "ingest failed"; }
want export && { export_bench || say "export failed"; }
want parquet && { parquet_bench || say "export-parquet failed"; }
want events && { events_bench || say "events-api failed"; }
want rss && { rss_bench || say "export-rss failed"; }
rm -f "$data"

echo
echo "sinkpipe vs peer: median of $N runs each (events-api: one run of $EV_SECS s each); $(nproc) cores;" \
  "load average at start: $load0, now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peer: chDB $chver INTO OUTFILE / INSERT … SELECT FROM file() (same libchdb.so, same table); export-csv-zstd: zstd CLI $(zstd -V 2>/dev/null | grep -o 'v[0-9.]*' | head -1); events-api: clickhouse-server"
printf '%-18s %13s %13s %7s %8s %8s %8s  %s\n' benchmark sinkpipe peer ratio target "RSS MiB" "peer MiB" check
for l in "${TABLE[@]}"; do echo "$l"; done
if [ ${#RSS_LINES[@]} -gt 0 ]; then echo; for l in "${RSS_LINES[@]}"; do echo "$l"; done; fi
echo
for l in "${NOTES[@]}"; do echo "$l"; done
echo "ratio = peer time / sinkpipe time (events-api: sinkpipe calls/s / peer calls/s); > 1 means sinkpipe is faster"

want kafka && { BUILD="$BUILD" bash bench/kafka.sh || say "kafka failed"; }
want clickhouse && { BUILD="$BUILD" bash bench/clickhouse.sh || say "clickhouse failed"; }
want s3 && { BUILD="$BUILD" bash bench/s3.sh || say "s3 failed"; }
exit 0
