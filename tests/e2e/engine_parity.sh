#!/usr/bin/env bash
# engine_parity: the same pipes on both engines — the embedded ClickHouse
# (chDB 26.7, SINKPIPE_ENGINE=embedded) and a real clickhouse-server
# (Debian's 18.16, SINKPIPE_ENGINE=clickhouse) — produce the same files and
# messages, byte for byte.
#
# Pipes: every pipe of examples/seed (the S3 ones write to folders through
# SINKPIPE_CONNECTION__<conn>__S3_ENDPOINT=file://…; the Kafka ones publish
# to librdkafka's mock broker, read back with kcat, and their query results
# are compared as NDJSON too) plus tests/fixtures/parity (awkward
# values: NULLs, quotes, newlines, non-ASCII, 64-bit extremes (an unquoted
# UInt64 above 2^63-1, which jansson alone refuses), floats at
# the edges, dates at day boundaries, arrays, Decimal, UUID, LowCardinality,
# expressions, aggregates, partitioned gzip objects, template params).
#
# Deliberate exception (docs/engine-clickhouse.md): a query without ORDER BY
# returns its rows in an engine-defined order, so such results are compared
# as sorted lines (s3_events_sink, kafka_events_sink, hourly_events_to_kafka).
# Both engines are ClickHouse, so there is one SQL dialect: the SQL checks of
# the DuckDB era (dialect rewrites made to agree, differences that had to
# stay) are gone.  Every pipe here runs on 18.16 as well as on 26.7.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/clickhouse.sh"

if ! ch_available; then
  ok "engine_parity skipped: clickhouse-server not installed"
  finish
fi
# The sanitizer layer (tests/run.sh) runs on a ClickHouse server only: the
# embedded ClickHouse cannot load into an ASan process, so there is no second
# engine to compare with.
if [ -n "${SINKPIPE_ASAN:-}" ]; then
  ok "skipped under ASan: the embedded ClickHouse cannot load into an ASan process"
  finish
fi
GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
ch_start || { not_ok "start clickhouse-server"; finish; }
ok "clickhouse-server $(ch_query 'SELECT version()') on 127.0.0.1:$CH_HTTP_PORT"
ch_query "CREATE DATABASE parity"

NOW=2026-11-25T02:00:00Z
export KAFKA_KEY=k KAFKA_SECRET=s STREAMING_KAFKA_KEY=k STREAMING_KAFKA_SECRET=s
OUT=$E2E_TMP/out
FIX=$E2E_ROOT/tests/fixtures/parity
"$GE" --rows 5000 --end "$NOW" --days 3 --seed 42 >"$E2E_TMP/events.ndjson"
show() { sed 's/^/#   /' "$@" | head -20; }

