#!/usr/bin/env bash
# s3_faults: sinkpipe's S3 delivery through the fault-injecting proxy
# (tests/harness/s3_fault_proxy.py) in front of the strict local server.
# 500 InternalError, 503 SlowDown, 403 RequestTimeTooSkewed, connections
# dropped before forwarding / mid-body / after the server answered, and
# stalls longer than the client's timeout, on chosen requests of a single
# PUT and of a multipart upload (CreateMultipartUpload, a part, Complete):
# each run succeeds, every injected fault fired, the final object is byte
# for byte the object of a fault-free run, and no multipart upload is left
# open.  A run that fails for good (a part or Complete refused on every
# attempt, a single PUT refused on every attempt) and a run interrupted
# mid-upload (SIGTERM), or while committing (every row written, a part
# still in flight), leave no object and no open upload.  Through S3_ARN,
# a part held until the role's credentials expired is answered ExpiredToken
# and sent again with the role assumed anew; AssumeRole answered 503 is
# retried, answered 500 for good fails the run with one line.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
NOW=2026-11-25T02:00:00Z
ROWS=${S3_FAULT_ROWS:-90000}   # ~12 MiB of CSV: three 5 MiB parts

if ! s3_available; then not_ok "python3, aws and curl are available for the S3 peer"; finish; fi
# STS credentials live 4 seconds (for the refresh case at the end)
s3_start --proxy --sts-lifetime 4 || { not_ok "the S3 server and the fault proxy start"; finish; }
ok "the S3 server and the fault proxy start (proxy $S3_TEST_ENDPOINT)"
s3_mb faults || not_ok "bucket faults"

# ------------------------------------------------------------ project
P=$E2E_TMP/project
mkdir -p "$P/datasources" "$P/pipes" "$P/connections"
cp "$E2E_ROOT/examples/seed/datasources/events.datasource" "$P/datasources/"
printf 'TYPE s3\nS3_REGION us-east-1\n' >"$P/connections/faulty.connection"
export SINKPIPE_CONNECTION__faulty__S3_ENDPOINT=$S3_TEST_ENDPOINT
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
# small parts and quick retries and timeouts, so that faults cost little time
export SINKPIPE_S3_PART_SIZE=5242880 SINKPIPE_S3_RETRY_BASE_MS=20 SINKPIPE_S3_RETRY_CAP_MS=200
export SINKPIPE_S3_STALL_MS=1500

GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
"$GE" --rows "$ROWS" --end "$NOW" --days 3 --seed 42 >"$E2E_TMP/events.ndjson"
out=$("$SINKPIPE" -p "$P" append events "$E2E_TMP/events.ndjson" 2>&1)
expect_contains "append loads every row" "$out" "$ROWS rows loaded, 0 quarantined"

# pipe NAME LIMIT: every column, a total order, CSV, to s3://faults/NAME/
pipe() {
  printf 'NODE q\nSQL >\n    SELECT * FROM events ORDER BY timestamp, user_id, session_id, event_type, payload, amount, duration LIMIT %s\n\nTYPE sink\nEXPORT_CONNECTION_NAME faulty\nEXPORT_BUCKET_URI s3://faults/%s/\nEXPORT_FILE_TEMPLATE data\nEXPORT_FORMAT csv\nEXPORT_SCHEDULE @on-demand\n' \
    "$2" "$1" >"$P/pipes/$1.pipe"
}
show() { sed 's/^/#   /' "$@" | head -20; }
# run NAME [env...]: 0 when the run succeeds (JSON in $E2E_TMP/NAME.json)
# (in the project copy PROJ[NAME] when there is one)
declare -A PROJ
run() {
  local n=$1; shift
  env "$@" "$SINKPIPE" -p "${PROJ[$n]:-$P}" --json run "$n" --now "$NOW" --job-id "e2e-$n" \
    >"$E2E_TMP/$n.json" 2>"$E2E_TMP/$n.err"
}
# fetch NAME: the object s3://faults/NAME/data.csv, read from the server
# directly (not through the proxy) by a signed curl, into $E2E_TMP/got.NAME
fetch() {
  s3_curl -f -o "$E2E_TMP/got.$1" "$S3_TEST_DIRECT_ENDPOINT/faults/$1/data.csv" 2>"$E2E_TMP/got.$1.err"
}
# objects NAME: how many objects s3://faults/NAME/ holds (ListObjectsV2)
objects() {
  s3_curl -f "$S3_TEST_DIRECT_ENDPOINT/faults?list-type=2&prefix=$1%2F" | grep -o '<Key>' | wc -l | tr -d ' '
}

