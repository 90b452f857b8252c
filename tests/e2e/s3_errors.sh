#!/usr/bin/env bash
# e2e s3_errors: the CLI against the strict local S3 + STS server — a run
# of the seed's daily_export through S3_ARN lands the object (read back
# with aws), and each bad setting (unknown bucket, wrong region, wrong
# secret, denied role, no credentials) fails with one line naming the
# connection and what S3/STS said, exit 1, nothing delivered, no secret
# printed.  check and --dry-run need no S3 at all.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
if ! s3_available; then ok "skipped: no python3/aws for the S3 server"; finish; fi
s3_start --sts >/dev/null || { not_ok "the S3 server starts"; finish; }
s3_mb data-warehouse us-west-2 || not_ok "bucket data-warehouse"

P=$E2E_TMP/project
cp -r "$E2E_ROOT/examples/seed" "$P"
rm -rf "$P/.sinkpipe" # engine state of a hand run in examples/seed, if any
# (the Kafka values are secrets: "x" and "y" are hidden wherever they stand alone)
printf 'KAFKA_KEY=x\nKAFKA_SECRET=y\nSTREAMING_KAFKA_KEY=x\nSTREAMING_KAFKA_SECRET=y\n' >"$P/.env"
"$SINKPIPE_BUILD/tools/gen_events" --rows 20000 --end 2026-11-25T01:00:00Z --days 2 --seed 7 \
  >"$E2E_TMP/events.ndjson"
"$SINKPIPE" -p "$P" append events "$E2E_TMP/events.ndjson" >/dev/null 2>&1 || not_ok "append"
NOW=2026-11-25T01:00:00Z

# no network for check and dry runs: point everything at a closed port
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT=http://127.0.0.1:9 \
  "$SINKPIPE" -p "$P" check 2>&1); st=$?
expect_eq "check needs no S3" "$st" 0
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT=http://127.0.0.1:9 \
  "$SINKPIPE" -p "$P" run daily_export --now $NOW --dry-run 2>&1); st=$?
expect_eq "run --dry-run needs no S3 nor credentials" "$st" 0
expect_contains "dry run names the object" "$out" "s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz"

# check validates S3 settings offline
out=$(SINKPIPE_CONNECTION__data_warehouse__S3_REGION="us east" \
  SINKPIPE_CONNECTION__data_lake__S3_ENDPOINT=ftp://nowhere "$SINKPIPE" -p "$P" check 2>&1); st=$?
expect_eq "check: bad S3 settings fail" "$st" 1
expect_contains "check: the region, at its line" "$out" \
  "connections/data_warehouse.connection:2: S3_REGION: 'us east' is not a region name (e.g. us-east-1)"
expect_contains "check: the endpoint" "$out" \
  "S3_ENDPOINT 'ftp://nowhere': expected http://host[:port] or https://host[:port]"

export SINKPIPE_CONNECTION__data_warehouse__S3_ENDPOINT=$S3_TEST_ENDPOINT
export SINKPIPE_CONNECTION__data_warehouse__S3_STS_ENDPOINT=$S3_TEST_STS_ENDPOINT
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PROFILE=

# a good run: through AssumeRole of the seed's role
out=$("$SINKPIPE" -p "$P" run daily_export --now $NOW 2>&1); st=$?
expect_eq "daily_export runs" "$st" 0
expect_contains "it lists the object" "$out" "s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz"
s3_aws s3 cp s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz "$E2E_TMP/got.csv.gz" \
  --only-show-errors || not_ok "aws reads the object back"
"$SINKPIPE" -p "$P" sql --format csv --now $NOW \
  "$(sed -n '/^SQL >/,/^TYPE/p' "$P/pipes/daily_export.pipe" | sed '1d;$d')" \
  >"$E2E_TMP/want.csv" 2>/dev/null
if [ -s "$E2E_TMP/want.csv" ]; then
  zcat "$E2E_TMP/got.csv.gz" | sort >"$E2E_TMP/got.sorted"
  sort "$E2E_TMP/want.csv" >"$E2E_TMP/want.sorted"
  expect_eq "aws reads back the query's rows" "$(wc -l <"$E2E_TMP/got.sorted")" \
    "$(wc -l <"$E2E_TMP/want.sorted")"
fi
expect_eq "the run assumed the role" "$(s3_log_count sts:AssumeRole 200)" 1
meta=$(s3_aws s3api head-object --bucket data-warehouse \
  --key tinybird/daily/events_2026-11-24.csv.gz --output json | tr -d ' \n')
expect_contains "metadata: pipe" "$meta" '"pipe":"daily_export"'
expect_contains "metadata: encoding" "$meta" '"ContentEncoding":"gzip"'

# fail_line NAME PIPE WANT [ENV...]: the run fails with one line containing WANT
fail_line() {
  local name=$1 pipe=$2 want=$3; shift 3
  local o s
  o=$(env "$@" "$SINKPIPE" -p "$P" run "$pipe" --now $NOW 2>&1); s=$?
  expect_eq "$name: exit 1" "$s" 1
  expect_contains "$name: says why" "$o" "$want"
  case "$o" in *"$S3_TEST_SECRET"*|*wrong-secret-value*|*wrong-static-secret*)
    not_ok "$name: a secret is printed" ;; esac
  expect_eq "$name: one error line" "$(grep -vc 'nothing was delivered' <<<"$o")" 1
}
sed 's|s3://data-warehouse/|s3://no-such-bucket/|' "$P/pipes/daily_export.pipe" \
  >"$P/pipes/lost_export.pipe"
fail_line "unknown bucket" lost_export \
  "connection 'data_warehouse': s3://no-such-bucket/: NoSuchBucket: The specified bucket does not exist"
fail_line "wrong region" daily_export \
  "(the bucket is in region 'us-west-2', S3_REGION is 'eu-west-3')" \
  SINKPIPE_CONNECTION__data_warehouse__S3_REGION=eu-west-3
fail_line "wrong secret" daily_export \
  "connection 'data_warehouse': AssumeRole 'arn:aws:iam::123456789012:role/tinybird-warehouse-access': SignatureDoesNotMatch" \
  AWS_SECRET_ACCESS_KEY=wrong-secret-value
fail_line "denied role" daily_export \
  "connection 'data_warehouse': AssumeRole '$S3_TEST_DENIED_ROLE_ARN': AccessDenied" \
  SINKPIPE_CONNECTION__data_warehouse__S3_ARN="$S3_TEST_DENIED_ROLE_ARN"
fail_line "no credentials" daily_export "connection 'data_warehouse': no credentials" \
  -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY
fail_line "wrong static secret" daily_export \
  "connection 'data_warehouse': s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz: SignatureDoesNotMatch" \
  SINKPIPE_CONNECTION__data_warehouse__S3_ARN= \
  SINKPIPE_CONNECTION__data_warehouse__S3_ACCESS_KEY="$S3_TEST_ACCESS_KEY" \
  SINKPIPE_CONNECTION__data_warehouse__S3_SECRET=wrong-static-secret
expect_eq "no multipart upload left open" "$(s3_open_uploads data-warehouse)" 0
finish
