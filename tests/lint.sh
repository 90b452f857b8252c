#!/usr/bin/env bash
# lint.sh — project rules that the compiler does not check.
set -u
cd "$(dirname "$0")/.."
status=0
# banned functions (git's banned.h list)
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gmtime|localtime)\s*\(' \
     src/lib/*/*.c src/lib/*/*.h src/cli/*.c | grep -vE '^\S+:\s*(/\*|\*|//)' ; then
  echo "not ok - banned functions used (see above)"; status=1
else
  echo "ok - no banned functions"
fi
# the library never prints or exits
if grep -nE '\b(printf|fprintf|puts|fputs|exit|abort)\s*\(' src/lib/*/*.c | grep -vE 'snprintf|vsnprintf|->abort|\.abort|_abort|abort\)\(' ; then
  echo "not ok - the library prints or exits (see above)"; status=1
else
  echo "ok - the library neither prints nor exits"
fi
# only sp_env.c reads the environment
if grep -nE '\bgetenv\s*\(|\benviron\b' src/lib/*/*.c | grep -v '^src/lib/base/sp_env.c:'; then
  echo "not ok - getenv outside sp_env.c"; status=1
else
  echo "ok - the environment is read in one place"
fi
# the shared object exports the public API (include/sinkpipe.h) only, and
# has a SONAME
so=${BUILD:-build}/libsinkpipe.so
if [ -f "$so" ]; then
  extra=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' |
          while read -r sym; do grep -qw "$sym" include/sinkpipe.h || echo "$sym"; done)
  if [ -n "$extra" ]; then
    echo "not ok - libsinkpipe.so exports symbols outside include/sinkpipe.h:"; echo "$extra" | head -20; status=1
  else
    echo "ok - libsinkpipe.so exports only the public API ($(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/' | wc -l) symbols)"
  fi
  if readelf -d "$so" | grep -q 'SONAME.*libsinkpipe.so.0'; then
    echo "ok - libsinkpipe.so has its SONAME"
  else
    echo "not ok - libsinkpipe.so has no SONAME libsinkpipe.so.0"; status=1
  fi
fi
# the library's layers (src/lib/LAYERS): includes and calls go down only
python3 tests/layers.py "${BUILD:-build}" || status=1
exit $status