# ------------------------------------------------------ fault-free runs
pipe clean_small 2000
pipe clean_multi "$ROWS"
run clean_small && ok "fault-free single PUT run" || { not_ok "fault-free single PUT run"; show "$E2E_TMP/clean_small.err"; }
run clean_multi && ok "fault-free multipart run" || { not_ok "fault-free multipart run"; show "$E2E_TMP/clean_multi.err"; }
fetch clean_small || not_ok "read back clean_small"
fetch clean_multi || not_ok "read back clean_multi"
size=$(stat -c %s "$E2E_TMP/got.clean_multi" 2>/dev/null || echo 0)
[ "$size" -gt $((10 * 1024 * 1024)) ] && ok "the multipart object has 3 parts or more ($size bytes)" ||
  not_ok "the multipart object is over 10 MiB (got $size bytes)"
expect_eq "the fault-free runs went through the proxy, no fault" \
  "$(s3_log_count PutObject 200) $(s3_log_count CompleteMultipartUpload 200)" "1 1"

# rule NAME METHOD PATTERN KEY=VALUE...: a rule matching METHOD requests
# for s3://faults/NAME/ whose target then contains PATTERN (a regex)
rule() {
  local name=$1 m=$2 pat=$3; shift 3
  s3_fault "$name" "method=$m" "match=^$m\\s/faults/$name/\\S*$pat" "$@"
}
# case_start NAME small|multi METHOD PATTERN KEY=VALUE...: adds the rule
# and starts a run through it in the background (pid in PID[NAME]); with
# COPY=1 in a copy of the project (the embedded ClickHouse lets one process
# at a time open a project's .sinkpipe/clickhouse: runs side by side need
# their own)
declare -A PID KIND ST
case_start() {
  local name=$1 kind=$2; shift 2
  KIND[$name]=$kind
  pipe "$name" "$([ "$kind" = multi ] && echo "$ROWS" || echo 2000)"
  if [ "${COPY:-0}" = 1 ]; then
    cp -r "$P" "$E2E_TMP/p_$name" && PROJ[$name]=$E2E_TMP/p_$name
    # on a ClickHouse server with a database per project folder (the ASan
    # layer: SINKPIPE_CLICKHOUSE_DATABASE='{project}') the copy's database
    # starts empty: load the same rows into it
    if [ "$("$SINKPIPE" -p "${PROJ[$name]}" sql --format csv "SELECT count() AS c FROM events" 2>&1 | tail -1)" = 0 ] &&
       ! "$SINKPIPE" -p "${PROJ[$name]}" append events "$E2E_TMP/events.ndjson" >/dev/null 2>&1; then
      not_ok "$name: load the rows into the project copy"
    fi
  fi
  rule "$name" "$@" || not_ok "$name: add the rule"
  run "$name" &
  PID[$name]=$!
}
# case_check NAME: the run succeeded, the fault fired, the client sent the
# request again, the object equals the fault-free one, no upload is open
case_check() {
  local name=$1 clean=clean_small
  [ "${KIND[$name]}" = multi ] && clean=clean_multi
  [ -n "${ST[$name]:-}" ] || { wait "${PID[$name]}"; ST[$name]=$?; }
  if [ "${ST[$name]}" = 0 ]; then ok "$name: the run succeeds"; else
    not_ok "$name: the run succeeds"; show "$E2E_TMP/$name.json" "$E2E_TMP/$name.err"; fi
  local fired
  fired=$(s3_fault_count "$name")
  [ "${fired:-0}" -ge 1 ] && ok "$name: the fault fired ($fired)" || not_ok "$name: the fault fired (got '$fired')"
  local seen
  seen=$(s3_fault_seen "$name")
  [ "${seen:-0}" -gt "${fired:-0}" ] && ok "$name: the client sent the request again ($seen)" ||
    not_ok "$name: the client sent the request again (seen '$seen', fired '$fired')"
  if fetch "$name"; then
    expect_file_eq "$name: the object is byte for byte the fault-free one" "$E2E_TMP/got.$name" "$E2E_TMP/got.$clean"
  else
    not_ok "$name: aws reads the object back"; show "$E2E_TMP/got.$name.err"
  fi
  expect_eq "$name: no multipart upload left open" "$(s3_open_uploads faults)" 0
}
# case_ok NAME small|multi METHOD PATTERN KEY=VALUE...: one case alone
case_ok() { s3_fault_clear || not_ok "clear the rules"; case_start "$@"; case_check "$1"; }

