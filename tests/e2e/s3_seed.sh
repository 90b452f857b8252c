#!/usr/bin/env bash
# s3_seed: the seed's three S3 pipes (s3_events_sink, daily_export,
# daily_partition_export) run unchanged — hand-written datafiles and the
# ones the Tinybird SDK generates — against the strict local S3 + STS server
# (tests/harness/s3.sh).  Each connection's S3_ARN is assumed through STS
# with the base credentials of the environment; only the endpoints are
# overridden (SINKPIPE_CONNECTION__<conn>__S3_ENDPOINT / __S3_STS_ENDPOINT).
# Every object the run reports is read back with Debian's aws CLI and
# compared row for row with `sinkpipe sql --format …` of the same query;
# sizes, metadata (job id, pipe, content type/encoding), create_new siblings
# (the first object untouched, If-None-Match sent), replace (overwritten,
# no If-None-Match), and a denied role / wrong secret on other connections
# fail with one line naming the connection.  (tests/e2e/s3_errors.sh covers
# the error lines of data_warehouse in detail.)
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
SEED=$E2E_ROOT/examples/seed
NOW=2026-11-25T02:00:00Z
ROWS=${S3_E2E_ROWS:-20000}
export KAFKA_KEY=e2e-key KAFKA_SECRET=e2e-secret
export STREAMING_KAFKA_KEY=e2e-skey STREAMING_KAFKA_SECRET=e2e-ssecret

if ! s3_available; then not_ok "python3, aws and curl are available for the S3 peer"; finish; fi
s3_start || { not_ok "the S3 server starts"; finish; }
ok "the S3 server starts ($S3_TEST_ENDPOINT, STS $S3_TEST_STS_ENDPOINT)"
# the seed's buckets, in the regions of their connections
s3_mb my-bucket us-east-1 && s3_mb data-warehouse us-west-2 && s3_mb data-lake us-west-2 &&
  ok "buckets my-bucket (us-east-1), data-warehouse and data-lake (us-west-2)" ||
  not_ok "create the seed's buckets"

for c in landing_s3 data_warehouse data_lake; do
  export "SINKPIPE_CONNECTION__${c}__S3_ENDPOINT=$S3_TEST_ENDPOINT"
  export "SINKPIPE_CONNECTION__${c}__S3_STS_ENDPOINT=$S3_TEST_STS_ENDPOINT"
done
# base credentials for AssumeRole: the standard environment variables
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS

# ----------------------------------------------------------------- data
GE=$SINKPIPE_BUILD/tools/gen_events
if [ ! -x "$GE" ]; then
  GE=$E2E_TMP/gen_events
  ${CC:-cc} -std=c17 -O2 -o "$GE" "$E2E_ROOT/tests/tools/gen_events.c" || {
    not_ok "gen_events builds"; finish; }
fi
"$GE" --rows "$ROWS" --end "$NOW" --days 3 --seed 42 >"$E2E_TMP/events.ndjson"
P=$E2E_TMP/hand
cp -r "$SEED" "$P"
rm -rf "$P/.sinkpipe" # engine state of a hand run in examples/seed, if any
out=$("$SINKPIPE" -p "$P" append events "$E2E_TMP/events.ndjson" 2>&1)
expect_contains "append loads every row" "$out" "$ROWS rows loaded, 0 quarantined"

