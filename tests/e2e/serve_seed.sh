#!/usr/bin/env bash
# serve_seed: the seed project (examples/seed) runs unattended under
# `sinkpipe serve`: its S3 connections pointed at a folder, its Kafka
# connections at the mock broker (tests/harness/kafka.sh).  Events are
# loaded before the start (the 01:00 fire comes a fraction of a second after
# it) and more arrive over POST /v0/events; on the test clock (a minute per second from
# 00:59:50) the cron pipes fire at 01:00 and @once runs once; the on-demand
# and 02:00 pipes are triggered through the API; every pipe's job is done
# and in tinybird.sinks_ops_log; SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/kafka.sh"
if ! kafka_available; then
  not_ok "kafka_mock ($(kafka_mock_bin)) and kcat are available"; finish
fi
kafka_start --brokers 1 --topic events_export:1 --topic hourly_events:1 \
  --topic high_value_events:1 || { not_ok "kafka_mock starts"; finish; }
P=$E2E_TMP/seed
S3=$E2E_TMP/s3
cp -r "$E2E_ROOT/examples/seed" "$P"
mkdir -p "$S3"
for c in landing_s3 data_warehouse data_lake s3_prod; do
  export "SINKPIPE_CONNECTION__${c}__S3_ENDPOINT=file://$S3"
done
for c in events_kafka streaming_kafka; do
  export "SINKPIPE_CONNECTION__${c}__KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP"
  export "SINKPIPE_CONNECTION__${c}__KAFKA_SECURITY_PROTOCOL=PLAINTEXT"
done
export KAFKA_KEY=k KAFKA_SECRET=s STREAMING_KAFKA_KEY=k STREAMING_KAFKA_SECRET=s
export SINKPIPE_ADMIN_TOKEN=seed-admin-token
export SINKPIPE_SERVE_FAKE_NOW=2026-11-25T00:59:50Z
export SINKPIPE_SERVE_CLOCK_SPEED=60
export SINKPIPE_SERVE_GRACE=5
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"

GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
"$GE" --rows 2000 --end 2026-11-25T00:59:00Z --days 2 --seed 7 >"$E2E_TMP/events.ndjson"
"$SINKPIPE" -p "$P" append events "$E2E_TMP/events.ndjson" 2>/dev/null ||
  { not_ok "append events"; finish; }
"$GE" --rows 100 --end 2026-11-25T00:59:00Z --days 1 --seed 8 >"$E2E_TMP/more.ndjson"

. "$E2E_ROOT/tests/harness/daemon.sh"
SERVE_ARGS="--log-format json" start
ok "serve starts on the seed project"
expect_contains "log lines are JSON" "$(head -1 "$LOG")" '{"time":"'

BODY=$(curl -s -X POST -H "$A" --data-binary @"$E2E_TMP/more.ndjson" "$URL/v0/events?name=events&wait=true")
expect_eq "events over HTTP" "$(jget "$BODY" 'd["successful_rows"], d["quarantined_rows"]')" "(100, 0)"

for p in kafka_events_sink daily_partition_export; do
  BODY=$(curl -s -X POST -H "$A" "$URL/v0/pipes/$p/sink")
  expect_eq "trigger $p" "$(jget "$BODY" 'd["status"] in ("waiting", "working", "done")')" "True"
done

# every pipe has a finished job (poll with a deadline)
PIPES="daily_export daily_partition_export hourly_events_to_kafka kafka_events_sink realtime_event_stream s3_events_sink"
done_pipes() {
  curl -s -H "$A" "$URL/v0/jobs?status=done&limit=1000" |
    python3 -c 'import json,sys; print(" ".join(sorted({j["pipe_name"] for j in json.load(sys.stdin)["jobs"]})))'
}
got=
for _ in $(seq 1 600); do
  got=$(done_pipes)
  [ "$got" = "$PIPES" ] && break
  sleep 0.1
done
expect_eq "every seed pipe ran" "$got" "$PIPES"
BODY=$(curl -s -H "$A" "$URL/v0/jobs?pipe_name=daily_export")
expect_eq "daily_export fired at 01:00 on the test clock" \
  "$(jget "$BODY" '[(j["trigger"], j["logical_time"], j["status"]) for j in d["jobs"]][-1]')" \
  "('schedule', '2026-11-25 01:00:00', 'done')"
# {date} is the query's `date` column here: yesterday of the 01:00 slot
expect_eq "daily_export wrote its object" \
  "$(jget "$BODY" 'd["jobs"][-1]["output"][0]["path"]')" "s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz"
expect_eq "the object is in the folder" "$(zcat "$S3/data-warehouse/tinybird/daily/events_2026-11-24.csv.gz" 2>/dev/null | head -1)" \
  '"date","event_type","event_count","unique_users","avg_duration"'
BODY=$(curl -s -H "$A" "$URL/v0/jobs?pipe_name=s3_events_sink")
expect_eq "@once ran once" "$(jget "$BODY" 'len(d["jobs"])')" "1"
BODY=$(curl -s -H "$A" "$URL/v0/jobs?pipe_name=hourly_events_to_kafka&status=done")
expect_contains "Kafka pipe acknowledged its messages" \
  "$(jget "$BODY" 'd["jobs"][-1]["statistics"]["messages_acked"] > 0')" "True"

kill -TERM $PID
wait $PID
expect_eq "SIGTERM: clean exit" "$?" 0
if grep -qE 'Sanitizer|runtime error' "$LOG"; then not_ok "no sanitizer report"; grep -A20 -E 'Sanitizer|runtime error' "$LOG" | head -40; fi
# tinybird.sinks_ops_log is a view of the embedded engine over the journal
# file; a ClickHouse server cannot read this machine's file
if [ "${SINKPIPE_ENGINE:-embedded}" = embedded ]; then
OPS=$("$SINKPIPE" -p "$P" sql --format csv "SELECT count(DISTINCT pipe_name) AS pipes FROM tinybird.sinks_ops_log WHERE result = 'ok'" 2>&1)
expect_eq "every pipe in the ops log" "$OPS" '"pipes"
6'
fi
finish
