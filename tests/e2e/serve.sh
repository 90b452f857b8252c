#!/usr/bin/env bash
# End-to-end tests of `sinkpipe serve`: the daemon on a free port (it binds
# port 0 and prints the address), driven with curl.  Scheduled fires on the
# test clock (SINKPIPE_SERVE_FAKE_NOW + SINKPIPE_SERVE_CLOCK_SPEED), @once,
# on-demand runs with params and overrides into a file:// bucket, cancel,
# concurrent triggers of one pipe, tokens (401/403), malformed and oversized
# requests (400/413), unknown pipe (404), events, sql, metrics, SIGHUP
# reload, a kill -9 during a run (the job becomes error "interrupted"), the
# ops log through `sinkpipe sql`, graceful SIGTERM.  Every wait polls a
# condition with a deadline.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/datasources" "$P/pipes" "$OUT"
export SINKPIPE_ADMIN_TOKEN=admin-secret-token-1
export SINKPIPE_TOKEN_reader=reader-secret-2
export SINKPIPE_TOKEN_appender=appender-secret-3
export SINKPIPE_TOKEN_ops=ops-secret-4
export SINKPIPE_SERVE_FAKE_NOW=2026-11-25T00:59:50Z
export SINKPIPE_SERVE_CLOCK_SPEED=10
export SINKPIPE_SERVE_MAX_BODY=100000
export SINKPIPE_SERVE_GRACE=1
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"

cat > "$P/datasources/events.datasource" <<'X'
SCHEMA >
    `timestamp` DateTime `json:$.timestamp`,
    `event_type` String `json:$.type`,
    `n` Int64 `json:$.n`

TOKEN appender APPEND
X
cat > "$P/pipes/by_type.pipe" <<X
NODE export
SQL >
    %
    SELECT event_type, count() AS c, sum(n) AS total
    FROM events
    {% if defined(kind) %} WHERE event_type = {{ String(kind) }} {% end %}
    GROUP BY event_type
    ORDER BY event_type

TYPE sink
EXPORT_BUCKET_URI file://$OUT/by_type/
EXPORT_FILE_TEMPLATE types_{kind}
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
TOKEN reader READ
TOKEN ops OVERRIDE
X
cat > "$P/pipes/nightly.pipe" <<X
NODE n
SQL >
    SELECT count() AS c, now() AS at FROM events

TYPE sink
EXPORT_BUCKET_URI file://$OUT/nightly/
EXPORT_FILE_TEMPLATE nightly_{date}_{time}
EXPORT_SCHEDULE 0 1 * * *
EXPORT_FORMAT ndjson
X
cat > "$P/pipes/first.pipe" <<X
NODE n
SQL >
    SELECT 1 AS one