show() { sed 's/^/#   /' "$@" | head -20; }
jfield() { python3 -c 'import json,sys
try: v = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception as e: v = "unreadable: %s" % e
print("" if v is None else v)' "$1" "$2"; }
# objects JSON: "PATH SIZE ROWS" per object of the run's output
objects() { python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])).get("output") or []: print(o["path"], o["size"], o.get("rows", ""))' "$1"; }
# want_rows PROJECT PIPE FORMAT OUT: the pipe's query, run by sinkpipe sql
want_rows() {
  local sql
  sql=$("$SINKPIPE" -p "$1" --json run "$2" --now "$NOW" --dry-run 2>"$E2E_TMP/dry.err" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["query_sql"])') || {
    show "$E2E_TMP/dry.err"; return 1; }
  "$SINKPIPE" -p "$1" sql --format "$3" --now "$NOW" "$sql" >"$4"
}
# run_pipe PROJECT PIPE JOBID JSONOUT [env...]
run_pipe() {
  local p=$1 pipe=$2 job=$3 j=$4; shift 4
  env "$@" "$SINKPIPE" -p "$p" --json run "$pipe" --now "$NOW" --job-id "$job" >"$j" 2>"$j.err"
}
# fetch S3URL OUT: aws s3 cp, decompressed when the key ends in .gz
fetch() {
  s3_aws s3 cp --only-show-errors "$1" "$2.raw" 2>"$2.err" || { show "$2.err"; return 1; }
  case $1 in *.gz) gzip -dc "$2.raw" >"$2" ;; *) cp "$2.raw" "$2" ;; esac
}
# head_field S3URL FIELD: a field of head-object (Metadata as JSON)
head_json() {
  local b=${1#s3://}; local k=${b#*/}; b=${b%%/*}
  s3_aws s3api head-object --bucket "$b" --key "$k" --output json
}
hj() { python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
v = d
for p in sys.argv[2].split("."): v = (v or {}).get(p)
print(json.dumps(v, sort_keys=True) if isinstance(v, dict) else ("" if v is None else v))' "$1" "$2"; }

declare -A FMT=([s3_events_sink]=csv [daily_export]=csv [daily_partition_export]=ndjson)
declare -A KEY=(
  [s3_events_sink]=s3://my-bucket/exports/events_2026-11-25.csv
  [daily_export]=s3://data-warehouse/tinybird/daily/events_2026-11-24.csv.gz
  [daily_partition_export]=s3://data-lake/events/year=2026/month=11/day=25/events_2026-11-25_020000.ndjson.gz)
declare -A CTYPE=([csv]=text/csv [ndjson]=application/x-ndjson)
declare -A CONN=([s3_events_sink]=landing_s3 [daily_export]=data_warehouse
                 [daily_partition_export]=data_lake)

# canon FILE: its lines sorted, each unquoted number with a fraction at 12
# significant digits.  Two runs of one query on the same data may order rows
# differently (no ORDER BY, or ties) and give a Float64 aggregate (the avg()
# of daily_export) that differs in the last bits: ClickHouse adds floats in
# an order that depends on the table's parts (background merges change them)
# and on which of its threads reads which range.
canon() { python3 -c 'import re, sys
num = re.compile(rb"(?<![\w.\"])(-?[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?)(?![\w.\"])")
for l in open(sys.argv[1], "rb"):
    sys.stdout.buffer.write(num.sub(lambda m: b"%.12g" % float(m.group(1)), l))' "$1" | LC_ALL=C sort; }
# same_rows WHAT GOT WANT: the same bytes, else the same canon() lines
same_rows() {
  if cmp -s "$2" "$3"; then ok "$1: exactly (in order)"; else
    canon "$2" >"$2.canon"; canon "$3" >"$3.canon"
    expect_file_eq "$1: as a set (rows reordered or Float64 aggregates in the last bits)" \
      "$2.canon" "$3.canon"
  fi
}
# check_run WHAT PROJECT PIPE JOBID JSON WANTFILE KEY: the run's one object
# is KEY, its size and rows are right, aws reads back the query's rows, the
# metadata names the job and the pipe
check_run() {
  local what=$1 p=$2 pipe=$3 job=$4 j=$5 want=$6 key=$7
  local objs path size rows got=$E2E_TMP/got.$job
  objs=$(objects "$j")
  expect_eq "$what: the run reports one object" "$(wc -l <<<"$objs" | tr -d ' ')" 1
  read -r path size rows <<<"$objs"
  expect_eq "$what: its key" "$path" "$key"
  expect_eq "$what: rows reported = rows of the query" "$rows" \
    "$(( $(wc -l <"$want") - $( [ "${FMT[$pipe]}" = csv ] && echo 1 || echo 0) ))"
  if fetch "$path" "$got"; then
    expect_eq "$what: size reported = size stored" "$size" "$(stat -c %s "$got.raw")"
    same_rows "$what: aws reads back the query's rows" "$got" "$want"
  else
    not_ok "$what: aws s3 cp reads $path"
  fi
  head_json "$path" >"$got.head" 2>"$got.head.err" || show "$got.head.err"
  expect_eq "$what: metadata job id and pipe" "$(hj "$got.head" Metadata)" \
    "{\"job-id\": \"$job\", \"pipe\": \"$pipe\"}"
  expect_eq "$what: Content-Type" "$(hj "$got.head" ContentType)" "${CTYPE[${FMT[$pipe]}]}"
  case $key in
    *.gz) expect_eq "$what: Content-Encoding gzip" "$(hj "$got.head" ContentEncoding)" gzip ;;
    *) expect_eq "$what: no Content-Encoding" "$(hj "$got.head" ContentEncoding)" "" ;;
  esac
}

# ------------------------------------------- the seed's pipes, hand-written
for pipe in s3_events_sink daily_export daily_partition_export; do
  want=$E2E_TMP/want.$pipe
  want_rows "$P" "$pipe" "${FMT[$pipe]}" "$want" || { not_ok "$pipe: the query runs"; continue; }
  [ "$(wc -l <"$want")" -gt 1 ] || not_ok "$pipe: the query returns rows"
  if run_pipe "$P" "$pipe" "e2e-$pipe" "$E2E_TMP/$pipe.json"; then ok "run $pipe"; else
    not_ok "run $pipe"; show "$E2E_TMP/$pipe.json" "$E2E_TMP/$pipe.json.err"; fi
  check_run "$pipe" "$P" "$pipe" "e2e-$pipe" "$E2E_TMP/$pipe.json" "$want" "${KEY[$pipe]}"
done

# every object request was signed with the role's temporary credentials,
# and each connection assumed its own role of the seed
python3 - "$S3_TEST_LOG" >"$E2E_TMP/creds.txt" <<'PY'
import json, sys
roles, signers = set(), set()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("op") == "sts:AssumeRole" and r.get("status") == 200:
        roles.add("%s %s" % (r["session"], r["role"].rsplit("/", 1)[1]))
    elif r.get("op") in ("PutObject", "UploadPart", "CreateMultipartUpload", "CompleteMultipartUpload", "HeadObject", "HeadBucket") \
            and r.get("cred") not in ("cred0", None):
        signers.add(r.get("cred"))
print(" ".join(sorted(roles)))
print(" ".join(sorted(signers)))
PY
expect_eq "each connection assumed its S3_ARN role" "$(sed -n 1p "$E2E_TMP/creds.txt")" \
  "sinkpipe-data_lake data-lake-writer sinkpipe-data_warehouse tinybird-warehouse-access sinkpipe-landing_s3 tinybird-s3-access"
expect_eq "S3 requests were signed with the roles' temporary credentials" "$(sed -n 2p "$E2E_TMP/creds.txt")" \
  "sts:sinkpipe-data_lake sts:sinkpipe-data_warehouse sts:sinkpipe-landing_s3"
expect_eq "create_new objects are written with If-None-Match: *" \
  "$(python3 -c 'import json,sys
print(sorted({bool(json.loads(l).get("if_none_match")) for l in open(sys.argv[1]) if json.loads(l).get("op") == "PutObject"}))' "$S3_TEST_LOG")" \
  "[True]"
expect_eq "no multipart upload left open" \
  "$(s3_open_uploads my-bucket) $(s3_open_uploads data-warehouse) $(s3_open_uploads data-lake)" "0 0 0"

# ------------------------------------------------ create_new: a sibling
first_etag=$(hj "$E2E_TMP/got.e2e-daily_export.head" ETag)
if run_pipe "$P" daily_export e2e-again "$E2E_TMP/again.json"; then ok "run daily_export again"; else
  not_ok "run daily_export again"; show "$E2E_TMP/again.json.err"; fi
check_run "create_new, second run" "$P" daily_export e2e-again "$E2E_TMP/again.json" \
  "$E2E_TMP/want.daily_export" s3://data-warehouse/tinybird/daily/events_2026-11-24.1.csv.gz
head_json "${KEY[daily_export]}" >"$E2E_TMP/first.head"
expect_eq "create_new: the first object is untouched (ETag, job id)" \
  "$(hj "$E2E_TMP/first.head" ETag) $(hj "$E2E_TMP/first.head" Metadata.job-id)" "$first_etag e2e-daily_export"

# ------------------------------------------------------ replace: overwritten
sed -e 's/^EXPORT_STRATEGY create_new/EXPORT_STRATEGY replace/' \
    -e 's|s3://data-warehouse/tinybird/daily/|s3://data-warehouse/tinybird/replace/|' \
  "$P/pipes/daily_export.pipe" >"$P/pipes/daily_replace.pipe"
FMT[daily_replace]=csv
RKEY=s3://data-warehouse/tinybird/replace/events_2026-11-24.csv.gz
run_pipe "$P" daily_replace e2e-r1 "$E2E_TMP/r1.json" || { not_ok "replace: first run"; show "$E2E_TMP/r1.json.err"; }
# more events of 2026-11-24, so the second run's object differs
"$GE" --rows 3000 --end 2026-11-25T00:00:00Z --days 1 --seed 7 >"$E2E_TMP/more.ndjson"
"$SINKPIPE" -p "$P" append events "$E2E_TMP/more.ndjson" >/dev/null 2>&1 || not_ok "append more events"
want_rows "$P" daily_replace csv "$E2E_TMP/want.replace" || not_ok "replace: the query runs"
if run_pipe "$P" daily_replace e2e-r2 "$E2E_TMP/r2.json"; then ok "replace: second run"; else
  not_ok "replace: second run"; show "$E2E_TMP/r2.json.err"; fi
check_run "replace, second run" "$P" daily_replace e2e-r2 "$E2E_TMP/r2.json" "$E2E_TMP/want.replace" "$RKEY"
expect_eq "replace: one object under the prefix" \
  "$(s3_aws s3 ls --recursive s3://data-warehouse/tinybird/replace/ | wc -l | tr -d ' ')" 1
expect_eq "replace: no If-None-Match" "$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("key", "").startswith("tinybird/replace/")
          and json.loads(l).get("op") == "PutObject" and json.loads(l).get("if_none_match")))' "$S3_TEST_LOG")" 0

