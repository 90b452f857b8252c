#!/usr/bin/env bash
# tinybird_corpus: a project written the way public Tinybird projects are
# (web analytics, log analytics and AI analytics templates:
# tests/fixtures/tinybird/), its sink pipes run through `sinkpipe run`, and
# every file compared byte for byte with what ClickHouse itself prints for
# the same rendered, composed SQL (the run's query_sql) in CSVWithNames and
# JSONEachRow.
#
# The reference is build/tools/chdb_query (tests/tools/chdb_query.c): chDB's
# C API alone, none of sinkpipe's engine code, run on the project's data
# folder after `sinkpipe run` exits (chDB locks a folder to one process).
# query_sql is the SQL before the logical-time step, so the reference gets
# the run's --now too and puts that time in place of now()/today()/
# yesterday() itself (ClickHouse's clock cannot be set).
# Each pipe runs twice: in its EXPORT_FORMAT, then with --format set to the
# other one; each run is one ok/not ok line named "PIPE.FORMAT".
#
# A difference is a sinkpipe bug: the expectation is ClickHouse's output and
# is never adjusted.  While a difference is open its pipe.format is listed
# in KNOWN_DIFFERENCES (the line prints `ok - known difference (…)` with the
# diff as comments); an entry that no longer differs fails, so the list
# stays true.
set -u

# "run.format: what differs" (sinkpipe's bytes vs ClickHouse's; sinkpipe
# bugs, open).  Each stays compared byte for byte: its line shows the diff.
KNOWN_DIFFERENCES=(
  # Dynamic (a JSON path read without a cast): every non-NULL value is
  # written as a string; an Array inside keeps raw control characters
  "wa_ctx_dynamic.csv: Dynamic Int64/Float64/Bool quoted in CSV: \"-1\",\"0.14285714285714285\",\"false\" where ClickHouse writes -1,0.14285714285714285,false; a Dynamic Array's strings are not escaped: 'line one<LF>line two' where ClickHouse writes 'line one\\nline two'"
  "wa_ctx_dynamic.ndjson: Dynamic values as JSON strings: \"width\":\"-1\", \"touch\":\"false\", \"vals\":\"[1,1.5,NULL,'x']\" where ClickHouse writes \"width\":-1, \"touch\":false, \"vals\":[1,1.5,null,\"x\"]"
  # Variant and Dynamic are carried as text (BFloat16, Interval and the geo
  # types now match)
  "edge_text_types.csv: Variant and Dynamic Bool quoted (\"42\",\"true\") where ClickHouse writes 42,true"
  "edge_text_types.ndjson: Variant and Dynamic Bool as JSON strings (\"42\",\"true\") where ClickHouse writes 42,true"
)

. "$(dirname "$0")/lib.sh"

if [ -n "${SINKPIPE_ASAN:-}" ] || { [ -n "${SINKPIPE_ENGINE:-}" ] && [ "$SINKPIPE_ENGINE" != embedded ]; }; then
  ok "skipped: the corpus needs the embedded ClickHouse"
  finish
fi

FIX=$E2E_ROOT/tests/fixtures/tinybird
CHDB_QUERY=$SINKPIPE_BUILD/tools/chdb_query
NOW=2026-11-25T01:00:00Z
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
DATA=$E2E_TMP/data

# parameters of some runs (the others use the pipes' defaults)
declare -A PARAMS=(
  [wa_top_pages]="--param date_from=2026-11-02 --param skip=2 --param limit=25"
  [wa_raw_export]="--param tenant=acme"
  [logs_timeseries]="--param environment=production"
  [logs_top_paths]="--param per_service=2"
  [llm_usage]="--param model=gpt-4o,claude-3-5-sonnet,gemini-1.5-pro --param end_date=2026-11-10T00:00:00Z"
)
# more runs of some pipes: "label pipe params…" (an _empty label may
# return no rows: a CSV of the header alone, an empty NDJSON file)
EXTRA_RUNS=(
  "wa_top_pages_defaults wa_top_pages"
  "llm_usage_by_provider llm_usage --param column_name=provider --param environment=staging"
  "wa_raw_export_empty wa_raw_export --param tenant=nobody"
)

