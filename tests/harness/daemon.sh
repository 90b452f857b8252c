# tests/harness/daemon.sh — start, drive and stop `sinkpipe serve` (sourced
# by e2e tests after lib.sh).  Needs P (the project; PROJ overrides it for
# one start) and A (an "Authorization: Bearer …" header for wait_job).
#   start            daemon on a free loopback port (SERVE_ARGS: more
#                    arguments of serve) -> PID, ADDR, URL, LOG
#                    (stdout in $E2E_TMP/serve.out); the EXIT trap already
#                    set is chained after a kill -9 of the daemon
#   stop [SIGNAL]    signal it, wait -> STOP_STATUS (a graceful stop must
#                    exit 0 with no sanitizer report)
#   http M PATH ...  curl -> CODE, BODY
#   jget JSON EXPR   a Python expression over d = the parsed JSON
#   wait_job ID ST   poll the job until its status is ST (deadline 30 s;
#                    fails at once on another final status) -> BODY: the job
#   wait_log PATTERN wait (deadline 30 s) for a line of LOG matching PATTERN
#                    (grep -E)
#   wait_exit SECS   wait (deadline SECS) for the daemon to exit by itself
#                    -> STOP_STATUS; fails (and kills it) past the deadline
LOG=$E2E_TMP/serve.log
PID=
start() {
  : > "$LOG"
  # shellcheck disable=SC2086
  "$SINKPIPE" -p "${PROJ:-$P}" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} \
    >"$E2E_TMP/serve.out" 2>>"$LOG" &
  PID=$!
  wait_listening "$LOG" $PID
}
stop() {
  kill -"${1:-TERM}" $PID 2>/dev/null
  wait $PID 2>/dev/null
  STOP_STATUS=$?
  if [ "${1:-TERM}" != KILL ]; then
    if [ "$STOP_STATUS" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$LOG"; then
      not_ok "daemon stopped cleanly (status $STOP_STATUS)"; grep -A30 -E 'Sanitizer|runtime error' "$LOG" | head -60
    fi
  fi
}
daemon_trap() {
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then eval "set -- $prev"; prev=$3; fi
  trap 'kill -9 $PID 2>/dev/null; '"$prev" EXIT
}
daemon_trap
http() {
  local m=$1 path=$2; shift 2
  BODY=$(curl -s -o - -w '\n%{http_code}' -X "$m" "$@" "$URL$path")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }
wait_job() {
  local st=
  for _ in $(seq 1 600); do
    http GET "/v0/jobs/$1" -H "$A"
    st=$(jget "$BODY" 'd["status"]' 2>/dev/null)
    [ "$st" = "$2" ] && return 0
    case $st in done|error|cancelled) break ;; esac
    sleep 0.05
  done
  echo "# job $1: status '$st', want '$2'"; return 1
}
wait_log() {
  for _ in $(seq 1 300); do
    grep -qE -- "$1" "$LOG" && return 0
    sleep 0.1
  done
  echo "# no line matching '$1' in the daemon's log"; return 1
}
wait_exit() {
  local deadline=$(( $(date +%s) + $1 ))
  while kill -0 $PID 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 $PID 2>/dev/null; then
    not_ok "the daemon exited (still running after $1 s)"
    kill -9 $PID
  fi
  wait $PID; STOP_STATUS=$?
}
