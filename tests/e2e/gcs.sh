#!/usr/bin/env bash
# gcs: GCS sink pipes end to end against the strict local GCS peer
# (tests/harness/gcs_server.py: JWT-bearer tokens verified with the key's
# public half, bearer tokens on every request, resumable-upload rules,
# fault injection).  Every object is read back with curl (not our code)
# and compared byte for byte with what the same pipe writes to a local
# folder (file://).  Covered: CSV and NDJSON, gzip, partitioned templates,
# one-request uploads and resumable ones (256 KiB chunks), create_new
# (sibling names, and the precondition when another writer wins the name),
# replace, faults on every kind of
# request (5xx, 429, a dropped connection, an answer lost after the
# request took effect) that the run survives, faults it does not survive
# (no object, no session left open), a chunk held past the stall timeout,
# a run interrupted mid-upload (SIGTERM: its session is cancelled), tokens
# revoked early (refreshed),
# a key the token endpoint refuses (a clear error, no secret anywhere),
# `check` of GCS connections; and HMAC keys through GCS's XML API (the S3
# peer with x-goog-if-generation-match) when the S3 peer is available.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/gcs.sh"
NOW=2026-11-25T02:00:00Z
ROWS=20000 # ~3 MiB of CSV: a dozen 256 KiB chunks

if ! gcs_available; then ok "skipped: python3 cryptography, openssl or curl missing"; finish; fi
gcs_start || { not_ok "the GCS peer starts"; finish; }
ok "the GCS peer starts ($GCS_TEST_ENDPOINT)"

# ------------------------------------------------------------ project
P=$E2E_TMP/project
mkdir -p "$P/datasources" "$P/pipes" "$P/connections"
cp "$E2E_ROOT/examples/seed/datasources/events.datasource" "$P/datasources/"
printf 'TYPE gcs\nGCS_SERVICE_ACCOUNT_CREDENTIALS_JSON {{ tb_secret("GCS_KEY") }}\n' \
  >"$P/connections/lake.connection"
GCS_KEY=$(cat "$GCS_TEST_KEY_JSON")
export GCS_KEY
# the endpoint through the environment override, as a deployment would
export SINKPIPE_CONNECTION__lake__GCS_ENDPOINT=$GCS_TEST_ENDPOINT
export SINKPIPE_GCS_CHUNK_SIZE=262144 SINKPIPE_GCS_RETRY_BASE_MS=20 SINKPIPE_GCS_RETRY_CAP_MS=200

GE=$(gen_events_bin) || { not_ok "gen_events builds"; finish; }
"$GE" --rows "$ROWS" --end "$NOW" --days 3 --seed 42 >"$E2E_TMP/events.ndjson"
out=$("$SINKPIPE" -p "$P" append events "$E2E_TMP/events.ndjson" 2>&1)
expect_contains "append loads every row" "$out" "$ROWS rows loaded, 0 quarantined"

REF=$E2E_TMP/ref
show() { cat "$@" 2>/dev/null | sed 's/^/#   /' | head -20; }
# mkpipe NAME LIMIT TEMPLATE FORMAT [COMPRESSION] [STRATEGY]: NAME writes to
# gs://test-bucket/NAME/, its twin NAME_ref the same rows to file://REF/NAME/
# (EXTRA: more key lines for both)
mkpipe() {
  local n=$1 lim=$2 tpl=$3 fmt=$4 comp=${5:-none} strat=${6:-create_new} uri
  for uri in "gs://test-bucket/$n/" "file://$REF/$n/"; do
    printf 'NODE q\nSQL >\n    SELECT * FROM events ORDER BY timestamp, user_id, session_id, event_type, payload, amount, duration LIMIT %s\n\nTYPE sink\nEXPORT_CONNECTION_NAME lake\nEXPORT_BUCKET_URI %s\nEXPORT_FILE_TEMPLATE %s\nEXPORT_FORMAT %s\nEXPORT_COMPRESSION %s\nEXPORT_STRATEGY %s\nEXPORT_SCHEDULE @on-demand\n%s' \
      "$lim" "$uri" "$tpl" "$fmt" "$comp" "$strat" "${EXTRA:-}" >"$P/pipes/$n.pipe"
    n=${1}_ref
  done
}
# run NAME [env...]: 0 when the run succeeds (JSON in $E2E_TMP/NAME.json);
# job ids e2e-NAME, then e2e-NAME.2, ... (a job id is used once)
declare -A NRUN
run() {
  local n=$1; shift
  NRUN[$n]=$(( ${NRUN[$n]:-0} + 1 ))
  local id=e2e-$n
  [ "${NRUN[$n]}" = 1 ] || id=$id.${NRUN[$n]}
  env "$@" "$SINKPIPE" -p "$P" --json run "$n" --now "$NOW" --job-id "$id" \
    >"$E2E_TMP/$n.json" 2>"$E2E_TMP/$n.err"
}
# same NAME KEY: gs://test-bucket/NAME/KEY equals file://REF/NAME/KEY
same() {
  if gcs_get test-bucket "$1/$2" >"$E2E_TMP/got" 2>"$E2E_TMP/got.err"; then
    expect_file_eq "$1: $2 read back with curl equals the local folder's" "$E2E_TMP/got" "$REF/$1/$2"
  else
    not_ok "$1: curl reads $2 back"; show "$E2E_TMP/got.err"
  fi
}
listing() { gcs_list test-bucket "$1/" | sed "s|^$1/||" | sort | tr '\n' ' '; }
ref_listing() { (cd "$REF/$1" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' '); }
# both NAME: the pipe and its twin run; both succeed
both() {
  if run "$1" && run "$1_ref"; then ok "$1: the run succeeds"; else
    not_ok "$1: the run succeeds"; show "$E2E_TMP/$1.err" "$E2E_TMP/$1_ref.err"; return 1; fi
}

