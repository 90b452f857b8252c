#!/usr/bin/env bash
# gen_events: the sample-data generator is deterministic, its CSV and NDJSON
# hold the same rows, and the rows cover what the seed's pipes select.
. "$(dirname "$0")/lib.sh"
GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then # libc only: build it here if the Makefile did not
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
END=2026-11-25T02:00:00Z

"$GE" --rows 20000 --end $END --days 3 --seed 7 >"$E2E_TMP/a.ndjson"
"$GE" --rows 20000 --end $END --days 3 --seed 7 >"$E2E_TMP/b.ndjson"
"$GE" --rows 20000 --end $END --days 3 --seed 7 --format csv >"$E2E_TMP/a.csv"
"$GE" --rows 20000 --end $END --days 3 --seed 8 >"$E2E_TMP/c.ndjson"
expect_file_eq "same arguments, same bytes" "$E2E_TMP/b.ndjson" "$E2E_TMP/a.ndjson"
if cmp -s "$E2E_TMP/a.ndjson" "$E2E_TMP/c.ndjson"; then not_ok "another seed, other rows"; else
  ok "another seed, other rows"; fi

if out=$(python3 - "$E2E_TMP/a.ndjson" "$E2E_TMP/a.csv" <<'PY' 2>&1
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2], newline="", encoding="utf-8") as f:
    c = list(csv.reader(f))
hdr, c = c[0], c[1:]
assert hdr == ["timestamp", "event_type", "user_id", "session_id", "payload", "amount",
               "duration", "metadata"], hdr
assert len(rows) == 20000 and len(c) == 20000, (len(rows), len(c))
for a, b in zip(rows, c):
    assert list(a) == hdr, list(a)
    for k, v in zip(hdr, b):
        assert (float(v) == a[k]) if k in ("amount", "duration") else (v == a[k]), (k, v, a[k])
ts = [r["timestamp"] for r in rows]
assert ts == sorted(ts) and len(set(ts)) == len(ts), "timestamps increase"
assert ts[0] >= "2026-11-22 02:00:00" and ts[-1] < "2026-11-25 02:00:00", (ts[0], ts[-1])
assert sum(t >= "2026-11-25 01:00:00" for t in ts) == 1000, "a twentieth in the last hour"
assert sum(t.startswith("2026-11-24") for t in ts) > 5000, "yesterday"
last = rows[-1]
assert last["event_type"] == "purchase" and last["amount"] > 1000, last
assert any(r["amount"] > 1000 and r["timestamp"] >= "2026-11-25 01:55:00" for r in rows)
assert {r["event_type"] for r in rows} >= {"click", "view", "purchase", "signup"}
s = {r["payload"] for r in rows} | {r["metadata"] for r in rows}
for needle in ['"', ",", "\n", "\t", "\r", "\\", "/", "\u00e9", "\U0001F680", "\u65e5"]:
    assert any(needle in x for x in s), repr(needle)
assert "" in s, "empty string"
PY
); then
  ok "CSV and NDJSON rows agree; time range, last hour, yesterday, awkward strings"
else
  not_ok "CSV and NDJSON rows agree; time range, last hour, yesterday, awkward strings"
  printf '%s\n' "$out" | tail -5 | sed 's/^/#   /'
fi

expect_eq "--rows 0 writes nothing" "$("$GE" --rows 0 | wc -c | tr -d ' ')" 0
expect_eq "CSV header alone" "$("$GE" --rows 0 --format csv)" \
  "timestamp,event_type,user_id,session_id,payload,amount,duration,metadata"
"$GE" --rows nope >/dev/null 2>&1; expect_eq "a bad --rows is a usage error" $? 2
"$GE" --end 2026-02-30x >/dev/null 2>&1; expect_eq "a bad --end is a usage error" $? 2
"$GE" --format xml >/dev/null 2>&1; expect_eq "a bad --format is a usage error" $? 2

# fast enough for the benchmark: 1 M rows well under the test's budget
start=$(date +%s%N)
n=$("$GE" --rows 1000000 | wc -l)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "1 M rows" "$n" 1000000
if [ "$ms" -lt 5000 ]; then ok "1 M rows in ${ms} ms"; else not_ok "1 M rows in ${ms} ms (want < 5 s)"; fi

finish
