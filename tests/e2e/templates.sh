#!/usr/bin/env bash
# End-to-end: a pipe written with Tinybird's template language (typed
# params, Array, sql_and, columns(), defined(), {% set %}, {% for %}, lists,
# arithmetic, date_diff, error()) run through `sinkpipe run` on the embedded
# engine, outputs compared with what the same query gives written by hand;
# `check` renders every templated pipe with its defaults/placeholders;
# injection attempts stay values.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/datasources" "$P/pipes" "$OUT"

cat > "$P/datasources/hits.datasource" <<'X'
SCHEMA >
    `timestamp` DateTime `json:$.timestamp`,
    `pathname` String `json:$.pathname`,
    `country` String `json:$.country`,
    `device` String `json:$.device`,
    `duration` Int32 `json:$.duration`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "timestamp"
X

cat > "$P/pipes/top_pages.pipe" <<X
NODE filtered
SQL >
    %
    {% set devices = split_to_array(String(device_list, 'desktop,mobile')) %}
    SELECT *
    FROM hits
    WHERE timestamp >= {{ DateTime(start, '2026-01-01 00:00:00', description="from", required=False) }}
      AND timestamp < {{ DateTime(end, '2026-01-03 00:00:00') }}
      AND has({{ devices }}, device)
      {% if defined(countries) and countries != [''] %}
      AND has({{ Array(countries, 'String', default='ES,US') }}, country)
      {% end %}
      {% if date_diff_in_hours(DateTime(start, '2026-01-01 00:00:00'), DateTime(end, '2026-01-03 00:00:00')) > 24 * 365 %}
      {{ error('range too long') }}
      {% end %}

NODE endpoint
SQL >
    %
    SELECT
        {{ columns(group_by, 'pathname') }},
        count() AS hits,
        sum(duration) * {{ Int32(scale, 1) }} AS total
        {% for i, m in enumerate(split_to_array(String(metrics, ''))) %}
        {% if m != '' %}, max(duration) + {{ Int32(i) + 1 }} AS {{ symbol('m' + str(i)) }}{% end %}
        {% end %}
    FROM filtered
    GROUP BY {{ columns(group_by, 'pathname') }}
    ORDER BY hits DESC, {{ columns(group_by, 'pathname') }}
    LIMIT {{ Int32(page_size, 10) * (Int32(page, 0) + 1) }}

TYPE sink
EXPORT_BUCKET_URI file://$OUT/top/
EXPORT_FILE_TEMPLATE top
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
X

cat > "$E2E_TMP/hits.ndjson" <<'X'
{"timestamp":"2026-01-01 10:00:00","pathname":"/a","country":"ES","device":"desktop","duration":10}
{"timestamp":"2026-01-01 11:00:00","pathname":"/a","country":"US","device":"mobile","duration":20}
{"timestamp":"2026-01-01 12:00:00","pathname":"/b","country":"ES","device":"desktop","duration":5}
{"timestamp":"2026-01-02 12:00:00","pathname":"/b","country":"FR","device":"tablet","duration":7}
{"timestamp":"2026-01-02 13:00:00","pathname":"/c","country":"FR","device":"desktop","duration":1}
{"timestamp":"2026-01-05 13:00:00","pathname":"/a","country":"ES","device":"desktop","duration":99}
X

out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "check accepts the templated pipe" "$rc" 0
out=$("$SINKPIPE" -p "$P" append hits "$E2E_TMP/hits.ndjson" 2>&1); rc=$?
expect_eq "append exits 0" "$rc" 0

run() { "$SINKPIPE" -p "$P" run top_pages "$@" 2>&1; }
# by hand, the same query
want() { "$SINKPIPE" -p "$P" sql --format csv "$1" 2>&1; }

out=$(run); rc=$?
expect_eq "run with defaults exits 0" "$rc" 0
expect_eq "defaults: devices desktop+mobile, no country filter" "$(cat "$OUT/top/top.csv")" \
  "$(want "SELECT pathname, count() AS hits, sum(duration) * 1 AS total FROM hits WHERE timestamp >= '2026-01-01 00:00:00' AND timestamp < '2026-01-03 00:00:00' AND device IN ('desktop','mobile') GROUP BY pathname ORDER BY hits DESC, pathname LIMIT 10")"

out=$(run --param countries=ES --param device_list=desktop,tablet --param scale=3 --param metrics=x,y); rc=$?
expect_eq "run with params exits 0" "$rc" 0
expect_eq "params: Array, a list, arithmetic, for-loop columns" "$(cat "$OUT/top/top.csv")" \
  "$(want "SELECT pathname, count() AS hits, sum(duration) * 3 AS total, max(duration) + 1 AS m0, max(duration) + 2 AS m1 FROM hits WHERE timestamp >= '2026-01-01 00:00:00' AND timestamp < '2026-01-03 00:00:00' AND device IN ('desktop','tablet') AND country IN ('ES') GROUP BY pathname ORDER BY hits DESC, pathname LIMIT 10")"

out=$(run --param group_by=country,device --param page_size=2); rc=$?
expect_eq "columns() grouping exits 0" "$rc" 0
expect_eq "columns() grouping and LIMIT arithmetic" "$(cat "$OUT/top/top.csv")" \
  "$(want "SELECT country, device, count() AS hits, sum(duration) * 1 AS total FROM hits WHERE timestamp >= '2026-01-01 00:00:00' AND timestamp < '2026-01-03 00:00:00' AND device IN ('desktop','mobile') GROUP BY country, device ORDER BY hits DESC, country, device LIMIT 2")"

out=$(run --param start=2020-01-01 --param end=2026-01-01); rc=$?
expect_eq "error() fails the run" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "error() message is shown with its place" "$out" "pipes/top_pages.pipe:4: SQL: range too long"

