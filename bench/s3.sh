#!/usr/bin/env bash
# bench/s3.sh — S3 delivery throughput (called at the end of bench/run.sh;
# runs alone too: BUILD=build bash bench/s3.sh).
#
#   s3-upload        the same file (BENCH_S3_BYTES, default 1 GiB of the
#                    events table as CSV) uploaded by sinkpipe's S3 store
#                    (build/tools/s3_cp: the streaming multipart upload a
#                    sink does, default settings)  vs  `aws s3 cp` (Debian's
#                    awscli, default settings)
#   s3-export-gzip   sinkpipe run of `SELECT * FROM events` (BENCH_S3_ROWS,
#                    default 5000000, gen_events rows) as CSV + gzip to S3
#                    vs  what one would do without it: ClickHouse's own
#                    `SELECT * FROM events INTO OUTFILE 'x.csv.gz'
#                    COMPRESSION 'gzip' FORMAT CSVWithNames` in chDB
#                    (bench/chdb_sql, the same libchdb.so on the same
#                    table), then `aws s3 cp` of that file (the two times
#                    added, the larger RSS)
#
# Both upload to the same local server (tests/harness/s3_server.py, its data
# in /dev/shm when there is one, so disks do not count), which verifies
# every signature, payload hash and Content-MD5 — it is a Python program, so
# its own speed caps what either client can reach (printed: the server's
# rate for an unsigned curl upload of the same file).  Peak RSS by
# bench/measure (the process and its children).  Informative only:
# nothing fails because a machine is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BYTES=${BENCH_S3_BYTES:-1073741824}
ROWS=${BENCH_S3_ROWS:-5000000}
. bench/lib.sh
bench_init
s3cp="$bdir/tools/s3_cp"
. "$root/tests/harness/s3.sh"
if ! s3_available || [ ! -x "$s3cp" ]; then
  echo "bench s3: skipped (needs python3, aws, curl and $s3cp)" >&2
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-bench-s3.XXXXXX")
trap 'rm -rf "$work"' EXIT
shm=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=/dev/shm
TMPDIR=$shm s3_start >/dev/null || { echo "bench s3: the S3 server does not start" >&2; exit 0; }
s3_mb bench || { echo "bench s3: create-bucket failed" >&2; exit 0; }

proj="$work/project"
mkdir -p "$proj/datasources" "$proj/pipes" "$proj/connections" "$work/out"
cp examples/seed/datasources/events.datasource "$proj/datasources/"
printf 'TYPE s3\nS3_REGION %s\nS3_ENDPOINT %s\n' "$S3_TEST_REGION" "$S3_TEST_ENDPOINT" \
  >"$proj/connections/bench_s3.connection"
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
for dest in s3 file; do
  {
    printf 'NODE export\nSQL >\n    SELECT * FROM events\n\nTYPE sink\n'
    if [ $dest = s3 ]; then printf 'EXPORT_CONNECTION_NAME bench_s3\nEXPORT_BUCKET_URI s3://bench/export/\n'
    else printf 'EXPORT_BUCKET_URI file://%s/out/\n' "$work"; fi
    printf 'EXPORT_FILE_TEMPLATE events_export\nEXPORT_SCHEDULE @on-demand\nEXPORT_FORMAT csv\n'
    printf 'EXPORT_STRATEGY replace\nEXPORT_COMPRESSION gzip\n'
  } >"$proj/pipes/bench_$dest.pipe"
done

echo "bench s3: generating $ROWS rows (gen_events, loaded by the embedded engine)" >&2
"$gen" --rows "$(( ROWS < 2000000 ? ROWS : 2000000 ))" >"$work/events.ndjson"
fill_events "$proj" "$ROWS" "$work/events.ndjson" || { echo "bench s3: loading failed" >&2; exit 1; }
rm -f "$work/events.ndjson"
db="$proj/.sinkpipe/clickhouse"
# the upload file: the events as CSV, cut at BYTES (repeated if too short)
{ while :; do "$sp" -p "$proj" sql --format csv "SELECT * FROM events" || break; done; } 2>/dev/null |
  head -c "$BYTES" >"$work/upload.csv" || true
bytes=$(stat -c %s "$work/upload.csv")

# measure_run CMD... → SECS RSS, and CPU (user + system seconds) when
# GNU time is there: on a machine shared with other work the CPU a client
# spends per byte says more about it than its wall time
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f 'cpu: %U %S')
measure_run() {
  local log="$work/measure.log"
  "$measure" ${timer[@]+"${timer[@]}"} "$@" >/dev/null 2>"$log" || { tail -5 "$log" >&2; return 1; }
  read -r SECS RSS < <(grep '^measure:' "$log" | tail -1 | cut -d' ' -f2-)
  CPU=$(awk '/^cpu:/{printf "%.1f", $2 + $3}' "$log")
  CPU=${CPU:-?}
}
obj_size() { # KEY → the stored object's size
  s3_curl -sI "$S3_TEST_DIRECT_ENDPOINT/bench/$1" | tr -d '\r' |
    sed -n 's/^[Cc]ontent-[Ll]ength: //p'
}
mbs() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.1f", b/1048576/s}'; }

