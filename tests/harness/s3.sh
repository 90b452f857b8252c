# tests/harness/s3.sh — a private, strict S3 + STS server for tests
# (tests/harness/s3_server.py), optionally behind a fault-injecting proxy
# (tests/harness/s3_fault_proxy.py).  Sourced by bash tests.
#
# Usage:
#   . "$ROOT/tests/harness/s3.sh"
#   s3_available || { echo "ok - skipped: no python3/aws"; exit 0; }
#   s3_start [--proxy] [--sts] [--region R] [--role ARN[#EXTERNAL_ID]]...
#            [--bucket NAME[:REGION]]... [--sts-min-duration S]
#            [--sts-lifetime S] [--max-skew S] [-- SERVER_ARGS...]  || exit 1
#   s3_mb BUCKET [REGION]            create a bucket (aws s3api create-bucket)
#   s3_aws s3 cp s3://b/k -          Debian's aws CLI against the direct
#                                    endpoint (`s3_aws sts ...`: the STS one)
#   s3_fault NAME action=500 method=PUT match='partNumber=2' [nth=N]
#            [times=K] [secs=T] [bytes=B]     add a proxy rule (0 on ok)
#   s3_fault_count NAME              prints how many times it fired
#   s3_fault_seen NAME               prints how many requests it matched
#   s3_fault_clear                   removes every rule
#   s3_sts_fault NAME KEY=VALUE...   the same for the STS proxy (--proxy
#   s3_sts_fault_count NAME          starts one in front of STS too, at
#   s3_sts_fault_seen NAME           S3_TEST_STS_PROXY_ENDPOINT)
#   s3_sts_fault_clear
#   s3_open_uploads BUCKET           prints the number of multipart uploads
#                                    in progress (ListMultipartUploads)
#   s3_curl ARGS... URL              curl --aws-sigv4 with the test
#                                    credentials (UNSIGNED-PAYLOAD)
#   s3_log_count OP [STATUS]         prints how many requests of operation
#                                    OP (PutObject, UploadPart, sts:AssumeRole,
#                                    ...) the server logged (with STATUS)
#   s3_stop                          also run by the EXIT trap s3_start adds
#
# s3_start picks free loopback ports (the kernel's: the programs bind port
# 0 and print theirs), starts the server on a fresh `mktemp -d` folder,
# waits (deadline S3_START_TIMEOUT seconds, default 20) for its ready line,
# chains an EXIT trap calling s3_stop before the one already set, and
# exports:
#   S3_TEST_ENDPOINT          http://127.0.0.1:PORT — the proxy's with --proxy
#   S3_TEST_DIRECT_ENDPOINT   the server itself, never faulted
#   S3_TEST_STS_ENDPOINT      the STS endpoint (AssumeRole), always started
#   S3_TEST_ACCESS_KEY, S3_TEST_SECRET          read-write credentials,
#                                               random per start
#   S3_TEST_RO_ACCESS_KEY, S3_TEST_RO_SECRET    read-only ones (writes get
#                                               403 AccessDenied)
#   S3_TEST_REGION            default region (us-east-1 unless set before)
#   S3_TEST_ROLE_ARN          a role STS lets these credentials assume
#   S3_TEST_EXT_ROLE_ARN, S3_TEST_EXTERNAL_ID   a role that needs that
#                                               external id
#   S3_TEST_DENIED_ROLE_ARN   a role STS refuses (403 AccessDenied)
#   S3_TEST_LOG               the server's request log, one JSON line per
#                             request (op, bucket, key, status, code, cred
#                             label, size, parts, meta, if_none_match...)
#   S3_TEST_PROXY_CONTROL     the proxy's control URL (with --proxy)
#   S3_TEST_STS_PROXY_ENDPOINT, S3_TEST_STS_PROXY_CONTROL   a second proxy,
#                             in front of STS (with --proxy)
#   S3_DIR                    the folder (server data, logs)
# S3_TEST_ROLE_ARN and the seed's roles (examples/seed/connections) are
# allowed; --role adds more.  Durations: AssumeRole accepts DurationSeconds
# from --sts-min-duration (default 1 here, 900 on AWS) to 3600;
# --sts-lifetime S caps the life of issued credentials at S seconds (the
# answer's Expiration tells), for tests of expiry and refresh.
#
# s3_aws runs $S3_AWS (default /usr/bin/aws, Debian's awscli 2.9) with no
# user configuration (AWS_CONFIG_FILE=/dev/null, ...), the credentials
# S3_AWS_KEY / S3_AWS_SECRET / S3_AWS_TOKEN (default: the read-write test
# ones), --endpoint-url, and no retries (S3_AWS_MAX_ATTEMPTS, default 1);
# S3_AWS_WRAP is a command put before it (e.g. `faketime -f -20m`).  Add --only-show-errors to `aws s3 cp` (its
# progress goes to stdout).
#
# Python: $S3_PYTHON, default /usr/bin/python3 (Debian's), else python3.