# ---------------------------------------------------------- single PUT
case_ok put_500 small PUT '' action=500
case_ok put_503x3 small PUT '' action=503 times=3
case_ok put_skew small PUT '' action=skew
case_ok put_drop small PUT '' action=drop
case_ok put_drop_body small PUT '' action=drop-body
case_ok put_drop_after small PUT '' action=drop-after         # the PUT took effect
case_ok put_drop_response small PUT '' action=drop-response
case_ok head_500 small HEAD '' action=500 times=2

# ----------------------------------------------------------- multipart
case_ok mp_create_503 multi POST '[?]uploads' action=503 times=2
case_ok mp_part2_500 multi PUT partNumber=2 action=500 times=2
case_ok mp_part1_drop_body multi PUT partNumber=1 action=drop-body
case_ok mp_part3_skew multi PUT partNumber=3 action=skew
case_ok mp_part2_drop_after multi PUT partNumber=2 action=drop-after
case_ok mp_complete_500 multi POST uploadId= action=500
case_ok mp_complete_drop_after multi POST uploadId= action=drop-after   # completed, answer lost

# stalls, side by side: no byte moves for longer than the client's timeout
# (SINKPIPE_S3_STALL_MS 1500, checked on the byte counters by a progress
# callback: a 4 s stall is noticed after 1.5-2.5 s and the request sent
# again while the proxy still holds the first one)
s3_fault_clear || not_ok "clear the rules"
COPY=1 case_start put_stall small PUT '' action=stall secs=4
COPY=1 case_start mp_part1_stall multi PUT partNumber=1 action=stall secs=4
COPY=1 case_start mp_complete_stall multi POST uploadId= action=stall-response secs=4
for c in put_stall mp_part1_stall mp_complete_stall; do wait "${PID[$c]}"; ST[$c]=$?; done
for c in put_stall mp_part1_stall mp_complete_stall; do case_check "$c"; done

# ------------------------------------------------------ failing for good
# fail_case NAME KIND RULE...: the run fails, the rule fired, no object,
# no open upload
fail_case() {
  local name=$1 kind=$2; shift 2
  pipe "$name" "$([ "$kind" = multi ] && echo "$ROWS" || echo 2000)"
  s3_fault_clear && rule "$name" "$@" times=0 || { not_ok "$name: add the rule"; return; }
  if run "$name" SINKPIPE_S3_MAX_ATTEMPTS=3; then
    not_ok "$name: the run fails"
  else
    ok "$name: the run fails"
  fi
  expect_contains "$name: the error names the connection" "$(cat "$E2E_TMP/$name.err" "$E2E_TMP/$name.json" 2>/dev/null)" \
    "connection 'faulty'"
  local fired
  fired=$(s3_fault_count "$name")
  [ "${fired:-0}" -ge 3 ] && ok "$name: every attempt was refused ($fired)" ||
    not_ok "$name: every attempt was refused (got '$fired')"
  expect_eq "$name: no object" "$(objects "$name")" 0
  expect_eq "$name: no multipart upload left open" "$(s3_open_uploads faults)" 0
}
fail_case fail_put small PUT '' action=503
fail_case fail_part multi PUT partNumber=2 action=500
fail_case fail_complete multi POST uploadId= action=500