if [ ! -x "$CHDB_QUERY" ]; then
  not_ok "the reference $CHDB_QUERY is built (make tools)"
  finish
fi
cp "$CHDB_QUERY" "$E2E_TMP/chdb_query" && CHDB_QUERY=$E2E_TMP/chdb_query  # immune to a rebuild meanwhile
NOW_UNIX=$(date -u -d "$NOW" +%s)
if ! "$CHDB_QUERY" --path "$E2E_TMP/probe" --database default --format TSV "SELECT 1" >/dev/null 2>"$E2E_TMP/probe.err"; then
  not_ok "chdb_query runs (the embedded ClickHouse is installed: scripts/setup.sh)"
  sed 's/^/#   /' "$E2E_TMP/probe.err" | head -5
  finish
fi

# the project, its buckets pointed at this test's folder
mkdir -p "$P" "$OUT"
cp -r "$FIX/datasources" "$FIX/pipes" "$P/"
sed -i "s|file:///tmp/tinybird_corpus/out/|file://$OUT/|" "$P"/pipes/*.pipe
python3 "$FIX/gen_data.py" "$DATA" || { not_ok "generate the fixture data"; finish; }

known_why() { # pipe.format -> the KNOWN_DIFFERENCES text, or nothing
  local e
  for e in "${KNOWN_DIFFERENCES[@]}"; do
    [ "${e%%:*}" = "$1" ] && { echo "${e#*: }"; return 0; }
  done
  return 1
}

# check: every pipe's SQL runs, except pipes sinkpipe refuses that are in
# KNOWN_DIFFERENCES (both formats listed)
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
refused=$(grep -o '^pipes/[A-Za-z0-9_]*\.pipe' <<<"$out" | sed 's|^pipes/||; s|\.pipe$||' | sort -u)
unknown=
for pipe in $refused; do
  { known_why "$pipe.csv" >/dev/null && known_why "$pipe.ndjson" >/dev/null; } || unknown="$unknown $pipe"
done
if [ "$rc" -eq 0 ]; then
  ok "check passes on the corpus"
elif [ -n "$refused" ] && [ -z "$unknown" ]; then
  ok "check passes on the corpus but for known differences: $(tr '\n' ' ' <<<"$refused")"
else
  not_ok "check passes on the corpus (refused:${unknown:- see below})"
  printf '#   %s\n' "$out" | head -20
fi

declare -A WANT_ROWS=([analytics_events]=433 [logs]=301 [llm_events]=240 [services]=6)
for ds in analytics_events logs llm_events services; do
  res=$("$SINKPIPE" -p "$P" --json append "$ds" "$DATA/$ds.ndjson" 2>&1)
  expect_eq "append $ds: every row loaded" \
    "$(jq -r '"\(.successful_rows) \(.quarantined_rows)"' <<<"$res" 2>/dev/null || echo "$res")" \
    "${WANT_ROWS[$ds]} 0"
done


show_diff() { # ours theirs: the first differing lines of each, byte-exact (Python repr)
  python3 - "$1" "$2" <<'PY' | sed 's/^/#   /'
import sys
ours, theirs = (open(f, "rb").read() for f in sys.argv[1:3])
i = next((k for k in range(min(len(ours), len(theirs))) if ours[k] != theirs[k]),
         min(len(ours), len(theirs)))
print("first difference at byte %d (sinkpipe %d bytes, clickhouse %d bytes)" % (i, len(ours), len(theirs)))
a, b = ours.split(b"\n"), theirs.split(b"\n")
shown = 0
for k in range(max(len(a), len(b))):
    x = a[k] if k < len(a) else None
    y = b[k] if k < len(b) else None
    if x != y:
        print("line %d clickhouse: %r" % (k + 1, y)[:400])
        print("line %d sinkpipe:   %r" % (k + 1, x)[:400])
        shown += 1
        if shown == 4:
            break
PY
}

# verdict NAME ok|fail MESSAGE [DETAILS_FILE]: one line, KNOWN_DIFFERENCES applied
verdict() {
  local name=$1 res=$2 msg=$3 details=${4:-} why
  if why=$(known_why "$name"); then
    if [ "$res" = ok ]; then
      not_ok "$name: listed in KNOWN_DIFFERENCES ($why) but $msg: remove it from the list"
    else
      ok "$name: known difference ($why)"
      [ -n "$details" ] && cat "$details"
    fi
  elif [ "$res" = ok ]; then
    ok "$name: $msg"
  else
    not_ok "$name: $msg"
    [ -n "$details" ] && cat "$details"
  fi
  return 0
}

compare() { # label pipe format(csv|ndjson) params…
  local label=$1 pipe=$2 fmt=$3 name="$1.$3" chfmt res status path sql rows d
  shift 3
  d=$E2E_TMP/$name.details
  : >"$d"
  [ "$fmt" = csv ] && chfmt=CSVWithNames || chfmt=JSONEachRow
  local -a args=(run "$pipe" --now "$NOW")
  args+=("$@")
  [ "$fmt" != "$(sed -n 's/^EXPORT_FORMAT //p' "$P/pipes/$pipe.pipe")" ] && args+=(--format "$fmt")
  res=$("$SINKPIPE" -p "$P" --json "${args[@]}" 2>"$E2E_TMP/$name.err")
  status=$(jq -r .status <<<"$res" 2>/dev/null)
  if [ "$status" != "done" ]; then
    { jq -r '.error // empty' <<<"$res" 2>/dev/null; cat "$E2E_TMP/$name.err"; } | head -5 | sed 's/^/#   /' >"$d"
    verdict "$name" fail "sinkpipe run fails" "$d"
    return
  fi
  path=$(jq -r '.output[0].path // empty' <<<"$res")
  sql=$(jq -r .query_sql <<<"$res")
  path=${path#file://}
  if [ -z "$path" ] || [ ! -f "$path" ]; then
    not_ok "$name: sinkpipe wrote one file (output: $(jq -c .output <<<"$res"))"
    return
  fi
  if ! "$CHDB_QUERY" --path "$P/.sinkpipe/clickhouse" --format "$chfmt" --now "$NOW_UNIX" "$sql" \
      >"$E2E_TMP/$name.ref" 2>"$E2E_TMP/$name.referr"; then
    not_ok "$name: ClickHouse runs the query_sql"
    head -5 "$E2E_TMP/$name.referr" | sed 's/^/#   /'
    return
  fi
  rows=$(wc -l <"$E2E_TMP/$name.ref")
  [ "$fmt" = csv ] && rows=$((rows - 1))
  if [ "$rows" -lt 1 ] && [ "${label%_empty}" = "$label" ]; then
    not_ok "$name: the query returns rows (a corpus pipe must exercise something)"
    return
  fi
  if cmp -s "$path" "$E2E_TMP/$name.ref"; then
    verdict "$name" ok "byte-identical to ClickHouse's $chfmt ($rows lines)"
  else
    show_diff "$path" "$E2E_TMP/$name.ref" >"$d"
    verdict "$name" fail "differs from ClickHouse's $chfmt ($rows lines)" "$d"
  fi
}

both_formats() { # label pipe params…
  local declared other
  declared=$(sed -n 's/^EXPORT_FORMAT //p' "$P/pipes/$2.pipe")
  [ "$declared" = csv ] && other=ndjson || other=csv
  compare "$1" "$2" "$declared" "${@:3}"
  compare "$1" "$2" "$other" "${@:3}"
}
for f in "$P"/pipes/*.pipe; do
  pipe=$(basename "$f" .pipe)
  # shellcheck disable=SC2086
  both_formats "$pipe" "$pipe" ${PARAMS[$pipe]:-}
done
for run in "${EXTRA_RUNS[@]}"; do
  # shellcheck disable=SC2086
  both_formats $run
done

# every KNOWN_DIFFERENCES entry names a pipe of the corpus
for e in "${KNOWN_DIFFERENCES[@]}"; do
  k=${e%%:*}
  label=${k%.*}
  [ -f "$P/pipes/$label.pipe" ] || [[ " ${EXTRA_RUNS[*]} " == *" $label "* ]] ||
    not_ok "KNOWN_DIFFERENCES names no run of the corpus: $k"
done
finish
