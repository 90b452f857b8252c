#!/usr/bin/env bash
# sdk_cli: the Tinybird SDK and CLI (@tinybirdco/sdk, the version pinned in
# examples/ts) against `sinkpipe serve` on an empty project, as a user runs
# them: `tinybird build --local` (workspace per git branch, /tokens), a
# second build (no changes), a broken build (fails naming the file, the
# daemon unchanged), the typed client's ingest and endpoint query, a sink
# run through the API with the S3 object checked, and `tinybird deploy`
# (check, then a live deployment).
#
# The SDK looks for Tinybird Local at the fixed http://localhost:7181; the
# daemon here listens on a free port (tests run in parallel), so a preload
# (node --import) sends the SDK's localhost:7181 requests to it.  A user
# runs `sinkpipe serve` on its default 127.0.0.1:7181 and needs nothing.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"

# ------------------------------------------------------------ install SDK
. "$E2E_ROOT/tests/harness/sdk.sh"
if ! sdk_install "$E2E_TMP/npm.log"; then
  not_ok "npm installs the pinned SDK"; sed 's/^/#   /' "$E2E_TMP/npm.log" | tail -20
  finish
fi
NM=$SDK_DIR/node_modules

if ! s3_available; then not_ok "python3, aws and curl are available for the S3 peer"; finish; fi
s3_start || { not_ok "the S3 server starts"; finish; }
s3_mb my-bucket us-east-1 || not_ok "bucket my-bucket"

# ----------------------------------------------------------- the daemon
P=$E2E_TMP/proj
mkdir -p "$P"
export SINKPIPE_ADMIN_TOKEN=admin-e2e-sdk-token
export SINKPIPE_SERVE_LOCAL_TOKENS=true
# API runs read the real clock: the sink selects yesterday's rows
YDAY=$(date -u -d yesterday +%F) TODAY=$(date -u +%F)
export "SINKPIPE_CONNECTION__landing_s3__S3_ENDPOINT=$S3_TEST_ENDPOINT"
export "SINKPIPE_CONNECTION__landing_s3__S3_STS_ENDPOINT=$S3_TEST_STS_ENDPOINT"
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS
# the SDK reads the git branch from CI variables too: only git's here
unset GITHUB_HEAD_REF GITHUB_REF_NAME CI_COMMIT_BRANCH VERCEL_GIT_COMMIT_REF CIRCLE_BRANCH \
  BUILD_SOURCEBRANCHNAME BITBUCKET_BRANCH GIT_BRANCH TRAVIS_BRANCH TINYBIRD_TOKEN TINYBIRD_URL
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
. "$E2E_ROOT/tests/harness/daemon.sh"
start
[ -n "$URL" ] || URL="http://$ADDR"

http GET /tokens
expect_eq "GET /tokens (loopback, allowed by the operator): the admin token" \
  "$CODE $(jget "$BODY" 'd["admin_token"] == d["user_token"] == d["workspace_admin_token"] == "'"$SINKPIPE_ADMIN_TOKEN"'"')" "200 True"

# ------------------------------------------------- the TypeScript project
W=$E2E_TMP/app
mkdir -p "$W/src"
ln -s "$NM" "$W/node_modules"
cat >"$W/tinybird.config.json" <<'X'
{
  "include": ["src/connections.ts", "src/datasources.ts", "src/pipes.ts"],
  "token": "${TINYBIRD_TOKEN}",
  "baseUrl": "${TINYBIRD_URL}",
  "devMode": "local"
}
X
# the user's guide: the S3 connection, the events datasource, the S3 sink
# (on demand here: the guide's @once would also run at every build)
cat >"$W/src/connections.ts" <<'X'
import { defineS3Connection } from "@tinybirdco/sdk";