# ------------------------------------------------------- fault-free runs
mkpipe small 500 data csv
both small && same small data.csv
expect_eq "small: one object, sent in one multipart request" \
  "$(gcs_log_count upload.multipart 200) $(gcs_log_count upload.resumable)" "1 0"
meta=$(gcs_meta test-bucket small/data.csv)
expect_contains "small: content type" "$meta" '"contentType": "text/csv"'
expect_contains "small: the job id in the object's metadata" "$meta" '"job-id": "e2e-small"'
expect_contains "small: the URI in the run's result" "$(cat "$E2E_TMP/small.json")" \
  'gs://test-bucket/small/data.csv'

mkpipe big "$ROWS" data csv
both big && same big data.csv
n=$(gcs_log_count session.put 308)
[ "$n" -ge 10 ] && ok "big: a resumable upload of $((n + 1)) chunks" ||
  not_ok "big: a resumable upload of many chunks (got $n chunk PUTs)"
expect_eq "big: one session completed" "$(gcs_log_count session.finish 200)" 1

mkpipe nd_gz "$ROWS" data ndjson gzip
both nd_gz && same nd_gz data.ndjson.gz
expect_contains "nd_gz: gzip content encoding" "$(gcs_meta test-bucket nd_gz/data.ndjson.gz)" \
  '"contentEncoding": "gzip"'

# no rows: a static name still makes its (empty) object
mkpipe empty 0 data ndjson
both empty && same empty data.ndjson

mkpipe parts 5000 "{event_type}/day={timestamp, '%Y-%m-%d'}" csv gzip
if both parts; then
  expect_eq "parts: the same objects as the local folder" "$(listing parts)" "$(ref_listing parts)"
  for k in $(ref_listing parts); do same parts "$k"; done
fi

# size-bounded files (EXPORT_MAX_FILE_ROWS, zstd): the same files as the local folder's
EXTRA=$'EXPORT_MAX_FILE_ROWS 7000\n' mkpipe roll "$ROWS" data csv zstd
if both roll; then
  expect_eq "roll: the same objects as the local folder" "$(listing roll)" "$(ref_listing roll)"
  n=0
  for k in $(ref_listing roll); do same roll "$k"; n=$((n + 1)); done
  [ "$n" -ge 3 ] && ok "roll: $n files" || not_ok "roll: 3 files or more (got $n)"
fi

# create_new: a second run never overwrites: data.1.csv
both small && same small data.1.csv
expect_eq "small: create_new wrote a sibling" "$(listing small)" "data.1.csv data.csv "
# a resumable create_new too (the session carries ifGenerationMatch=0)
both big && same big data.1.csv
grep -q '"uploadType": "resumable".*"ifGenerationMatch": "0"\|"ifGenerationMatch": "0".*"uploadType": "resumable"' "$GCS_TEST_LOG" &&
  ok "big: the resumable session was started with ifGenerationMatch=0" ||
  not_ok "big: the resumable session was started with ifGenerationMatch=0"