out=$(run --param scale=x1); rc=$?
expect_contains "a bad typed param is named" "$out" "param 'scale': 'x1' is not a valid Int32"

# `IN [list]` as Tinybird writes it (sql_and(x__in=…), IN Array(…)): not on
# the ASan layer's ClickHouse 18.16 server, which has no IN with an array
if [ "${SINKPIPE_ENGINE:-embedded}" = embedded ]; then
cat > "$P/pipes/in_lists.pipe" <<X
NODE n
SQL >
    %
    SELECT pathname, country FROM hits
    WHERE {{ sql_and(country__in=Array(countries, 'String', default='ES,FR'), pathname__not_in=split_to_array(String(skip, '/c'))) }}
      AND device IN {{ Array(devices, default='desktop') }}
      AND duration NOT IN {{ [Int32(a, 1) * Int32(b, 1)] }}
    ORDER BY timestamp

TYPE sink
EXPORT_BUCKET_URI file://$OUT/in/
EXPORT_FILE_TEMPLATE in
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
EXPORT_STRATEGY replace
X
out=$("$SINKPIPE" -p "$P" run in_lists --param a=2 --param b=5 2>&1); rc=$?
expect_eq "IN lists: run exits 0" "$rc" 0
expect_eq "IN lists: sql_and __in/__not_in, IN Array, a list of a product" "$(cat "$OUT/in/in.csv")" \
  "$(want "SELECT pathname, country FROM hits WHERE country IN ('ES','FR') AND pathname NOT IN ('/c') AND device IN ('desktop') AND duration NOT IN (10) ORDER BY timestamp")"
rm -f "$P/pipes/in_lists.pipe"
fi

# injection attempts stay values: a quote in a string, a column name that
# tries to close its backquotes
out=$(run --param "countries=ES') OR 1=1 --"); rc=$?
expect_eq "a quote in a param stays in its string" "$rc" 0
expect_eq "nothing matches the injected value" "$(tail -n +2 "$OUT/top/top.csv")" ""
out=$(run --param "group_by=pathname\`, 1 AS \`x"); rc=$?
expect_eq "a backquote in a column name does not end the identifier" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "each part is one unknown identifier (not SQL)" "$out" "nknown"

# check renders with placeholders: a typo in a templated node is found even
# when its params have no default
cat > "$P/pipes/needs_param.pipe" <<X
NODE n
SQL >
    %
    SELECT pathnme FROM hits WHERE country = {{ String(c, required=True) }} AND duration > {{ Int32(d) }}

TYPE sink
EXPORT_BUCKET_URI file://$OUT/np/
EXPORT_FILE_TEMPLATE np
EXPORT_SCHEDULE @on-demand
EXPORT_FORMAT csv
X
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "check fails on the typo" "$([ $rc -ne 0 ] && echo yes)" yes
expect_contains "the typo is named" "$out" "pathnme"
out=$("$SINKPIPE" -p "$P" run needs_param --param d=1 2>&1); rc=$?
expect_contains "a missing param without default is required at run time" "$out" "param 'c' is required"
rm -f "$P/pipes/needs_param.pipe"

# endpoints: error() and custom_error() answer with their status and body
cat > "$P/pipes/guarded.pipe" <<'X'
NODE n
SQL >
    %
    {% if not defined(country) %}
        {{ custom_error({'error': 'country is required', 'documentation': '/docs'}, 422) }}
    {% elif country == 'XX' %}
        {{ error('XX is not a country') }}
    {% end %}
    SELECT pathname, count() AS hits FROM hits
    WHERE country = {{ String(country) }} AND duration >= {{ Int32(min_duration, 0) }}
    GROUP BY pathname ORDER BY pathname

TYPE ENDPOINT
X
out=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "check renders the guarded endpoint (custom_error stays a comment)" "$rc" 0
export SINKPIPE_ADMIN_TOKEN=admin-secret-token-1
A="Authorization: Bearer $SINKPIPE_ADMIN_TOKEN"
LOG=$E2E_TMP/serve.log
"$SINKPIPE" -p "$P" serve --listen 127.0.0.1:0 >/dev/null 2>"$LOG" &
PID=$!
trap 'kill -9 $PID 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
wait_listening "$LOG" $PID
code=$(curl -s -o "$E2E_TMP/b" -w '%{http_code}' -H "$A" "$URL/v0/pipes/guarded.json")
expect_eq "custom_error(): its status" "$code" 422
expect_eq "custom_error(): its dict as the body" "$(cat "$E2E_TMP/b")" \
  '{"error":"country is required","documentation":"/docs"}'
code=$(curl -s -o "$E2E_TMP/b" -w '%{http_code}' -H "$A" "$URL/v0/pipes/guarded.json?country=XX")
expect_eq "error(): 400" "$code" 400
expect_contains "error(): its message" "$(cat "$E2E_TMP/b")" "XX is not a country"
code=$(curl -s -o "$E2E_TMP/b" -w '%{http_code}' -H "$A" "$URL/v0/pipes/guarded.json?country=ES&min_duration=x")
expect_eq "a bad typed param: 400" "$code" 400
expect_contains "a bad typed param is named" "$(cat "$E2E_TMP/b")" "param 'min_duration': 'x' is not a valid Int32"
code=$(curl -s -o "$E2E_TMP/b" -w '%{http_code}' -H "$A" "$URL/v0/pipes/guarded.csv?country=ES&min_duration=6")
expect_eq "the endpoint answers with params" "$code" 200
expect_eq "the endpoint's rows" "$(cat "$E2E_TMP/b")" "$(want "SELECT pathname, count() AS hits FROM hits WHERE country = 'ES' AND duration >= 6 GROUP BY pathname ORDER BY pathname")"
kill -TERM $PID; wait $PID 2>/dev/null
finish