TYPE sink
EXPORT_BUCKET_URI file://$OUT/once/
EXPORT_FILE_TEMPLATE once
EXPORT_SCHEDULE @once
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
X
cat > "$P/pipes/slow.pipe" <<X
NODE n
SQL >
    SELECT sum(number % 7) AS s FROM numbers(100000000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/slow/
EXPORT_FILE_TEMPLATE slow
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X

. "$E2E_ROOT/tests/harness/daemon.sh"

start
expect_contains "prints its address" "$ADDR" "127.0.0.1:"

# --- health, tokens
http GET /health
expect_eq "health needs no token" "$CODE" 200
http GET /v0/jobs
expect_eq "no token: 401" "$CODE" 401
expect_contains "401 is JSON" "$BODY" '"error"'
http GET /v0/jobs -H "Authorization: Bearer wrong"
expect_eq "wrong token: 401" "$CODE" 401
http GET "/v0/jobs?token=$SINKPIPE_ADMIN_TOKEN"
expect_eq "?token= works" "$CODE" 200
http POST /v0/pipes/slow/sink -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token of another pipe: 403" "$CODE" 403
http POST "/v0/events?name=events" -H "Authorization: Bearer $SINKPIPE_TOKEN_reader" --data-binary '{}'
expect_eq "READ token cannot append: 403" "$CODE" 403
http GET /v0/sql?q=SELECT+1 -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token cannot query: 403" "$CODE" 403

# --- events
printf '%s\n' '{"timestamp":"2026-11-24 10:00:00","type":"click","n":1}' \
  '{"timestamp":"2026-11-24 11:00:00","type":"view","n":2}' \
  '{"timestamp":"2026-11-24 12:00:00","type":"click","n":3}' \
  '{"timestamp":"not a time","type":"click","n":4}' > "$E2E_TMP/ev.ndjson"
http POST "/v0/events?name=events&wait=true" -H "Authorization: Bearer $SINKPIPE_TOKEN_appender" --data-binary @"$E2E_TMP/ev.ndjson"
expect_eq "events: 200" "$CODE" 200
expect_eq "events: counts" "$(jget "$BODY" 'd["successful_rows"], d["quarantined_rows"]')" "(3, 1)"
http POST "/v0/events?name=nope" -H "$A" --data-binary '{}'
expect_eq "events into an unknown datasource: 404" "$CODE" 404
head -c 200000 /dev/zero | tr '\0' 'x' > "$E2E_TMP/big"
http POST "/v0/events?name=events" -H "$A" --data-binary @"$E2E_TMP/big"
expect_eq "oversized body: 413" "$CODE" 413

# --- sql
http GET "/v0/sql?q=SELECT+event_type,+sum(n)+AS+t+FROM+events+GROUP+BY+event_type+ORDER+BY+event_type" -H "$A"
expect_eq "GET sql: 200" "$CODE" 200
expect_eq "GET sql: data" "$(jget "$BODY" '[r["t"] for r in d["data"]], d["rows"], [m["name"] for m in d["meta"]]')" "([4, 2], 2, ['event_type', 't'])"
http POST /v0/sql -H "$A" --data-binary 'SELECT count() AS c FROM events'
expect_eq "POST sql" "$(jget "$BODY" 'd["data"][0]["c"]')" "3"
http POST /v0/sql -H "$A" --data-urlencode 'q=SELECT count() + 1 AS c FROM events WHERE event_type = '"'click'"
expect_eq "POST sql as a URL-encoded form" "$(jget "$BODY" 'd["data"][0]["c"]')" "3"
http POST /v0/sql -H "$A" --data-binary 'SELEC nonsense'
expect_eq "bad sql: 400" "$CODE" 400
http POST /v0/sql -H "$A"
expect_eq "empty sql body: 400" "$CODE" 400
http POST "/v0/events" -H "$A" --data-binary '{}'
expect_eq "events without a datasource name: 400" "$CODE" 400
http GET "/v0/jobs?created_after=yesterday" -H "$A"
expect_eq "malformed filter: 400" "$CODE" 400

# --- scheduled fire on the test clock (01:00 of 2026-11-25) and @once
for _ in $(seq 1 300); do
  ls "$OUT/nightly/" 2>/dev/null | grep -q . && ls "$OUT/once/" 2>/dev/null | grep -q . && break
  sleep 0.1
done
expect_eq "cron pipe fired at its slot" "$(ls "$OUT/nightly/" 2>/dev/null)" "nightly_2026-11-25_010000.ndjson"
expect_contains "logical time is the slot" "$(cat "$OUT/nightly/"* 2>/dev/null)" '"at":"2026-11-25 01:00:00"'
expect_eq "@once ran" "$(ls "$OUT/once/" 2>/dev/null)" "once.csv"
http GET "/v0/jobs?pipe_name=nightly" -H "$A"
expect_eq "scheduled job listed" "$(jget "$BODY" 'd["jobs"][0]["trigger"], d["jobs"][0]["logical_time"]')" "('schedule', '2026-11-25 01:00:00')"

# --- on-demand run with params and overrides (READ: params only; OVERRIDE: overrides)
http POST "/v0/pipes/by_type/sink?kind=click&format=ndjson&compression=gzip" -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token overriding the sink: 403" "$CODE $(jget "$BODY" '"OVERRIDE scope" in d["error"]')" "403 True"
http POST "/v0/pipes/by_type/sink?kind=click&format=ndjson&compression=gzip" -H "Authorization: Bearer $SINKPIPE_TOKEN_ops"
expect_eq "trigger: 200" "$CODE" 200
ID=$(jget "$BODY" 'd["id"]')
expect_eq "trigger answers the job" "$(jget "$BODY" 'd["kind"], d["pipe"]["name"], d["status"] in ("waiting","working","done"), d["job_url"].endswith("/v0/jobs/" + d["id"]), d["job"]["id"] == d["id"]')" "('sink', 'by_type', True, True, True)"
wait_job "$ID" done && ok "on-demand job done" || not_ok "on-demand job done"
expect_eq "params and overrides applied" "$(zcat "$OUT/by_type/types_click.ndjson.gz" 2>/dev/null)" '{"event_type":"click","c":2,"total":4}'
http GET "/v0/jobs/$ID" -H "$A"
expect_eq "job statistics and output" "$(jget "$BODY" 'd["statistics"]["written_rows"], d["output"][0]["path"].endswith("types_click.ndjson.gz"), d["parameters"], d["options"], d["token_name"]')" "(1, True, {'kind': 'click'}, {'format': 'ndjson', 'compression': 'gzip'}, 'ops')"
http POST "/v0/pipes/by_type/sink?format=xml" -H "$A"
expect_eq "bad override: 400" "$CODE" 400
http POST "/v0/pipes/by_type/sink?kind=view&compression=gz&write_strategy=new" -H "$A"
ID2=$(jget "$BODY" 'd["id"]')
wait_job "$ID2" done && ok "Tinybird's gz/new spellings" || not_ok "Tinybird's gz/new spellings"
expect_eq "gz override written" "$(zcat "$OUT/by_type/types_view.csv.gz" 2>/dev/null)" '"event_type","c","total"
"view",1,2'
http POST "/v0/pipes/by_type/sink?kind=view&compression=zst&max_file_rows=1&max_file_size=1GiB" -H "$A"
ID3=$(jget "$BODY" 'd["id"]')
wait_job "$ID3" done && ok "file bounds and zst as overrides" || not_ok "file bounds and zst as overrides"
http GET "/v0/jobs/$ID3" -H "$A"
expect_eq "bounded files: numbered name, options kept" "$(jget "$BODY" 'd["output"][0]["path"].rsplit("/", 1)[1], d["options"]')" \
  "('types_view_0001.csv.zst', {'compression': 'zstd', 'max_file_size': '1GiB', 'max_file_rows': '1'})"
http POST "/v0/pipes/by_type/sink?max_file_size=lots" -H "$A"
expect_eq "bad max_file_size: 400" "$CODE $(jget "$BODY" 'd["error"]')" \
  "400 max_file_size: 'lots' is not a size (bytes, or 256MB, 1GiB; 0: no bound)"
http POST "/v0/pipes/nope/sink" -H "$A"
expect_eq "unknown pipe: 404" "$CODE" 404
http GET "/v0/pipes/by_type/sink" -H "$A"
expect_eq "wrong method: 405" "$CODE" 405
http GET "/v0/jobs/not-a-job" -H "$A"
expect_eq "unknown job: 404" "$CODE" 404
http GET "/v0/pipes" -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token sees its pipes" "$(jget "$BODY" '[p["name"] for p in d["pipes"]]')" "['by_type']"
http GET "/v0/pipes" -H "$A"
expect_eq "pipes: schedule and next fire" "$(jget "$BODY" '[(p["name"], p["next_fire"]) for p in d["pipes"] if p["name"] == "nightly"]')" "[('nightly', '2026-11-26 01:00:00')]"

# --- cancel a running job; concurrent triggers of one pipe wait their turn
http POST /v0/pipes/slow/sink -H "$A"; S1=$(jget "$BODY" 'd["id"]')
http POST /v0/pipes/slow/sink -H "$A"; S2=$(jget "$BODY" 'd["id"]')
wait_job "$S1" working && ok "first run working" || not_ok "first run working"
http GET "/v0/jobs/$S2" -H "$A"
expect_eq "second run of the same pipe waits" "$(jget "$BODY" 'd["status"]')" "waiting"
http POST "/v0/jobs/$S2/cancel" -H "$A"
expect_eq "cancel a waiting job" "$(jget "$BODY" 'd["status"]')" "cancelled"
http POST "/v0/jobs/$S1/cancel" -H "$A"
expect_eq "cancel a running job: 200" "$CODE" 200
wait_job "$S1" cancelled && ok "running job cancelled" || not_ok "running job cancelled"
expect_eq "a cancelled run leaves no object" "$(ls "$OUT/slow/" 2>/dev/null | wc -l)" "0"
http POST "/v0/jobs/$S1/cancel" -H "$A"
expect_eq "cancel a finished job: 400" "$CODE" 400
http GET "/v0/jobs?status=cancelled&pipe_name=slow" -H "$A"
expect_eq "jobs filter by status" "$(jget "$BODY" 'len(d["jobs"])')" "2"
http GET "/v0/jobs?pipe_name=slow" -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token does not see other pipes' jobs" "$(jget "$BODY" 'len(d["jobs"])')" "0"
http POST "/v0/jobs/$S1/cancel" -H "Authorization: Bearer $SINKPIPE_TOKEN_reader"
expect_eq "READ token cannot cancel other pipes' jobs: 403" "$CODE" 403

# --- metrics
http GET /metrics -H "$A"
expect_contains "metrics: jobs by pipe and result" "$BODY" 'sinkpipe_jobs_total{pipe="by_type",result="ok"} 3'
expect_contains "metrics: duration histogram" "$BODY" 'sinkpipe_run_duration_seconds_bucket{pipe="by_type",le="+Inf"} 3'

# --- SIGHUP: an invalid definition is refused, the old ones stay
cp "$P/pipes/first.pipe" "$E2E_TMP/first.pipe"
sed -i 's/^EXPORT_SCHEDULE @once/EXPORT_SCHEDULE 61 * * * */' "$P/pipes/first.pipe"
kill -HUP $PID
wait_log reload_failed
expect_contains "bad reload logged" "$(grep reload_failed "$LOG")" "first"
http GET /v0/pipes -H "$A"
expect_contains "old definitions kept" "$BODY" '"schedule":"@once"'
cp "$E2E_TMP/first.pipe" "$P/pipes/first.pipe"

# --- kill -9 during a run: at the next start the job is error "interrupted"
http POST /v0/pipes/slow/sink -H "$A"; S3=$(jget "$BODY" 'd["id"]')
wait_job "$S3" working && ok "run going before the crash" || not_ok "run going before the crash"
stop KILL
start
http GET "/v0/jobs/$S3" -H "$A"
expect_eq "interrupted job recorded" "$(jget "$BODY" 'd["status"], d["error"]')" "('error', 'interrupted')"
http GET "/v0/jobs/$ID" -H "$A"
expect_eq "history survives a restart" "$(jget "$BODY" 'd["status"]')" "done"
# @once is remembered: no second run of "first" (its state says done, so
# no tick will fire it)
http GET /v0/pipes -H "$A"
expect_eq "@once done across restarts" "$(jget "$BODY" '[p["next_fire"] for p in d["pipes"] if p["name"] == "first"]')" "[None]"
http GET "/v0/jobs?pipe_name=first" -H "$A"
expect_eq "@once ran once" "$(jget "$BODY" 'len(d["jobs"])')" "1"

# --- a CLI run is a job too (the daemon holds the database only while it uses it)
"$SINKPIPE" -p "$P" run by_type --param kind=view --job-id cli-run-1 >/dev/null 2>"$E2E_TMP/run.err"
expect_eq "CLI run beside the daemon" "$?" 0
expect_contains "CLI run in sinkpipe jobs" "$("$SINKPIPE" -p "$P" jobs -n 100)" "cli-run-1	done	by_type"

# a job while `sinkpipe sql` holds the database waits for it
"$SINKPIPE" -p "$P" sql "SELECT sum(number % 7) AS s FROM numbers(200000000)" >/dev/null 2>&1 &
CLIPID=$!
http POST "/v0/pipes/by_type/sink?kind=click" -H "$A"; ID3=$(jget "$BODY" 'd["id"]')
wait_job "$ID3" done && ok "a job beside a CLI query" || not_ok "a job beside a CLI query"
wait $CLIPID

# --- ops log through sinkpipe sql (beside the daemon: through its socket).
# tinybird.sinks_ops_log is a view of the embedded engine over the journal
# file; a ClickHouse server cannot read this machine's file
if [ "${SINKPIPE_ENGINE:-embedded}" = embedded ]; then
OPS=$("$SINKPIPE" -p "$P" sql --format csv "SELECT pipe_name, result, error FROM tinybird.sinks_ops_log WHERE job_id IN ('$ID', '$S1', '$S3', 'cli-run-1') ORDER BY pipe_name, result" 2>&1)
expect_eq "ops log rows" "$OPS" '"pipe_name","result","error"
"by_type","ok",""
"by_type","ok",""
"slow","cancelled","cancelled"
"slow","error","interrupted"'
OUTCOL=$("$SINKPIPE" -p "$P" sql --format ndjson "SELECT output, parameters, token_name, written_rows FROM tinybird.sinks_ops_log WHERE job_id = '$ID'" 2>&1)
expect_contains "ops log output and parameters" "$OUTCOL" '"parameters":{"kind":"click"},"token_name":"ops","written_rows":1'
expect_contains "ops log output paths" "$OUTCOL" 'types_click.ndjson.gz\",\"size\":'
fi
JOBS=$("$SINKPIPE" -p "$P" jobs -n 100)
expect_contains "sinkpipe jobs lists the runs" "$JOBS" "$S3	error	slow"

# --- graceful stop with a running job: cancelled after the grace period
http POST /v0/pipes/slow/sink -H "$A"; S4=$(jget "$BODY" 'd["id"]')
wait_job "$S4" working && ok "run going before SIGTERM" || not_ok "run going before SIGTERM"
stop TERM
expect_eq "SIGTERM: clean exit" "$STOP_STATUS" 0
expect_contains "stopped logged" "$(tail -3 "$LOG")" "stopped"
expect_contains "job cancelled at shutdown" "$("$SINKPIPE" -p "$P" jobs -n 1)" "$S4	cancelled	slow"

# secrets never in the log
if grep -q -e "$SINKPIPE_ADMIN_TOKEN" -e "$SINKPIPE_TOKEN_reader" -e "$SINKPIPE_TOKEN_appender" -e "$SINKPIPE_TOKEN_ops" "$LOG" -r "$P/.sinkpipe/"; then
  not_ok "tokens never logged or stored"
else
  ok "tokens never logged or stored"
fi

# a fire while the pipe is still running is skipped (a minute per second)
P2=$E2E_TMP/proj2
mkdir -p "$P2"
cat > "$P2/busy.pipe" <<X
NODE n
SQL >
    SELECT sum(number % 7) AS s FROM numbers(100000000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/busy/
EXPORT_FILE_TEMPLATE busy
EXPORT_SCHEDULE * * * * *
X
PROJ=$P2 SINKPIPE_SERVE_FAKE_NOW=2026-11-25T00:59:59Z SINKPIPE_SERVE_CLOCK_SPEED=60 start
wait_log ' skipped '
expect_contains "busy fire skipped and logged" "$(grep ' skipped ' "$LOG" | head -1)" "pipe=busy"
expect_contains "skipped fire in the journal" "$(grep '"skipped"' "$P2/.sinkpipe/ops_log.ndjson" | head -1)" '"pipe_name":"busy"'
http GET /metrics -H "$A"
case "$BODY" in *"sinkpipe_schedule_skipped_total 0"*) not_ok "skips counted" ;; *sinkpipe_schedule_skipped_total*) ok "skips counted" ;; *) not_ok "skips counted" ;; esac
http GET "/v0/jobs?pipe_name=busy" -H "$A"
expect_eq "one job for the busy pipe" "$(jget "$BODY" '[(j["status"], j["logical_time"]) for j in d["jobs"]]')" "[('working', '2026-11-25 01:00:00')]"
stop TERM
expect_contains "busy job cancelled at shutdown" "$("$SINKPIPE" -p "$P2" jobs -n 1)" "cancelled	busy"

# a generated admin token: printed once, works, stored hashed
unset SINKPIPE_ADMIN_TOKEN
start
TOK=$(sed -n 's/^admin //p' "$E2E_TMP/serve.out")
expect_contains "admin token printed at first start" "$TOK" "sp_"
http GET /v0/jobs -H "Authorization: Bearer $TOK"
expect_eq "generated admin token works" "$CODE" 200
stop TERM
start
expect_eq "printed only once" "$(grep -c '^admin ' "$E2E_TMP/serve.out")" "0"
http GET /v0/jobs -H "Authorization: Bearer $TOK"
expect_eq "stored token still works" "$CODE" 200
stop TERM
finish