# replace: the object is overwritten (a new generation), no sibling
mkpipe rep 300 data csv none replace
run rep && run rep_ref || not_ok "rep: first run"
g1=$(gcs_meta test-bucket rep/data.csv | sed -n 's/.*"generation": "\([0-9]*\)".*/\1/p')
run rep || not_ok "rep: second run"
g2=$(gcs_meta test-bucket rep/data.csv | sed -n 's/.*"generation": "\([0-9]*\)".*/\1/p')
expect_eq "rep: one object" "$(listing rep)" "data.csv "
[ -n "$g1" ] && [ -n "$g2" ] && [ "$g1" != "$g2" ] && ok "rep: replaced (generation $g1 -> $g2)" ||
  not_ok "rep: replaced (generations '$g1' '$g2')"
same rep data.csv
mkpipe rep_big "$ROWS" data csv none replace
run rep_big && run rep_big && run rep_big_ref && ok "rep_big: a resumable upload replaces" ||
  not_ok "rep_big: a resumable upload replaces"
same rep_big data.csv

# ------------------------------------------------- faults the run survives
# fault_case NAME LIMIT RULE...: the run succeeds, the fault fired, the
# object equals the local folder's, no session is left open
fault_case() {
  local name=$1 lim=$2; shift 2
  gcs_fault_clear && gcs_fault "$name" "$@" || { not_ok "$name: add the rule"; return; }
  mkpipe "$name" "$lim" data csv
  both "$name"
  local fired
  fired=$(gcs_fault_count "$name")
  [ "${fired:-0}" -ge 1 ] && ok "$name: the fault fired ($fired)" || not_ok "$name: the fault fired (got '$fired')"
  same "$name" data.csv
  expect_eq "$name: no upload session left open" "$(gcs_open_sessions)" 0
}
fault_case f_token_503 500 match=/token action=503
fault_case f_bucket_429 500 "match=GET /storage/v1/b/test-bucket?" action=429 times=2
fault_case f_mp_503 500 match=uploadType=multipart action=503
fault_case f_mp_drop 500 match=uploadType=multipart action=drop
fault_case f_mp_lost 500 match=uploadType=multipart action=drop_after  # created, answer lost
fault_case f_init_429 "$ROWS" match=uploadType=resumable method=POST action=429
fault_case f_chunk_503 "$ROWS" match=upload_id= method=PUT nth=3 action=503 times=2
fault_case f_chunk_drop "$ROWS" match=upload_id= method=PUT nth=2 action=drop
fault_case f_chunk_lost "$ROWS" match=upload_id= method=PUT nth=4 action=drop_after
TOTAL=$(stat -c %s "$REF/big/data.csv") # the last chunk's Content-Range ends in /TOTAL
fault_case f_last_500 "$ROWS" "match=/$TOTAL" method=PUT action=500
f=f_last_lost
gcs_fault_clear && gcs_fault "$f" match=upload_id= method=PUT action=drop_after nth=12 ||
  not_ok "$f: add the rule"
mkpipe "$f" "$ROWS" data csv
both "$f" && same "$f" data.csv
[ "$(gcs_fault_count "$f")" = 1 ] && ok "$f: an answer was lost late in the upload" ||
  not_ok "$f: an answer was lost late in the upload"

# create_new races: another writer creates the name while we upload.  A
# one-request object moves on to the next name; a resumable one is bound to
# its name and fails the run.  The other writer's object is never touched.
gcs_fault_clear && gcs_fault race_mp match=uploadType=multipart action=precreate ||
  not_ok "race_mp: add the rule"
mkpipe race_mp 500 data csv
both race_mp
gcs_get test-bucket race_mp/data.1.csv >"$E2E_TMP/got" 2>/dev/null
expect_file_eq "race_mp: our rows went to data.1.csv" "$E2E_TMP/got" "$REF/race_mp/data.csv"
expect_eq "race_mp: the other writer's object stays" "$(gcs_get test-bucket race_mp/data.csv)" \
  "written by another client"
gcs_fault_clear && gcs_fault race_big "match=/$TOTAL" method=PUT action=precreate ||
  not_ok "race_big: add the rule"
mkpipe race_big "$ROWS" data csv
run race_big && not_ok "race_big: the run fails" || ok "race_big: the run fails"
expect_contains "race_big: it says why" "$(cat "$E2E_TMP/race_big.json")" \
  "object 'race_big/data.csv' appeared while it was being uploaded (create_new never overwrites)"
expect_eq "race_big: the other writer's object stays" "$(gcs_get test-bucket race_big/data.csv)" \
  "written by another client"
