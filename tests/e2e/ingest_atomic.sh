#!/usr/bin/env bash
# End-to-end: ingest is all or nothing per load and exact per row, on the
# embedded engine and on a clickhouse-server (18.16, tests/harness).
#
# For each engine, in a fresh project:
#  - CSV, 20,000 rows, one String value of invalid UTF-8: stored as its
#    bytes (ClickHouse's String), every row; run three times (two retries):
#    exactly 3 x 20,000 rows, the printed counts are the stored ones;
#  - NDJSON, the same: the bad line is quarantined with its reason (JSON
#    must be UTF-8), 19,999 rows + 1 quarantined per run, 3 runs exact;
#  - a load that fails mid-way (a gzip file cut short, after more than one
#    batch of rows and a quarantined row were handed to the engine): exit
#    1, `--json` reports 0 rows, and neither the datasource, its quarantine
#    nor the materialized view reading it holds a row of it, however often
#    it is retried; the whole file then loads exactly, views included;
#  - embedded only: ClickHouse itself rejecting the load at insert time
#    after its first blocks (three million rows) (max 100 partitions
#    per insert block; 18.16 has no such limit): nothing stored;
#  - kill -9 of an append waiting for more input (a FIFO) after it handed
#    rows to the engine: none of them is seen; the staging table is gone
#    at the next start (embedded); the load run again stores its rows once;
#  - the Events API (the daemon): 3 rows, one invalid UTF-8, posted three
#    times: 200 with successful_rows 2 / quarantined_rows 1 each time, and
#    exactly that stored; embedded only: a call ClickHouse rejects answers
#    an error and stores nothing, neither its rows nor its rejected row
#    (with and without a rejected row: staged, or one plain insert);
#  - no staging table is left behind.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/clickhouse.sh"

PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

python3 - "$E2E_TMP" <<'PY'
import gzip, sys
d = sys.argv[1]
with open(d + "/utf8.csv", "wb") as f:
    for i in range(20000):
        f.write(b"%d,%s\n" % (i, b"bad\xff\xfe" if i == 15000 else b"ok%d" % i))
with open(d + "/utf8.ndjson", "wb") as f:
    for i in range(20000):
        s = b"bad\xff\xfe" if i == 15000 else b"ok%d" % i
        f.write(b'{"id":%d,"s":"%s"}\n' % (i, s))
