#!/usr/bin/env bash
# seed_c: the seed defined with the C SDK (examples/c/seed.c) writes the same
# datafiles as examples/seed/ (which are what `tinybird generate` writes from
# the TypeScript), they load and round-trip through the CLI, and its run mode
# exports yesterday's sample rows through the three S3 pipes.
. "$(dirname "$0")/lib.sh"
SEED=$E2E_ROOT/examples/seed
SEED_C=$SINKPIPE_BUILD/examples/seed_c
export KAFKA_KEY=e2e-key KAFKA_SECRET=e2e-secret
export STREAMING_KAFKA_KEY=e2e-skey STREAMING_KAFKA_SECRET=e2e-ssecret

if [ ! -x "$SEED_C" ]; then
  not_ok "$SEED_C is built (make tests)"; finish
fi

# ------------------------------------------------------------------ write
C=$E2E_TMP/c
if out=$("$SEED_C" write "$C" 2>&1); then ok "seed_c write"; else
  not_ok "seed_c write"; printf '%s\n' "$out" | sed 's/^/#   /'; finish; fi
if out=$("$SINKPIPE" -p "$C" check 2>&1); then
  ok "sinkpipe check passes on the C-defined project"
else
  not_ok "sinkpipe check passes on the C-defined project"; printf '%s\n' "$out" | sed 's/^/#   /'
fi
if d=$(diff -r -x README.md -x .sinkpipe "$C" "$SEED" 2>&1); then
  ok "C-defined datafiles equal examples/seed byte for byte"
else
  not_ok "C-defined datafiles equal examples/seed byte for byte"
  printf '%s\n' "$d" | head -40 | sed 's/^/#   /'
fi

# round trip: load what was written and write it again
if out=$("$SINKPIPE" -p "$C" write "$E2E_TMP/c2" 2>&1) &&
   d=$(diff -r -x .sinkpipe "$C" "$E2E_TMP/c2" 2>&1); then
  ok "round trip: write -> load -> write is identical"
else
  not_ok "round trip: write -> load -> write is identical"
  printf '%s\n%s\n' "$out" "${d:-}" | head -40 | sed 's/^/#   /'
fi
cp -r "$SEED" "$E2E_TMP/seed"
if out=$("$SINKPIPE" -p "$E2E_TMP/seed" write "$E2E_TMP/seed2" 2>&1) &&
   d=$(diff -r -x README.md -x .sinkpipe "$SEED" "$E2E_TMP/seed2" 2>&1); then
  ok "round trip: examples/seed -> load -> write is identical"
else
  not_ok "round trip: examples/seed -> load -> write is identical"
  printf '%s\n%s\n' "$out" "${d:-}" | head -40 | sed 's/^/#   /'
fi

# -------------------------------------------------------------------- run
R=$E2E_TMP/r
mkdir -p "$R"
if "$SEED_C" run "$R" >"$E2E_TMP/run.out" 2>"$E2E_TMP/run.err"; then
  ok "seed_c run"
else
  not_ok "seed_c run"; sed 's/^/#   /' "$E2E_TMP/run.err" | head -20
fi
sed 's/^/# /' "$E2E_TMP/run.out"
expect_contains "seed_c run loads the 6 sample rows" "$(cat "$E2E_TMP/run.err")" "6 rows loaded, 0 quarantined"

# one line per object: pipe, uri, rows, bytes; the sample has 4 rows on
# 2026-11-24 (yesterday of the fixed now) of 3 event types
rows_of() { awk -F'\t' -v p="$1" '$1 == p { n += $3 } END { print n + 0 }' "$E2E_TMP/run.out"; }
expect_eq "s3_events_sink exported yesterday's 4 rows" "$(rows_of s3_events_sink)" 4
expect_eq "daily_export exported 3 event types" "$(rows_of daily_export)" 3
expect_eq "daily_partition_export exported yesterday's 4 rows" "$(rows_of daily_partition_export)" 4

# every object listed exists at DIR/s3/<bucket>/<key> with the listed size
missing=0
while IFS=$'\t' read -r pipe uri rows size; do
  case $uri in
    file://*) f=${uri#file://} ;;
    *) f=$R/s3/${uri#s3://} ;;
  esac
  if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != "$size" ]; then
    missing=1; echo "#   $pipe: $uri -> $f missing or not $size bytes"
  fi
done <"$E2E_TMP/run.out"
[ -s "$E2E_TMP/run.out" ] && [ $missing -eq 0 ] && ok "every listed object is in the folder" ||
  not_ok "every listed object is in the folder"

f=$(find "$R/s3/data-lake" -type f -name '*.ndjson.gz' 2>/dev/null | head -1)
if [ -n "$f" ] && gzip -dc "$f" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r["timestamp"] for r in rows] == ["2026-11-24 00:00:00", "2026-11-24 08:30:00",
                                          "2026-11-24 12:00:00", "2026-11-24 23:59:59"], rows
assert rows[1]["payload"] == "with \"quotes\", commas\nand a newline", rows[1]
assert rows[1]["metadata"] == "caf\u00e9 \U0001F680", rows[1]
assert rows[2]["payload"] == "path/to\\thing" and rows[2]["metadata"] == "tab\there", rows[2]
'; then
  ok "daily_partition_export NDJSON keeps order and awkward strings"
else
  not_ok "daily_partition_export NDJSON keeps order and awkward strings"
fi

finish
