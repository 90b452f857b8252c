#!/usr/bin/env bash
# format_vs_clickhouse: our CSV and NDJSON writers against a real
# clickhouse-server (Debian's 18.16), byte for byte.
#
# tests/tools/fmt_rows prints a fixed table of awkward values (escapes,
# invalid UTF-8, U+2028, 64-bit extremes, shortest floats, inf/nan, dates,
# arrays with NULLs, decimals) through our formatters, and the SELECT that
# builds the same table on the server.  Values where 18.16 and modern
# ClickHouse differ (see docs/formats.md) are not in the table.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/clickhouse.sh"

if ! ch_available; then
  ok "format_vs_clickhouse skipped: clickhouse-server not installed"
  finish
fi

FMT_ROWS="$SINKPIPE_BUILD/tools/fmt_rows"
[ -x "$FMT_ROWS" ] || { not_ok "fmt_rows not built (make tools)"; finish; }

if ! ch_start; then
  not_ok "start clickhouse-server"
  finish
fi
ok "clickhouse-server $(ch_query 'SELECT version()') on 127.0.0.1:$CH_TCP_PORT"

SQL=$("$FMT_ROWS" sql)

"$FMT_ROWS" csv >"$E2E_TMP/ours.csv" || not_ok "fmt_rows csv"
if ch_query "$SQL" --format CSVWithNames >"$E2E_TMP/ch.csv" 2>"$E2E_TMP/ch.err"; then
  expect_file_eq "CSVWithNames is byte-identical to clickhouse-server" "$E2E_TMP/ours.csv" "$E2E_TMP/ch.csv"
else
  not_ok "clickhouse CSVWithNames query"; sed 's/^/#   /' "$E2E_TMP/ch.err" | head -5
fi

"$FMT_ROWS" ndjson >"$E2E_TMP/ours.ndjson" || not_ok "fmt_rows ndjson"
if ch_query "$SQL" --format JSONEachRow --output_format_json_quote_64bit_integers=0 \
    >"$E2E_TMP/ch.ndjson" 2>"$E2E_TMP/ch.err"; then
  expect_file_eq "JSONEachRow is byte-identical to clickhouse-server" "$E2E_TMP/ours.ndjson" "$E2E_TMP/ch.ndjson"
else
  not_ok "clickhouse JSONEachRow query"; sed 's/^/#   /' "$E2E_TMP/ch.err" | head -5
fi

expect_eq "row count" "$(wc -l <"$E2E_TMP/ours.ndjson")" "12"

ch_stop
finish
