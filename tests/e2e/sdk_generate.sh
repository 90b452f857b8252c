#!/usr/bin/env bash
# sdk_generate: the seed written in TypeScript (examples/ts) and turned into
# datafiles by the real Tinybird SDK (`tinybird generate`, the version pinned
# in examples/ts/package-lock.json) loads in sinkpipe, equals the
# hand-written examples/seed/, and both projects export the same bytes from
# the same data.
#
# The SDK is installed with `npm ci` into a cache outside the repository:
# $SINKPIPE_SDK_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/sinkpipe/sdk,
# one folder per lockfile hash (so it is installed once per version).
. "$(dirname "$0")/lib.sh"
TS=$E2E_ROOT/examples/ts
SEED=$E2E_ROOT/examples/seed
NOW=2026-11-25T02:00:00Z

# Kafka secrets of the seed (any value: nothing connects to a broker here)
export KAFKA_KEY=e2e-key KAFKA_SECRET=e2e-secret
export STREAMING_KAFKA_KEY=e2e-skey STREAMING_KAFKA_SECRET=e2e-ssecret

# ------------------------------------------------------------ install SDK
. "$E2E_ROOT/tests/harness/sdk.sh"
if ! sdk_install "$E2E_TMP/npm.log"; then
  not_ok "npm ci installs the pinned SDK"; sed 's/^/#   /' "$E2E_TMP/npm.log" | tail -20
  finish
fi
sdk=$SDK_DIR
pinned=$(node -p 'require(process.argv[1]).version' "$sdk/node_modules/@tinybirdco/sdk/package.json")
want=$(node -p 'require(process.argv[1]).dependencies["@tinybirdco/sdk"]' "$TS/package.json")
expect_eq "the installed SDK is the pinned version" "$pinned" "$want"

# ------------------------------------------------------------- generate
W=$E2E_TMP/ts
mkdir -p "$W"
cp -r "$TS/src" "$TS/tinybird.config.json" "$TS/package.json" "$W/"
ln -s "$sdk/node_modules" "$W/node_modules"
GEN=$E2E_TMP/gen
if (cd "$W" && node node_modules/@tinybirdco/sdk/bin/tinybird.js generate -o "$GEN") \
     >"$E2E_TMP/gen.log" 2>&1; then
  ok "tinybird generate writes the seed's datafiles"
else
  not_ok "tinybird generate writes the seed's datafiles"
  sed 's/^/#   /' "$E2E_TMP/gen.log" | tail -20
  finish
fi
expect_eq "generated 7 connections, 1 datasource, 6 pipes" \
  "$(ls "$GEN/connections" | wc -l) $(ls "$GEN/datasources" | wc -l) $(ls "$GEN/pipes" | wc -l)" "7 1 6"

if d=$(diff -r -x README.md -x .sinkpipe "$GEN" "$SEED" 2>&1); then
  ok "generated datafiles equal examples/seed byte for byte"
else
  not_ok "generated datafiles equal examples/seed byte for byte"
  printf '%s\n' "$d" | head -40 | sed 's/^/#   /'
fi

# ---------------------------------------------------------------- check
if out=$("$SINKPIPE" -p "$GEN" check 2>&1); then
  ok "sinkpipe check passes on the generated project"
else
  not_ok "sinkpipe check passes on the generated project"; printf '%s\n' "$out" | sed 's/^/#   /'
fi
HAND=$E2E_TMP/hand # a copy: the engine keeps its data under <project>/.sinkpipe
cp -r "$SEED" "$HAND"
rm -rf "$HAND/.sinkpipe" # engine state of a hand run in examples/seed, if any
if out=$("$SINKPIPE" -p "$HAND" check 2>&1); then
  ok "sinkpipe check passes on examples/seed"
else
  not_ok "sinkpipe check passes on examples/seed"; printf '%s\n' "$out" | sed 's/^/#   /'
fi

# ----------------------------------------------------------------- data
GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then # libc only: build it here if the Makefile did not
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
"$GE" --rows 3000 --end "$NOW" --days 3 --seed 42 >"$E2E_TMP/events.ndjson"
"$GE" --rows 3000 --end "$NOW" --days 3 --seed 42 --format csv >"$E2E_TMP/events.csv"
yesterday_rows=$(grep -c '"timestamp":"2026-11-24 ' "$E2E_TMP/events.ndjson")

CSVP=$E2E_TMP/csvload # the hand-written project again, loaded from CSV
cp -r "$SEED" "$CSVP"
rm -rf "$CSVP/.sinkpipe"
for pr in "$GEN:$E2E_TMP/events.ndjson" "$HAND:$E2E_TMP/events.ndjson" "$CSVP:$E2E_TMP/events.csv"; do
  p=${pr%%:*} f=${pr#*:}
  if out=$("$SINKPIPE" -p "$p" append events "$f" 2>&1); then
    expect_contains "append $(basename "$f") into $(basename "$p") loads every row" "$out" "3000 rows loaded, 0 quarantined"
  else
    not_ok "append $(basename "$f") into $(basename "$p")"; printf '%s\n' "$out" | sed 's/^/#   /'
  fi
done

# ------------------------------------------------------------- S3 pipes
run_s3() { # project outdir pipe
  env SINKPIPE_CONNECTION__landing_s3__S3_ENDPOINT="file://$2" \
      SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT="file://$2" \
      SINKPIPE_CONNECTION__data_lake__S3_ENDPOINT="file://$2" \
      SINKPIPE_CONNECTION__s3_prod__S3_ENDPOINT="file://$2" \
      "$SINKPIPE" -p "$1" run "$3" --now "$NOW"
}
for pipe in s3_events_sink daily_export daily_partition_export; do
  for side in gen hand csv; do
    case $side in gen) p=$GEN ;; hand) p=$HAND ;; csv) p=$CSVP ;; esac
    if out=$(run_s3 "$p" "$E2E_TMP/out-$side" "$pipe" 2>&1); then
      ok "run $pipe ($side)"
    else
      not_ok "run $pipe ($side)"; printf '%s\n' "$out" | sed 's/^/#   /' | head -20
    fi
  done
