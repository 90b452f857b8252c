#!/usr/bin/env bash
# Definitions keep their meaning and their location (issue 13): each fault
# the review found, reproduced through the CLI (and the daemon for HTTP):
# key lines indented into a SQL block, a UTF-8 BOM, a too-big datafile, a
# too-deep type, node fan-in past the SQL ceiling, bucket URIs that would
# leave a file:// endpoint, a cron that never fires, a job id used twice,
# a NUL byte in an HTTP parameter, a 45 MB NDJSON value.
. "$(dirname "$0")/lib.sh"
PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
P=$E2E_TMP/proj
EP=$E2E_TMP/endpoint
mkdir -p "$P/datasources" "$P/pipes" "$P/connections" "$EP"
cat > "$P/datasources/events.datasource" <<'X'
SCHEMA >
    `n` Int64 `json:$.n`,
    `s` String `json:$.s`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "n"
X
cat > "$P/connections/loc.connection" <<X
TYPE s3
S3_REGION us-east-1
S3_ACCESS_KEY a
S3_SECRET b
S3_ENDPOINT file://$EP
X
sink() { # sink NAME BUCKET_URI: a valid sink pipe
  printf 'NODE a\nSQL >\n    SELECT n FROM events\n\nTYPE sink\nEXPORT_CONNECTION_NAME loc\nEXPORT_BUCKET_URI %s\nEXPORT_FILE_TEMPLATE out\n' "$2" > "$P/pipes/$1.pipe"
}
# check_fails WHAT FILE WANT: `check` with FILE present fails naming WANT;
# FILE is removed afterwards
check_fails() {
  local out rc
  out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
  if [ $rc -ne 0 ]; then ok "$1: check fails"; else not_ok "$1: check fails"; fi
  expect_contains "$1: the error names file:line" "$out" "$3"
  rm -f "$2"
}

out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "the base project checks" "$rc" 0

# sink keys indented under SQL > would become SQL: refused at their line
cat > "$P/pipes/ind.pipe" <<X
NODE a
SQL >
    SELECT n FROM events
    TYPE sink
    EXPORT_CONNECTION_NAME loc
    EXPORT_BUCKET_URI s3://bkt/x/
X
check_fails "indented sink keys" "$P/pipes/ind.pipe" \
  "pipes/ind.pipe:4: TYPE: key line indented inside the SQL block of line 2"
# ... while SQL at the same place that only looks like keys is accepted
cat > "$P/pipes/sqlish.pipe" <<'X'
NODE a
SQL >
    %
    SELECT
    n AS type,
    s AS token
    FROM events
    {% if defined(x) %} WHERE n = {{ Int64(x) }} {% end %}
X
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "SQL with key-like words checks" "$rc" 0
rm -f "$P/pipes/sqlish.pipe"

# a UTF-8 BOM: accepted, and lines count from the first
printf '\xef\xbb\xbfNODE a\nSQL >\n    SELECT n FROM events\nTYPE sinc\n' > "$P/pipes/bom.pipe"
check_fails "BOM" "$P/pipes/bom.pipe" "pipes/bom.pipe:4: TYPE: unknown pipe type 'sinc'"
printf '\xef\xbb\xbfNODE a\nSQL >\n    SELECT n FROM events\n' > "$P/pipes/bom.pipe"
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "a pipe with a BOM checks" "$rc" 0
rm -f "$P/pipes/bom.pipe"

# a 50 MB line
python3 -c "
import sys
open(sys.argv[1], 'w').write('NODE a\nSQL >\n    SELECT \'' + 'x' * 50000000 + '\' AS s\n')" "$P/pipes/huge.pipe"
check_fails "50 MB line" "$P/pipes/huge.pipe" "pipes/huge.pipe:3: datafile larger than 16 MiB"

# a 5000-deep type
python3 -c "
import sys
t = 'String'
for _ in range(5000): t = 'Array(' + t + ')'
open(sys.argv[1], 'w').write('SCHEMA >\n    a String,\n    b ' + t + '\n')" "$P/datasources/deep.datasource"
check_fails "5000-deep type" "$P/datasources/deep.datasource" \
  "datasources/deep.datasource:3: SCHEMA: column 'b': type nested more than 32 levels deep"

# node fan-in: each node reads the previous one twice
python3 -c "
import sys
s = 'NODE n0\nSQL >\n    SELECT 1 AS x\n\n'
for i in range(1, 40):
    s += 'NODE n%d\nSQL >\n    SELECT a.x AS x FROM n%d AS a JOIN n%d AS b ON a.x = b.x\n\n' % (i, i - 1, i - 1)
s += 'TYPE sink\nEXPORT_CONNECTION_NAME loc\nEXPORT_BUCKET_URI s3://bkt/x/\nEXPORT_FILE_TEMPLATE out\n'
open(sys.argv[1], 'w').write(s)" "$P/pipes/fan.pipe"
out=$("$SINKPIPE" -p "$P" run fan 2>&1)
expect_contains "fan-in: run names file:line and node" "$out" "pipes/fan.pipe:83: SQL: node 'n20'"
check_fails "fan-in" "$P/pipes/fan.pipe" "pipes/fan.pipe:83: SQL: node 'n20'"

# bucket names and prefixes cannot leave the file:// endpoint's folder
for b in 's3://../x/' 's3://bkt/a/../../x/' 's3://Bkt_1/x/' 's3://ab/x/'; do
  sink esc "$b"
  out=$("$SINKPIPE" -p "$P" run esc 2>&1); rc=$?
  expect_eq "bucket URI $b: run fails" "$rc" 1
  check_fails "bucket URI $b" "$P/pipes/esc.pipe" "pipes/esc.pipe:7: EXPORT_BUCKET_URI: '$b'"
