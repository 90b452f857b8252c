# tests/e2e/lib.sh — helpers for end-to-end tests (sourced).
#   ok/not_ok/check … print TAP-like lines; finish exits with the status.
#   SINKPIPE: the CLI under test (default build/sinkpipe).
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SINKPIPE=${SINKPIPE:-$E2E_ROOT/build/sinkpipe}
SINKPIPE_BUILD=${SINKPIPE_BUILD:-build}
case "$SINKPIPE_BUILD" in /*) ;; *) SINKPIPE_BUILD="$E2E_ROOT/$SINKPIPE_BUILD" ;; esac
E2E_FAILED=0
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-e2e.XXXXXX")
trap 'rm -rf "$E2E_TMP"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; E2E_FAILED=1; }

# expect_eq WHAT GOT WANT
expect_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else
    not_ok "$1"; printf '#   got:  %s\n#   want: %s\n' "$2" "$3" | head -40; fi
}
# expect_file_eq WHAT FILE WANTFILE
expect_file_eq() {
  if cmp -s "$2" "$3"; then ok "$1"; else
    not_ok "$1"; diff -u "$3" "$2" | head -40 | sed 's/^/#   /'; fi
}
# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
  case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1"; printf '#   %s\n#   does not contain: %s\n' "$2" "$3" ;; esac
}
finish() { exit $E2E_FAILED; }
# wait_listening LOG PID: wait (deadline 30 s) for a `sinkpipe serve` started
# in the background with its stderr in LOG to say where it listens; sets
# ADDR and URL, or fails the test (the daemon's log printed) and finishes
wait_listening() {
  ADDR=
  for _ in $(seq 1 300); do
    ADDR=$(sed -n 's/^listening on //p' "$1" | head -1)
    [ -n "$ADDR" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$ADDR" ] || { not_ok "daemon started"; cat "$1"; finish; }
  URL="http://$ADDR"
}
# gen_events_bin: prints the path of tests/tools/gen_events (the build's, or
# compiled into E2E_TMP); fails when it cannot be built
gen_events_bin() {
  local ge=$SINKPIPE_BUILD/tools/gen_events
  if [ ! -x "$ge" ]; then
    ge=$E2E_TMP/gen_events
    [ -x "$ge" ] || ${CC:-cc} -std=c17 -O2 -o "$ge" "$E2E_ROOT/tests/tools/gen_events.c" >&2 || return 1
  fi
  echo "$ge"
}
