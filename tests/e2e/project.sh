#!/usr/bin/env bash
# End-to-end: a whole Tinybird-style project, web-analytics shaped.  A
# landing datasource; a materialized pipe aggregating it with -State
# functions into an AggregatingMergeTree datasource (populated when created,
# then fed by every append); pipes read as tables by other pipes (a sink
# exports one); a copy pipe in replace and append mode (CLI, daemon API,
# jobs); every result compared with ClickHouse's own answer to the plain
# query over the landing data.  Then the mistakes a user makes: a view
# column the target lacks, an unknown target, pipes reading each other,
# bad COPY_MODE, external access in a view.  Runs on whatever engine the
# suite runs (embedded; the ASan layer on a ClickHouse server).
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/datasources" "$P/pipes" "$OUT"
S() { "$SINKPIPE" -p "$P" "$@"; }

cat > "$P/datasources/hits.datasource" <<'X'
SCHEMA >
    `timestamp` DateTime `json:$.timestamp`,
    `session_id` String `json:$.session_id`,
    `pathname` String `json:$.pathname`,
    `duration` UInt32 `json:$.duration`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "timestamp"
X
# skipping indexes (ClickHouse 19+; the ASan layer's 18.16 server has none)
EMBEDDED=1
[ "${SINKPIPE_ENGINE:-embedded}" = clickhouse ] && EMBEDDED=
[ -n "$EMBEDDED" ] && cat >> "$P/datasources/hits.datasource" <<'X'
INDEXES >
    idx_path pathname TYPE bloom_filter GRANULARITY 4,
    INDEX idx_dur duration TYPE minmax GRANULARITY 1
X
cat >> "$P/datasources/hits.datasource" <<'X'

TAGS "web, landing"
X
cat > "$P/datasources/pages_mv.datasource" <<'X'
SCHEMA >
    `date` Date,
    `pathname` String,
    `visits` AggregateFunction(count),
    `sessions` AggregateFunction(uniq, String),
    `total_duration` AggregateFunction(sum, UInt32)

ENGINE "AggregatingMergeTree"
ENGINE_SORTING_KEY "date, pathname"
X
cat > "$P/datasources/snapshot.datasource" <<'X'
SCHEMA >
    `pathname` String,
    `visits` UInt64,
    `taken_at` DateTime

ENGINE "MergeTree"
ENGINE_SORTING_KEY "pathname"

TOKEN snap_writer APPEND
TOKEN snap_owner CREATE
X
cat > "$P/pipes/top_pages.pipe" <<'X'
NODE merged
SQL >
    %
    SELECT pathname, countMerge(visits) AS visits, uniqMerge(sessions) AS sessions,
           sumMerge(total_duration) AS total_duration
    FROM pages_mv
    GROUP BY pathname

NODE endpoint
SQL >
    %
    SELECT * FROM merged
    WHERE visits >= {{ UInt32(min_visits, 1) }}
    ORDER BY visits DESC, pathname
X
cat > "$P/pipes/top_export.pipe" <<X
NODE export
SQL >
    SELECT pathname, visits FROM top_pages

TYPE sink
EXPORT_BUCKET_URI file://$OUT/
EXPORT_FILE_TEMPLATE top
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
TAGS "exports"
X
cat > "$P/pipes/snap.pipe" <<'X'
NODE s
SQL >
    SELECT pathname, visits, now() AS taken_at FROM top_pages

TYPE COPY
TARGET_DATASOURCE snapshot
COPY_MODE replace
COPY_SCHEDULE @on-demand
X

gen() { # first last: hits as NDJSON
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, b):
    print(json.dumps({"timestamp": "2026-11-%02d %02d:%02d:00" % (1 + i % 3, i % 24, i % 60),
                      "session_id": "s%d" % (i % 37), "pathname": "/p%d" % (i % 7),
                      "duration": i % 100}))
PY
}
gen 0 1000 > "$E2E_TMP/a.ndjson"
gen 1000 2500 > "$E2E_TMP/b.ndjson"