done
expect_eq "nothing was written outside the endpoint" "$(ls "$E2E_TMP" | sort | tr '\n' ' ')" "endpoint proj "
sink ok 's3://bkt/a.b-c/'
out=$("$SINKPIPE" -p "$P" run ok 2>&1); rc=$?
expect_eq "a valid bucket runs" "$rc" 0
expect_eq "it writes under the endpoint" "$(cd "$EP" && find . -type f)" "./bkt/a.b-c/out.csv"

# a cron that can never fire
sink feb 's3://bkt/f/'
echo 'EXPORT_SCHEDULE 0 0 30 2 *' >> "$P/pipes/feb.pipe"
check_fails "never-firing cron" "$P/pipes/feb.pipe" \
  "pipes/feb.pipe:9: EXPORT_SCHEDULE: invalid schedule '0 0 30 2 *': position 5: the schedule never fires"

printf 'NODE a\nSQL >\n    SELECT n, s FROM events\n\nTYPE copy\nTARGET_DATASOURCE events\nCOPY_SCHEDULE 0 0 31 4 *\n' > "$P/pipes/cp.pipe"
check_fails "never-firing copy schedule" "$P/pipes/cp.pipe" \
  "pipes/cp.pipe:7: COPY_SCHEDULE: invalid schedule '0 0 31 4 *': position 5: the schedule never fires"

# a job id used twice
out=$("$SINKPIPE" -p "$P" run ok --job-id nightly-1 2>&1); rc=$?
expect_eq "a new job id runs" "$rc" 0
n_before=$(cd "$EP" && find . -type f | wc -l)
out=$("$SINKPIPE" -p "$P" run ok --job-id nightly-1 2>&1); rc=$?
expect_eq "a used job id fails" "$rc" 1
expect_contains "and says so" "$out" "job id 'nightly-1' is already used (a job of pipe 'ok')"
expect_eq "and runs nothing" "$(cd "$EP" && find . -type f | wc -l)" "$n_before"

# NDJSON values as large as CSV ones
python3 -c "
import sys
open(sys.argv[1], 'w').write('{\"n\":1,\"s\":\"' + 'x' * 45000000 + '\"}\n{\"n\":2,\"s\":\"y\"}\n')
open(sys.argv[2], 'w').write('3,\"' + 'z' * 45000000 + '\"\n')" "$E2E_TMP/big.ndjson" "$E2E_TMP/big.csv"
out=$("$SINKPIPE" -p "$P" append events "$E2E_TMP/big.ndjson" 2>&1); rc=$?
expect_eq "a 45 MB NDJSON value loads" "$rc" 0
out=$("$SINKPIPE" -p "$P" append events "$E2E_TMP/big.csv" 2>&1); rc=$?
expect_eq "a 45 MB CSV value loads" "$rc" 0
rm -f "$E2E_TMP/big.ndjson" "$E2E_TMP/big.csv"
got=$("$SINKPIPE" -p "$P" sql --format csv "SELECT n, length(s) AS l FROM events ORDER BY n" 2>&1)
expect_eq "both stored whole" "$got" $'"n","l"\n1,45000000\n2,1\n3,45000000'

# a NUL byte in an HTTP parameter is refused, not cut
LOG=$E2E_TMP/serve.log
"$SINKPIPE" -p "$P" serve --listen 127.0.0.1:0 >"$E2E_TMP/serve.out" 2>"$LOG" &
PID=$!
wait_listening "$LOG" $PID
TOK=$(sed -n 's/^admin //p' "$E2E_TMP/serve.out")
A="Authorization: Bearer $TOK"
http() { # METHOD PATH [curl args] -> CODE BODY
  local m=$1 path=$2; shift 2
  BODY=$(curl -s -o - -w '\n%{http_code}' -X "$m" "$@" "$URL$path")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}
http POST "/v0/pipes/ok/sink?file_template=a%00b" -H "$A"
expect_eq "a NUL in a parameter: 400" "$CODE" 400
expect_contains "naming it" "$BODY" "query parameter 'file_template': a NUL byte (%00) is not allowed"
http POST "/v0/pipes/ok/sink%00x" -H "$A"
expect_eq "a NUL in the path: 400 (the path is not cut to a valid route)" "$CODE" 400
expect_contains "naming it" "$BODY" "the request path: a NUL byte (%00) is not allowed"
http GET "/health%00x"
expect_eq "a NUL in the path of /health: 400" "$CODE" 400
http GET "/v0/sql?q=SELECT%201%00" -H "$A"
expect_eq "a NUL in q: 400" "$CODE" 400
http POST "/v0/sql" -H "$A" -H 'Content-Type: application/x-www-form-urlencoded' --data 'q=SELECT%201%00x'
expect_eq "a NUL in a form q: 400" "$CODE" 400
expect_contains "naming it" "$BODY" "q: a NUL byte is not allowed in the query"
http GET "/v0/sql?q=SELECT%201%20AS%20x" -H "$A"
expect_eq "without a NUL: 200" "$CODE" 200
kill -TERM $PID 2>/dev/null
wait $PID 2>/dev/null
st=$?
PID=
if [ $st -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' "$LOG"; then ok "daemon stopped cleanly"
else not_ok "daemon stopped cleanly (status $st)"; grep -A30 -E 'Sanitizer|runtime error' "$LOG" | head -40; fi
finish
