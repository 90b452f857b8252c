#!/usr/bin/env bash
# crash_faults: kill -9 in the middle of runs, then what the next run and
# the next daemon start do about what the killed run left (docs/objects.md,
# "Crash leftovers"; docs/kafka.md, "Delivery guarantee").
#
#   folder  a run killed once its temp file (.x.sinkpipe-<hex>.tmp) exists:
#           the next run of another pipe removes it; a second killed run's
#           temp file is removed by `sinkpipe serve` at start; a rerun writes
#           every row once; `check` lists the pending leftover before, `jobs`
#           shows what was cleaned after
#   s3      a run killed once its multipart upload is open (the harness S3
#           server's ListMultipartUploads): the next run aborts it, 0 open
#           uploads; the same for a daemon start
#   kafka   a transactional run (the default) killed mid-transaction: the
#           next run fences its transactional.id (the journal says so) and
#           the rerun's rows are all there once.  librdkafka's mock cluster
#           keeps no last stable offset and no aborted-transaction list
#           (every read sees every message, read_committed or not), so what
#           a real broker hides from read_committed consumers — the killed
#           run's aborted messages — cannot be shown here: the check counts
#           the rerun's messages by their job_id header.
#
# The slow pipes sleep in ClickHouse (sleepEachRow, 1000-row blocks), so the
# run is still going when the test sees the temp file or upload, whatever
# the machine's speed; every wait polls with a generous deadline.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
. "$E2E_ROOT/tests/harness/kafka.sh"
NOW=2026-11-25T02:00:00Z
N=3000 # rows of the fast reruns
export SINKPIPE_ADMIN_TOKEN=crash-admin-token-1

P=$E2E_TMP/project
OUT=$E2E_TMP/out
mkdir -p "$P/pipes" "$P/connections" "$OUT"

