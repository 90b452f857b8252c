# tests/harness/peer.sh — what the scripts of the test peers that print a
# ready line share (sourced by s3.sh and gcs.sh).
#
# harness_wait_ready FILE PID NAME SECONDS: prints the first line of FILE
# once it starts with `ready `; fails (saying why on stderr, with the peer's
# FILE.err) when process PID exits first or SECONDS pass.
harness_wait_ready() {
  local f=$1 pid=$2 name=$3 secs=$4 line
  local deadline=$(( $(date +%s) + secs ))
  while :; do
    line=$(head -1 "$f" 2>/dev/null)
    case $line in "ready "*) echo "$line"; return 0 ;; esac
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "# $name exited during start:" >&2
      sed 's/^/#   /' "$f.err" >&2
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "# $name printed no ready line within ${secs}s" >&2
      return 1
    fi
    sleep 0.05  # polling interval while waiting on a condition with a deadline
  done
}

# harness_log_count LOG OP [STATUS]: how many JSON lines of LOG have "op" OP
# (and "status" STATUS)
harness_log_count() {
  "${PEER_PYTHON:-python3}" - "$1" "$2" "${3:-}" <<'PY'
import json, sys
n = 0
for ln in open(sys.argv[1]):
    r = json.loads(ln)
    if r.get("op") == sys.argv[2] and (not sys.argv[3] or str(r.get("status")) == sys.argv[3]):
        n += 1
print(n)
PY
}

# harness_stop_pid PID: SIGTERM, up to 5 s for it to exit, then SIGKILL
harness_stop_pid() {
  local p=$1 i=0
  [ -n "$p" ] && kill "$p" 2>/dev/null || return 0
  while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