# ------------------------------------------------- interrupted mid-upload
# one upload thread, one part in flight: part 1 stalls for long (the
# client's timeout is raised above it), so the query waits to hand over
# part 2; once part 1 reached the proxy the run gets SIGTERM: it must fail
# and abort the upload
pipe interrupted "$ROWS"
s3_fault_clear && rule interrupted PUT partNumber=1 action=stall secs=6 || not_ok "interrupted: add the rule"
aborts=$(s3_log_count AbortMultipartUpload 204)
SINKPIPE_S3_STALL_MS=60000 SINKPIPE_S3_THREADS=1 SINKPIPE_S3_MAX_INFLIGHT=1 \
  "$SINKPIPE" -p "$P" --json run interrupted --now "$NOW" \
  >"$E2E_TMP/interrupted.json" 2>"$E2E_TMP/interrupted.err" &
runpid=$!
deadline=$(( $(date +%s) + 60 ))
while [ "$(s3_fault_seen interrupted)" = 0 ] && kill -0 "$runpid" 2>/dev/null &&
      [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.1  # waiting for part 2 to reach the proxy, a condition with a deadline
done
expect_eq "interrupted: part 1 reached the proxy while the run was going" \
  "$(s3_fault_seen interrupted) $(kill -0 "$runpid" 2>/dev/null && echo running)" "1 running"
expect_eq "interrupted: the upload is open meanwhile" "$(s3_open_uploads faults)" 1
kill -TERM "$runpid" 2>/dev/null
if wait "$runpid"; then not_ok "interrupted: the run fails"; show "$E2E_TMP/interrupted.json"
else ok "interrupted: the run fails"; fi
expect_contains "interrupted: it says so" "$(cat "$E2E_TMP/interrupted.json" "$E2E_TMP/interrupted.err")" cancel
expect_eq "interrupted: no object" "$(objects interrupted)" 0
expect_eq "interrupted: the multipart upload was aborted" "$(s3_open_uploads faults)" 0
expect_eq "interrupted: AbortMultipartUpload was sent" "$(s3_log_count AbortMultipartUpload 204)" "$((aborts + 1))"

# ------------------------------------------- cancelled during the commit
# every row written, the last part sent, part 2 still held by the proxy
# (6 s): the sink is committing, waiting for part 2.  SIGTERM then must
# still fail the run: the part's transfer is stopped, the upload aborted,
# no object
pipe cancel_commit "$ROWS"
s3_fault_clear && rule cancel_commit PUT partNumber=2 action=stall secs=6 ||
  not_ok "cancel_commit: add the rule"
parts=$(s3_log_count UploadPart 200)
"$SINKPIPE" -p "$P" --json run cancel_commit --now "$NOW" --job-id e2e-cancel_commit \
  >"$E2E_TMP/cancel_commit.json" 2>"$E2E_TMP/cancel_commit.err" &
runpid=$!
deadline=$(( $(date +%s) + 60 ))
# parts 1 and 3 answered (part 3 is only sent by the commit) while part 2
# is held: a condition with a deadline
while { [ "$(s3_fault_seen cancel_commit)" = 0 ] || [ "$(s3_log_count UploadPart 200)" -lt $((parts + 2)) ]; } &&
      kill -0 "$runpid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.1
done
expect_eq "cancel_commit: parts 1 and 3 uploaded, part 2 held, the run committing" \
  "$(s3_fault_seen cancel_commit) $(( $(s3_log_count UploadPart 200) - parts )) $(kill -0 "$runpid" 2>/dev/null && echo running)" \
  "1 2 running"
kill -TERM "$runpid" 2>/dev/null
if wait "$runpid"; then not_ok "cancel_commit: the run fails"; show "$E2E_TMP/cancel_commit.json"
else ok "cancel_commit: the run fails"; fi
expect_contains "cancel_commit: it says so" "$(cat "$E2E_TMP/cancel_commit.json" "$E2E_TMP/cancel_commit.err")" cancel
expect_eq "cancel_commit: no object" "$(objects cancel_commit)" 0
expect_eq "cancel_commit: the multipart upload was aborted" "$(s3_open_uploads faults)" 0

# ------------------------------------ many small objects commit side by side
# 24 single-PUT objects (round-robin {24}); the first one's PUT is held 6 s
# by the proxy: the others are committed meanwhile on the other upload
# threads (one after the other they would all wait behind it), and the run
# lists exactly the 24 objects
printf 'NODE q\nSQL >\n    SELECT * FROM events ORDER BY timestamp, user_id, session_id, event_type, payload, amount, duration LIMIT 2400\n\nTYPE sink\nEXPORT_CONNECTION_NAME faulty\nEXPORT_BUCKET_URI s3://faults/many/\nEXPORT_FILE_TEMPLATE part_{24}\nEXPORT_FORMAT csv\nEXPORT_SCHEDULE @on-demand\n' \
  >"$P/pipes/many.pipe"
s3_fault_clear && rule many PUT 'part_0[.]csv' action=stall secs=6 || not_ok "many: add the rule"
puts=$(s3_log_count PutObject 200)
run many SINKPIPE_S3_STALL_MS=60000 &
runpid=$!
deadline=$(( $(date +%s) + 60 ))
# a condition with a deadline: the first PUT held, 12 others answered
while { [ "$(s3_fault_seen many)" = 0 ] || [ "$(s3_log_count PutObject 200)" -lt $((puts + 12)) ]; } &&
      kill -0 "$runpid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.1
done
n=$(( $(s3_log_count PutObject 200) - puts ))
expect_eq "many: other objects were committed while the first one's PUT was held" \
  "$(s3_fault_seen many) $([ "$n" -ge 12 ] && echo committed) $(kill -0 "$runpid" 2>/dev/null && echo running)" \
  "1 committed running"
if wait "$runpid"; then ok "many: the run succeeds"; else
  not_ok "many: the run succeeds"; show "$E2E_TMP/many.json" "$E2E_TMP/many.err"; fi
expect_eq "many: 24 objects" "$(objects many)" 24
expect_eq "many: the run lists the 24 objects" "$(grep -o '"path":"s3://faults/many/part_[0-9]*[.]csv"' "$E2E_TMP/many.json" | sort -u | wc -l | tr -d ' ')" 24
expect_eq "many: 2400 rows written" "$(grep -o '"written_rows":[0-9]*' "$E2E_TMP/many.json")" '"written_rows":2400'

# ------------------------------------- temporary credentials expire mid-run
# through S3_ARN: the role's credentials live 4 s (s3_start --sts-lifetime),
# part 2 is held 8 s by the proxy, so it reaches the server signed with
# expired credentials (400 ExpiredToken): the client must assume the role
# again and send it once more
printf 'TYPE s3\nS3_REGION us-east-1\nS3_ARN %s\n' "$S3_TEST_ROLE_ARN" >"$P/connections/roled.connection"
sed 's/EXPORT_CONNECTION_NAME faulty/EXPORT_CONNECTION_NAME roled/; s|s3://faults/clean_multi/|s3://faults/refresh/|' \
  "$P/pipes/clean_multi.pipe" >"$P/pipes/refresh.pipe"
s3_fault_clear && rule refresh PUT partNumber=2 action=stall secs=8 || not_ok "refresh: add the rule"
roles=$(s3_log_count sts:AssumeRole 200)
if run refresh SINKPIPE_CONNECTION__roled__S3_ENDPOINT="$S3_TEST_ENDPOINT" \
     SINKPIPE_CONNECTION__roled__S3_STS_ENDPOINT="$S3_TEST_STS_ENDPOINT" \
     SINKPIPE_S3_REFRESH_MARGIN_S=1 SINKPIPE_S3_STALL_MS=60000; then
  ok "refresh: the run succeeds"
else
  not_ok "refresh: the run succeeds"; show "$E2E_TMP/refresh.json" "$E2E_TMP/refresh.err"
fi
n=$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("code") == "ExpiredToken"))' "$S3_TEST_LOG")
[ "$n" -ge 1 ] && ok "refresh: the stalled part reached the server with expired credentials ($n)" ||
  not_ok "refresh: the stalled part reached the server with expired credentials (ExpiredToken answers: $n)"
