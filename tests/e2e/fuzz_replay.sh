#!/usr/bin/env bash
# Replay every fuzz target's seed corpus (tests/fuzz/corpus/<target>/) and
# crash reproducers (tests/fuzz/regress/<target>/) through its replay
# program $SINKPIPE_BUILD/fuzz/replay_<target> (tests/fuzz/fuzz.mk).  A
# crash, sanitizer report, leak or failed invariant fails the target.
. "$(dirname "$0")/lib.sh"
cd "$E2E_ROOT"
n=0
for src in tests/fuzz/fuzz_*.c; do
  [ -f "$src" ] || continue
  t=$(basename "$src" .c); t=${t#fuzz_}
  bin="$SINKPIPE_BUILD/fuzz/replay_$t"
  n=$((n + 1))
  if [ ! -x "$bin" ]; then not_ok "fuzz replay $t: $bin is built"; continue; fi
  dirs=()
  for d in "tests/fuzz/corpus/$t" "tests/fuzz/regress/$t"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && dirs+=("$d")
  done
  if [ ${#dirs[@]} -eq 0 ]; then not_ok "fuzz replay $t: no corpus in tests/fuzz/corpus/$t"; continue; fi
  log="$E2E_TMP/replay_$t.log"
  if TMPDIR="$E2E_TMP" timeout 300 "$bin" "${dirs[@]}" >"$log" 2>&1; then
    ok "fuzz replay $t ($(sed -n 's/^replayed \([0-9]*\) inputs$/\1/p' "$log") inputs)"
  else
    not_ok "fuzz replay $t"
    grep -vE '^replay: ' "$log" | head -40 | sed 's/^/#   /'
  fi
done
[ "$n" -gt 0 ] || not_ok "fuzz targets exist in tests/fuzz"
finish