done
A=$E2E_TMP/out-gen B=$E2E_TMP/out-hand C=$E2E_TMP/out-csv
for bucket in my-bucket/exports data-warehouse/tinybird/daily data-lake/events; do
  n=$(find "$A/$bucket" -type f 2>/dev/null | wc -l)
  if [ "$n" -ge 1 ]; then ok "objects written under $bucket ($n)"; else not_ok "objects written under $bucket"; fi
done
if d=$(diff -r "$A" "$B" 2>&1); then
  ok "generated and hand-written projects export identical objects"
else
  not_ok "generated and hand-written projects export identical objects"
  printf '%s\n' "$d" | head -20 | sed 's/^/#   /'
fi
if d=$(diff -r "$B" "$C" 2>&1); then
  ok "loading the data as CSV or NDJSON exports identical objects"
else
  not_ok "loading the data as CSV or NDJSON exports identical objects"
  printf '%s\n' "$d" | head -20 | sed 's/^/#   /'
fi

# contents: yesterday (2026-11-24) is what the daily pipes select
f=$(find "$A/my-bucket/exports" -type f -name '*.csv' | head -1)
expect_eq "s3_events_sink: header + yesterday's rows" \
  "$( [ -n "$f" ] && wc -l <"$f" | tr -d ' ')" "$((yesterday_rows + 1))"
[ -n "$f" ] && expect_eq "s3_events_sink: CSV header, quoted as ClickHouse writes it" "$(head -1 "$f")" '"timestamp","session_id","event_type"'
f=$(find "$A/data-lake/events" -type f -name '*.ndjson.gz' | head -1)
expect_eq "daily_partition_export: yesterday's rows as gzip NDJSON" \
  "$( [ -n "$f" ] && gzip -dc "$f" | wc -l | tr -d ' ')" "$yesterday_rows"
f=$(find "$A/data-warehouse/tinybird/daily" -type f -name '*.gz' | head -1)
types=$(grep '"timestamp":"2026-11-24 ' "$E2E_TMP/events.ndjson" | grep -o '"event_type":"[a-z_]*"' | sort -u | wc -l)
expect_eq "daily_export: header + one row per event type of yesterday" \
  "$( [ -n "$f" ] && gzip -dc "$f" | wc -l | tr -d ' ')" "$((types + 1))"

# ---------------------------------------------------------- Kafka pipes
for pipe in kafka_events_sink hourly_events_to_kafka realtime_event_stream; do
  for side in gen hand; do
    case $side in gen) p=$GEN ;; hand) p=$HAND ;; esac
    if "$SINKPIPE" -p "$p" --json run "$pipe" --now "$NOW" --dry-run --job-id e2e \
         >"$E2E_TMP/$pipe.$side.json" 2>"$E2E_TMP/$pipe.$side.err"; then
      ok "dry run $pipe ($side)"
    else
      not_ok "dry run $pipe ($side)"; sed 's/^/#   /' "$E2E_TMP/$pipe.$side.err" | head -10
    fi
  done
  # the same preview and counts from both projects (elapsed time aside; the
  # preview's rows as a set: without ORDER BY, as in ClickHouse, the row
  # order of a GROUP BY is not defined)
  strip() { python3 -c 'import json,sys
j=json.load(open(sys.argv[1])); j.pop("elapsed_time",None)
j["preview"]=sorted((j.get("preview") or "").splitlines())
print(json.dumps(j,sort_keys=True))' "$1" 2>&1; }
  expect_eq "dry run $pipe: same result from both projects" \
    "$(strip "$E2E_TMP/$pipe.gen.json")" "$(strip "$E2E_TMP/$pipe.hand.json")"
done
# kafka_events_sink takes the last hour: a twentieth of the generated rows
rows_out() { python3 -c 'import json,sys
print(sum(o["rows"] for o in json.load(open(sys.argv[1]))["output"]))' "$1" 2>&1; }
expect_eq "kafka_events_sink would publish the last hour's rows" \
  "$(rows_out "$E2E_TMP/kafka_events_sink.gen.json")" \
  "$(grep -c '"timestamp":"2026-11-25 01:' "$E2E_TMP/events.ndjson")"
# the last generated row is a purchase above 1000 seconds before NOW
expect_contains "realtime_event_stream previews the high-value purchase" \
  "$(cat "$E2E_TMP/realtime_event_stream.gen.json")" "purchase"

finish