# the reference: ClickHouse's own answer over the landing rows
REF_SQL="SELECT pathname, count() AS visits, uniq(session_id) AS sessions, sum(duration) AS total_duration FROM hits GROUP BY pathname ORDER BY visits DESC, pathname"

# 1. data loaded before the materialized pipe exists: creating it populates
S append hits "$E2E_TMP/a.ndjson" >/dev/null 2>&1
cat > "$P/pipes/pages_mat.pipe" <<'X'
NODE m
SQL >
    SELECT toDate(timestamp) AS date, pathname, countState() AS visits,
           uniqState(session_id) AS sessions, sumState(duration) AS total_duration
    FROM hits
    GROUP BY date, pathname

TYPE MATERIALIZED
DATASOURCE pages_mv
X
out=$(S check 2>&1); expect_contains "check accepts the project" "$out" "ok:"
expect_contains "check warns once of a key with no effect (TAGS)" "$out" \
  "warning: datasources/hits.datasource:"
expect_contains "... saying so" "$out" "TAGS: accepted as Tinybird writes it; no effect in sinkpipe"
expect_eq "... once per key and file" "$(printf '%s\n' "$out" | grep -c 'TAGS: accepted')" "2"
got=$(S sql --format csv "SELECT * FROM top_pages" 2>&1)
want=$(S sql --format csv "$REF_SQL" 2>&1)
expect_eq "a new materialized pipe is populated from the rows already stored" "$got" "$want"

[ -n "$EMBEDDED" ] && expect_eq "INDEXES are created as skipping indexes" \
  "$(S sql --format csv "SELECT name, type, expr FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = 'hits' ORDER BY name" 2>&1)" \
  "$(printf '"name","type","expr"\n"idx_dur","minmax","duration"\n"idx_path","bloom_filter","pathname"')"

# the older form: the pipe's ENGINE keys create its target
cat > "$P/pipes/daily_mat.pipe" <<'X'
NODE d
SQL >
    SELECT toDate(timestamp) AS date, uniqState(session_id) AS sessions
    FROM hits GROUP BY date

TYPE MATERIALIZED
DATASOURCE daily_mv
ENGINE "AggregatingMergeTree"
ENGINE_SORTING_KEY "date"
X
out=$(S check 2>&1); expect_contains "a materialized pipe with ENGINE keys creates its target" "$out" "ok:"
expect_eq "... with the columns of its SQL" \
  "$(S sql --format csv "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'daily_mv' ORDER BY name" 2>&1 | tr '\n' ' ')" \
  '"name","type" "date","Date" "sessions","AggregateFunction(uniq, String)" '
expect_eq "... populated like any new view" \
  "$(S sql --format csv "SELECT uniqMerge(sessions) FROM daily_mv" 2>&1 | tail -1)" \
  "$(S sql --format csv "SELECT uniq(session_id) FROM hits" 2>&1 | tail -1)"

# 2. every later append goes through the view
S append hits "$E2E_TMP/b.ndjson" >/dev/null 2>&1
got=$(S sql --format csv "SELECT * FROM top_pages" 2>&1)
want=$(S sql --format csv "$REF_SQL" 2>&1)
expect_eq "appends after it are aggregated by the view" "$got" "$want"
expect_eq "2500 rows landed" "$(S sql --format csv 'SELECT count() FROM hits' 2>&1 | tail -1)" "2500"

# 3. a sink exporting a pipe read as a table
S run top_export >/dev/null 2>&1
want=$(S sql --format csv "SELECT pathname, visits FROM ($REF_SQL)" 2>&1)
expect_eq "a sink reads another pipe by name" "$(cat "$OUT/top.csv" 2>&1)" "$want"

