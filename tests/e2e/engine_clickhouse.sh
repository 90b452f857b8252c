#!/usr/bin/env bash
# engine_clickhouse: the ClickHouse engine against a real clickhouse-server
# (Debian's 18.16, tests/harness/clickhouse.sh), through the CLI as a user
# runs it (SINKPIPE_ENGINE=clickhouse):
#   - check creates the tables with their real engine (ReplacingMergeTree,
#     PARTITION BY, TTL, SETTINGS, LowCardinality) and the quarantine table;
#     a table whose columns differ is a clear definition error
#   - append stores rows, defaults and quarantined rows on the server
#   - errors (syntax, unknown column, memory limit, timeout, wrong password,
#     server down, a connection reset mid-stream, an exception after the
#     result started streaming) fail the run with one line and deliver
#     nothing; the password never shows
#   - queries only read; the query id is the job id and interrupt() kills
#     the query on the server (tests/tools/ch_query, the C API)
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/clickhouse.sh"

if ! ch_available; then
  ok "engine_clickhouse skipped: clickhouse-server not installed"
  finish
fi
CHQ=$SINKPIPE_BUILD/tools/ch_query
[ -x "$CHQ" ] || { not_ok "tests/tools/ch_query is built"; finish; }
ch_start || { not_ok "start clickhouse-server"; finish; }
ok "clickhouse-server $(ch_query 'SELECT version()') on 127.0.0.1:$CH_HTTP_PORT"
ch_query "CREATE DATABASE e2e"
URL=http://127.0.0.1:$CH_HTTP_PORT/
export SINKPIPE_ENGINE=clickhouse SINKPIPE_CLICKHOUSE_URL=$URL SINKPIPE_CLICKHOUSE_DATABASE=e2e
show() { sed 's/^/#   /' "$@" | head -20; }
one_line() { [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; }

P=$E2E_TMP/proj OUT=$E2E_TMP/out
mkdir -p "$P/datasources" "$P/pipes" "$OUT"
cat >"$P/datasources/things.datasource" <<'X'
SCHEMA >
    `id` UInt64 `json:$.id`,
    `ver` UInt32 `json:$.ver`,
    `kind` LowCardinality(String) `json:$.kind`,
    `day` Date `json:$.day`,
    `note` Nullable(String) `json:$.note`,
    `tag` String `json:$.tag` DEFAULT 'none',
    `n` Int64 `json:$.n`

ENGINE "ReplacingMergeTree"
ENGINE_VER "ver"
ENGINE_PARTITION_KEY "toYYYYMM(day)"
ENGINE_SORTING_KEY "kind, id"
ENGINE_SETTINGS "index_granularity = 1024"
X
cat >"$P/pipes/things_export.pipe" <<X
NODE base
SQL >
    SELECT id, kind, day, note, tag, n FROM things

NODE export
SQL >
    SELECT * FROM base WHERE day <= today() ORDER BY id

TYPE sink
EXPORT_BUCKET_URI file://$OUT/things/
EXPORT_FILE_TEMPLATE things_{date}
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X
cat >"$P/pipes/boom.pipe" <<X
NODE p
SQL >
    SELECT number, throwIf(number = 3000000) AS x FROM numbers(5000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/boom/
EXPORT_FILE_TEMPLATE boom
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X
cat >"$P/pipes/forever.pipe" <<X
NODE p
SQL >
    SELECT count() AS c FROM numbers(100000000000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/forever/
EXPORT_FILE_TEMPLATE forever
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X
cat >"$P/pipes/big.pipe" <<X
NODE p
SQL >
    SELECT number, toString(number) AS s FROM numbers(3000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/big/
EXPORT_FILE_TEMPLATE big
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X
NOW=2026-11-25T01:00:00Z

# ------------------------------------------------------------- tables
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "check passes and runs the SQL on the server" "$rc" 0
[ $rc -eq 0 ] || show <<<"$out"
ddl=$(ch_query "SHOW CREATE TABLE e2e.things")
expect_contains "table engine with its version column" "$ddl" "ENGINE = ReplacingMergeTree(ver)"
expect_contains "partition key" "$ddl" "PARTITION BY toYYYYMM(day)"
expect_contains "sorting key" "$ddl" "ORDER BY (kind, id)"
expect_contains "settings" "$ddl" "index_granularity = 1024"
expect_contains "LowCardinality column" "$ddl" "kind LowCardinality(String)"
expect_contains "quarantine table" "$(ch_query 'SHOW TABLES FROM e2e')" "things_quarantine"

# ENGINE_TTL: table TTLs arrived in ClickHouse 19.6
T=$E2E_TMP/ttl
mkdir -p "$T/datasources"
printf 'SCHEMA >\n    `d` Date\n\nENGINE_SORTING_KEY "d"\nENGINE_TTL "d + toIntervalDay(7)"\n' >"$T/datasources/with_ttl.datasource"
out=$("$SINKPIPE" -p "$T" check 2>&1); rc=$?
major=$(ch_query 'SELECT version()' | cut -d. -f1)
if [ "$major" -lt 19 ]; then
  expect_contains "ENGINE_TTL on $major.x: a clear error" "$out" "datasource 'with_ttl': cannot create the table: clickhouse: Syntax error"
else
  expect_contains "ENGINE_TTL" "$(ch_query 'SHOW CREATE TABLE e2e.with_ttl')" "TTL d + toIntervalDay(7)"
fi

# a table that is not what the datafile says
ch_query "CREATE TABLE e2e.other (a String, b UInt8) ENGINE = Memory"
B=$E2E_TMP/bad
mkdir -p "$B/datasources"
printf 'SCHEMA >\n    `a` String,\n    `b` UInt16\n' >"$B/datasources/other.datasource"
out=$("$SINKPIPE" -p "$B" check 2>&1); rc=$?
expect_eq "check fails on a table whose columns differ" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "and says which column" "$out" "datasource 'other': table has column b UInt8 but the datafile says b UInt16 (column 2)"

# ------------------------------------------------------------- append
cat >"$E2E_TMP/things.ndjson" <<'X'
{"id":1,"ver":1,"kind":"a","day":"2026-11-24","note":"it's \"quoted\"\nnew line","n":-9223372036854775808}
{"id":2,"ver":1,"kind":"b","day":"2026-11-25","note":null,"tag":"t","n":9223372036854775807}
{"id":3,"ver":1,"kind":"ü","day":"2026-11-23","n":0}
{"id":4,"ver":1,"kind":"a","day":"not a day","n":1}
X
out=$("$SINKPIPE" -p "$P" append things "$E2E_TMP/things.ndjson" 2>&1); rc=$?
expect_eq "append exits 0" "$rc" 0
expect_contains "append counts rows" "$out" "3 rows loaded, 1 quarantined"
expect_eq "rows are on the server, defaults applied" \
  "$(ch_query 'SELECT id, kind, note, tag, n FROM e2e.things ORDER BY id' --format CSV)" \
  "$(printf '%s\n' '1,"a","it'"'"'s ""quoted""' 'new line","none",-9223372036854775808' \
     '2,"b",\N,"t",9223372036854775807' '3,"ü",\N,"none",0')"
expect_eq "the rejected row is in things_quarantine" \
  "$(ch_query 'SELECT c__error_column, c__line FROM e2e.things_quarantine' --format CSV)" '"day",4'

# ------------------------------------------------------------- runs
out=$("$SINKPIPE" -p "$P" run things_export --now $NOW 2>&1); rc=$?
expect_eq "run things_export exits 0" "$rc" 0
[ $rc -eq 0 ] || show <<<"$out"
expect_file_eq "run writes the rows read from ClickHouse" "$OUT/things/things_2026-11-25.csv" <(
  printf '%s\n' '"id","kind","day","note","tag","n"' \
    '1,"a","2026-11-24","it'"'"'s ""quoted""' 'new line","none",-9223372036854775808' \
    '2,"b","2026-11-25",\N,"t",9223372036854775807' '3,"ü","2026-11-23",\N,"none",0')

# an exception after the result started streaming (HTTP 200 + "Code: 395")
out=$("$SINKPIPE" -p "$P" run boom --now $NOW 2>&1); rc=$?
expect_eq "a mid-stream exception fails the run" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "with the server's message" "$out" "Value passed to 'throwIf' function is non zero (code 395)"
expect_contains "naming the pipe" "$out" "boom"
expect_eq "and nothing is delivered" "$(find "$OUT/boom" -type f 2>/dev/null | wc -l)" 0

# one-line errors
out=$("$SINKPIPE" -p "$P" sql "SELEC 1" 2>&1); rc=$?
expect_eq "syntax error exits non-zero" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "syntax error message" "$out" "clickhouse: Syntax error: failed at position 1"
one_line "$out" && ok "syntax error is one line" || not_ok "syntax error is one line"
out=$("$SINKPIPE" -p "$P" sql "SELECT nope FROM things" 2>&1)
expect_contains "unknown column message" "$out" "Unknown identifier: nope (code 47)"
out=$(SINKPIPE_CLICKHOUSE_SETTINGS=max_memory_usage=10000000 "$SINKPIPE" -p "$P" sql \
  "SELECT count() FROM (SELECT number % 1000000 AS k, groupArray(number) FROM numbers(10000000) GROUP BY k)" 2>&1)
expect_contains "memory limit (SINKPIPE_CLICKHOUSE_SETTINGS)" "$out" "Memory limit (for query) exceeded"
out=$("$CHQ" "$URL" "SELECT count() FROM numbers(100000000000)" --timeout-ms 1000)
expect_contains "timeout from the run's time limit" "$out" "Timeout exceeded"
out=$("$CHQ" "$URL" "SELECT count() FROM (SELECT number % 1000000 AS k, groupArray(number) FROM numbers(10000000) GROUP BY k)" --max-memory 10000000)
expect_contains "memory limit from the run's max_memory" "$out" "Memory limit (for query) exceeded"

# queries only read
out=$("$SINKPIPE" -p "$P" sql "DROP TABLE things" 2>&1); rc=$?
expect_eq "sql refuses a statement that changes data" "$([ $rc -ne 0 ] && echo yes)" yes
expect_eq "the table survives" "$(ch_query 'SELECT count() FROM e2e.things')" 3

# secrets
out=$(SINKPIPE_CLICKHOUSE_PASSWORD=e2e-sekr3t-pw "$SINKPIPE" -p "$P" sql "SELECT 1" 2>&1); rc=$?
expect_eq "a wrong password fails" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "with the server's reason" "$out" "Wrong password for user default"
case "$out" in *e2e-sekr3t-pw*) not_ok "the password never shows" ;; *) ok "the password never shows" ;; esac

# the query id is the job id; interrupt() kills the query on the server
out=$("$CHQ" "$URL" "SELECT number FROM system.numbers" --query-id e2e-job-42 --interrupt-after 2)
expect_contains "the query runs under the job id" "$out" "running 1"
expect_contains "interrupt cancels" "$out" "query cancelled"
expect_contains "KILL QUERY removed it from the server" "$out" "killed 1"

# a cancelled run (SIGINT) kills its query on the server, found by job id
# wait_for WHAT CMD...: poll (20 s deadline) until CMD prints 1
wait_for() {
  local what=$1 end=$(( $(date +%s) + 20 )); shift
  until [ "$("$@" 2>/dev/null)" = 1 ]; do
    [ "$(date +%s)" -lt "$end" ] || { not_ok "$what"; return 1; }
    sleep 0.1  # polling a condition with a deadline
  done
  ok "$what"
}
running() { ch_query "SELECT count() FROM system.processes WHERE query_id = 'e2e-cancel-1'"; }
gone() { [ "$(running)" = 0 ] && echo 1; }
"$SINKPIPE" -p "$P" run forever --job-id e2e-cancel-1 --now $NOW >"$E2E_TMP/forever.out" 2>&1 &
RUNPID=$!
if wait_for "the run's query runs on the server under the job id" running; then
  kill -INT "$RUNPID"
  wait "$RUNPID"; rc=$?
  expect_eq "the cancelled run exits non-zero" "$([ $rc -ne 0 ] && echo yes)" yes
  expect_contains "and says cancelled" "$(cat "$E2E_TMP/forever.out")" "cancelled"
  wait_for "KILL QUERY removed the query from the server" gone
else
  kill "$RUNPID" 2>/dev/null; wait "$RUNPID" 2>/dev/null
fi
expect_eq "nothing delivered by the cancelled run" "$(find "$OUT/forever" -type f 2>/dev/null | wc -l)" 0

# server down
PORT=$(ch_free_port)
out=$(SINKPIPE_CLICKHOUSE_URL=http://127.0.0.1:$PORT/ "$SINKPIPE" -p "$P" run things_export --now $NOW 2>&1); rc=$?
expect_eq "server down fails the run" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "and says where" "$out" "clickhouse at http://127.0.0.1:$PORT"

# connection reset mid-stream: a proxy that cuts after 2 MB of the answer
coproc PROXY { exec python3 "$E2E_ROOT/tests/harness/cut_proxy.py" "$CH_HTTP_PORT" 2000000; }
read -r -t 20 PPORT <&"${PROXY[0]}" || PPORT=
if [ -n "$PPORT" ]; then
  out=$(SINKPIPE_CLICKHOUSE_URL=http://127.0.0.1:$PPORT/ timeout 120 "$SINKPIPE" -p "$P" run big --now $NOW 2>&1); rc=$?
  expect_eq "a connection reset mid-stream fails the run" "$([ $rc -ne 0 ] && echo yes)" yes
  expect_contains "as a lost connection" "$out" "connection lost while reading the result"
  expect_eq "and nothing is delivered" "$(find "$OUT/big" -type f 2>/dev/null | wc -l)" 0
else
  not_ok "cut_proxy starts"
fi
[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
out=$("$SINKPIPE" -p "$P" run big --now $NOW 2>&1); rc=$?
expect_eq "the same run without the proxy succeeds" "$rc" 0
expect_eq "with every row" "$(wc -l <"$OUT/big/big.csv")" 3000001

ch_stop
finish