# ------------------------------------------- errors on the other connections
# fail_line NAME PIPE WANT [env...]: exit 1, one line containing WANT, no secret
fail_line() {
  local name=$1 pipe=$2 want=$3 o s; shift 3
  o=$(env "$@" "$SINKPIPE" -p "$P" run "$pipe" --now "$NOW" 2>&1); s=$?
  expect_eq "$name: exit 1" "$s" 1
  expect_contains "$name: says why" "$o" "$want"
  case "$o" in *"$S3_TEST_SECRET"*|*wrong-secret-value*) not_ok "$name: a secret is printed" ;; esac
  expect_eq "$name: one error line" "$(grep -vc 'nothing was delivered' <<<"$o")" 1
}
fail_line "data_lake with a denied role" daily_partition_export \
  "connection 'data_lake': AssumeRole '$S3_TEST_DENIED_ROLE_ARN': AccessDenied" \
  "SINKPIPE_CONNECTION__data_lake__S3_ARN=$S3_TEST_DENIED_ROLE_ARN"
fail_line "landing_s3 with a wrong base secret" s3_events_sink \
  "connection 'landing_s3': AssumeRole 'arn:aws:iam::123456789012:role/tinybird-s3-access': SignatureDoesNotMatch" \
  AWS_SECRET_ACCESS_KEY=wrong-secret-value
