# tests/harness/gcs.sh — a private, strict GCS JSON API server and OAuth2
# token endpoint for tests (tests/harness/gcs_server.py).  Sourced by bash
# tests.
#
# Usage:
#   . "$ROOT/tests/harness/gcs.sh"
#   gcs_available || { echo "ok - skipped: no python3 cryptography/openssl"; exit 0; }
#   gcs_start [--bucket NAME]... [--token-lifetime S] [--token-uses N]  || exit 1
#   gcs_fault NAME action=503 match='upload_id=' [method=PUT] [nth=N] [times=K]
#                                  add a fault rule (action: an HTTP status,
#                                  drop, drop_after, delay with secs=S,
#                                  precreate: another writer takes the name);
#                                  0 on ok
#   gcs_fault_count NAME           prints how many times it fired
#   gcs_fault_clear
#   gcs_tokens uses=N|lifetime=S   tokens issued from now on: refused after N
#                                  requests (0: never) / live S seconds
#   gcs_get BUCKET KEY             the object's bytes on stdout (curl, admin token)
#   gcs_meta BUCKET KEY            the object's resource (JSON) on stdout
#   gcs_list BUCKET [PREFIX]       object names, one a line
#   gcs_open_sessions              resumable sessions neither completed nor cancelled
#   gcs_log_count OP [STATUS]      requests of OP (token, upload.multipart,
#                                  session.put, session.finish, session.cancel,
#                                  objects.get, ...) the server logged
#   gcs_stop                       also run by the EXIT trap gcs_start adds
#
# gcs_start makes a fresh 2048-bit RSA key with `openssl genpkey` (and a
# second one the server does not know), starts the server on a free
# loopback port (the kernel's), waits for its ready line (deadline
# GCS_START_TIMEOUT seconds, default 20), chains an EXIT trap calling
# gcs_stop before the one already set, and exports:
#   GCS_TEST_ENDPOINT        http://127.0.0.1:PORT
#   GCS_TEST_KEY_JSON        a service-account key file (token_uri: the server's)
#   GCS_TEST_WRONG_KEY_JSON  the same account, signed by a key the server
#                            does not know
#   GCS_TEST_EMAIL           the account's client_email
#   GCS_TEST_ADMIN_TOKEN     a bearer token the server always accepts (for
#                            reading results back with curl)
#   GCS_TEST_LOG             the server's request log (JSON lines)
#   GCS_DIR                  the folder
# Buckets: `test-bucket` always, plus each --bucket.

gcs__python() {
  if [ -n "${GCS_PYTHON:-}" ]; then echo "$GCS_PYTHON"
  elif [ -x /usr/bin/python3 ]; then echo /usr/bin/python3
  else command -v python3; fi
}

gcs_available() {
  local py
  py=$(gcs__python) && [ -n "$py" ] && "$py" -c 'import cryptography' 2>/dev/null || return 1
  command -v openssl >/dev/null 2>&1 && command -v curl >/dev/null 2>&1
}

. "$(dirname "${BASH_SOURCE[0]}")/peer.sh"

# gcs__keyfile PEM OUT: a service-account key file around private key PEM
gcs__keyfile() {
  "$(gcs__python)" - "$1" "$2" "$GCS_TEST_EMAIL" "$GCS_TEST_ENDPOINT/token" <<'PY'
import json, sys
pem, out, email, uri = sys.argv[1:5]
key = {"type": "service_account", "project_id": "sinkpipe-test",
       "private_key_id": "0123456789abcdef", "private_key": open(pem).read(),
       "client_email": email, "client_id": "1", "token_uri": uri}
with open(out, "w") as f:
    json.dump(key, f, indent=2)
PY
}

