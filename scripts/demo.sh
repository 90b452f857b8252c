#!/usr/bin/env bash
# demo.sh — README command 1: install what is missing, build, load sample
# events into the seed project, run every pipe of the seed, show the output.
#
# The seed's S3 connections point at AWS; here each is redirected to a local
# folder (demo/s3/<bucket>/…) with SINKPIPE_CONNECTION__<name>__S3_ENDPOINT,
# the same mechanism a user has for staging environments.  The Kafka
# connections are pointed at a local broker (librdkafka's mock cluster,
# tests/tools/kafka_mock: the real protocol, no SASL/SSL, so PLAINTEXT), and
# what each Kafka pipe published is read back with kcat.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
make -s -j"$(nproc)" all tools

sp="$root/build/sinkpipe"
demo="$root/demo"
rm -rf "$demo"
mkdir -p "$demo/s3"
cp -r examples/seed "$demo/project"
# Kafka secrets for the previews (any value: nothing is sent)
printf 'KAFKA_KEY=demo-user\nKAFKA_SECRET=demo-password\nSTREAMING_KAFKA_KEY=demo-user\nSTREAMING_KAFKA_SECRET=demo-password\n' > "$demo/project/.env"
for c in landing_s3 data_warehouse data_lake s3_prod; do
  export "SINKPIPE_CONNECTION__${c}__S3_ENDPOINT=file://$demo/s3"
done

now=$(date -u +%Y-%m-%dT%H:%M:00Z)
echo "== generating 200000 sample events ending at $now"
"$root/build/tools/gen_events" --rows 200000 --end "$now" --days 3 --seed 42 | gzip -1 > "$demo/events.ndjson.gz"

cd "$demo/project"
echo "== sinkpipe check"
"$sp" check
echo "== sinkpipe append events events.ndjson.gz"
"$sp" append events "$demo/events.ndjson.gz"
echo "== sinkpipe sql: events by type"
"$sp" sql --format csv --now "$now" "SELECT event_type, count() AS events, uniqExact(user_id) AS users FROM events GROUP BY event_type ORDER BY event_type"

for p in s3_events_sink daily_export daily_partition_export; do
  echo "== sinkpipe run $p --now $now"
  "$sp" run "$p" --now "$now"
done
echo "== starting a local Kafka broker"
export SINKPIPE_BUILD="$root/build"
. "$root/tests/harness/kafka.sh"
kafka_start --brokers 1 --topic events_export:1 --topic hourly_events:1 --topic high_value_events:1
for c in events_kafka streaming_kafka; do
  export "SINKPIPE_CONNECTION__${c}__KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP"
  export "SINKPIPE_CONNECTION__${c}__KAFKA_SECURITY_PROTOCOL=PLAINTEXT"
done
for p in kafka_events_sink hourly_events_to_kafka realtime_event_stream; do
  echo "== sinkpipe run $p --now $now   (Kafka)"
  "$sp" run "$p" --now "$now"
done
for t in events_export hourly_events high_value_events; do
  n=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$t" -e -q | wc -l)
  echo "== kcat: topic $t holds $n messages; the first two:"
  kcat -C -b "$KAFKA_BOOTSTRAP" -t "$t" -e -q -c 2 | cut -c1-200
done

echo "== files written under demo/s3"
cd "$demo/s3"
find . -type f | sort | while read -r f; do
  printf '%10s  %s\n' "$(stat -c %s "$f")" "${f#./}"
done
first=$(find . -type f -name '*.csv.gz' | sort | head -1)
if [ -n "$first" ]; then
  echo "== head of ${first#./}"
  zcat "$first" | head -5
fi