export const landingS3 = defineS3Connection("landing_s3", {
  region: "us-east-1",
  arn: "arn:aws:iam::123456789012:role/tinybird-s3-access",
});
X
cp "$E2E_ROOT/examples/ts/src/datasources.ts" "$W/src/" # the guide's events
pipes_ts() { # $1: the endpoint's aggregate column
  cat <<X
import { defineSinkPipe, defineEndpoint, node, t, p } from "@tinybirdco/sdk";
import { landingS3 } from "./connections";

export const s3EventsSink = defineSinkPipe("s3_events_sink", {
  description: "Export events to S3",
  sink: {
    connection: landingS3,
    bucketUri: "s3://my-bucket/exports/",
    fileTemplate: "events_{date}",
    format: "csv",
    schedule: "@on-demand",
    strategy: "create_new",
  },
  nodes: [
    node({
      name: "export",
      sql: \`
        SELECT timestamp, session_id, event_type
        FROM events
        WHERE toDate(timestamp) = today() - 1
      \`,
    }),
  ],
});

export const topEvents = defineEndpoint("top_events", {
  description: "Events per type, optionally of one type",
  params: {
    event_type: p.string().optional(),
  },
  nodes: [
    node({
      name: "per_type",
      sql: \`
        SELECT event_type, count() AS events, sum($1) AS total
        FROM events
        WHERE 1 {% if defined(event_type) %} AND event_type = {{String(event_type)}} {% end %}
        GROUP BY event_type
        ORDER BY event_type
      \`,
    }),
  ],
  output: {
    event_type: t.string(),
    events: t.uint64(),
    total: t.float64(),
  },
});
X
}
pipes_ts amount >"$W/src/pipes.ts"
(cd "$W" && git init -q -b feature/sdk-e2e && git -c user.name=e2e -c user.email=e2e@localhost \
  commit -q --allow-empty -m init) || not_ok "git init of the app"

cat >"$E2E_TMP/local7181.mjs" <<'X'
// the SDK's fixed Tinybird Local address, sent to this test's daemon
const real = globalThis.fetch;
const to = process.env.SINKPIPE_E2E_URL;
globalThis.fetch = (url, init) => {
  let u = typeof url === "string" ? url : url.toString();
  if (u.startsWith("http://localhost:7181")) u = to + u.slice("http://localhost:7181".length);
  return real(u, init);
};
X
tb() { # the SDK's CLI in the app folder -> OUT, RC
  OUT=$(cd "$W" && SINKPIPE_E2E_URL=$URL TINYBIRD_TOKEN=$SINKPIPE_ADMIN_TOKEN TINYBIRD_URL=$URL \
        NODE_OPTIONS="--import $E2E_TMP/local7181.mjs" node node_modules/@tinybirdco/sdk/bin/tinybird.js "$@" 2>&1)
  RC=$?
}
show() { printf '%s\n' "$OUT" | sed 's/^/#   /' | tail -20; }

# ------------------------------------------------------------ build --local
tb build --local
if [ $RC -eq 0 ]; then ok "tinybird build --local"; else not_ok "tinybird build --local"; show; fi
expect_eq "the definitions are in the project folder (generate layout)" \
  "$(cd "$P" && ls connections datasources pipes 2>&1 | tr '\n' ' ')" \
  "connections: landing_s3.connection  datasources: events.datasource  pipes: s3_events_sink.pipe top_events.pipe "
if out=$("$SINKPIPE" -p "$P" check 2>&1); then ok "sinkpipe check passes on what the build wrote"
else not_ok "sinkpipe check passes on what the build wrote"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
http GET /v1/user/workspaces -H "$A"
expect_contains "the git branch's workspace was created (a name of the one project)" \
  "$(jget "$BODY" '[w["name"] for w in d["workspaces"]]')" "'feature_sdk_e2e'"
http GET /v0/pipes/top_events.json -H "$A"
expect_eq "the endpoint answers at once (the daemon reloaded)" "$CODE $(jget "$BODY" 'd["rows"]')" "200 0"

tb build --local
expect_eq "a second build succeeds" "$RC" 0
expect_contains "a second build: no changes" "$OUT" "No changes"

# ---------------------------------------------------------- broken build
cp -r "$P" "$E2E_TMP/before"
rm -rf "$E2E_TMP/before/.sinkpipe"
pipes_ts no_such_column >"$W/src/pipes.ts"
tb build --local
expect_eq "a broken build fails" "$RC" 1
expect_contains "it names the file, with sinkpipe's message (file:line: SQL: reason)" "$OUT" \
  "top_events.pipe
  pipes/top_events.pipe:7: SQL: clickhouse: Unknown "
expect_contains "and ClickHouse's reason" "$OUT" "no_such_column"
if d=$(diff -r -x .sinkpipe "$E2E_TMP/before" "$P" 2>&1); then ok "the project folder is unchanged"
else not_ok "the project folder is unchanged"; printf '%s\n' "$d" | head | sed 's/^/#   /'; fi
http GET /v0/pipes/top_events.json -H "$A"
expect_eq "the running endpoint is unchanged" "$CODE" 200
pipes_ts amount >"$W/src/pipes.ts"

# ------------------------------------------------------------ typed client
cat >"$W/src/client.ts" <<'X'
import { Tinybird } from "@tinybirdco/sdk";
import { events } from "./datasources";
import { topEvents } from "./pipes";

const tinybird = new Tinybird({
  datasources: { events },
  pipes: { topEvents },
  baseUrl: process.env.TINYBIRD_URL,
  token: process.env.TINYBIRD_TOKEN,
});

const row = (timestamp: string, event_type: string, amount: number) => ({
  timestamp, event_type, user_id: "u1", session_id: "s1", payload: "{}",
  amount, duration: 1.5, metadata: "",
});
const { YDAY, TODAY } = process.env;
await tinybird.events.ingest(row(`${YDAY} 10:00:00`, "click", 2));
await tinybird.events.ingest(row(`${YDAY} 11:00:00`, "view", 3));
await tinybird.events.ingest(row(`${YDAY} 12:00:00`, "click", 5));
await tinybird.events.ingest(row(`${TODAY} 00:00:00`, "click", 7));
const clicks = await tinybird.topEvents.query({ event_type: "click" });
const all = await tinybird.topEvents.query({});
console.log(JSON.stringify({ clicks: clicks.data, all: all.data.length }));
X
if (cd "$W" && node_modules/.bin/esbuild src/client.ts --bundle --platform=node --format=esm \
      --packages=external --outfile=client.mjs --log-level=warning) >"$E2E_TMP/esbuild.log" 2>&1; then
  OUT=$(cd "$W" && YDAY=$YDAY TODAY=$TODAY TINYBIRD_URL=$URL TINYBIRD_TOKEN=$SINKPIPE_ADMIN_TOKEN node client.mjs 2>&1)
  expect_eq "typed client: ingest, then the endpoint with a parameter" "$OUT" \
    '{"clicks":[{"event_type":"click","events":3,"total":14}],"all":2}'
else
  not_ok "esbuild bundles the client"; sed 's/^/#   /' "$E2E_TMP/esbuild.log" | head
fi

# -------------------------------------------------------- a sink, to S3
http POST /v0/pipes/s3_events_sink/sink -H "$A"
expect_eq "POST /v0/pipes/s3_events_sink/sink" "$CODE" 200
job=$(jget "$BODY" 'd["job"]["id"]' 2>/dev/null || jget "$BODY" 'd["id"]')
if wait_job "$job" done; then ok "the sink job is done"; else not_ok "the sink job is done"; fi
key=$(s3_aws s3 ls s3://my-bucket/exports/ | awk '{print $4}' | head -1)
expect_eq "one object under s3://my-bucket/exports/" "$(s3_aws s3 ls s3://my-bucket/exports/ | wc -l)" 1
s3_aws s3 cp --only-show-errors "s3://my-bucket/exports/$key" "$E2E_TMP/obj.csv"
expect_eq "the object: header" "$(head -1 "$E2E_TMP/obj.csv")" '"timestamp","session_id","event_type"'
want=$(printf '"%s 10:00:00","s1","click"\n"%s 11:00:00","s1","view"\n"%s 12:00:00","s1","click"' "$YDAY" "$YDAY" "$YDAY")
expect_eq "the object: yesterday's 3 rows (any order)" "$(tail -n +2 "$E2E_TMP/obj.csv" | sort)" "$want"

# ------------------------------------------------------------ dev --local
# `tinybird dev --local` builds, then rebuilds on every save
(cd "$W" && exec env SINKPIPE_E2E_URL="$URL" TINYBIRD_TOKEN="$SINKPIPE_ADMIN_TOKEN" TINYBIRD_URL="$URL" \
   NODE_OPTIONS="--import $E2E_TMP/local7181.mjs" node node_modules/@tinybirdco/sdk/bin/tinybird.js dev --local) \
  >"$E2E_TMP/dev.log" 2>&1 </dev/null &
DEVPID=$!
until_ok() { # deadline 60 s: the command succeeds
  for _ in $(seq 1 600); do "$@" && return 0; sleep 0.1; done; return 1
}
dev_built() { grep -q "Watching for changes" "$E2E_TMP/dev.log"; }
if until_ok dev_built; then ok "tinybird dev --local builds at start"
else not_ok "tinybird dev --local builds at start"; sed 's/^/#   /' "$E2E_TMP/dev.log" | tail; fi
sed -i 's/description: "Events per type, optionally of one type"/description: "Events per type (dev)"/' "$W/src/pipes.ts"
dev_applied() { grep -q "Events per type (dev)" "$P/pipes/top_events.pipe" 2>/dev/null; }
if until_ok dev_applied; then ok "a save is built and swapped in"
else not_ok "a save is built and swapped in"; sed 's/^/#   /' "$E2E_TMP/dev.log" | tail; fi
dev_said() { grep -q "top_events.pipe changed" "$E2E_TMP/dev.log"; }
if until_ok dev_said; then ok "dev reports the change"
else not_ok "dev reports the change"; sed 's/^/#   /' "$E2E_TMP/dev.log" | tail; fi
kill "$DEVPID" 2>/dev/null; wait "$DEVPID" 2>/dev/null
pipes_ts amount >"$W/src/pipes.ts"

# ------------------------------------------------------------------ deploy
cat >>"$W/src/pipes.ts" <<'X'

export const eventCount = defineEndpoint("event_count", {
  nodes: [node({ name: "n", sql: "SELECT count() AS c FROM events" })],
  output: { c: t.uint64() },
});
X
tb deploy --check
expect_eq "tinybird deploy --check succeeds" "$RC" 0
http GET /v0/pipes/event_count.json -H "$A"
expect_eq "a check deploys nothing" "$CODE" 404
tb deploy
if [ $RC -eq 0 ]; then ok "tinybird deploy"; else not_ok "tinybird deploy"; show; fi
http GET /v0/pipes/event_count.json -H "$A"
expect_eq "the deployed endpoint answers, the data kept" "$CODE $(jget "$BODY" 'd["data"][0]["c"]')" "200 4"
http GET /v1/deployments -H "$A"
expect_eq "the deployment is live" "$(jget "$BODY" '[(x["status"], x["live"], x["new_pipe_names"]) for x in d["deployments"]]')" \
  "[('data_ready', True, ['event_count'])]"
tb deploy
expect_contains "deploying again: no changes" "$OUT" "No changes"

# ----------------------------------------------------- schema rules, tokens
sed -i 's/metadata: t.string(),/metadata: t.string(),\n    country: t.string(),/' "$W/src/datasources.ts"
tb deploy
expect_eq "a column added to a datasource that holds rows: refused" "$RC" 1
if [ "${SINKPIPE_ENGINE:-}" = clickhouse ]; then
  # on a server, check runs the SQL on the server's tables: the changed
  # schema is already an error of check there (docs/serve.md)
  expect_contains "naming the file and the table's columns" "$OUT" \
    "[events.datasource] datasource 'events': table has no column country"
else
  expect_contains "naming the file and the rows" "$OUT" \
    "[events.datasource] datasources/events.datasource:4: SCHEMA: the table of 'events' holds 4 rows"
fi
# the typed client empties the datasource; then the column can be added
cat >"$W/src/empty.ts" <<'X'
import { Tinybird } from "@tinybirdco/sdk";
import { events } from "./datasources";

const tinybird = new Tinybird({
  datasources: { events },
  pipes: {},
  baseUrl: process.env.TINYBIRD_URL,
  token: process.env.TINYBIRD_TOKEN,
});
await tinybird.events.delete({ deleteCondition: "event_type = 'view'" });
const one = await tinybird.sql("SELECT count() AS c FROM events");
await tinybird.events.truncate();
const none = await tinybird.sql("SELECT count() AS c FROM events");
console.log(JSON.stringify([one.data[0].c, none.data[0].c]));
X
if (cd "$W" && node_modules/.bin/esbuild src/empty.ts --bundle --platform=node --format=esm \
      --packages=external --outfile=empty.mjs --log-level=warning) >"$E2E_TMP/esbuild.log" 2>&1; then
  OUT=$(cd "$W" && TINYBIRD_URL=$URL TINYBIRD_TOKEN=$SINKPIPE_ADMIN_TOKEN node empty.mjs 2>&1)
  expect_eq "typed client: delete rows, truncate" "$OUT" '[3,0]'
else
  not_ok "esbuild bundles the second client"; sed 's/^/#   /' "$E2E_TMP/esbuild.log" | head
fi
tb deploy
if [ "${SINKPIPE_ENGINE:-}" = clickhouse ]; then
  expect_eq "on a server the changed table stays an error of check, empty or not" "$RC" 1
else
  if [ $RC -eq 0 ]; then ok "the column added to the emptied datasource: deployed"
  else not_ok "the column added to the emptied datasource: deployed"; show; fi
  http GET "/v0/sql?q=SELECT+name+FROM+system.columns+WHERE+table='events'+AND+database=currentDatabase()+ORDER+BY+position" -H "$A"
  expect_contains "the table was made anew with it" "$(jget "$BODY" '[r["name"] for r in d["data"]]')" "'metadata', 'country']"
fi
http GET /v1/environments -H "$A"
expect_contains "branch mode answers clearly" "$CODE $BODY" '400 {"error":"sinkpipe serve has no branches'
http GET /tokens -H "X-Forwarded-For: 10.0.0.1"
expect_eq "GET /tokens still answers loopback (a header does not make a client remote)" "$CODE" 200
grep -q "$SINKPIPE_ADMIN_TOKEN" "$LOG" && not_ok "the admin token is never logged" || ok "the admin token is never logged"

stop
SINKPIPE_SERVE_LOCAL_TOKENS=false start
http GET /tokens
expect_eq "GET /tokens without the operator's setting: 403" "$CODE" 403
stop
finish
