#!/usr/bin/env bash
# names_vs_clickhouse: result column names (the CSV header) of `sinkpipe sql`
# (the embedded ClickHouse) against a real clickhouse-server (Debian's 18.16)
# for unaliased select-list expressions.  Each query runs on an empty table
# `t` on both sides; only the header line is compared.  sinkpipe's names
# are the embedded ClickHouse's (26.7) own; forms where 18.16 names
# differently from modern ClickHouse are left out.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/clickhouse.sh"

if ! ch_available; then
  ok "names_vs_clickhouse skipped: clickhouse-server not installed"
  finish
fi
if ! ch_start; then
  not_ok "start clickhouse-server"
  finish
fi
trap 'ch_stop; rm -rf "$E2E_TMP"' EXIT
ok "clickhouse-server $(ch_query 'SELECT version()') on 127.0.0.1:$CH_TCP_PORT"

mkdir -p "$E2E_TMP/proj/datasources"
cat >"$E2E_TMP/proj/datasources/t.datasource" <<'DS'
SCHEMA >
    a Int32,
    b Float64,
    s String,
    ts DateTime

ENGINE "MergeTree"
ENGINE_SORTING_KEY "a"
DS
ch_query "CREATE TABLE t (a Int32, b Float64, s String, ts DateTime) ENGINE = Memory" ||
  not_ok "create table on clickhouse"

# one query per line
cat >"$E2E_TMP/queries" <<'Q'
SELECT count() FROM t
SELECT count(*) FROM t
SELECT sum(a), avg(b), max(a) - min(a) FROM t
SELECT uniqExact(s), round(avg(b), 2), sum(a) / count() FROM t
SELECT quantile(0.9)(b), quantiles(0.5, 0.9)(b) FROM t
SELECT toDate(ts), toStartOfHour(ts), toYYYYMM(ts) FROM t
SELECT a, t.a, a + 1, a - b * 2, (a + 1) / 2, a % 3, 1 + 2 + 3 FROM t
SELECT -a, -1.5, 2.0, 1e3, 0.000001, 42, -7 FROM t
SELECT 'it''s', 'a\\b', s || 'x' || s, concat(s, 'y') FROM t
SELECT a = 1 AND b < 2 OR s != 'x', a == 1, a <> 1, a <= 1, a >= 1, a > 1 FROM t
SELECT NOT (a > 1), a AND b AND a FROM t
SELECT a BETWEEN 1 AND 2, s LIKE 'x%', s NOT LIKE 'y' FROM t
SELECT a IS NULL, a IS NOT NULL, isNotNull(b) FROM t
SELECT CAST(a AS String), CAST(b AS Nullable(Int32)) FROM t
SELECT if(a > 0, 'p', 'n'), multiIf(a > 1, 1, 2), a > 0 ? 1 : 2 FROM t
SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END, CASE a WHEN 1 THEN 'one' END FROM t
SELECT ts + INTERVAL 1 HOUR, ts - INTERVAL 2 DAY FROM t
SELECT [1, 2], arrayMap(x -> x + 1, [1, 2]), [1, 2][1] FROM t
SELECT lower(s), length(s), formatDateTime(ts, '%Y') FROM t
SELECT a + 1 AS x, b y, * FROM t
SELECT DISTINCT a * 2 FROM t
WITH 10 AS n SELECT n, a + n FROM t
SELECT x + 1, count() FROM (SELECT a AS x FROM t) GROUP BY x
SELECT a + 1 FROM t UNION ALL SELECT a + 2 FROM t
SELECT sum(a)   +   /* c */ 1 FROM t WHERE a > 0 SETTINGS max_threads = 1
Q

n=0
while IFS= read -r q; do
  n=$((n + 1))
  want=$(ch_query "$q" --format CSVWithNames 2>"$E2E_TMP/ch.err" | head -1)
  if [ -z "$want" ]; then
    not_ok "clickhouse ran query $n: $q"; sed 's/^/#   /' "$E2E_TMP/ch.err" | head -3
    continue
  fi
  got=$("$SINKPIPE" -p "$E2E_TMP/proj" sql "$q" --format csv 2>"$E2E_TMP/sp.err" | head -1)
  if [ -z "$got" ]; then
    not_ok "sinkpipe ran query $n: $q"; sed 's/^/#   /' "$E2E_TMP/sp.err" | head -3
    continue
  fi
  expect_eq "names of: $q" "$got" "$want"
done <"$E2E_TMP/queries"
expect_eq "queries run" "$n" "25"

ch_stop
finish