s3__python() {
  if [ -n "${S3_PYTHON:-}" ]; then echo "$S3_PYTHON"
  elif [ -x /usr/bin/python3 ]; then echo /usr/bin/python3
  else command -v python3; fi
}
s3__aws() {
  if [ -n "${S3_AWS:-}" ]; then echo "$S3_AWS"
  elif [ -x /usr/bin/aws ]; then echo /usr/bin/aws
  else command -v aws; fi
}

s3_available() {
  local py aws
  py=$(s3__python) && [ -n "$py" ] && [ -x "$py" ] || return 1
  aws=$(s3__aws) && [ -n "$aws" ] && [ -x "$aws" ] || return 1
  command -v curl >/dev/null 2>&1
}

# s3__wait_ready FILE PID NAME: the first line of FILE once it starts
# with `ready `, waiting at most S3_START_TIMEOUT seconds
. "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
s3__wait_ready() { harness_wait_ready "$1" "$2" "$3" "${S3_START_TIMEOUT:-20}"; }

# s3__field LINE NAME: the value of NAME=VALUE in LINE
s3__field() {
  local w
  for w in $1; do case $w in "$2="*) echo "${w#*=}"; return 0 ;; esac; done
  return 1
}

s3__rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

s3_start() {
  local proxy=0 region=${S3_TEST_REGION:-us-east-1} minimum=1 skew=900
  local -a roles=() buckets=() extra=() extra_life=()
  while [ $# -gt 0 ]; do
    case $1 in
      --proxy) proxy=1 ;;
      --sts) ;;   # STS is always started
      --region) region=$2; shift ;;
      --role) roles+=(--role "$2"); shift ;;
      --bucket) buckets+=(--bucket "$2"); shift ;;
      --sts-min-duration) minimum=$2; shift ;;
      --max-skew) skew=$2; shift ;;
      --sts-lifetime) extra_life=(--sts-lifetime "$2"); shift ;;
      --) shift; extra=("$@"); break ;;
      *) echo "# s3_start: unknown option $1" >&2; return 1 ;;
    esac
    shift
  done
  local here py
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  py=$(s3__python)
  S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-s3.XXXXXX") || return 1
  mkdir -p "$S3_DIR/data"
  # chain the EXIT trap: s3_stop, then whatever was there
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then eval "set -- $prev"; prev=$3; fi
  trap "s3_stop; $prev" EXIT

  S3_TEST_REGION=$region
  S3_TEST_ACCESS_KEY=AKIA$(s3__rand 8 | tr a-f A-F)
  S3_TEST_SECRET=$(s3__rand 20)
  S3_TEST_RO_ACCESS_KEY=AKIA$(s3__rand 8 | tr a-f A-F)
  S3_TEST_RO_SECRET=$(s3__rand 20)
  S3_TEST_ROLE_ARN=arn:aws:iam::123456789012:role/sinkpipe-test-writer
  S3_TEST_EXT_ROLE_ARN=arn:aws:iam::123456789012:role/sinkpipe-test-external
  S3_TEST_EXTERNAL_ID=ext-$(s3__rand 4)
  S3_TEST_DENIED_ROLE_ARN=arn:aws:iam::123456789012:role/sinkpipe-test-denied
  local seed_roles=(
    arn:aws:iam::123456789012:role/data-lake-writer
    arn:aws:iam::123456789012:role/tinybird-warehouse-access
    arn:aws:iam::123456789012:role/tinybird-s3-access
  )
  local r
  for r in "${seed_roles[@]}"; do roles+=(--role "$r"); done
  "$py" "$here/s3_server.py" --dir "$S3_DIR/data" --region "$region" \
    --cred "$S3_TEST_ACCESS_KEY:$S3_TEST_SECRET" \
    --cred "$S3_TEST_RO_ACCESS_KEY:$S3_TEST_RO_SECRET:readonly" \
    --role "$S3_TEST_ROLE_ARN" --role "$S3_TEST_EXT_ROLE_ARN#$S3_TEST_EXTERNAL_ID" \
    "${roles[@]}" ${buckets[@]+"${buckets[@]}"} \
    --sts-min-duration "$minimum" --max-skew "$skew" \
    ${extra_life[@]+"${extra_life[@]}"} ${extra[@]+"${extra[@]}"} \
    >"$S3_DIR/server.out" 2>"$S3_DIR/server.out.err" &
  S3_PID=$!
  local line
  line=$(s3__wait_ready "$S3_DIR/server.out" "$S3_PID" s3_server) || return 1
  S3_TEST_DIRECT_ENDPOINT=http://127.0.0.1:$(s3__field "$line" s3_port)
  S3_TEST_STS_ENDPOINT=http://127.0.0.1:$(s3__field "$line" sts_port)
  S3_TEST_ENDPOINT=$S3_TEST_DIRECT_ENDPOINT
  S3_TEST_LOG=$S3_DIR/data/requests.log
  S3_TEST_PROXY_CONTROL= S3_TEST_STS_PROXY_ENDPOINT= S3_TEST_STS_PROXY_CONTROL=
  if [ $proxy = 1 ]; then
    "$py" "$here/s3_fault_proxy.py" --upstream "127.0.0.1:$(s3__field "$line" s3_port)" \
      >"$S3_DIR/proxy.out" 2>"$S3_DIR/proxy.out.err" &
    S3_PROXY_PID=$!
    line=$(s3__wait_ready "$S3_DIR/proxy.out" "$S3_PROXY_PID" s3_fault_proxy) || return 1
    S3_TEST_ENDPOINT=http://127.0.0.1:$(s3__field "$line" port)
    S3_TEST_PROXY_CONTROL=http://127.0.0.1:$(s3__field "$line" control_port)
    "$py" "$here/s3_fault_proxy.py" --upstream "127.0.0.1:${S3_TEST_STS_ENDPOINT##*:}" \
      >"$S3_DIR/sts_proxy.out" 2>"$S3_DIR/sts_proxy.out.err" &
    S3_STS_PROXY_PID=$!
    line=$(s3__wait_ready "$S3_DIR/sts_proxy.out" "$S3_STS_PROXY_PID" "s3_fault_proxy (STS)") || return 1
    S3_TEST_STS_PROXY_ENDPOINT=http://127.0.0.1:$(s3__field "$line" port)
    S3_TEST_STS_PROXY_CONTROL=http://127.0.0.1:$(s3__field "$line" control_port)
  fi
  export S3_TEST_ENDPOINT S3_TEST_DIRECT_ENDPOINT S3_TEST_STS_ENDPOINT S3_TEST_ACCESS_KEY \
    S3_TEST_SECRET S3_TEST_RO_ACCESS_KEY S3_TEST_RO_SECRET S3_TEST_REGION S3_TEST_ROLE_ARN \
    S3_TEST_EXT_ROLE_ARN S3_TEST_EXTERNAL_ID S3_TEST_DENIED_ROLE_ARN S3_TEST_LOG \
    S3_TEST_PROXY_CONTROL S3_TEST_STS_PROXY_ENDPOINT S3_TEST_STS_PROXY_CONTROL S3_DIR
}

