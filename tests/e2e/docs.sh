#!/usr/bin/env bash
# The documentation of configuration keys is generated from the key table:
# the committed docs/configuration.md must match what the table says now.
. "$(dirname "$0")/lib.sh"
gen="$SINKPIPE_BUILD/tools/keys_doc"
if [ ! -x "$gen" ]; then not_ok "keys_doc tool is built ($gen)"; finish; fi
"$gen" > "$E2E_TMP/configuration.md"
expect_file_eq "docs/configuration.md matches the key table (regenerate: $gen > docs/configuration.md)" \
  "$E2E_TMP/configuration.md" "$E2E_ROOT/docs/configuration.md"
# every doc page the README points at exists
for page in $(grep -o 'docs/[a-z-]*\.md' "$E2E_ROOT/README.md" | sort -u); do
  if [ -f "$E2E_ROOT/$page" ]; then ok "README link $page exists"; else not_ok "README link $page exists"; fi
done
finish
