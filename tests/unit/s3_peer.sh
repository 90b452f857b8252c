#!/usr/bin/env bash
# s3_peer.sh — the S3 peers for a unit test (test_store_s3), driven over a
# pipe: starts tests/harness/s3.sh's server (+ fault proxy, + STS), creates
# the buckets named as arguments, prints the S3_TEST_* variables as
# NAME=VALUE lines and then READY.  After that each line read on stdin is
# a harness command (s3_fault ..., s3_open_uploads BUCKET, s3_log_count OP,
# s3_aws ...); its output is followed by a line "DONE <status>".  EOF on
# stdin (the test exits or dies) stops everything through the harness's
# EXIT trap.  Prints SKIP when python3/aws are missing.
set -u
cd "$(dirname "$0")/../.."
. tests/harness/s3.sh
s3_available || { echo SKIP; exit 0; }
s3_start --proxy --sts >&2 || { echo FAIL; exit 1; }
for b in "$@"; do s3_mb "$b" >&2 || { echo FAIL; exit 1; }; done
env | grep -E '^S3_TEST_[A-Z_]+=' | sort
echo READY
while IFS= read -r cmd; do
  eval "$cmd" 2>&1
  echo "DONE $?"
done