# slow NAME SINKKEYS: 100,000 rows of ~2 KB, 1000 rows a second (rows this
# wide also stream through a ClickHouse server's 1 MiB response buffer,
# for the sanitizer layer; a literal, for its 18.16 has no repeat())
PAD=$(printf 'x%.0s' $(seq 2000))
slow() {
  printf 'NODE q\nSQL >\n    SELECT number AS n, '"'"'%s'"'"' AS pad FROM numbers(100000) WHERE sleepEachRow(0.001) = 0 SETTINGS max_block_size = 1000\n\nTYPE sink\n%s\nEXPORT_SCHEDULE @on-demand\n' \
    "$PAD" "$2" >"$P/pipes/$1.pipe"
}
# fast NAME SINKKEYS: N small rows
fast() {
  printf 'NODE q\nSQL >\n    SELECT number AS n FROM numbers(%s)\n\nTYPE sink\n%s\nEXPORT_SCHEDULE @on-demand\n' \
    "$N" "$2" >"$P/pipes/$1.pipe"
}
RUNPID= RUNS=0
# start_run PIPE: a run in the background, job id e2e-PIPE-<count>
start_run() {
  RUNS=$((RUNS + 1))
  "$SINKPIPE" -p "$P" run "$1" --now "$NOW" --job-id "e2e-$1-$RUNS" >"$E2E_TMP/$1.out" 2>"$E2E_TMP/$1.err" &
  RUNPID=$!
}
trap 'kill -9 $RUNPID $DPID 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
DPID=
# wait_for WHAT CMD...: poll CMD until it succeeds (deadline 120 s) while
# the run is alive
wait_for() {
  local what=$1; shift
  local deadline=$(( $(date +%s) + 120 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if "$@"; then
      kill -0 "$RUNPID" 2>/dev/null && return 0
      break
    fi
    kill -0 "$RUNPID" 2>/dev/null || break
    sleep 0.05
  done
  if ! kill -0 "$RUNPID" 2>/dev/null; then
    not_ok "$what (the run ended first)"; sed 's/^/#   /' "$E2E_TMP"/*.err | tail -5; return 1
  fi
  not_ok "$what (deadline)"; return 1
}
kill_run() { kill -9 "$RUNPID" 2>/dev/null; wait "$RUNPID" 2>/dev/null; RUNPID=; }
tmp_files() { find "$1" -name '.*.sinkpipe-*.tmp' 2>/dev/null | wc -l | tr -d ' '; }
has_tmp() { [ "$(tmp_files "$1")" -gt 0 ]; }
# daemon_start / daemon_stop: `sinkpipe serve` until it listens
daemon_start() {
  : >"$E2E_TMP/serve.log"
  "$SINKPIPE" -p "$P" serve --listen 127.0.0.1:0 >"$E2E_TMP/serve.out" 2>>"$E2E_TMP/serve.log" &
  DPID=$!
  local deadline=$(( $(date +%s) + 60 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    grep -q '^listening on ' "$E2E_TMP/serve.log" && return 0
    kill -0 $DPID 2>/dev/null || break
    sleep 0.1
  done
  not_ok "daemon started"; sed 's/^/#   /' "$E2E_TMP/serve.log" | tail -5; return 1
}
daemon_stop() { kill -TERM $DPID 2>/dev/null; wait $DPID 2>/dev/null; DPID=; }

# ------------------------------------------------------------ folder
slow slowf "EXPORT_BUCKET_URI file://$OUT/f/
EXPORT_FILE_TEMPLATE data
EXPORT_FORMAT csv"
fast fastf "EXPORT_BUCKET_URI file://$OUT/f/
EXPORT_FILE_TEMPLATE data
EXPORT_FORMAT csv
EXPORT_STRATEGY replace"
start_run slowf
if wait_for "the folder run's temp file appears" has_tmp "$OUT/f"; then
  kill_run
  ok "folder run killed with its temp file in place"
  expect_eq "one temp file left by the killed run" "$(tmp_files "$OUT/f")" "1"
  out=$("$SINKPIPE" -p "$P" check 2>&1)
  expect_contains "check lists the pending temp file" "$out" "job e2e-slowf-1 (pipe slowf): temp file $OUT/f/.data.csv.sinkpipe-"
  "$SINKPIPE" -p "$P" run fastf --now "$NOW" --job-id e2e-fastf >/dev/null 2>"$E2E_TMP/fastf.err" ||
    { not_ok "rerun (another pipe, same folder)"; sed 's/^/#   /' "$E2E_TMP/fastf.err"; }
  expect_eq "the next run removed the temp file" "$(tmp_files "$OUT/f")" "0"
  expect_eq "the rerun wrote every row once" "$(tail -n +2 "$OUT/f/data.csv" | sort -n | uniq | wc -l | tr -d ' ') $(tail -n +2 "$OUT/f/data.csv" | wc -l | tr -d ' ')" "$N $N"
  out=$("$SINKPIPE" -p "$P" jobs 2>&1)
  expect_contains "jobs shows what was cleaned of the killed job" "$out" "cleaned: removed temp file $OUT/f/.data.csv.sinkpipe-"
  out=$("$SINKPIPE" -p "$P" check 2>&1)
  expect_contains "check shows the cleanup" "$out" "job e2e-slowf-1 (pipe slowf): removed temp file"
fi
ls "$P/.sinkpipe/journal" 2>/dev/null | grep -q . && not_ok "no journal left once every run ended" ||
  ok "no journal left once every run ended"

# killed again; this time the daemon's start cleans
start_run slowf
if wait_for "the second folder run's temp file appears" has_tmp "$OUT/f"; then
  kill_run
  if daemon_start; then
    expect_eq "the daemon start removed the temp file" "$(tmp_files "$OUT/f")" "0"
    expect_contains "the daemon logs what it cleaned" "$(cat "$E2E_TMP/serve.log")" "removed temp file $OUT/f/.data.csv.sinkpipe-"
    daemon_stop
  fi
fi

# a live run is never touched: in the daemon, a job of another pipe starts
# (and recovers) while the slow job is writing; the slow job's temp file
# stays, and its own cancellation at stop removes it
if daemon_start; then
  ADDR=$(sed -n 's/^listening on //p' "$E2E_TMP/serve.log" | head -1)
  curl -sf -X POST -H "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN" \
    "http://$ADDR/v0/pipes/slowf/sink" >/dev/null || not_ok "trigger slowf"
  RUNPID=$DPID
  if wait_for "the daemon's slow job writes its temp file" has_tmp "$OUT/f"; then
    t=$(find "$OUT/f" -name '.*.sinkpipe-*.tmp')
    curl -sf -X POST -H "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN" \
      "http://$ADDR/v0/pipes/fastf/sink" >/dev/null || not_ok "trigger fastf"
    deadline=$(( $(date +%s) + 120 ))
    until curl -sf -H "Authorization: Bearer $SINKPIPE_ADMIN_TOKEN" \
        "http://$ADDR/v0/jobs?pipe_name=fastf" | grep -q '"status": *"done"' ||
        [ "$(date +%s)" -ge "$deadline" ]; do sleep 0.1; done
    [ -e "$t" ] && ok "a live job's temp file is left alone by another job's recovery" ||
      not_ok "a live job's temp file is left alone by another job's recovery"
  fi
  RUNPID=
  daemon_stop
  expect_eq "the cancelled job removed its own temp file" "$(tmp_files "$OUT/f")" "0"
fi

# ---------------------------------------------------------------- s3
if ! s3_available; then
  not_ok "python3, aws and curl are available for the S3 peer"
else
  s3_start || { not_ok "the S3 server starts"; finish; }
  s3_mb crash || not_ok "bucket crash"
  printf 'TYPE s3\nS3_REGION us-east-1\n' >"$P/connections/s3c.connection"
  export SINKPIPE_CONNECTION__s3c__S3_ENDPOINT=$S3_TEST_ENDPOINT
  export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
  export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
  export SINKPIPE_S3_PART_SIZE=5242880
  slow slows "EXPORT_CONNECTION_NAME s3c
EXPORT_BUCKET_URI s3://crash/s/
EXPORT_FILE_TEMPLATE data
EXPORT_FORMAT csv"
  fast fasts "EXPORT_CONNECTION_NAME s3c
EXPORT_BUCKET_URI s3://crash/s/
EXPORT_FILE_TEMPLATE data
EXPORT_FORMAT csv
EXPORT_STRATEGY replace"
  upload_open() { [ "$(s3_open_uploads crash)" -gt 0 ]; }
  for how in run serve; do
    start_run slows
    wait_for "the S3 run's multipart upload is open ($how)" upload_open || continue
    kill_run
    expect_eq "one upload left open by the killed run ($how)" "$(s3_open_uploads crash)" "1"
    if [ $how = run ]; then
      "$SINKPIPE" -p "$P" run fasts --now "$NOW" --job-id e2e-fasts >/dev/null 2>"$E2E_TMP/fasts.err" ||
        { not_ok "rerun to S3"; sed 's/^/#   /' "$E2E_TMP/fasts.err"; }
      expect_eq "the next run aborted the upload" "$(s3_open_uploads crash)" "0"
      s3_curl -f -o "$E2E_TMP/s3.csv" "$S3_TEST_DIRECT_ENDPOINT/crash/s/data.csv" || not_ok "read back"
      expect_eq "the rerun wrote every row once" "$(tail -n +2 "$E2E_TMP/s3.csv" | sort -n | uniq | wc -l | tr -d ' ')" "$N"
      out=$("$SINKPIPE" -p "$P" jobs 2>&1)
      expect_contains "jobs shows the aborted upload" "$out" "cleaned: aborted multipart upload "
    elif daemon_start; then
      expect_eq "the daemon start aborted the upload" "$(s3_open_uploads crash)" "0"
      daemon_stop
    fi
  done
  s3_stop
fi

# ------------------------------------------------------------- kafka
if ! kafka_available; then
  not_ok "kafka_mock ($(kafka_mock_bin)) and kcat are available"
else
  kafka_start --brokers 1 --topic crashk:1 || { not_ok "kafka_mock starts"; finish; }
  printf 'TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS %s\nKAFKA_SECURITY_PROTOCOL PLAINTEXT\n' \
    "$KAFKA_BOOTSTRAP" >"$P/connections/kc.connection"
  slow slowk "EXPORT_CONNECTION_NAME kc
EXPORT_KAFKA_TOPIC crashk"
  fast slowk_rerun "EXPORT_CONNECTION_NAME kc
EXPORT_KAFKA_TOPIC crashk"
  consume() { timeout 60 kcat -C -b "$KAFKA_BOOTSTRAP" -t crashk -e -q -X isolation.level=read_committed "$@"; }
  in_topic() { [ "$(consume -f '%s\n' 2>/dev/null | wc -l)" -gt 0 ]; }
  start_run slowk
  if wait_for "the Kafka run's messages reach the broker" in_topic; then
    grep -q '"kafka"' "$P"/.sinkpipe/journal/run-*.ndjson 2>/dev/null &&
      ok "the open transaction is journaled" || not_ok "the open transaction is journaled"
    kill_run
    "$SINKPIPE" -p "$P" run slowk_rerun --now "$NOW" --job-id e2e-krerun >/dev/null 2>"$E2E_TMP/kr.err" ||
      { not_ok "Kafka rerun"; sed 's/^/#   /' "$E2E_TMP/kr.err"; }
    out=$("$SINKPIPE" -p "$P" jobs 2>&1)
    expect_contains "the next run fenced the killed run's transactional.id" "$out" \
      "cleaned: fenced transactional.id sinkpipe-slowk"
    got=$(consume -f '%h %s\n' | grep -c '^job_id=e2e-krerun,')
    dup=$(consume -f '%h %s\n' | grep '^job_id=e2e-krerun,' | sort | uniq -d | wc -l | tr -d ' ')
    expect_eq "the rerun's rows, each once (read_committed)" "$got $dup" "$N 0"
  fi
  kafka_stop
fi
ls "$P/.sinkpipe/journal" 2>/dev/null | grep -q . && not_ok "no journal left at the end" ||
  ok "no journal left at the end"
finish