s3_aws() {
  local ep=${S3_TEST_DIRECT_ENDPOINT:?s3_aws: no server running}
  [ "${1:-}" = sts ] && ep=$S3_TEST_STS_ENDPOINT
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN \
    -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_ENDPOINT_URL_STS -u AWS_ROLE_ARN \
    -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_CA_BUNDLE -u HTTP_PROXY -u HTTPS_PROXY \
    -u http_proxy -u https_proxy \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_ACCESS_KEY_ID="${S3_AWS_KEY:-$S3_TEST_ACCESS_KEY}" \
    AWS_SECRET_ACCESS_KEY="${S3_AWS_SECRET:-$S3_TEST_SECRET}" \
    ${S3_AWS_TOKEN:+AWS_SESSION_TOKEN="$S3_AWS_TOKEN"} \
    AWS_DEFAULT_REGION="$S3_TEST_REGION" AWS_PAGER= AWS_EC2_METADATA_DISABLED=true \
    AWS_CLI_AUTO_PROMPT=off AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS="${S3_AWS_MAX_ATTEMPTS:-1}" NO_PROXY='*' \
    ${S3_AWS_WRAP:-} "$(s3__aws)" --endpoint-url "$ep" "$@"
}

# s3_mb BUCKET [REGION]
s3_mb() {
  local r=${2:-$S3_TEST_REGION}
  if [ "$r" = us-east-1 ]; then
    s3_aws s3api create-bucket --bucket "$1" --region us-east-1 >/dev/null
  else
    s3_aws s3api create-bucket --bucket "$1" --region "$r" \
      --create-bucket-configuration "LocationConstraint=$r" >/dev/null
  fi
}

