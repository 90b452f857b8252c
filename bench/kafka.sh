#!/usr/bin/env bash
# bench/kafka.sh — Kafka sink throughput (called at the end of bench/run.sh;
# runs alone too: BUILD=build bash bench/kafka.sh).
#
#   kafka-produce   sinkpipe run of a pipe `SELECT * FROM events LIMIT N`
#                   (query + ndjson + produce, every message acknowledged)
#                   in the default mode: one transaction per run
#                   vs  kcat -P producing the same pre-rendered lines
#                   (`sinkpipe sql --format ndjson` output, read from a file)
#   kafka-idempotent  the same pipe with EXPORT_KAFKA_TRANSACTIONAL false
#                   (idempotent, at-least-once): the cost of exactly-once is
#                   the difference between the two lines (BENCH_KAFKA_N runs
#                   of each, alternating, default 3: medians)
#
# Both produce to the same mock broker (tests/tools/kafka_mock, librdkafka's
# mock cluster, 3 brokers on loopback), each to its own topic of
# BENCH_KAFKA_PARTITIONS (default 16) partitions, with the same producer
# settings (enable.idempotence=true, acks=all).  The mock keeps only ~5 MiB
# per partition (older data is dropped silently, acknowledged all the same),
# so the delivered count is checked from the partitions' end offsets, not
# by reading the messages back.  BENCH_KAFKA_ROWS (default 1000000) sets
# the size.  Informative only: nothing fails because a machine is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${BENCH_KAFKA_ROWS:-1000000}
RUNS=${BENCH_KAFKA_N:-3} # runs of each sinkpipe mode (median)
PARTS=${BENCH_KAFKA_PARTITIONS:-16}
. bench/lib.sh
bench_init
SINKPIPE_BUILD=$bdir
. "$root/tests/harness/kafka.sh"
if ! kafka_available; then
  echo "bench kafka: skipped (needs $(kafka_mock_bin) and kcat)" >&2
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-bench-kafka.XXXXXX")
trap 'rm -rf "$work"' EXIT

kafka_start --brokers 3 --topic "bench_sp:$PARTS" --topic "bench_kcat:$PARTS" \
  --topic "bench_idem:$PARTS" || exit 1

proj="$work/project"
mkdir -p "$proj/datasources" "$proj/pipes" "$proj/connections"
cp examples/seed/datasources/events.datasource "$proj/datasources/"
printf 'TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS %s\nKAFKA_SECURITY_PROTOCOL PLAINTEXT\n' \
  "$KAFKA_BOOTSTRAP" >"$proj/connections/bench_kafka.connection"
cat >"$proj/pipes/bench_kafka.pipe" <<PIPE
NODE publish
SQL >
    SELECT * FROM events LIMIT $ROWS

TYPE sink
EXPORT_CONNECTION_NAME bench_kafka
EXPORT_KAFKA_TOPIC bench_sp
EXPORT_SCHEDULE @on-demand
PIPE
sed -e 's/bench_sp/bench_idem/' "$proj/pipes/bench_kafka.pipe" >"$proj/pipes/bench_kafka_idem.pipe"
echo "EXPORT_KAFKA_TRANSACTIONAL false" >>"$proj/pipes/bench_kafka_idem.pipe"

echo "bench kafka: generating $ROWS rows (gen_events, loaded by the embedded engine)" >&2
"$gen" --rows "$ROWS" >"$work/events.ndjson"
fill_events "$proj" "$ROWS" "$work/events.ndjson" || { echo "bench kafka: loading failed" >&2; exit 1; }
rm -f "$work/events.ndjson"
"$sp" -p "$proj" sql --format ndjson "SELECT * FROM events LIMIT $ROWS" >"$work/lines.ndjson"

# end offsets of every partition of TOPIC, summed: the acknowledged count
delivered() {
  local t=$1 p sum=0 off
  for ((p = 0; p < PARTS; p++)); do
    off=$(kcat -Q -b "$KAFKA_BOOTSTRAP" -t "$t:$p:-1" 2>/dev/null | sed -n 's/.* offset \([0-9-]*\)$/\1/p')
    sum=$((sum + ${off:-0}))
  done
  echo "$sum"
}

# the transactional (default) and idempotent runs alternate, N of each, so
# that a busy machine weighs on both alike; medians are reported
t1=() t3=()
for ((i = 0; i < RUNS; i++)); do
  if ! measure_run "$sp" -p "$proj" run bench_kafka; then
    echo "bench kafka: sinkpipe run failed" >&2; exit 0
  fi
  t1+=("$SECS") m1=$RSS
  if ! measure_run "$sp" -p "$proj" run bench_kafka_idem; then
    echo "bench kafka: sinkpipe idempotent run failed" >&2; exit 0
  fi
  t3+=("$SECS") m3=$RSS
done
s1=$(median "${t1[@]}") s3=$(median "${t3[@]}")
measure_run kcat -P -b "$KAFKA_BOOTSTRAP" -t bench_kcat -X enable.idempotence=true \
  -X acks=all <"$work/lines.ndjson" || { echo "bench kafka: kcat -P failed" >&2; exit 0; }
s2=$SECS m2=$RSS
d1=$(delivered bench_sp) d2=$(delivered bench_kcat) d3=$(delivered bench_idem)

printf '\n%-16s %12s %10s %9s | %12s %10s %9s | %7s\n' benchmark "rows/s" "secs" "RSS MiB" \
  "kcat rows/s" "kcat secs" "kcat MiB" "ratio"
printf '%-16s %12s %10s %9s | %12s %10s %9s | %6sx\n' kafka-produce \
  "$(awk -v n="$ROWS" -v s="$s1" 'BEGIN{printf "%.0f", n/s}')" "$s1" "$((m1 / 1024))" \
  "$(awk -v n="$ROWS" -v s="$s2" 'BEGIN{printf "%.0f", n/s}')" "$s2" "$((m2 / 1024))" \
  "$(awk -v a="$s1" -v b="$s2" 'BEGIN{printf "%.2f", b/a}')"
printf '%-16s %12s %10s %9s | %12s %10s %9s | %6sx\n' kafka-idempotent \
  "$(awk -v n="$ROWS" -v s="$s3" 'BEGIN{printf "%.0f", n/s}')" "$s3" "$((m3 / 1024))" \
  "$(awk -v n="$ROWS" -v s="$s2" 'BEGIN{printf "%.0f", n/s}')" "$s2" "$((m2 / 1024))" \
  "$(awk -v a="$s3" -v b="$s2" 'BEGIN{printf "%.2f", b/a}')"
echo
echo "acknowledged in the broker: sinkpipe $d1 of $((RUNS * ROWS)) (transactional, $RUNS runs), $d3 of $((RUNS * ROWS)) (idempotent), kcat $d2 of $ROWS ($PARTS partitions each)"
echo "sinkpipe seconds: transactional ${t1[*]}, idempotent ${t3[*]} (medians above)"
echo "ratio = kcat produce time / sinkpipe query+format+produce time (aim >= 0.5); RSS = peak resident memory"
echo "exactly-once cost: transactional / idempotent time = $(awk -v a="$s1" -v b="$s3" 'BEGIN{printf "%.2f", a/b}')x"
[ "$d1" = "$((RUNS * ROWS))" ] || echo "bench kafka: WARNING: sinkpipe delivered $d1 of $((RUNS * ROWS))" >&2
[ "$d3" = "$((RUNS * ROWS))" ] || echo "bench kafka: WARNING: sinkpipe (idempotent) delivered $d3 of $((RUNS * ROWS))" >&2
