#!/usr/bin/env bash
# the project-rule checks of tests/lint.sh, as part of the suite
exec bash "$(dirname "$0")/../lint.sh"