# a project per engine: the seed + the fixtures, bucket URIs into OUT/<engine>
for eng in embedded clickhouse; do
  P=$E2E_TMP/$eng
  cp -r "$E2E_ROOT/examples/seed" "$P"
  rm -rf "$P/.sinkpipe" # engine state of a hand run in examples/seed, if any
  cp "$FIX"/datasources/*.datasource "$P/datasources/"
  for f in "$FIX"/pipes/*.pipe; do
    sed "s|@OUT@|$OUT/$eng|g" "$f" >"$P/pipes/$(basename "$f")"
  done
done
# on_engine ENGINE CMD...: the CLI on that engine's project
on_engine() {
  local eng=$1; shift
  env SINKPIPE_ENGINE="$eng" SINKPIPE_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP_PORT/" \
    SINKPIPE_CLICKHOUSE_DATABASE=parity \
    SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT="file://$OUT/$eng" \
    SINKPIPE_CONNECTION__data_lake__S3_ENDPOINT="file://$OUT/$eng" \
    SINKPIPE_CONNECTION__landing_s3__S3_ENDPOINT="file://$OUT/$eng" \
    "$SINKPIPE" -p "$E2E_TMP/$eng" "$@"
}

for eng in embedded clickhouse; do
  if out=$(on_engine $eng check 2>&1); then ok "$eng: check"; else not_ok "$eng: check"; show <<<"$out"; fi
  out=$(on_engine $eng append events "$E2E_TMP/events.ndjson" 2>&1)
  expect_contains "$eng: append events" "$out" "5000 rows loaded, 0 quarantined"
  out=$(on_engine $eng append awkward "$FIX/awkward.ndjson" 2>&1)
  expect_contains "$eng: append awkward" "$out" "8 rows loaded, 0 quarantined"
done
# each engine holds its own copy of the data: the embedded one in the
# project's folder, the other on the server
expect_eq "embedded: data in <project>/.sinkpipe/clickhouse" \
  "$([ -d "$E2E_TMP/embedded/.sinkpipe/clickhouse" ] && [ ! -e "$E2E_TMP/clickhouse/.sinkpipe/clickhouse" ] && echo yes)" yes
expect_eq "clickhouse: data on the server" "$(ch_query 'SELECT count() FROM parity.events')" 5000

# ------------------------------------------------ object pipes: files
unordered=" s3_events_sink "
for pipe in daily_export daily_partition_export s3_events_sink \
            awk_all_csv awk_all_ndjson awk_expr awk_agg awk_part; do
  for eng in embedded clickhouse; do
    rm -rf "$OUT/$eng.before"; mkdir -p "$OUT/$eng"
    (cd "$OUT/$eng" && find . -type f | sort) >"$OUT/$eng.before"
    if ! on_engine $eng run $pipe --now $NOW --param skip=y >"$E2E_TMP/run.out" 2>&1; then
      not_ok "$eng: run $pipe"; show "$E2E_TMP/run.out"
    fi
    (cd "$OUT/$eng" && find . -type f | sort | comm -13 "$OUT/$eng.before" -) >"$E2E_TMP/$pipe.$eng.files"
  done
  expect_file_eq "$pipe: same objects" "$E2E_TMP/$pipe.clickhouse.files" "$E2E_TMP/$pipe.embedded.files"
  [ -s "$E2E_TMP/$pipe.embedded.files" ] || not_ok "$pipe: writes objects"
  while read -r f; do
    a=$OUT/embedded/$f b=$OUT/clickhouse/$f
    [ -f "$b" ] || continue
    case "$unordered" in
      *" $pipe "*)
        expect_file_eq "$pipe: $f holds the same rows (no ORDER BY: sorted)" \
          <(zcat -f "$b" | sort) <(zcat -f "$a" | sort) ;;
      *)
        if cmp -s "$a" "$b"; then ok "$pipe: $f is byte-identical"; else
          not_ok "$pipe: $f is byte-identical"
          diff <(zcat -f "$a") <(zcat -f "$b") | head -20 | sed 's/^/#   /'; fi ;;
    esac
  done <"$E2E_TMP/$pipe.embedded.files"
done

# ------------------------------------------------ Kafka pipes: messages
declare -A KORDER=([kafka_events_sink]=set [hourly_events_to_kafka]=set [realtime_event_stream]=ordered)
for pipe in kafka_events_sink hourly_events_to_kafka realtime_event_stream; do
  for eng in embedded clickhouse; do
    sql=$(on_engine $eng --json run $pipe --now $NOW --dry-run 2>"$E2E_TMP/dry.err" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["query_sql"])') || {
      not_ok "$eng: dry run $pipe"; show "$E2E_TMP/dry.err"; continue; }
    on_engine $eng sql --format ndjson --now $NOW "$sql" >"$E2E_TMP/$pipe.$eng.msgs" 2>"$E2E_TMP/sql.err" ||
      { not_ok "$eng: $pipe query"; show "$E2E_TMP/sql.err"; }
  done
  [ -s "$E2E_TMP/$pipe.embedded.msgs" ] || not_ok "$pipe: the query returns rows"
  if [ "${KORDER[$pipe]}" = ordered ]; then
    expect_file_eq "$pipe: same messages in the same order" \
      "$E2E_TMP/$pipe.clickhouse.msgs" "$E2E_TMP/$pipe.embedded.msgs"
  else
    expect_file_eq "$pipe: same messages (no ORDER BY: sorted)" \
      <(sort "$E2E_TMP/$pipe.clickhouse.msgs") <(sort "$E2E_TMP/$pipe.embedded.msgs")
  fi
done

# ------------------------------------------------ Kafka pipes: through a broker
# The same three pipes published for real (librdkafka's mock cluster, read
# back with kcat): each engine's run adds the same messages to the topic.
. "$E2E_ROOT/tests/harness/kafka.sh"
if kafka_available && kafka_start --topic events_export:1 --topic hourly_events:1 \
     --topic high_value_events:1; then
  ok "kafka_mock starts"
  export SINKPIPE_CONNECTION__events_kafka__KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP
  export SINKPIPE_CONNECTION__events_kafka__KAFKA_SECURITY_PROTOCOL=PLAINTEXT
  export SINKPIPE_CONNECTION__streaming_kafka__KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP
  export SINKPIPE_CONNECTION__streaming_kafka__KAFKA_SECURITY_PROTOCOL=PLAINTEXT
  declare -A TOPIC=([kafka_events_sink]=events_export [hourly_events_to_kafka]=hourly_events
                    [realtime_event_stream]=high_value_events)
  consume() { timeout 60 kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q; }
  for pipe in kafka_events_sink hourly_events_to_kafka realtime_event_stream; do
    t=${TOPIC[$pipe]}
    for eng in embedded clickhouse; do
      before=$(consume "$t" | wc -l)
      if on_engine $eng run $pipe --now $NOW >"$E2E_TMP/k.out" 2>&1; then :; else
        not_ok "$eng: run $pipe to the broker"; show "$E2E_TMP/k.out"; fi
      consume "$t" | tail -n +"$((before + 1))" >"$E2E_TMP/$pipe.$eng.kafka"
    done
    [ -s "$E2E_TMP/$pipe.embedded.kafka" ] || not_ok "$pipe: messages published"
    if [ "${KORDER[$pipe]}" = ordered ]; then
      expect_file_eq "$pipe: same Kafka messages in the same order" \
        "$E2E_TMP/$pipe.clickhouse.kafka" "$E2E_TMP/$pipe.embedded.kafka"
    else
      expect_file_eq "$pipe: same Kafka messages (no ORDER BY: sorted)" \
        <(sort "$E2E_TMP/$pipe.clickhouse.kafka") <(sort "$E2E_TMP/$pipe.embedded.kafka")
    fi
  done
  kafka_stop
else
  not_ok "kafka_mock and kcat available, the mock broker starts"
fi

ch_stop
finish