expect_eq "race_big: nothing else" "$(listing race_big)" "data.csv "
expect_eq "race_big: no session left open" "$(gcs_open_sessions)" 0

# ------------------------------------------- faults the run does not survive
# fail_case NAME LIMIT RULE...: the run fails with a one-line error naming
# the connection, no object, no session left open
fail_case() {
  local name=$1 lim=$2; shift 2
  gcs_fault_clear && gcs_fault "$name" "$@" times=1000 || { not_ok "$name: add the rule"; return; }
  mkpipe "$name" "$lim" data csv
  if run "$name" SINKPIPE_GCS_MAX_ATTEMPTS=3; then not_ok "$name: the run fails"; else
    ok "$name: the run fails"; fi
  expect_contains "$name: the error names the connection and the object" \
    "$(cat "$E2E_TMP/$name.json")" "connection 'lake': gs://test-bucket/$name/data.csv"
  expect_eq "$name: no object" "$(listing "$name")" ""
  expect_eq "$name: no upload session left open" "$(gcs_open_sessions)" 0
}
fail_case x_mp_503 500 match=uploadType=multipart action=503
fail_case x_chunk_503 "$ROWS" match=upload_id= method=PUT nth=3 action=503
fail_case x_last_503 "$ROWS" "match=/$TOTAL" method=PUT action=503
expect_contains "x_chunk_503: retries are counted in the error" "$(cat "$E2E_TMP/x_chunk_503.json")" \
  "gave up after 3 attempts"
n=$(gcs_log_count session.cancel 499)
[ "$n" -ge 2 ] && ok "the failed resumable uploads were cancelled (DELETE, $n)" ||
  not_ok "the failed resumable uploads were cancelled (got $n)"
# a 403 is not retried
gcs_fault_clear && gcs_fault x_403 match=uploadType=multipart action=403 times=1000 || not_ok "x_403: rule"
mkpipe x_403 10 data csv
run x_403 && not_ok "x_403: the run fails" || ok "x_403: the run fails"
expect_eq "x_403: sent once" "$(gcs_fault_count x_403)" 1
gcs_fault_clear || not_ok "clear the rules"

# a chunk held past the client's stall timeout: sent again, the run succeeds
gcs_fault_clear && gcs_fault f_chunk_stall match=upload_id= method=PUT nth=2 action=delay secs=4 ||
  not_ok "f_chunk_stall: add the rule"
mkpipe f_chunk_stall "$ROWS" data csv
if run f_chunk_stall SINKPIPE_GCS_STALL_MS=1500 && run f_chunk_stall_ref; then
  ok "f_chunk_stall: the run succeeds"; else not_ok "f_chunk_stall: the run succeeds"; show "$E2E_TMP/f_chunk_stall.json"; fi
same f_chunk_stall data.csv
n=$(grep -F '"key": "f_chunk_stall/data.csv"' "$GCS_TEST_LOG" | grep -cF '"range": "bytes */*"')
[ "$n" -ge 1 ] && ok "f_chunk_stall: the client timed out and asked the session ($n)" ||
  not_ok "f_chunk_stall: the client timed out and asked the session"