# 4. copy pipe, replace: the target holds exactly the new snapshot
S run snap --now 2026-12-01T00:00:00Z >/dev/null 2>&1
S run snap --now 2026-12-02T00:00:00Z >"$E2E_TMP/run.out" 2>&1
expect_contains "a copy run reports its rows" "$(cat "$E2E_TMP/run.out")" "7 rows"
got=$(S sql --format csv "SELECT pathname, visits, taken_at FROM snapshot ORDER BY pathname" 2>&1)
want=$(S sql --format csv "SELECT pathname, count() AS visits, toDateTime('2026-12-02 00:00:00') AS taken_at FROM hits GROUP BY pathname ORDER BY pathname" 2>&1)
expect_eq "copy replace: the target is the last snapshot only" "$got" "$want"
# append mode adds a snapshot
sed -i 's/COPY_MODE replace/COPY_MODE append/' "$P/pipes/snap.pipe"
S run snap --now 2026-12-03T00:00:00Z >/dev/null 2>&1
expect_eq "copy append: a second snapshot is added" \
  "$(S sql --format csv 'SELECT count(), uniq(taken_at) FROM snapshot' 2>&1 | tail -1)" "14,2"
[ -n "$EMBEDDED" ] && expect_eq "copies are in tinybird.datasources_ops_log, not sinks_ops_log" \
  "$(S sql --format csv "SELECT (SELECT groupArray(tuple(event_type, datasource_name, result, rows)) FROM tinybird.datasources_ops_log), (SELECT count() FROM tinybird.sinks_ops_log WHERE pipe_name = 'snap')" 2>&1 | tail -1)" \
  "\"[('copy','snapshot','ok',7),('copy','snapshot','ok',7),('copy','snapshot','ok',7)]\",0"
out=$(S run snap --format ndjson 2>&1); st=$?
expect_eq "a copy run refuses sink overrides (status)" "$st" "1"
expect_contains "a copy run refuses sink overrides (message)" "$out" "for sinks"
# copies stage in a load's staging table (<target>__sp_load_…), dropped
# when the copy ends.  Embedded, every open drops leftovers (this `sql`
# too): the daemon's copies are checked through its socket below
[ -z "$EMBEDDED" ] && expect_eq "no staging table is left" \
  "$(S sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND (position(name, '__sp_load_') > 0 OR name LIKE '%sp_copy%')" 2>&1 | tail -1)" "0"

# 6. the daemon: copy jobs through the API
export SINKPIPE_ADMIN_TOKEN=admin-secret-token-1
export SINKPIPE_TOKEN_snap_writer=snap-writer-secret-2
export SINKPIPE_TOKEN_snap_owner=snap-owner-secret-3
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
. "$E2E_ROOT/tests/harness/daemon.sh"
start
http POST "/v0/pipes/snap/copy?from=ts-sdk&x=1" -H "$A"
wait_job "$(jget "$BODY" 'd["id"]' 2>/dev/null)" done
expect_eq "POST /v0/pipes/snap/copy runs a copy job" "$(jget "$BODY" 'd["status"]' 2>/dev/null)" "done"
expect_eq "the job is of kind copy" "$(jget "$BODY" 'd["kind"]' 2>/dev/null)" "copy"
expect_eq "from=ts-sdk (the SDK's attribution) is no pipe parameter" "$(jget "$BODY" 'd["parameters"]' 2>/dev/null)" "{'x': '1'}"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$A" "$URL/v0/pipes/snap/sink")
expect_eq "a copy pipe is not a sink (400)" "$code" "400"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$A" "$URL/v0/pipes/top_export/copy")
expect_eq "a sink pipe is not a copy (400)" "$code" "400"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$A" "$URL/v0/pipes/snap/copy?format=csv")
expect_eq "a copy takes no sink override (400)" "$code" "400"
# endpoints: Tinybird's JSON shape, typed params, q= on top, csv/ndjson
body=$(curl -s -H "$A" "$URL/v0/pipes/top_pages.json?min_visits=300")
expect_eq "endpoint: meta names ClickHouse's types" \
  "$(jget "$body" '[(m["name"], m["type"]) for m in d["meta"]]')" \
  "[('pathname', 'String'), ('visits', 'UInt64'), ('sessions', 'UInt64'), ('total_duration', 'UInt64')]"
want=$(S sql --format csv "SELECT count() FROM ($REF_SQL) WHERE visits >= 300" 2>&1 | tail -1)
expect_eq "endpoint: rows, with the typed parameter applied" "$(jget "$body" 'd["rows"]')" "$want"
expect_eq "endpoint: data rows and rows_before_limit_at_least, statistics" \
  "$(jget "$body" '(len(d["data"]), d["rows_before_limit_at_least"] >= d["rows"], "elapsed" in d["statistics"])')" \
  "($want, True, True)"
