#!/usr/bin/env bash
# Secrets are never printed, whatever connection key they feed (docs/
# configuration.md, "Secrets"): every Kafka and S3 connection key takes its
# value from {{ tb_secret('X') }}; check, run (text and --json), the daemon
# (its log, /v0/jobs, /v0/pipes), jobs, the ops log through SQL and every
# file under .sinkpipe/ are collected while values are bad (echoed by
# librdkafka's and our validation) and while hosts do not resolve (named by
# libcurl and librdkafka); no secret value appears in any of them.  A very
# short secret ("on") hides only whole tokens: "connections" stays intact.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
O=$E2E_TMP/outputs
mkdir -p "$P/connections" "$P/pipes" "$O"
export SINKPIPE_ADMIN_TOKEN=admin-secrets-token-1
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
cat > "$P/connections/k.connection" <<'X'
TYPE kafka
KAFKA_BOOTSTRAP_SERVERS {{ tb_secret('KB') }}
KAFKA_SECURITY_PROTOCOL {{ tb_secret('KP') }}
KAFKA_SASL_MECHANISM {{ tb_secret('KM') }}
KAFKA_KEY {{ tb_secret('KK') }}
KAFKA_SECRET {{ tb_secret('KS') }}
KAFKA_SCHEMA_REGISTRY_URL {{ tb_secret('KR') }}
X
cat > "$P/connections/s.connection" <<'X'
TYPE s3
S3_REGION {{ tb_secret('SR') }}
S3_ENDPOINT {{ tb_secret('SE') }}
S3_ACCESS_KEY {{ tb_secret('SA') }}
S3_SECRET {{ tb_secret('SS') }}
S3_PATH_STYLE {{ tb_secret('SP', 'true') }}
X
cat > "$P/connections/r.connection" <<'X'
TYPE s3
S3_REGION {{ tb_secret('RR') }}
S3_ENDPOINT http://rendpoint-chi.invalid:9000
S3_ARN {{ tb_secret('RN') }}
S3_EXTERNAL_ID {{ tb_secret('RX') }}
S3_STS_ENDPOINT {{ tb_secret('RT') }}
S3_ACCESS_KEY {{ tb_secret('SHORT') }}
S3_SECRET rsecret-plain-psi-42
X
for c in k s r; do
  if [ $c = k ]; then dest="EXPORT_KAFKA_TOPIC t"; else dest="EXPORT_BUCKET_URI s3://bkt/x/
EXPORT_FILE_TEMPLATE f"; fi
  cat > "$P/pipes/p_$c.pipe" <<X
NODE n
SQL >
    SELECT 1 AS one

TYPE sink
EXPORT_CONNECTION_NAME $c
$dest
EXPORT_SCHEDULE @on-demand
X
done
cat > "$P/.env" <<'X'
KB=kbroker-zeta.invalid:9092,kbroker-eta.invalid:9093
KP=SASL_PLAINTEXT
KM=SCRAM-SHA-512
KK=kuser-omega
KS=kpass-sigma-77
KR=http://kregistry-theta.invalid:8081
SR=eu-north-7
SE=http://sendpoint-gamma.invalid:9000
SA=AKIDSECRETVALUE1
SS=sssecret-delta-88
RR=ap-south-9
RN=arn:aws:iam::123456789012:role/secret-role-kappa
RX=rext-id-mu
RT=http://rsts-lambda.invalid:9001
SHORT=on
X
SECRETS="kbroker-zeta kbroker-eta SASL_PLAINTEXT SCRAM-SHA-512 kuser-omega kpass-sigma-77
kregistry-theta eu-north-7 sendpoint-gamma AKIDSECRETVALUE1 sssecret-delta-88 ap-south-9
secret-role-kappa rext-id-mu rsts-lambda rsecret-plain-psi-42 BOGUSPROTO-pi BOGUSMECH-rho
eastzz-tau sendpoint-upsilon"

