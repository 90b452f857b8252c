#!/usr/bin/env bash
# The embedded engine's adapter (sp_ch_chdb.c, sp_engine_clickhouse.c,
# sp_ch_rbread.c) under valgrind memcheck, on small cases: a load through
# the streamed insert, a query read as RowBinary with nested and wide
# types, one that falls back to text (a Dynamic column).  ASan cannot
# host libchdb; tests/valgrind.supp hides only
# reports whose innermost frame is inside libchdb.so.  (The sanitizer layer
# runs the e2e tests against a ClickHouse server instead; tests/run.sh also
# runs some of them under UBSan on the embedded engine.)
. "$(dirname "$0")/lib.sh"
if [ -n "${SINKPIPE_ASAN:-}" ] || [ "${SINKPIPE_ENGINE:-embedded}" != embedded ]; then
  ok "skipped: needs the embedded engine"; finish
fi
if ! command -v valgrind >/dev/null 2>&1; then ok "skipped: no valgrind"; finish; fi
P=$E2E_TMP/proj
mkdir -p "$P/datasources"
cat >"$P/datasources/t.datasource" <<'X'
SCHEMA >
    `ts` DateTime64(3) `json:$.ts`,
    `s` String `json:$.s`,
    `n` Nullable(Int64) `json:$.n`,
    `tags` Array(String) `json:$.tags`,
    `j` JSON `json:$.j`,
    `d` Decimal(18, 4) `json:$.d` DEFAULT 1.5

ENGINE "MergeTree"
ENGINE_SORTING_KEY "ts"
X
printf '%s\n' '{"ts":"2026-11-25 00:00:00.123","s":"a,\"b\"","n":null,"tags":["x","y"],"j":{"a":1,"b":"c"}}' \
  '{"ts":"1960-01-01 00:00:00.5","s":"\u00e9\n","n":-5,"tags":[],"j":{},"d":"-12.25"}' \
  '{"ts":"bad","s":"q"}' >"$E2E_TMP/t.ndjson"
vg() { # what, then the command
  local what=$1; shift
  timeout 600 valgrind -q --suppressions="$E2E_ROOT/tests/valgrind.supp" --error-exitcode=99 \
    --leak-check=no "$@" >"$E2E_TMP/vg.out" 2>"$E2E_TMP/vg.err"
  local rc=$?
  if [ $rc -eq 99 ] || grep -q '^==[0-9]*== [A-Z]' "$E2E_TMP/vg.err"; then
    not_ok "$what: memcheck is clean"; grep -A12 '^==[0-9]*== [A-Z]' "$E2E_TMP/vg.err" | head -40 | sed 's/^/#   /'
  else
    ok "$what: memcheck is clean"
  fi
  return $rc
}
vg "append (streamed insert, quarantine)" "$SINKPIPE" -p "$P" append t "$E2E_TMP/t.ndjson"
expect_contains "append counts" "$(cat "$E2E_TMP/vg.out" "$E2E_TMP/vg.err")" "2 rows loaded, 1 quarantined"
vg "query read as RowBinary" "$SINKPIPE" -p "$P" sql --format ndjson \
  "SELECT ts, s, n, tags, j, d, toInt256(-5) AS i, toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS u, map('k', n) AS m FROM t ORDER BY ts"
expect_eq "RowBinary result" "$(cat "$E2E_TMP/vg.out")" '{"ts":"1960-01-01 00:00:00.500","s":"é\n","n":-5,"tags":[],"j":{},"d":-12.25,"i":-5,"u":"61f0c404-5cb3-11e7-907b-a6006ad3dba0","m":{"k":-5}}
{"ts":"2026-11-25 00:00:00.123","s":"a,\"b\"","n":null,"tags":["x","y"],"j":{"a":1,"b":"c"},"d":1.5,"i":-5,"u":"61f0c404-5cb3-11e7-907b-a6006ad3dba0","m":{"k":null}}'
vg "query falling back to text (Dynamic)" "$SINKPIPE" -p "$P" sql --format csv "SELECT j.b AS b FROM t ORDER BY ts"
expect_eq "text result" "$(cat "$E2E_TMP/vg.out")" '"b"
\N
"c"'
finish