got=$(curl -s -H "$A" "$URL/v0/pipes/top_pages.csv")
want=$(S sql --format csv "SELECT * FROM ($REF_SQL) WHERE visits >= 1" 2>&1)
expect_eq "endpoint .csv is ClickHouse's CSVWithNames of the same query" "$got" "$want"
got=$(curl -s -H "$A" "$URL/v0/pipes/top_pages.ndjson?q=SELECT+pathname+FROM+_+ORDER+BY+pathname+LIMIT+2")
expect_eq "endpoint q= runs on top of the pipe (_)" "$got" $'{"pathname":"\\/p0"}\n{"pathname":"\\/p1"}'
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "endpoint: a bad typed param is a 400" "$(http_code -H "$A" "$URL/v0/pipes/top_pages.json?min_visits=x")" "400"
expect_eq "endpoint: a copy pipe is no endpoint (404)" "$(http_code -H "$A" "$URL/v0/pipes/snap.json")" "404"
expect_eq "endpoint: unknown pipe (404)" "$(http_code -H "$A" "$URL/v0/pipes/nope.json")" "404"
expect_eq "endpoint: no token (401/403)" "$(http_code "$URL/v0/pipes/top_pages.json" | sed 's/403/401/')" "401"
body=$(curl -s -H "$A" "$URL/v0/sql?q=SELECT+count()+AS+n+FROM+top_pages")
expect_eq "/v0/sql reads a pipe by name" "$(jget "$body" 'd["data"][0]["n"]')" "7"
# the Datasource API: a multipart upload (as the SDK and curl -F send it)
# is appended through the view; delete and truncate; tokens
before=$(jget "$(curl -s -H "$A" "$URL/v0/sql?q=SELECT+count()+AS+n+FROM+hits")" 'd["data"][0]["n"]')
gen 5000 5100 > "$E2E_TMP/up.ndjson"
body=$(curl -s -H "$A" -F "csv=@$E2E_TMP/up.ndjson" "$URL/v0/datasources?name=hits&mode=append")
expect_eq "POST /v0/datasources appends a multipart file (format from its name)" \
  "$(jget "$body" '(d["successful_rows"], d["quarantined_rows"])')" "(100, 0)"
got=$(jget "$(curl -s -H "$A" "$URL/v0/sql?q=SELECT+countMerge(visits)+AS+n+FROM+pages_mv")" 'd["data"][0]["n"]')
expect_eq "... and the materialized view saw the rows" "$got" "$((before + 100))"
body=$(curl -s -H "$A" -X POST --data-urlencode "delete_condition=pathname = '/p1' AND duration < 50" -d dry_run=true "$URL/v0/datasources/hits/delete")
want=$(S sql --format csv "SELECT count() FROM hits WHERE pathname = '/p1' AND duration < 50" 2>&1 | tail -1)
expect_eq "delete dry_run counts the rows" "$(jget "$body" 'd["rows_to_be_deleted"]')" "$want"
curl -s -H "$A" -X POST --data-urlencode "delete_condition=pathname = '/p1' AND duration < 50" "$URL/v0/datasources/hits/delete" >/dev/null
expect_eq "delete removes exactly those rows" \
  "$(S sql --format csv "SELECT count() FROM hits WHERE pathname = '/p1' AND duration < 50" 2>&1 | tail -1)" "0"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-urlencode "delete_condition=1) OR (1" "$URL/v0/datasources/hits/delete")
expect_eq "a delete condition that is no expression is a 400" "$code" "400"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer nope" "$URL/v0/datasources/hits/truncate")
expect_eq "truncate needs a token" "$code" "401"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_writer" "$URL/v0/datasources/snapshot/truncate")
expect_eq "an APPEND token cannot truncate (403)" "$code" "403"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_owner" "$URL/v0/datasources/hits/truncate")
expect_eq "a CREATE token on another datasource cannot (403)" "$code" "403"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_owner" "$URL/v0/datasources/snapshot/truncate")
expect_eq "a CREATE token truncates its datasource" "$code" "200"
expect_eq "truncate empties the datasource" \
  "$(S sql --format csv "SELECT count() FROM snapshot" 2>&1 | tail -1)" "0"

