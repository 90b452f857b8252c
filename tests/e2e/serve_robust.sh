#!/usr/bin/env bash
# The daemon under hostile conditions (docs/serve.md, "Limits", "Signals"):
# - 100 idle or half-sent connections from the probing address, 200 more
#   from another address (over its per-address limit: the excess refused)
#   and 200 concurrent clients: /health and an authenticated call answer,
#   every client request is answered, the idle ones stay open meanwhile;
# - the idle timeout closes idle and slow connections;
# - SIGHUP while a job runs makes a reload wait; SIGTERM then stops the
#   daemon within the grace (the job is endless: without that, no exit);
# - a reload with no job running still works.
# Loopback only; the load is bounded; every wait has a deadline; the checks
# count answers, none depends on speed.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/pipes" "$OUT"
export SINKPIPE_ADMIN_TOKEN=admin-robust-token-1
export SINKPIPE_TOKEN_reader=reader-robust-2
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
cat > "$P/pipes/slow.pipe" <<X
NODE n
SQL >
    SELECT sum(number % 7) AS s FROM numbers(100000000000)

TYPE sink
EXPORT_BUCKET_URI file://$OUT/slow/
EXPORT_FILE_TEMPLATE slow
EXPORT_SCHEDULE @on-demand
TOKEN reader READ
X
. "$E2E_ROOT/tests/harness/daemon.sh"
LOAD="python3 $E2E_ROOT/tests/harness/http_load.py"

# --- load: idle, slow and concurrent clients
SINKPIPE_SERVE_IDLE_TIMEOUT=3600 SINKPIPE_SERVE_MAX_CONNECTIONS_PER_IP=128 start
R=$($LOAD load "$ADDR" "$SINKPIPE_TOKEN_reader" 100 200 200 4 128)
echo "# $R"
expect_eq "/health answers under load" "$(jget "$R" 'd["probe_health"]')" 200
expect_eq "an authenticated call answers under load" "$(jget "$R" 'd["probe_api"]')" 200
expect_eq "every client request answered" "$(jget "$R" 'd["answered"] == d["asked"]')" True
expect_eq "the 100 idle connections were still open" "$(jget "$R" 'd["idle_same_open"]')" 100
expect_eq "one address gets at most its limit" "$(jget "$R" 'd["idle_other_open"] <= 128 and d["idle_other_refused"] >= 72')" True
http GET /health
expect_eq "/health after the load" "$CODE" 200
stop TERM

# --- the idle timeout closes idle and half-sent connections
SINKPIPE_SERVE_IDLE_TIMEOUT=1 start
expect_eq "idle and slow connections closed by the idle timeout" "$($LOAD idle "$ADDR" 20)" 20
http GET /health
expect_eq "/health after the idle timeout" "$CODE" 200
stop TERM

# --- SIGHUP during a job, then SIGTERM: out within the grace
SINKPIPE_SERVE_GRACE=3 start
http POST /v0/pipes/slow/sink -H "$A"; J=$(jget "$BODY" 'd["id"]')
wait_job "$J" working && ok "job running" || not_ok "job running"
kill -HUP $PID
wait_log ' reload_waiting '
expect_contains "the reload waits for the job" "$(grep ' reload_waiting ' "$LOG")" "engine_used_by=$J"
http GET /health
expect_eq "/health while a reload waits" "$CODE" 200
T0=$(date +%s)
kill -TERM $PID
# the job never ends by itself: without honouring SIGTERM there is no exit
wait_exit 60
echo "# exited $(( $(date +%s) - T0 )) s after SIGTERM (grace 3 s)"
expect_eq "exit 0" "$STOP_STATUS" 0
expect_contains "reload abandoned" "$(cat "$LOG")" "reload_abandoned"
expect_contains "job cancelled after the grace" "$("$SINKPIPE" -p "$P" jobs -n 1)" "$J	cancelled	slow"
grep -qE 'Sanitizer|runtime error' "$LOG" && not_ok "no sanitizer report" || ok "no sanitizer report"

# --- a reload with nothing running is applied
start
sed -i 's/TOKEN reader READ/TOKEN reader READ\nTOKEN other READ/' "$P/pipes/slow.pipe"
kill -HUP $PID
wait_log ' reloaded '
expect_contains "reloaded" "$(cat "$LOG")" " reloaded "
expect_contains "a new token is printed once" "$(cat "$E2E_TMP/serve.out")" "other sp_"
stop TERM
expect_eq "clean stop" "$STOP_STATUS" 0
finish