n=$(s3_log_count sts:AssumeRole 200)
[ "$n" -ge $((roles + 2)) ] && ok "refresh: the role was assumed again ($((n - roles)) times)" ||
  not_ok "refresh: the role was assumed again (got $((n - roles)))"
s3_curl -f -o "$E2E_TMP/got.refresh" "$S3_TEST_DIRECT_ENDPOINT/faults/refresh/data.csv" ||
  not_ok "refresh: read the object back"
expect_file_eq "refresh: the object is byte for byte the fault-free one" "$E2E_TMP/got.refresh" "$E2E_TMP/got.clean_multi"
expect_eq "refresh: no multipart upload left open" "$(s3_open_uploads faults)" 0

# ------------------------------------------------------------ STS faults
# AssumeRole through the STS proxy: two 503s are retried; 500 on every
# attempt fails the run with one line naming the connection, no object
sed 's|s3://faults/clean_small/|s3://faults/sts_retry/|; s/EXPORT_CONNECTION_NAME faulty/EXPORT_CONNECTION_NAME roled/' \
  "$P/pipes/clean_small.pipe" >"$P/pipes/sts_retry.pipe"
sed 's|s3://faults/clean_small/|s3://faults/sts_fail/|; s/EXPORT_CONNECTION_NAME faulty/EXPORT_CONNECTION_NAME roled/' \
  "$P/pipes/clean_small.pipe" >"$P/pipes/sts_fail.pipe"