printf 'pathname,visits,taken_at\n/a,1,2026-12-01 00:00:00\n/b,2,2026-12-01 00:00:00\n/c,x,2026-12-01 00:00:00\n' > "$E2E_TMP/snap.csv"
curl -s -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_owner" -F "csv=@$E2E_TMP/snap.csv" "$URL/v0/datasources?name=snapshot&mode=append" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_writer" -F "csv=@$E2E_TMP/snap.csv" "$URL/v0/datasources?name=snapshot&mode=replace")
expect_eq "an APPEND token cannot replace (403)" "$code" "403"
body=$(curl -s -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_owner" -F "csv=@$E2E_TMP/snap.csv" "$URL/v0/datasources?name=snapshot&mode=replace")
expect_eq "mode=replace answers what it stored" "$(jget "$body" '(d["successful_rows"], d["quarantined_rows"])')" "(2, 1)"
expect_eq "mode=replace leaves exactly the new rows" \
  "$(S sql --format csv "SELECT groupArray(pathname) FROM (SELECT pathname FROM snapshot ORDER BY pathname)" 2>&1 | tail -1)" "\"['/a','/b']\""
# Parquet files (ClickHouse 19+ reads them; the ASan layer's 18.16 server cannot)
if [ -n "$EMBEDDED" ]; then
S sql --format parquet "SELECT concat('/q', toString(number)) AS pathname, number AS visits, toDateTime('2026-12-01 00:00:00') AS taken_at FROM numbers(5)" >"$E2E_TMP/snap.parquet" 2>/dev/null
body=$(curl -s -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_writer" -F "csv=@$E2E_TMP/snap.parquet" "$URL/v0/datasources?name=snapshot&mode=append")
expect_eq "a Parquet file is appended (format from its name, read by ClickHouse)" \
  "$(jget "$body" 'd["successful_rows"]')" "5"
expect_eq "... and stored" "$(S sql --format csv "SELECT count() FROM snapshot" 2>&1 | tail -1)" "7"
head -c 300 "$E2E_TMP/snap.parquet" > "$E2E_TMP/cut.parquet"
code=$(curl -s -o "$E2E_TMP/cut.out" -w '%{http_code}' -H "Authorization: Bearer $SINKPIPE_TOKEN_snap_writer" -F "csv=@$E2E_TMP/cut.parquet" "$URL/v0/datasources?name=snapshot&mode=append")
expect_eq "a broken Parquet file is a 400 ..." "$code" "400"
expect_eq "... that stores nothing" "$(S sql --format csv "SELECT count() FROM snapshot" 2>&1 | tail -1)" "7"
fi
expect_eq "no staging table is left by a replace" \
  "$(S sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%snapshot%' AND name != 'snapshot' AND name != 'snapshot_quarantine'" 2>&1 | tail -1)" "0"

# a CLI beside the daemon goes through its socket, views and all
sed -i 's/FROM hits$/FROM hits WHERE duration < 100000/' "$P/pipes/pages_mat.pipe"
got=$(S sql --format csv "SELECT count() FROM top_pages" 2>&1 | tail -1)
expect_eq "a changed view is applied through the daemon's socket" "$got" "7"
sed -i 's/FROM hits WHERE duration < 100000$/FROM hits/' "$P/pipes/pages_mat.pipe"
stop TERM

# 7. a changed view replaces the old one (no second populate); a removed
#    one is dropped
sed -i 's/FROM hits/FROM hits WHERE duration < 1000/' "$P/pipes/pages_mat.pipe"
S check >/dev/null 2>&1
got=$(S sql --format csv "SELECT countMerge(visits) FROM pages_mv" 2>&1 | tail -1)
expect_eq "a changed view is not populated again" "$got" "2600"
views() { S sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'" 2>&1 | tail -1; }
expect_eq "one view per materialized pipe" "$(views)" "2"
mv "$P/pipes/pages_mat.pipe" "$E2E_TMP/pages_mat.pipe"
S check >/dev/null 2>&1
expect_eq "the view of a removed pipe is dropped" "$(views)" "1"
S append hits "$E2E_TMP/a.ndjson" >/dev/null 2>&1
expect_eq "... and no longer fed" \
  "$(S sql --format csv "SELECT countMerge(visits) FROM pages_mv" 2>&1 | tail -1)" "2600"
mv "$E2E_TMP/pages_mat.pipe" "$P/pipes/pages_mat.pipe"
S check >/dev/null 2>&1
expect_eq "a re-added view is not populated into a target that has rows" \
  "$(S sql --format csv "SELECT countMerge(visits) FROM pages_mv" 2>&1 | tail -1)" "2600"

# 8. mistakes, each named where it is
bad() { # what file content expected-message
  local what=$1 f=$2 msg=$3
  printf '%s\n' "$4" > "$P/pipes/$f"
  out=$(S check 2>&1); st=$?
  rm -f "$P/pipes/$f"
  if [ $st -ne 0 ]; then expect_contains "$what" "$out" "$msg"; else not_ok "$what (accepted)"; fi
}
bad "a view column the target lacks" bad_mv.pipe "bad_mv.pipe:6: SQL: column 'extra' is not a column of datasource 'pages_mv'" \
'NODE m
SQL >
    SELECT toDate(timestamp) AS date, pathname, countState() AS visits, 1 AS extra
    FROM hits GROUP BY date, pathname

TYPE MATERIALIZED
DATASOURCE pages_mv'
bad "a materialized pipe into an unknown datasource" bad_mv.pipe "bad_mv.pipe:6: DATASOURCE: unknown datasource 'nowhere'" \
'NODE m
SQL >
    SELECT pathname FROM hits

TYPE MATERIALIZED
DATASOURCE nowhere'
bad "ENGINE keys on a pipe that is not materialized" bad_eng.pipe "bad_eng.pipe:4: ENGINE: only a materialized pipe takes ENGINE keys" \
'NODE c
SQL >
    SELECT 1
ENGINE "MergeTree"'
bad "ENGINE keys for a target that has a datafile" bad_eng.pipe "bad_eng.pipe:7: ENGINE: datasource 'pages_mv' is defined by its datafile" \
'NODE m
SQL >
    SELECT pathname FROM hits

TYPE MATERIALIZED
DATASOURCE pages_mv
ENGINE "MergeTree"'
bad "a copy pipe with a bad mode" bad_copy.pipe "bad_copy.pipe:7: COPY_MODE: 'merge' is not one of append, replace" \
'NODE c
SQL >
    SELECT pathname FROM hits

TYPE COPY
TARGET_DATASOURCE snapshot
COPY_MODE merge'
cp "$P/datasources/hits.datasource" "$E2E_TMP/hits.ds"
sed -i 's/GRANULARITY 1$/GRANULARITY one/' "$P/datasources/hits.datasource"
out=$(S check 2>&1)
[ -n "$EMBEDDED" ] && expect_contains "a malformed index is named with its line" "$out" "hits.datasource:11: INDEXES: 'idx_dur duration TYPE minmax GRANULARITY one' is not an index"
cp "$E2E_TMP/hits.ds" "$P/datasources/hits.datasource"
printf 'NODE a\nSQL >\n    SELECT * FROM loop_b\n' > "$P/pipes/loop_a.pipe"
printf 'NODE b\nSQL >\n    SELECT * FROM loop_a\n' > "$P/pipes/loop_b.pipe"
out=$(S sql "SELECT * FROM loop_a" 2>&1)
expect_contains "pipes reading each other are named" "$out" "reads itself through other pipes"
rm -f "$P/pipes/loop_a.pipe" "$P/pipes/loop_b.pipe"
if [ -n "$EMBEDDED" ]; then
  bad "a view reaching outside the database" bad_mv.pipe "not allowed" \
'NODE m
SQL >
    SELECT toDate(now()) AS date, line AS pathname FROM file('"'"'/etc/passwd'"'"', '"'"'LineAsString'"'"')

TYPE MATERIALIZED
DATASOURCE pages_mv'
fi
finish
