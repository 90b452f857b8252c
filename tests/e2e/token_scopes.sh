#!/usr/bin/env bash
# Token scopes of `POST /v0/pipes/{pipe}/sink` (docs/serve.md, "Tokens"):
# a READ token runs the pipe with parameters but cannot override its sink
# (format, compression, file_template, write_strategy/strategy: 403, nothing
# written, no folder created); OVERRIDE on the pipe (not on another pipe)
# and the admin may.  A READ token cannot pass a parameter that names the
# objects of a replace pipe (403); with other parameters the run overwrites
# only the pipe's own object; an object beside it stays.  An unknown scope is a definition
# error naming its line.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/pipes" "$OUT/exp"
export SINKPIPE_ADMIN_TOKEN=admin-scopes-token-1
export SINKPIPE_TOKEN_reader=reader-scopes-2
export SINKPIPE_TOKEN_ops=ops-scopes-3
export SINKPIPE_TOKEN_other_ops=other-ops-scopes-4
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
R="Authorization: Bearer $SINKPIPE_TOKEN_reader"
cat > "$P/pipes/exp.pipe" <<X
NODE n
SQL >
    %
    SELECT {{ String(label, 'none') }} AS label, {{ Int32(n, 1) }} AS n

TYPE sink
EXPORT_BUCKET_URI file://$OUT/exp/
EXPORT_FILE_TEMPLATE exp_{label}
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
TOKEN reader READ
TOKEN ops OVERRIDE
X
cat > "$P/pipes/other.pipe" <<X
NODE n
SQL >
    SELECT 1 AS one

TYPE sink
EXPORT_BUCKET_URI file://$OUT/other/
EXPORT_FILE_TEMPLATE other_{x}
EXPORT_SCHEDULE @on-demand
TOKEN other_ops OVERRIDE
TOKEN reader READ
X
printf 'precious\n' > "$OUT/exp/victim.csv"
printf 'precious\n' > "$OUT/exp/exp_b.csv"

. "$E2E_ROOT/tests/harness/daemon.sh"
start

# every override, alone, is refused to a READ token, and writes nothing
for q in "file_template=victim&write_strategy=replace" "file_template=victim" \
         "write_strategy=replace" "strategy=truncate" "format=ndjson" "compression=gzip" \
         "file_template=sub%2Fdir%2Fx" "format="; do
  http POST "/v0/pipes/exp/sink?$q" -H "$R"
  expect_eq "READ token, $q: 403 naming the scope" "$CODE $(jget "$BODY" '"OVERRIDE scope" in d["error"]')" "403 True"
done
http GET "/v0/jobs" -H "$A"
expect_eq "no job was created by a refused call" "$(jget "$BODY" 'len(d["jobs"])')" 0
expect_eq "the victim is intact" "$(cat "$OUT/exp/victim.csv")" precious
expect_eq "no folder or object was created" "$(ls "$OUT/exp" | sort | tr '\n' ' ')" "exp_b.csv victim.csv "

# a READ token may not pick which object a replace pipe overwrites: a
# parameter named in its object names is refused...
http POST "/v0/pipes/exp/sink?label=victim" -H "$R"
expect_eq "READ token naming a replaced object: 403" "$CODE $(jget "$BODY" '"parameter '"'"'label'"'"'" in d["error"]')" "403 True"
expect_eq "the victim is still intact" "$(cat "$OUT/exp/victim.csv")" precious
# ...other parameters are fine; replace overwrites the pipe's own object only
http POST "/v0/pipes/exp/sink?n=2" -H "$R"
expect_eq "READ token with a parameter: 200" "$CODE" 200
wait_job "$(jget "$BODY" 'd["id"]')" done && ok "READ run done" || not_ok "READ run done"
expect_eq "its own object written" "$(cat "$OUT/exp/exp_none.csv")" '"label","n"
"none",2'
expect_eq "objects beside it untouched" "$(cat "$OUT/exp/victim.csv" "$OUT/exp/exp_b.csv")" "precious
precious"
http POST "/v0/pipes/exp/sink?label=..%2F..%2Fx" -H "$A"
wait_job "$(jget "$BODY" 'd["id"]')" done && ok "parameter with a path: done" || not_ok "parameter with a path: done"
expect_eq "a parameter never leaves the folder" "$(ls "$OUT" | sort | tr '\n' ' ')" "exp "
# a create_new pipe never overwrites: parameters in its names are fine
http POST "/v0/pipes/other/sink?x=1" -H "$R"
expect_eq "create_new pipe, READ token, a parameter in its names: 200" "$CODE" 200
wait_job "$(jget "$BODY" 'd["id"]')" done && ok "create_new run done" || not_ok "create_new run done"

# OVERRIDE on another pipe is not enough; on this pipe it is; so is the admin
http POST "/v0/pipes/exp/sink?format=ndjson" -H "Authorization: Bearer $SINKPIPE_TOKEN_other_ops"
expect_eq "OVERRIDE on another pipe: 403" "$CODE" 403
http POST "/v0/pipes/exp/sink?label=o&format=ndjson" -H "Authorization: Bearer $SINKPIPE_TOKEN_ops"
expect_eq "OVERRIDE token (a parameter in the names, an override): 200" "$CODE" 200
wait_job "$(jget "$BODY" 'd["id"]')" done && ok "OVERRIDE run done" || not_ok "OVERRIDE run done"
expect_eq "override applied" "$(cat "$OUT/exp/exp_o.ndjson")" '{"label":"o","n":1}'
http GET "/v0/pipes" -H "Authorization: Bearer $SINKPIPE_TOKEN_ops"
expect_eq "OVERRIDE includes READ" "$(jget "$BODY" '[p["name"] for p in d["pipes"]]')" "['exp']"
http POST "/v0/pipes/exp/sink?label=z&file_template=admin_%7Blabel%7D&compression=gzip" -H "$A"
wait_job "$(jget "$BODY" 'd["id"]')" done && ok "admin override done" || not_ok "admin override done"
[ -f "$OUT/exp/admin_z.csv.gz" ] && ok "admin override applied" || not_ok "admin override applied"
stop TERM

# an unknown scope is a definition error with its line
cat >> "$P/pipes/other.pipe" <<X
TOKEN writer WRITE
X
CHK=$("$SINKPIPE" -p "$P" check 2>&1)
expect_contains "unknown scope: file:line" "$CHK" "other.pipe:11: TOKEN"
expect_contains "unknown scope: expected scopes" "$CHK" "unknown scope 'WRITE' (expected READ, OVERRIDE)"
finish