# run_held NAME SECS: a run of a new pipe NAME in the background whose
# third chunk the server holds SECS seconds; returns once that chunk is held
# (or the run ended, or 60 s passed) -> runpid, c0 (session cancels before)
run_held() {
  local name=$1 deadline
  gcs_fault_clear && gcs_fault "$name" match=upload_id= method=PUT nth=3 action=delay secs="$2" ||
    not_ok "$name: add the rule"
  mkpipe "$name" "$ROWS" data csv
  c0=$(gcs_log_count session.cancel 499)
  SINKPIPE_GCS_STALL_MS=60000 "$SINKPIPE" -p "$P" --json run "$name" --now "$NOW" \
    >"$E2E_TMP/$name.json" 2>"$E2E_TMP/$name.err" &
  runpid=$!
  deadline=$(( $(date +%s) + 60 ))
  while [ "$(gcs_fault_count "$name")" = 0 ] && kill -0 "$runpid" 2>/dev/null &&
        [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.1  # waiting for the third chunk to reach the server, a condition with a deadline
  done
  expect_eq "$name: the third chunk is held while the run goes on" \
    "$(gcs_fault_count "$name") $(kill -0 "$runpid" 2>/dev/null && echo running)" "1 running"
}

# interrupted mid-upload: SIGTERM while a chunk is held; the run fails,
# says so, and ends its session (DELETE): no object, no session left open
run_held held 20
expect_eq "held: its session is open meanwhile" "$(gcs_open_sessions)" 1
kill -TERM "$runpid" 2>/dev/null
if wait "$runpid"; then not_ok "held: the run fails"; show "$E2E_TMP/held.json"
else ok "held: the run fails"; fi
expect_contains "held: it says so" "$(cat "$E2E_TMP/held.json" "$E2E_TMP/held.err")" cancel
expect_eq "held: no object" "$(listing held)" ""
expect_eq "held: the session was cancelled" "$(gcs_log_count session.cancel 499)" "$((c0 + 1))"
expect_eq "held: no session left open" "$(gcs_open_sessions)" 0
gcs_fault_clear || not_ok "clear the rules"

# killed mid-upload (kill -9): the session stays open until the next run,
# which finds it in the dead run's journal and cancels it (DELETE)
run_held killed 30
expect_eq "killed: its session is open when the run dies" "$(gcs_open_sessions)" 1
kill -KILL "$runpid" 2>/dev/null
wait "$runpid" 2>/dev/null
expect_eq "killed: the session outlives the run" "$(gcs_open_sessions)" 1
gcs_fault_clear || not_ok "clear the rules"
run killed && run killed_ref || not_ok "killed: the next run succeeds"
expect_eq "killed: the next run cancelled the dead run's session" \
  "$(gcs_log_count session.cancel 499)" "$((c0 + 1))"
expect_eq "killed: no session left open" "$(gcs_open_sessions)" 0
out=$("$SINKPIPE" -p "$P" jobs 2>&1)
expect_contains "killed: jobs says what was cleaned" "$out" "cancelled the resumable upload session"
case "$out$(cat "$P"/.sinkpipe/ops_log.ndjson 2>/dev/null)" in
  *upload_id=*) not_ok "killed: the session URI is never shown" ;;
  *) ok "killed: the session URI is never shown" ;;
esac
same killed data.csv

# ------------------------------------------------------------ tokens
# tokens revoked after 3 requests: each 401 fetches a new one
gcs_tokens uses=3 || not_ok "set token uses"
t0=$(gcs_log_count token 200)
mkpipe tok "$ROWS" data csv
both tok && same tok data.csv
t1=$(gcs_log_count token 200)
[ $((t1 - t0)) -ge 3 ] && ok "tok: tokens refused early were fetched anew ($((t1 - t0)))" ||
  not_ok "tok: tokens refused early were fetched anew (got $((t1 - t0)))"
[ "$(gcs_log_count unauthorized 401)" -ge 1 ] && ok "tok: the server did refuse a token" ||
  not_ok "tok: the server did refuse a token"
gcs_tokens uses=0 || not_ok "reset token uses"

