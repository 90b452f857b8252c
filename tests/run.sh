#!/usr/bin/env bash
# tests/run.sh — run unit tests and/or end-to-end tests and print one
# summary line "N passed, N failed".
#   tests/run.sh --unit [test_name]   unit test programs in $BUILD/tests
#   tests/run.sh --e2e [name]         tests/e2e/*.sh against $BUILD/sinkpipe
#   tests/run.sh --all                unit + e2e, the threaded unit tests and
#                                     the daemon's e2e tests under TSan, some
#                                     e2e tests on the embedded
#                                     engine under UBSan, then unit + e2e
#                                     again under ASan (on a ClickHouse server)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mode=${1:---all}
only=${2:-}
passed=0 failed=0 failed_names=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-tests.XXXXXX")

count() { # name status logfile [seconds]
  local p f t=${4:+ ${4}s}
  p=$(grep -cE '^ok( |$)' "$3" || true)
  f=$(grep -cE '^not ok' "$3" || true)
  [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && { [ "$2" -eq 0 ] && p=1 || f=1; }
  [ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    failed_names+=("$1")
    echo "FAIL $1$t (log: $3)"; sed -n '1,200p' "$3" | grep -vE '^ok( |$)' | head -60
  else
    echo "ok   $1 ($p)$t"
  fi
}

run_unit() { # build dir
  local b=$1 t
  for t in "$b"/tests/test_*; do
    [ -x "$t" ] || continue
    [ -n "$only" ] && [ "$(basename "$t")" != "$only" ] && continue
    local log="$logdir/$(basename "$b")-$(basename "$t").log"
    local t0=$SECONDS
    ( cd "$PWD" && timeout 600 "$t" ) >"$log" 2>&1
    local st=$?   # before any $(…) below resets it
    count "unit/$(basename "$b")/$(basename "$t")" $st "$log" $((SECONDS - t0))
  done
}

run_e2e() { # build dir
  local b=$1 t
  for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    [ "$(basename "$t")" = lib.sh ] && continue   # helpers, sourced by the tests
    [ -n "$only" ] && [ "$(basename "$t" .sh)" != "$only" ] && continue
    local log="$logdir/$(basename "$b")-e2e-$(basename "$t" .sh).log"
    local abs=$b
    case "$abs" in /*) ;; *) abs="$PWD/$b" ;; esac
    local t0=$SECONDS
    SINKPIPE_BUILD="$abs" SINKPIPE="$abs/sinkpipe" timeout 900 bash "$t" >"$log" 2>&1
    local st=$?
    count "e2e/$(basename "$b")/$(basename "$t" .sh)" $st "$log" $((SECONDS - t0))
  done
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "$mode" in
  --unit) run_unit "$BUILD" ;;
  --e2e) run_e2e "$BUILD" ;;
  --all)
    run_unit "$BUILD"
    run_e2e "$BUILD"
    echo "building the ThreadSanitizer build (build-tsan)"
    if make -s tsan >"$logdir/tsan-build.log" 2>&1; then
      TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp} \
        run_unit build-tsan
      # the daemon under TSan: HTTP connection threads, the reload thread,
      # job workers, the scheduler, S3 upload threads.  On a ClickHouse
      # server (TSan cannot host libchdb); every report of every process
      # lands in $logdir/tsan.* and fails the layer.
      . tests/harness/clickhouse.sh
      if ch_available && ch_start >"$logdir/tsan-ch.log" 2>&1; then
        for only in serve serve_robust; do
          TSAN_OPTIONS="second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp:log_path=$logdir/tsan" \
            SINKPIPE_ENGINE=clickhouse SINKPIPE_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP_PORT/" \
            SINKPIPE_CLICKHOUSE_DATABASE='{project}' run_e2e build-tsan
        done
        only=
        ch_stop
        if ls "$logdir"/tsan.* >/dev/null 2>&1; then
          failed=$((failed + 1)); failed_names+=("tsan-e2e-reports")
          head -60 "$logdir"/tsan.*
        else
          passed=$((passed + 1)); echo "ok   tsan-e2e: no ThreadSanitizer report"
        fi
      else
        failed=$((failed + 1)); failed_names+=("tsan-clickhouse-server")
        tail -20 "$logdir/tsan-ch.log"
      fi
    else
      failed=$((failed + 1)); failed_names+=("tsan-build")
      tail -40 "$logdir/tsan-build.log"
    fi
    # the embedded engine under UBSan (ASan cannot host libchdb): the tests
    # that run the engine hardest
    echo "building the UBSan build of the embedded engine (build-ubsan)"
    if make -s ubsan >"$logdir/ubsan-build.log" 2>&1; then
      for only in cli serve_seed kafka_seed tinybird_corpus; do
        [ -f "tests/e2e/$only.sh" ] && run_e2e build-ubsan
      done
      only=
    else
      failed=$((failed + 1)); failed_names+=("ubsan-build")
      tail -40 "$logdir/ubsan-build.log"
    fi
    echo "building the sanitizer build (build-asan)"
    if make -s asan >"$logdir/asan-build.log" 2>&1; then
      run_unit build-asan
      # A process under ASan cannot host the embedded ClickHouse (libchdb's
      # static initialisers crash under it): the sanitizer layer runs every
      # engine-dependent test against a ClickHouse server (Debian's 18.16),
      # one database per project folder, so all of sinkpipe's own code still
      # runs under ASan/UBSan.  The embedded adapter is covered by the plain
      # layer above.
      . tests/harness/clickhouse.sh
      if ch_available && ch_start >"$logdir/asan-ch.log" 2>&1; then
        SINKPIPE_ASAN=1 SINKPIPE_ENGINE=clickhouse \
          SINKPIPE_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP_PORT/" \
          SINKPIPE_CLICKHOUSE_DATABASE='{project}' run_e2e build-asan
        ch_stop
      else
        failed=$((failed + 1)); failed_names+=("asan-clickhouse-server")
        tail -20 "$logdir/asan-ch.log"
      fi
    else
      failed=$((failed + 1)); failed_names+=("asan-build")
      tail -40 "$logdir/asan-build.log"
    fi
    ;;
  *) echo "usage: tests/run.sh --unit|--e2e|--all [name]" >&2; exit 2 ;;
esac

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "suite time: ${SECONDS}s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
