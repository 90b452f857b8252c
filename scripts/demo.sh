#!/usr/bin/env bash
# demo.sh — README command 1: install what is missing, build, load sample
# events into the seed project, run every pipe of the seed against local
# peers, then run the project under the `serve` daemon for one on-demand job.
#
# The seed's files are used unchanged; only the endpoints are redirected,
# with the same environment overrides a user has for staging
# (SINKPIPE_CONNECTION__<connection>__<KEY>):
#   - S3: a strict S3-compatible server of ours on loopback
#     (tests/harness/s3.sh: SigV4-verifying, with an STS endpoint), so each
#     connection's S3_ARN role is assumed with the base credentials of the
#     environment, exactly as on AWS; the objects are listed and read back
#     with Debian's aws CLI.
#   - Kafka: a local broker (librdkafka's mock cluster, tests/tools/kafka_mock:
#     the real protocol, no SASL/SSL, so PLAINTEXT); what each Kafka pipe
#     published is read back with kcat.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
make -s -j"$(nproc)" all tools

sp="$root/build/sinkpipe"
demo="$root/demo"
rm -rf "$demo"
mkdir -p "$demo"
cp -r examples/seed "$demo/project"
# Kafka secrets (tb_secret): any value, the local broker speaks no SASL
printf 'KAFKA_KEY=demo-user\nKAFKA_SECRET=demo-password\nSTREAMING_KAFKA_KEY=demo-user\nSTREAMING_KAFKA_SECRET=demo-password\n' > "$demo/project/.env"
export SINKPIPE_BUILD="$root/build"

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

echo "== starting a local S3 server (SigV4-verifying, with STS AssumeRole)"
. "$root/tests/harness/s3.sh"
s3_start
s3_mb my-bucket us-east-1 && s3_mb data-warehouse us-west-2 && s3_mb data-lake us-west-2
for c in landing_s3 data_warehouse data_lake s3_prod; do
  export "SINKPIPE_CONNECTION__${c}__S3_ENDPOINT=$S3_TEST_ENDPOINT"
  export "SINKPIPE_CONNECTION__${c}__S3_STS_ENDPOINT=$S3_TEST_STS_ENDPOINT"
done
# the base credentials AssumeRole signs with: the standard AWS variables
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
for p in s3_events_sink daily_export daily_partition_export; do
  echo "== sinkpipe run $p --now $now"
  "$sp" run "$p" --now "$now"
done

echo "== starting a local Kafka broker"
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

echo "== the sinkpipe daemon: serve, one on-demand run through the HTTP API"
export SINKPIPE_ADMIN_TOKEN=demo-admin-token
"$sp" serve --listen 127.0.0.1:0 >"$demo/serve.out" 2>"$demo/serve.log" &
serve_pid=$!
addr=
for _ in $(seq 200); do   # wait (deadline 20 s) for the listening line
  addr=$(sed -n 's/^listening on //p' "$demo/serve.out" "$demo/serve.log" 2>/dev/null | head -1)
  [ -n "$addr" ] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$addr" ]; then
  echo "   listening on $addr"
  echo "== curl -X POST http://$addr/v0/pipes/daily_export/sink"
  job=$(curl -s -g -X POST -H "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN" \
        "http://$addr/v0/pipes/daily_export/sink?file_template=on_demand_{date}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  st=
  for _ in $(seq 300); do  # wait (deadline 30 s) for the job to end
    st=$(curl -s -H "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN" "http://$addr/v0/jobs/$job" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    case $st in done|error|cancelled) break ;; esac
    sleep 0.1
  done
  echo "   job $job: $st"
  kill -TERM "$serve_pid"; wait "$serve_pid" || true
else
  echo "   the daemon did not start:"; cat "$demo/serve.log"
  kill "$serve_pid" 2>/dev/null || true
fi
echo "== sinkpipe sql: the ops log (tinybird.sinks_ops_log)"
"$sp" sql --format csv "SELECT pipe_name, result, written_rows, length(output) AS objects FROM tinybird.sinks_ops_log ORDER BY timestamp"

echo "== objects in the local S3 server (aws s3 ls)"
for b in my-bucket data-warehouse data-lake; do
  s3_aws s3 ls --recursive "s3://$b/" | awk -v b="$b" '{printf "%10s  s3://%s/%s\n", $3, b, $4}'
done
first=$(s3_aws s3 ls --recursive s3://data-warehouse/ | awk '{print $4}' | grep '\.csv\.gz$' | head -1)
if [ -n "$first" ]; then
  echo "== head of s3://data-warehouse/$first (aws s3 cp)"
  s3_aws s3 cp --only-show-errors "s3://data-warehouse/$first" - | gzip -dc | head -5
fi