# the server's own rate: one unsigned-payload curl PUT of the same file
t0=$(date +%s.%N)
s3_curl -f -o /dev/null -T "$work/upload.csv" "$S3_TEST_DIRECT_ENDPOINT/bench/curl.csv" || true
t1=$(date +%s.%N)
server_rate=$(awk -v a="$t0" -v b="$t1" -v n="$bytes" 'BEGIN{printf "%.1f", n/1048576/(b-a)}')
s3_curl -f -o /dev/null -X DELETE "$S3_TEST_DIRECT_ENDPOINT/bench/curl.csv" || true

printf '\n%-16s %10s %8s %9s | %10s %8s %9s | %7s\n' benchmark "MB/s" "secs" "RSS MiB" \
  "peer MB/s" "secs" "peer MiB" "ratio"

# ---- s3-upload: the same bytes, sinkpipe's store vs aws s3 cp
if measure_run "$s3cp" "$work/upload.csv" s3://bench/sp.csv; then s1=$SECS m1=$RSS c1=$CPU; else s1=; fi
if measure_run env AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION="$S3_TEST_REGION" AWS_PAGER= \
     "$(s3__aws)" --endpoint-url "$S3_TEST_ENDPOINT" s3 cp --only-show-errors \
     "$work/upload.csv" s3://bench/aws.csv; then s2=$SECS m2=$RSS c2=$CPU; else s2=; fi
if [ -n "$s1" ] && [ -n "$s2" ]; then
  printf '%-16s %10s %8s %9s | %10s %8s %9s | %6sx\n' s3-upload \
    "$(mbs "$bytes" "$s1")" "$s1" "$((m1 / 1024))" "$(mbs "$bytes" "$s2")" "$s2" "$((m2 / 1024))" \
    "$(awk -v a="$s1" -v b="$s2" 'BEGIN{printf "%.2f", b/a}')"
  [ "$(obj_size sp.csv)" = "$bytes" ] || echo "bench s3: WARNING: sinkpipe's object is not $bytes bytes" >&2
  [ "$(obj_size aws.csv)" = "$bytes" ] || echo "bench s3: WARNING: aws's object is not $bytes bytes" >&2
else
  echo "bench s3: s3-upload failed" >&2
fi
s3_curl -f -o /dev/null -X DELETE "$S3_TEST_DIRECT_ENDPOINT/bench/sp.csv" || true
s3_curl -f -o /dev/null -X DELETE "$S3_TEST_DIRECT_ENDPOINT/bench/aws.csv" || true
rm -f "$work/upload.csv"

# ---- s3-export-gzip: sinkpipe run to S3 vs chDB INTO OUTFILE gzip + aws s3 cp
if measure_run "$sp" -p "$proj" run bench_s3; then s1=$SECS m1=$RSS c3=$CPU; else s1=; fi
rm -f "$work/chdb.csv.gz"
if measure_run "$chsql" --path "$db" \
     "SELECT * FROM events INTO OUTFILE '$work/chdb.csv.gz' COMPRESSION 'gzip' FORMAT CSVWithNames"; then
  sd=$SECS md=$RSS
  gz=$(stat -c %s "$work/chdb.csv.gz")
  if measure_run env AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION="$S3_TEST_REGION" AWS_PAGER= \
       "$(s3__aws)" --endpoint-url "$S3_TEST_ENDPOINT" s3 cp --only-show-errors \
       "$work/chdb.csv.gz" s3://bench/chdb.csv.gz; then
    sa=$SECS
    s2=$(awk -v a="$sd" -v b="$SECS" 'BEGIN{printf "%.3f", a+b}'); m2=$(( md > RSS ? md : RSS ))
  else s2=; fi
else s2=; fi
ours=$(obj_size export/events_export.csv.gz)
if [ -n "$s1" ] && [ -n "$s2" ]; then
  printf '%-16s %10s %8s %9s | %10s %8s %9s | %6sx\n' s3-export-gzip \
    "$(mbs "${ours:-0}" "$s1")" "$s1" "$((m1 / 1024))" "$(mbs "$gz" "$s2")" "$s2" "$((m2 / 1024))" \
    "$(awk -v a="$s1" -v b="$s2" 'BEGIN{printf "%.2f", b/a}')"
else
  echo "bench s3: s3-export-gzip failed" >&2
fi
echo
echo "s3-upload: $bytes bytes; CPU seconds (user+sys): sinkpipe ${c1:-?}, aws ${c2:-?};" \
  "the server alone takes an unsigned curl PUT of them at $server_rate MB/s"
echo "s3-export-gzip: $ROWS rows, $(awk -v n="$ROWS" -v s="${s1:-0}" 'BEGIN{printf "%.0f", (s>0? n/s : 0)}') rows/s;" \
  "objects: sinkpipe ${ours:-?} bytes, chDB ${gz:-?} bytes (MB/s of the gzip bytes);" \
  "peer = chDB INTO OUTFILE ${sd:-?} s + aws s3 cp ${sa:-?} s; sinkpipe CPU ${c3:-?} s"
echo "ratio = peer time / sinkpipe time (higher is better for sinkpipe; aim >= 2 for s3-upload); RSS = peak resident memory"
