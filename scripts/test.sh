#!/usr/bin/env bash
# test.sh — README command 2: install what is missing, build, run the whole
# test suite (unit + end-to-end, then both again under ASan/UBSan).  Ends
# with the line "N passed, N failed"; exit status 0 only when all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -s -j"$(nproc)" all tests tools
make -s test