s3__control() { # METHOD PATH [BODY]   (the proxy: S3__CTL, default S3's)
  local ctl=${S3__CTL:-${S3_TEST_PROXY_CONTROL:-}}
  [ -n "$ctl" ] || { echo "# s3_fault: s3_start --proxy first" >&2; return 1; }
  if [ $# -ge 3 ]; then
    curl -sS --noproxy '*' -m 10 -X "$1" --data-binary "$3" "$ctl$2"
  else
    curl -sS --noproxy '*' -m 10 -X "$1" "$ctl$2"
  fi
}

# s3_fault NAME key=value...: 0 when the proxy accepted the rule
s3_fault() {
  local ans
  ans=$(s3__control POST /rule "$*") || return 1
  [ "$ans" = ok ] && return 0
  echo "# s3_fault '$*': $ans" >&2
  return 1
}
s3_fault_count() { local a; a=$(s3__control GET "/count/$1") || return 1; echo "${a%% *}"; }
s3_fault_seen() { local a; a=$(s3__control GET "/count/$1") || return 1; echo "${a##* }"; }
s3_fault_clear() { [ "$(s3__control POST /clear "")" = ok ]; }
s3_sts_fault() { S3__CTL=${S3_TEST_STS_PROXY_CONTROL:-none} s3_fault "$@"; }
s3_sts_fault_count() { S3__CTL=${S3_TEST_STS_PROXY_CONTROL:-none} s3_fault_count "$@"; }
s3_sts_fault_seen() { S3__CTL=${S3_TEST_STS_PROXY_CONTROL:-none} s3_fault_seen "$@"; }
s3_sts_fault_clear() { S3__CTL=${S3_TEST_STS_PROXY_CONTROL:-none} s3_fault_clear; }

# s3_curl ARGS... URL: curl signing with the test credentials (SigV4,
# service s3, region S3_CURL_REGION else S3_TEST_REGION: a bucket's own),
# x-amz-content-sha256 UNSIGNED-PAYLOAD; the
# URL is the caller's (e.g. "$S3_TEST_DIRECT_ENDPOINT/bucket/key").  curl
# 7.88 signs the query as written: write its parameters sorted, encoded
# (`prefix=a%2F`) and with `=` after a bare name (`?uploads=`).
s3_curl() {
  curl -sS --noproxy '*' -m 60 --aws-sigv4 "aws:amz:${S3_CURL_REGION:-$S3_TEST_REGION}:s3" \
    --user "$S3_TEST_ACCESS_KEY:$S3_TEST_SECRET" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

# s3_open_uploads BUCKET: multipart uploads in progress (every page).  A
# signed curl (one process, fast) reads ListMultipartUploads; past one page
# the aws CLI pages.
s3_open_uploads() {
  local xml n region
  # the bucket's region: S3 names it (x-amz-bucket-region) whatever region
  # HeadBucket was signed for
  region=$(s3_curl -I "$S3_TEST_DIRECT_ENDPOINT/$1" | tr -d '\r' |
           sed -n 's/^[Xx]-[Aa]mz-[Bb]ucket-[Rr]egion: //p')
  xml=$(S3_CURL_REGION=${region:-$S3_TEST_REGION} \
        s3_curl -f "$S3_TEST_DIRECT_ENDPOINT/$1?max-uploads=1000&uploads=") || return 1
  case $xml in
    *"<IsTruncated>false</IsTruncated>"*)
      n=$(grep -o '<Upload>' <<<"$xml" | wc -l); echo $((n)) ;;
    *)
      s3_aws s3api list-multipart-uploads --bucket "$1" --output json |
        "$(s3__python)" -c 'import json,sys
t = sys.stdin.read().strip()
print(len(json.loads(t).get("Uploads") or []) if t else 0)' ;;
  esac
}

# s3_log_count OP [STATUS]
s3_log_count() { PEER_PYTHON=$(s3__python) harness_log_count "$S3_TEST_LOG" "$@"; }

s3_stop() {
  local p
  for p in ${S3_STS_PROXY_PID:-} ${S3_PROXY_PID:-} ${S3_PID:-}; do
    harness_stop_pid "$p"
  done
  S3_PID= S3_PROXY_PID= S3_STS_PROXY_PID=
  if [ -n "${S3_DIR:-}" ]; then rm -rf "$S3_DIR"; S3_DIR=; fi
  return 0
}