# collect NAME CMD...: stdout and stderr of a command
n=0
collect() {
  local name=$1; shift
  n=$((n + 1))
  "$@" >"$O/$n-$name.out" 2>"$O/$n-$name.err"
}
SP() { "$SINKPIPE" -p "$P" "$@"; }

# bad values (echoed by the validators), one key at a time
for vc in "k KP=BOGUSPROTO-pi" "k KM=BOGUSMECH-rho" "s SR=us eastzz-tau" "r RR=us eastzz-tau" \
          "s SE=ftp://sendpoint-upsilon.invalid"; do
  c=${vc%% *} v=${vc#* }
  collect check env "$v" "$SINKPIPE" -p "$P" check
  collect check-json env "$v" "$SINKPIPE" -p "$P" --json check
  collect "run-$c" env "$v" "$SINKPIPE" -p "$P" run "p_$c"
done
expect_contains "a bad value is reported (its key)" "$(cat "$O"/*check*.out "$O"/*check*.err)" \
  "KAFKA_SECURITY_PROTOCOL"
expect_contains "a bad region is reported" "$(cat "$O"/*run-s*.err)" "is not a region name"

# good values, hosts that do not resolve: the client libraries' messages
collect check SP check
for c in k s r; do
  collect "run-$c" SP run "p_$c"
  [ $c = k ] || collect "run-json-$c" SP --json run "p_$c"
done
expect_contains "an unreachable endpoint is reported" "$(cat "$O"/*run-s.err)" "connection 's'"

# the daemon: log, API answers, jobs
. "$E2E_ROOT/tests/harness/daemon.sh"
start
for c in k s r; do
  http POST "/v0/pipes/p_$c/sink" -H "$A"
  wait_job "$(jget "$BODY" 'd["id"]')" error && ok "daemon run of p_$c fails" || not_ok "daemon run of p_$c fails"
done
http GET /v0/jobs -H "$A"; echo "$BODY" > "$O/api-jobs.json"
expect_eq "the jobs say why" "$(jget "$BODY" 'all(j["error"] for j in d["jobs"])')" True
http GET /v0/pipes -H "$A"; echo "$BODY" > "$O/api-pipes.json"
stop TERM
cp "$LOG" "$O/serve.log"; cp "$E2E_TMP/serve.out" "$O/serve.out"
collect jobs SP jobs -n 100
collect jobs-json SP --json jobs -n 100
# tinybird.sinks_ops_log is a view of the embedded engine (docs/serve.md)
if [ "${SINKPIPE_ENGINE:-embedded}" = embedded ]; then
  collect opslog SP sql --format ndjson "SELECT * FROM tinybird.sinks_ops_log"
  expect_contains "the ops log has the errors" "$(cat "$O"/*opslog.out)" '"result":"error"'
fi

# no secret anywhere
leaks=0
for s in $SECRETS; do
  hits=$(grep -rlaF -- "$s" "$O" "$P/.sinkpipe" 2>/dev/null)
  if [ -n "$hits" ]; then
    leaks=$((leaks + 1)); echo "# '$s' in: $(echo $hits | tr '\n' ' ')"
    grep -rhaF -- "$s" "$O" "$P/.sinkpipe" 2>/dev/null | head -3 | cut -c1-300 | sed "s/^/#   /"
  fi
done
expect_eq "no secret value in any output or state file ($(ls "$O" | wc -l) outputs)" "$leaks" 0

# a short secret hides whole tokens only
expect_contains "short secret: words intact (check)" "$(cat "$O"/*-check.err)" "3 connections"
expect_contains "short secret: words intact (run)" "$(cat "$O"/*run-r.err)" "connection 'r'"
if grep -qaE '[A-Za-z]\*\*\*|\*\*\*[A-Za-z]' "$O"/*; then
  not_ok "no word mangled by the scrubber"; grep -haE '[A-Za-z]\*\*\*|\*\*\*[A-Za-z]' "$O"/* | head -3
else
  ok "no word mangled by the scrubber"
fi
finish
