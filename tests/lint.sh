#!/usr/bin/env bash
# lint.sh — project rules that the compiler does not check.
set -u
cd "$(dirname "$0")/.."
status=0
# banned functions: src/lib/base/sp_banned.h makes them compile errors in every
# .c that includes it last (after the system headers, whose declarations it
# would break); the headers' inline code is read here
missing=$(for f in src/lib/*/*.c src/cli/*.c; do
  [ "$(grep -E '^#include' "$f" | tail -1)" = '#include "sp_banned.h"' ] || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "not ok - sources without sp_banned.h as their last #include:"; echo "$missing"; status=1
else
  echo "ok - every library and CLI source includes sp_banned.h last"
fi
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|atoll|gets|gmtime|localtime|ctime|asctime)\s*\(' \
     $(ls src/lib/*/*.h | grep -v sp_banned.h) | grep -vE '^\S+:\s*(/\*|\*|//)' ; then
  echo "not ok - banned functions in a header (see above)"; status=1
else
  echo "ok - no banned functions in the headers"
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
# environment variables are read through the settings table (base/sp_keys_env.c:
# sp_keys_env_*), which knows each one's type, range and default
if grep -nE '\bsp_env_get\s*\(' src/lib/*/*.c src/cli/*.c | grep -vE '^src/lib/base/(sp_env|sp_keys_env)\.c:'; then
  echo "not ok - sp_env_get outside sp_env.c/sp_keys_env.c: use sp_keys_env_*() (see above)"; status=1
else
  echo "ok - environment settings are read through the key table"
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
