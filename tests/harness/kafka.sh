# tests/harness/kafka.sh — a private Kafka broker for tests (librdkafka's
# mock cluster, through tests/tools/kafka_mock).
#
# Usage (source it from a bash test):
#   . "$ROOT/tests/harness/kafka.sh"
#   kafka_available || { echo "ok - skipped: no kafka_mock/kcat"; exit 0; }
#   kafka_start --brokers 3 --topic events:1 --topic big:4 || exit 1
#                               # sets KAFKA_BOOTSTRAP KAFKA_DIR KAFKA_PID
#   kafka_cmd "err Produce NOT_LEADER_FOR_PARTITION 3"   # 0 on `ok`
#   kafka_cmd "down 2"; kafka_cmd "up 2"; kafka_cmd "topic t 2"
#   kafka_stop                  # also run by the EXIT trap kafka_start adds
#
# kafka_start runs $KAFKA_MOCK (default $SINKPIPE_BUILD/tools/kafka_mock,
# SINKPIPE_BUILD defaulting to build) in the background with its stdin on a
# fifo under a fresh `mktemp -d` folder, and waits (deadline
# KAFKA_START_TIMEOUT seconds, default 20) for its `bootstrap=` line.  The
# brokers listen on 127.0.0.1 on ports the kernel picks.  kafka_cmd writes
# one command line (see tests/tools/kafka_mock.c for the commands) and waits
# (deadline 10 s) for its answer: returns 0 on `ok`, else prints the answer
# on stderr and returns 1.  kafka_stop sends `quit`, waits for the process
# (then kills it by its pid) and removes the folder.  kafka_start chains an
# EXIT trap that calls kafka_stop before the trap that was already set.
#
# The mock speaks no SASL and no SSL (use KAFKA_SECURITY_PROTOCOL
# PLAINTEXT), and each partition keeps only ~5 MiB / 100,000 message sets,
# silently dropping older data: keep verification volumes below that or use
# more partitions.

kafka_mock_bin() {
  local b=${SINKPIPE_BUILD:-build}
  echo "${KAFKA_MOCK:-$b/tools/kafka_mock}"
}

kafka_available() {
  [ -x "$(kafka_mock_bin)" ] && command -v kcat >/dev/null 2>&1
}

kafka_start() {
  local bin
  bin=$(kafka_mock_bin)
  KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-kafka.XXXXXX") || return 1
  mkfifo "$KAFKA_DIR/cmd" || return 1
  "$bin" "$@" <"$KAFKA_DIR/cmd" >"$KAFKA_DIR/out" 2>"$KAFKA_DIR/err" &
  KAFKA_PID=$!
  # opening the write end waits for the reader: the mock's stdin
  exec {KAFKA_FD}>"$KAFKA_DIR/cmd"
  # chain the EXIT trap: kafka_stop, then whatever was there
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then eval "set -- $prev"; prev=$3; fi
  trap "kafka_stop; $prev" EXIT
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-20} )) line
  KAFKA_BOOTSTRAP=
  while :; do
    line=$(head -1 "$KAFKA_DIR/out" 2>/dev/null)
    case $line in bootstrap=?*) KAFKA_BOOTSTRAP=${line#bootstrap=}; break ;; esac
    if ! kill -0 "$KAFKA_PID" 2>/dev/null; then
      echo "# kafka_mock exited during start:" >&2
      sed 's/^/#   /' "$KAFKA_DIR/err" >&2
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "# kafka_mock printed no bootstrap line within ${KAFKA_START_TIMEOUT:-20}s" >&2
      return 1
    fi
    sleep 0.05  # polling interval while waiting on a condition with a deadline
  done
  KAFKA_ANSWERS=1 # lines of $KAFKA_DIR/out read so far
  export KAFKA_BOOTSTRAP
}

# kafka_cmd "COMMAND ARGS": 0 when the broker answers `ok`
kafka_cmd() {
  [ -n "${KAFKA_FD:-}" ] || { echo "# kafka_cmd: no broker running" >&2; return 1; }
  echo "$*" >&"$KAFKA_FD" || return 1
  local want=$((KAFKA_ANSWERS + 1)) deadline=$(( $(date +%s) + 10 )) n
  while :; do
    n=$(wc -l <"$KAFKA_DIR/out")
    [ "$n" -ge "$want" ] && break
    if ! kill -0 "$KAFKA_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "# kafka_cmd '$*': no answer from kafka_mock" >&2
      return 1
    fi
    sleep 0.02  # polling interval while waiting on a condition with a deadline
  done
  KAFKA_ANSWERS=$want
  local ans
  ans=$(sed -n "${want}p" "$KAFKA_DIR/out")
  [ "$ans" = ok ] && return 0
  echo "# kafka_cmd '$*': $ans" >&2
  return 1
}

kafka_stop() {
  if [ -n "${KAFKA_FD:-}" ]; then
    echo quit >&"$KAFKA_FD" 2>/dev/null
    exec {KAFKA_FD}>&-
    KAFKA_FD=
  fi
  if [ -n "${KAFKA_PID:-}" ]; then
    local i=0
    while kill -0 "$KAFKA_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=
  fi
  if [ -n "${KAFKA_DIR:-}" ]; then rm -rf "$KAFKA_DIR"; KAFKA_DIR=; fi
}