# a key the token endpoint does not know: a clear error, never a secret
mkpipe wrong 10 data csv
GCS_KEY=$(cat "$GCS_TEST_WRONG_KEY_JSON") run wrong && not_ok "wrong: the run fails" || ok "wrong: the run fails"
err=$(cat "$E2E_TMP/wrong.err" "$E2E_TMP/wrong.json")
expect_contains "wrong: the token endpoint's reason" "$err" "invalid_grant: Invalid JWT Signature."
expect_contains "wrong: names the connection" "$err" "connection 'lake'"
expect_eq "wrong: no object" "$(listing wrong)" ""
# no secret in any output, job record or state file
secret_line=$(sed -n 2p "$GCS_DIR/wrong.pem")
good_line=$(sed -n 2p "$GCS_DIR/key.pem")
if grep -rqaF -e "$secret_line" -e "$good_line" -e "PRIVATE KEY" -e "ya29." -e "eyJhbGciOiJSUzI1NiI" \
     "$E2E_TMP"/*.json "$E2E_TMP"/*.err "$P/.sinkpipe" 2>/dev/null; then
  not_ok "no key, token or assertion in outputs, job records and state"
else
  ok "no key, token or assertion in outputs, job records and state"
fi

# a dry run needs no GCS (the endpoint points at a closed port)
if out=$(SINKPIPE_CONNECTION__lake__GCS_ENDPOINT=http://127.0.0.1:9 \
         "$SINKPIPE" -p "$P" run small --now "$NOW" --dry-run 2>&1); then
  expect_contains "a dry run needs no GCS and names the object" "$out" "gs://test-bucket/small/data.csv"
else
  not_ok "a dry run needs no GCS"; echo "$out" | show
fi

# ------------------------------------------------------------ check
out=$("$SINKPIPE" -p "$P" check 2>&1) && ok "check passes with a good key" ||
  { not_ok "check passes with a good key"; echo "$out" | show; }
out=$(GCS_KEY='{"type":"service_account","client_email":"a@b"}' "$SINKPIPE" -p "$P" check 2>&1) &&
  not_ok "check refuses a key without private_key" ||
  expect_contains "check refuses a key without private_key" "$out" \
    "connections/lake.connection:2: GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: no private_key"
out=$(SINKPIPE_CONNECTION__lake__GCS_ENDPOINT=storage.example "$SINKPIPE" -p "$P" check 2>&1) &&
  not_ok "check refuses a bad GCS_ENDPOINT" ||
  expect_contains "check refuses a bad GCS_ENDPOINT" "$out" \
    "GCS_ENDPOINT 'storage.example': expected http://host[:port] or https://host[:port]"
out=$(SINKPIPE_CONNECTION__lake__GCS_HMAC_ACCESS_ID=GOOG1 "$SINKPIPE" -p "$P" check 2>&1) &&
  not_ok "check refuses two kinds of credentials" ||
  expect_contains "check refuses two kinds of credentials" "$out" \
    "not both"

# ------------------------------------------------------ HMAC (XML API)
. "$E2E_ROOT/tests/harness/s3.sh"
if ! s3_available; then
  ok "skipped: HMAC keys (the S3 peer needs python3, aws and curl)"
  finish
fi
s3_start --bucket hmac-bucket:auto || { not_ok "the S3 peer starts"; finish; }
printf 'TYPE gcs\nGCS_HMAC_ACCESS_ID {{ tb_secret("GCS_ID") }}\nGCS_HMAC_SECRET {{ tb_secret("GCS_SECRET") }}\nGCS_ENDPOINT %s\n' \
  "$S3_TEST_ENDPOINT" >"$P/connections/hmac.connection"
export GCS_ID=$S3_TEST_ACCESS_KEY GCS_SECRET=$S3_TEST_SECRET
printf 'NODE q\nSQL >\n    SELECT * FROM events ORDER BY timestamp, user_id, session_id LIMIT 300\n\nTYPE sink\nEXPORT_CONNECTION_NAME hmac\nEXPORT_BUCKET_URI gs://hmac-bucket/x/\nEXPORT_FILE_TEMPLATE data\nEXPORT_FORMAT csv\nEXPORT_SCHEDULE @on-demand\n' \
  >"$P/pipes/hm.pipe"
if run hm; then ok "hm: the HMAC run succeeds"; else not_ok "hm: the HMAC run succeeds"; show "$E2E_TMP/hm.err"; fi
expect_contains "hm: a gs:// URI in the result" "$(cat "$E2E_TMP/hm.json")" "gs://hmac-bucket/x/data.csv"
run hm || not_ok "hm: second run"
expect_contains "hm: create_new wrote a sibling" "$(cat "$E2E_TMP/hm.json")" "gs://hmac-bucket/x/data.1.csv"
S3_CURL_REGION=auto s3_curl -f -o "$E2E_TMP/hm.a" "$S3_TEST_DIRECT_ENDPOINT/hmac-bucket/x/data.csv" &&
  S3_CURL_REGION=auto s3_curl -f -o "$E2E_TMP/hm.b" "$S3_TEST_DIRECT_ENDPOINT/hmac-bucket/x/data.1.csv" &&
  expect_file_eq "hm: both objects read back (SigV4 curl) are the same rows" "$E2E_TMP/hm.a" "$E2E_TMP/hm.b" ||
  not_ok "hm: curl reads the objects back"
[ "$(head -c 300 "$E2E_TMP/hm.a" | head -1)" = '"timestamp","event_type","user_id","session_id","payload","amount","duration","metadata"' ] &&
  ok "hm: a CSV header" || not_ok "hm: a CSV header"
grep -q '"if_generation_match": true' "$S3_TEST_LOG" && ok "hm: create_new sent x-goog-if-generation-match" ||
  not_ok "hm: create_new sent x-goog-if-generation-match"
case $(cat "$E2E_TMP/hm.json" "$E2E_TMP/hm.err") in
  *"$S3_TEST_SECRET"*) not_ok "hm: the HMAC secret appears nowhere" ;;
  *) ok "hm: the HMAC secret appears nowhere" ;;
esac
finish