roled_env=(SINKPIPE_CONNECTION__roled__S3_ENDPOINT="$S3_TEST_DIRECT_ENDPOINT"
           SINKPIPE_CONNECTION__roled__S3_STS_ENDPOINT="$S3_TEST_STS_PROXY_ENDPOINT"
           SINKPIPE_S3_REFRESH_MARGIN_S=1)
s3_sts_fault sts503 method=POST action=503 times=2 || not_ok "sts_retry: add the rule"
if run sts_retry "${roled_env[@]}"; then ok "sts_retry: the run succeeds"; else
  not_ok "sts_retry: the run succeeds"; show "$E2E_TMP/sts_retry.json" "$E2E_TMP/sts_retry.err"; fi
n=$(s3_sts_fault_seen sts503)
expect_eq "sts_retry: two 503s fired, then AssumeRole went through" \
  "$(s3_sts_fault_count sts503) $([ "${n:-0}" -ge 3 ] && echo retried)" "2 retried"
s3_curl -f -o "$E2E_TMP/got.sts_retry" "$S3_TEST_DIRECT_ENDPOINT/faults/sts_retry/data.csv" ||
  not_ok "sts_retry: read the object back"
expect_file_eq "sts_retry: the object is byte for byte the fault-free one" "$E2E_TMP/got.sts_retry" "$E2E_TMP/got.clean_small"
s3_sts_fault_clear && s3_sts_fault sts500 method=POST action=500 times=0 || not_ok "sts_fail: add the rule"
if run sts_fail "${roled_env[@]}" SINKPIPE_S3_MAX_ATTEMPTS=3; then not_ok "sts_fail: the run fails"; else
  ok "sts_fail: the run fails"; fi
expect_contains "sts_fail: one line naming the connection and the role" "$(cat "$E2E_TMP/sts_fail.json" "$E2E_TMP/sts_fail.err")" \
  "connection 'roled': AssumeRole '$S3_TEST_ROLE_ARN': InternalError"
expect_eq "sts_fail: every attempt was refused" "$(s3_sts_fault_count sts500)" 3
expect_eq "sts_fail: no object" "$(objects sts_fail)" 0
finish
