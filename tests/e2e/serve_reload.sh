#!/usr/bin/env bash
# Reloads while a job holds the engine and requests wait for it
# (docs/serve.md, "Reload"): a build (POST /v1/build) holds the definitions
# and then waits for the engine, jobs hold the engine and then read the
# definitions, so a reload must never wait for one while holding the other.
# Each round starts a slow sink job (the engine busy for about three seconds),
# sends endpoint requests and a build (a changed endpoint) that wait for
# the engine behind it, then SIGHUP; the daemon must reload and answer again
# with the built endpoint (generous deadlines: a deadlock never ends, a slow
# machine does).
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/pipes" "$OUT"
export SINKPIPE_ADMIN_TOKEN=admin-reload-token-1
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
cat > "$P/pipes/slow.pipe" <<X
NODE n
SQL >
    SELECT number, sleepEachRow(0.1) AS s FROM numbers(30) SETTINGS max_block_size = 1

TYPE sink
EXPORT_BUCKET_URI file://$OUT/
EXPORT_FILE_TEMPLATE slow
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
X
cat > "$P/pipes/ep.pipe" <<X
NODE n
SQL >
    SELECT 1 AS one

TYPE endpoint
X

B=$E2E_TMP/build
mkdir -p "$B"
cp "$P/pipes/slow.pipe" "$B/slow.pipe"

. "$E2E_ROOT/tests/harness/daemon.sh"
start

rounds=6
ok_rounds=0
curls=
for r in $(seq 1 $rounds); do
  http POST "/v0/pipes/slow/sink" -H "$A"
  job=$(jget "$BODY" 'd["job"]["id"]' 2>/dev/null || jget "$BODY" 'd["id"]')
  sleep 0.2
  # requests that wait for the engine behind the job
  for _ in 1 2 3; do
    curl -s -m 60 -o /dev/null -H "$A" "$URL/v0/pipes/ep.json" &
    curls="$curls $!"
  done
  printf 'NODE n\nSQL >\n    SELECT %d AS one\n\nTYPE endpoint\n' "$r" > "$B/ep.pipe"
  curl -s -m 60 -o "$E2E_TMP/build.$r" -H "$A" \
    -F "data_project://=@$B/slow.pipe;filename=slow.pipe" \
    -F "data_project://=@$B/ep.pipe;filename=ep.pipe" "$URL/v1/build" &
  curls="$curls $!"
  sleep 1.5
  kill -HUP $PID
  wait_job "$job" done || { not_ok "round $r: the slow job finished"; break; }
  # the daemon answers and has reloaded (deadline 30 s)
  answered=
  for _ in $(seq 1 300); do
    BODY=$(curl -s -m 2 -H "$A" "$URL/v0/pipes/ep.json")
    [ "$(jget "$BODY" 'd["data"][0]["one"]' 2>/dev/null)" = "$r" ] && { answered=1; break; }
    sleep 0.1
  done
  [ -n "$answered" ] || { not_ok "round $r: the daemon answers with the built endpoint after reloads behind a busy engine"; cat "$E2E_TMP/build.$r"; break; }
  ok_rounds=$((ok_rounds + 1))
done
# shellcheck disable=SC2086
wait $curls
expect_eq "every round: job done, daemon answering" "$ok_rounds" "$rounds"
n=0
for _ in $(seq 1 300); do
  n=$(grep -c '"reloaded"\|reloaded' "$LOG")
  [ "$n" -ge $rounds ] && break
  sleep 0.1
done
expect_eq "every SIGHUP reloaded" "$([ "$n" -ge $rounds ] && echo yes || echo "no ($n)")" yes
stop
finish