fail_line "landing_s3 with an unknown base key" s3_events_sink \
  "connection 'landing_s3': AssumeRole 'arn:aws:iam::123456789012:role/tinybird-s3-access': InvalidClientTokenId" \
  AWS_ACCESS_KEY_ID=AKIANOSUCHKEY0000000
expect_eq "failed runs wrote nothing" \
  "$(s3_aws s3 ls --recursive s3://my-bucket | wc -l | tr -d ' ') $(s3_aws s3 ls --recursive s3://data-lake | wc -l | tr -d ' ')" "1 1"

# ------------------------------------------- SDK-generated datafiles
TS=$E2E_ROOT/examples/ts
. "$E2E_ROOT/tests/harness/sdk.sh"
sdk_install "$E2E_TMP/npm.log" || { not_ok "npm ci installs the pinned SDK"; show "$E2E_TMP/npm.log"; }
sdk=${SDK_DIR:-/nonexistent}
if [ -f "$sdk/.complete" ] && command -v node >/dev/null 2>&1; then
  W=$E2E_TMP/ts GEN=$E2E_TMP/gen
  mkdir -p "$W"
  cp -r "$TS/src" "$TS/tinybird.config.json" "$TS/package.json" "$W/"
  ln -s "$sdk/node_modules" "$W/node_modules"
  if (cd "$W" && node node_modules/@tinybirdco/sdk/bin/tinybird.js generate -o "$GEN") \
       >"$E2E_TMP/gen.log" 2>&1 &&
     "$SINKPIPE" -p "$GEN" append events "$E2E_TMP/events.ndjson" >/dev/null 2>&1; then
    # create_new: the generated project's objects are the .1 (.2 for
    # daily_export, which ran twice) siblings of the hand-written ones
    declare -A GKEY=(
      [s3_events_sink]=s3://my-bucket/exports/events_2026-11-25.1.csv
      [daily_export]=s3://data-warehouse/tinybird/daily/events_2026-11-24.2.csv.gz
      [daily_partition_export]=s3://data-lake/events/year=2026/month=11/day=25/events_2026-11-25_020000.1.ndjson.gz)
    for pipe in s3_events_sink daily_export daily_partition_export; do
      if run_pipe "$GEN" "$pipe" "gen-$pipe" "$E2E_TMP/gen.$pipe.json"; then ok "run $pipe (SDK-generated)"; else
        not_ok "run $pipe (SDK-generated)"; show "$E2E_TMP/gen.$pipe.json.err"; fi
      check_run "$pipe (SDK-generated)" "$GEN" "$pipe" "gen-$pipe" "$E2E_TMP/gen.$pipe.json" \
        "$E2E_TMP/want.$pipe" "${GKEY[$pipe]}"
      same_rows "$pipe (SDK-generated): the rows of the hand-written project's object" \
        "$E2E_TMP/got.gen-$pipe" "$E2E_TMP/got.e2e-$pipe"
    done
  else
    not_ok "tinybird generate + append (SDK-generated project)"; show "$E2E_TMP/gen.log"
  fi
else
  not_ok "the SDK is installed for the SDK-generated project"
fi
expect_eq "no multipart upload left open at the end" \
  "$(s3_open_uploads my-bucket) $(s3_open_uploads data-warehouse) $(s3_open_uploads data-lake)" "0 0 0"
finish