gcs_start() {
  local -a extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --bucket) extra+=(--bucket "$2"); shift ;;
      --token-lifetime) extra+=(--token-lifetime "$2"); shift ;;
      --token-uses) extra+=(--token-uses "$2"); shift ;;
      *) echo "# gcs_start: unknown option $1" >&2; return 1 ;;
    esac
    shift
  done
  local here py
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  py=$(gcs__python)
  GCS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-gcs.XXXXXX") || return 1
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then eval "set -- $prev"; prev=$3; fi
  trap "gcs_stop; $prev" EXIT
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$GCS_DIR/key.pem" 2>/dev/null &&
    openssl pkey -in "$GCS_DIR/key.pem" -pubout -out "$GCS_DIR/key.pub" 2>/dev/null &&
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$GCS_DIR/wrong.pem" 2>/dev/null ||
    { echo "# gcs_start: openssl genpkey failed" >&2; return 1; }
  GCS_TEST_EMAIL=sinkpipe-test@sinkpipe-test.iam.gserviceaccount.com
  GCS_TEST_ADMIN_TOKEN=admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  "$py" "$here/gcs_server.py" --dir "$GCS_DIR" --account "$GCS_TEST_EMAIL=$GCS_DIR/key.pub" \
    --bucket test-bucket --admin-token "$GCS_TEST_ADMIN_TOKEN" ${extra[@]+"${extra[@]}"} \
    >"$GCS_DIR/server.out" 2>"$GCS_DIR/server.out.err" &
  GCS_PID=$!
  local line
  line=$(harness_wait_ready "$GCS_DIR/server.out" "$GCS_PID" gcs_server "${GCS_START_TIMEOUT:-20}") || return 1
  GCS_TEST_ENDPOINT=http://127.0.0.1:${line##*port=}
  GCS_TEST_KEY_JSON=$GCS_DIR/key.json
  GCS_TEST_WRONG_KEY_JSON=$GCS_DIR/wrong.json
  gcs__keyfile "$GCS_DIR/key.pem" "$GCS_TEST_KEY_JSON" &&
    gcs__keyfile "$GCS_DIR/wrong.pem" "$GCS_TEST_WRONG_KEY_JSON" || return 1
  GCS_TEST_LOG=$GCS_DIR/requests.log
  export GCS_TEST_ENDPOINT GCS_TEST_KEY_JSON GCS_TEST_WRONG_KEY_JSON GCS_TEST_EMAIL \
    GCS_TEST_ADMIN_TOKEN GCS_TEST_LOG GCS_DIR
}

gcs__curl() {
  curl -sS --noproxy '*' -m 60 -H "Authorization: Bearer $GCS_TEST_ADMIN_TOKEN" "$@"
}

gcs__enc() { "$(gcs__python)" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

gcs_get() { gcs__curl -f "$GCS_TEST_ENDPOINT/storage/v1/b/$1/o/$(gcs__enc "$2")?alt=media"; }
gcs_meta() { gcs__curl -f "$GCS_TEST_ENDPOINT/storage/v1/b/$1/o/$(gcs__enc "$2")"; }
gcs_list() {
  gcs__curl -f "$GCS_TEST_ENDPOINT/storage/v1/b/$1/o?prefix=$(gcs__enc "${2:-}")" |
    "$(gcs__python)" -c 'import json, sys
for o in json.load(sys.stdin).get("items", []): print(o["name"])'
}

gcs_fault() {
  local name=$1 kv json
  shift
  json=$("$(gcs__python)" - "$name" "$@" <<'PY'
import json, sys
r = {"name": sys.argv[1]}
for a in sys.argv[2:]:
    k, _, v = a.partition("=")
    r[k] = int(v) if k in ("nth", "times") else v
print(json.dumps(r))
PY
) || return 1
  [ "$(curl -sS --noproxy '*' -m 10 -X POST --data-binary "$json" "$GCS_TEST_ENDPOINT/_fault")" = ok ]
}
gcs_fault_count() { curl -sS --noproxy '*' -m 10 "$GCS_TEST_ENDPOINT/_fault/$1"; }
gcs_fault_clear() { [ "$(curl -sS --noproxy '*' -m 10 -X POST "$GCS_TEST_ENDPOINT/_clear")" = ok ]; }
gcs_tokens() {
  local json
  json=$("$(gcs__python)" -c 'import json, sys
print(json.dumps({a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[1:]}))' "$@") || return 1
  [ "$(curl -sS --noproxy '*' -m 10 -X POST --data-binary "$json" "$GCS_TEST_ENDPOINT/_tokens")" = ok ]
}
gcs_open_sessions() { curl -sS --noproxy '*' -m 10 "$GCS_TEST_ENDPOINT/_sessions"; }

gcs_log_count() { PEER_PYTHON=$(gcs__python) harness_log_count "$GCS_TEST_LOG" "$@"; }

gcs_stop() {
  harness_stop_pid "${GCS_PID:-}"
  GCS_PID=
  if [ -n "${GCS_DIR:-}" ]; then rm -rf "$GCS_DIR"; GCS_DIR=; fi
  return 0
}