# 100,000 rows (the third one quarantined), gzip cut at 60 %
rows = b"".join(b"%s,v%d\n" % (b"x" if i == 2 else b"%d" % i, i) for i in range(100000))
z = gzip.compress(rows, 6)
open(d + "/whole.csv.gz", "wb").write(z)
open(d + "/cut.csv.gz", "wb").write(z[: len(z) * 6 // 10])
# more than one insert block (and 16 MiB push of the embedded engine's
# insert stream) in one partition, then rows that each open a partition of
# their own
with open(d + "/parts.csv", "w") as f:
    for i in range(3000200):
        f.write("%d,x%d\n" % (i, i))
with open(d + "/ev.ndjson", "wb") as f:
    f.write(b'{"id":1,"s":"a"}\n{"id":2,"s":"b\xff"}\n{"id":3,"s":"c"}\n')
with open(d + "/evparts.ndjson", "w") as f:
    for i in range(150):
        f.write('{"id":%d,"s":"e"}\n' % (4000000 + i))
    body_ok = f.tell()
    f.write('{"id":"no","s":"e"}\n')
# the same rows without the rejected one (one plain insert, no staging)
open(d + "/evparts_ok.ndjson", "wb").write(open(d + "/evparts.ndjson", "rb").read()[:body_ok])
PY

make_project() {
  P=$E2E_TMP/$1
  rm -rf "$P"
  mkdir -p "$P/datasources"
  for ds in d_csv d_nd d_cut d_cut_mv d_ev d_kill; do
    printf 'SCHEMA >\n    `id` Int64,\n    `s` String\n\nENGINE "MergeTree"\nENGINE_PARTITION_KEY "intDiv(id, 1000000)"\nENGINE_SORTING_KEY "id"\n' \
      >"$P/datasources/$ds.datasource"
  done
  printf 'SCHEMA >\n    `id` Int64,\n    `s` String\n\nENGINE "MergeTree"\nENGINE_PARTITION_KEY "if(id < 3000000, 0, id)"\nENGINE_SORTING_KEY "id"\n' \
    >"$P/datasources/d_parts.datasource"
  # a materialized view reads d_cut: its loads feed d_cut_mv, or not at all
  mkdir -p "$P/pipes"
  printf 'NODE m\nSQL >\n    SELECT id, s FROM d_cut\n\nTYPE MATERIALIZED\nDATASOURCE d_cut_mv\n' \
    >"$P/pipes/cut_mv.pipe"
}
count() { "$SINKPIPE" -p "$P" sql --format csv "SELECT count() FROM $1" 2>&1 | tail -1; }
counts() { echo "$(count "$1") $(count "$1_quarantine")"; }

# append DS FILE -> $OUT (stderr+stdout), $RC
append() { OUT=$("$SINKPIPE" -p "$P" append "$1" "$2" 2>&1); RC=$?; }

start_daemon() {
  : >"$E2E_TMP/serve.log"
  "$SINKPIPE" -p "$P" serve --listen 127.0.0.1:0 >"$E2E_TMP/serve.out" 2>>"$E2E_TMP/serve.log" &
  PID=$!
  wait_listening "$E2E_TMP/serve.log" $PID
  TOK=$(sed -n 's/^admin //p' "$E2E_TMP/serve.out")
  [ -n "$TOK" ]
}
stop_daemon() { kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; PID=; }
post() { # DS FILE -> $CODE $BODY
  BODY=$(curl -s -o - -w '\n%{http_code}' -H "Authorization: Bearer $TOK" \
    --data-binary @"$2" "http://$ADDR/v0/events?name=$1")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}

run_engine() { # in a subshell: its daemon is stopped however it ends
  local eng=$1 f
  trap 'kill -9 $PID 2>/dev/null' EXIT
  make_project "p_$eng"

  # --- CSV with invalid UTF-8: bytes stored, every row, exactly once per run
  local k
  for k in 1 2 3; do
    append d_csv "$E2E_TMP/utf8.csv"
    expect_eq "$eng: csv run $k exits 0" "$RC" 0
    expect_contains "$eng: csv run $k prints its counts" "$OUT" "20000 rows loaded, 0 quarantined"
    expect_eq "$eng: csv run $k: rows stored = rows printed" "$(counts d_csv)" "$((20000 * k)) 0"
  done
  expect_eq "$eng: the invalid UTF-8 value is stored as its bytes" \
    "$("$SINKPIPE" -p "$P" sql --format csv "SELECT hex(s) FROM d_csv WHERE id = 15000 LIMIT 1" | tail -1)" \
    '"626164FFFE"'

  # --- NDJSON with invalid UTF-8: the line quarantined with its reason
  for k in 1 2 3; do
    append d_nd "$E2E_TMP/utf8.ndjson"
    expect_eq "$eng: ndjson run $k exits 0" "$RC" 0
    expect_contains "$eng: ndjson run $k prints its counts" "$OUT" "19999 rows loaded, 1 quarantined"
    expect_eq "$eng: ndjson run $k: rows and quarantine stored = printed" "$(counts d_nd)" \
      "$((19999 * k)) $k"
  done
  expect_contains "$eng: the quarantine says why" \
    "$("$SINKPIPE" -p "$P" sql --format csv "SELECT c__error, c__line FROM d_nd_quarantine LIMIT 1" | tail -1)" \
    'invalid json: unable to decode byte 0xff'

  # --- a load that fails mid-way stores nothing, however often retried
  for k in 1 2 3; do
    OUT=$("$SINKPIPE" -p "$P" --json append d_cut "$E2E_TMP/cut.csv.gz" 2>&1); RC=$?
    expect_eq "$eng: cut gzip run $k fails" "$RC" 1
    expect_contains "$eng: cut gzip run $k says why" "$OUT" "cut.csv.gz"
    expect_contains "$eng: cut gzip run $k reports nothing stored" "$OUT" \
      '"successful_rows":0,"quarantined_rows":0'
    expect_eq "$eng: cut gzip run $k: nothing stored, no rejected row either" "$(counts d_cut)" "0 0"
    expect_eq "$eng: cut gzip run $k: nothing reached the materialized view" "$(count d_cut_mv)" 0
  done
  append d_cut "$E2E_TMP/whole.csv.gz"
  expect_contains "$eng: the whole file then loads" "$OUT" "99999 rows loaded, 1 quarantined"
  expect_eq "$eng: exactly once" "$(counts d_cut)" "99999 1"
  expect_eq "$eng: and through the materialized view, once" "$(count d_cut_mv)" 99999

  # --- ClickHouse rejects the load after a first block was written
  if [ "$eng" = embedded ]; then
    append d_parts "$E2E_TMP/parts.csv"
    expect_eq "$eng: a load ClickHouse rejects at insert time fails" "$RC" 1
    expect_contains "$eng: with ClickHouse's reason" "$OUT" "Too many partitions"
    expect_eq "$eng: and stores nothing (not even its first blocks)" "$(counts d_parts)" "0 0"
  fi

  # --- kill -9 in the middle of a load: the rows it had sent are not seen;
  # its staging table goes at the next start (embedded: this folder's)
  rm -f "$E2E_TMP/fifo.csv"; mkfifo "$E2E_TMP/fifo.csv"
  "$SINKPIPE" -p "$P" append d_kill "$E2E_TMP/fifo.csv" >"$E2E_TMP/kill.out" 2>&1 &
  local apid=$! staged= wpid
  # opened read-write: never blocks, even when the append died early
  exec 7<>"$E2E_TMP/fifo.csv"
  # rows for three 1 MiB reads: batches handed to the engine, then it waits
  (seq 1 300000 | sed 's/$/,k/' >&7) &
  wpid=$!
  for _ in $(seq 1 600); do
    if [ "$eng" = embedded ]; then
      staged=$(ls "$P/.sinkpipe/clickhouse/metadata/sinkpipe/" 2>/dev/null | grep -c '^d_kill__sp_load_')
    else
      staged=$("$SINKPIPE" -p "$P" sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND position(name, 'd_kill__sp_load_') > 0" 2>/dev/null | tail -1)
    fi
    [ "${staged:-0}" -ge 1 ] 2>/dev/null && break
    kill -0 $apid 2>/dev/null || break
    sleep 0.05
  done
  expect_eq "$eng: a load waiting for more input has a staging table" "$staged" 1
  kill -9 $apid 2>/dev/null; wait $apid 2>/dev/null
  kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
  exec 7>&-
  expect_eq "$eng: after kill -9 mid-load nothing of it is seen" "$(counts d_kill)" "0 0"
  if [ "$eng" = embedded ]; then
    expect_eq "$eng: and the next start dropped its staging table" \
      "$("$SINKPIPE" -p "$P" sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND position(name, '__sp_load_') > 0" | tail -1)" 0
  fi
  append d_kill "$E2E_TMP/utf8.csv"
  expect_eq "$eng: the load run again stores its rows once" "$(counts d_kill)" "20000 0"

  # --- the Events API
  if start_daemon; then
    for k in 1 2 3; do
      post d_ev "$E2E_TMP/ev.ndjson"
      expect_eq "$eng: events call $k: 200" "$CODE" 200
      expect_eq "$eng: events call $k says what was stored" "$BODY" \
        '{"successful_rows":2,"quarantined_rows":1}'
      expect_eq "$eng: events call $k: exactly that stored" "$(counts d_ev)" "$((2 * k)) $k"
    done
    if [ "$eng" = embedded ]; then
      for k in 1 2 3 4; do
        [ $k -le 2 ] && f=evparts.ndjson || f=evparts_ok.ndjson
        post d_parts "$E2E_TMP/$f"
        expect_eq "$eng: an events call ClickHouse rejects is not 200 ($k)" \
          "$([ "$CODE" != 200 ] && echo "$CODE" | grep -q '^[45]' && echo yes)" yes
        expect_contains "$eng: and says why ($k)" "$BODY" "Too many partitions"
        expect_eq "$eng: and stores nothing, not even its rejected row ($k)" \
          "$(counts d_parts)" "0 0"
      done
    fi
    # (on a server, the killed load's staging table stays for a day: other
    # processes may be loading)
    expect_eq "$eng: no staging table left" \
      "$("$SINKPIPE" -p "$P" sql --format csv "SELECT count() FROM system.tables WHERE database = currentDatabase() AND position(name, '__sp_load_') > 0 AND substring(name, 1, 8) != 'd_kill__'" | tail -1)" 0
    stop_daemon
  else
    not_ok "$eng: the daemon printed its admin token"
  fi
}

if [ -z "${SINKPIPE_ASAN:-}" ] && [ "${SINKPIPE_ENGINE:-embedded}" = embedded ]; then
  (unset SINKPIPE_ENGINE; run_engine embedded; exit $E2E_FAILED) || E2E_FAILED=1
fi
if [ "${SINKPIPE_ENGINE:-}" = clickhouse ]; then
  run_engine clickhouse # the suite's server (the sanitizer layer)
elif ch_available; then
  if ch_start; then
    trap 'kill -9 $PID 2>/dev/null; ch_stop; rm -rf "$E2E_TMP"' EXIT
    (export SINKPIPE_ENGINE=clickhouse SINKPIPE_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP_PORT/" \
       SINKPIPE_CLICKHOUSE_DATABASE='{project}'
     run_engine clickhouse; exit $E2E_FAILED) || E2E_FAILED=1
    ch_stop
  else
    not_ok "start clickhouse-server"
  fi
else
  ok "skipped on clickhouse-server: none installed"
fi
finish
