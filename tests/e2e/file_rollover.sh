#!/usr/bin/env bash
# file_rollover: size-bounded files (EXPORT_MAX_FILE_SIZE / EXPORT_MAX_FILE_ROWS,
# docs/objects.md) as a user runs them, on a local folder (file://) and on
# the strict local S3 server (tests/harness/s3.sh).  For every run: the
# files are <name>_0001<ext>, _0002, ... in the run's output, in order; each
# file decodes alone with an independent reader (gzip -t / zstd -t, aws s3
# cp, ClickHouse's file(..., 'zstd') through chDB), a CSV file starts with
# its header, the reported rows and sizes are those stored, no file passes
# the row bound nor the size bound (sizes as stored, after compression; the
# documented slack is 64 bytes of a codec's end of stream), and the rows of
# all files, in order, are exactly the query's rows.  Partitioned templates
# roll per partition; create_new never overwrites (the second run's files
# are _0001.1 ...); replace overwrites; per-run overrides (CLI) and bad
# values fail with one line.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
NOW=2026-11-25T02:00:00Z
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
mkdir -p "$P/pipes" "$P/connections" "$OUT"
show() { sed 's/^/#   /' "$@" | head -20; }

# pipe NAME ROWS BUCKET TEMPLATE FORMAT COMPRESSION [KEY VALUE]...: rows
# n = 0..ROWS-1 in order, with text that compresses like real data
pipe() {
  local name=$1 rows=$2 bucket=$3 tmpl=$4 fmt=$5 comp=$6; shift 6
  {
    printf 'NODE q\nSQL >\n    SELECT number AS n, number %% 3 AS part, concat('"'"'user_'"'"', toString(cityHash64(number) %% 9973)) AS u, toDateTime(1795489445 + number * 7) AS ts, round((number * 37 %% 10007) / 100, 2) AS amount FROM numbers(%s) ORDER BY n\n\nTYPE sink\n' "$rows"
    [ "${bucket#s3://}" != "$bucket" ] && printf 'EXPORT_CONNECTION_NAME lake\n'
    printf 'EXPORT_BUCKET_URI %s\nEXPORT_FILE_TEMPLATE %s\nEXPORT_FORMAT %s\nEXPORT_COMPRESSION %s\n' \
      "$bucket" "$tmpl" "$fmt" "$comp"
    while [ $# -gt 0 ]; do printf '%s %s\n' "$1" "$2"; shift 2; done
  } >"$P/pipes/$name.pipe"
}
# run NAME [args...]: JSON in $E2E_TMP/NAME.json
run() {
  local n=$1; shift
  "$SINKPIPE" -p "$P" --json run "$n" --now "$NOW" "$@" >"$E2E_TMP/$n.json" 2>"$E2E_TMP/$n.err"
}
# objects NAME: "PATH SIZE ROWS" per file of the run's output, in order
objects() { python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])).get("output") or []: print(o["path"], o["size"], o.get("rows", ""))' "$E2E_TMP/$1.json"; }
# decode FILE: the file's bytes decoded by the reader of its extension
decode() {
  case $1 in
    *.gz) gzip -dc "$1" ;;
    *.zst) zstd -q -dc "$1" ;;
    *.lz4) lz4 -q -dc "$1" ;;
    *) cat "$1" ;;
  esac
}
# want NAME FORMAT ROWS: the query's rows as `sinkpipe sql` writes them
want() {
  local sql
  sql=$("$SINKPIPE" -p "$P" --json run "$1" --now "$NOW" --dry-run |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["query_sql"])')
  "$SINKPIPE" -p "$P" sql --format "$2" --now "$NOW" "$sql" >"$E2E_TMP/want.$1"
}

# check NAME FORMAT MAXROWS MAXSIZE LOCALDIR URIPREFIX [STEM...]: the run's
# files, local copies under LOCALDIR (the URI's path after URIPREFIX)
check() {
  local name=$1 fmt=$2 maxrows=$3 maxsize=$4 dir=$5 prefix=$6
  local path size rows file i=0 bad=0 got=$E2E_TMP/got.$name hdr
  : >"$got"
  hdr=$(head -n 1 "$E2E_TMP/want.$name")
  while read -r path size rows; do
    i=$((i + 1))
    file=$dir/${path#"$prefix"}
    [ -f "$file" ] || { not_ok "$name: file $i ($path) exists"; bad=1; continue; }
    [ "$(stat -c %s "$file")" = "$size" ] || { not_ok "$name: $path: size reported = size stored"; bad=1; }
    case $file in
      *.gz) gzip -t "$file" 2>/dev/null || { not_ok "$name: gzip -t $path"; bad=1; } ;;
      *.zst) zstd -q -t "$file" 2>/dev/null || { not_ok "$name: zstd -t $path"; bad=1; } ;;
      *.lz4) lz4 -q -t "$file" 2>/dev/null || { not_ok "$name: lz4 -t $path"; bad=1; } ;;
    esac
    decode "$file" >"$got.one"
    if [ "$fmt" = csv ]; then
      [ "$(head -n 1 "$got.one")" = "$hdr" ] || { not_ok "$name: $path starts with the CSV header"; bad=1; }
      [ "$(($(wc -l <"$got.one") - 1))" = "$rows" ] || { not_ok "$name: $path holds $rows rows"; bad=1; }
      tail -n +2 "$got.one" >>"$got"
    else
      [ "$(wc -l <"$got.one")" = "$rows" ] || { not_ok "$name: $path holds $rows rows"; bad=1; }
      cat "$got.one" >>"$got"
    fi
    [ "$maxrows" = 0 ] || [ "$rows" -le "$maxrows" ] || { not_ok "$name: $path: $rows rows > $maxrows"; bad=1; }
    [ "$maxsize" = 0 ] || [ "$size" -le $((maxsize + 64)) ] || { not_ok "$name: $path: $size bytes > $maxsize"; bad=1; }
  done < <(objects "$name")
  [ "$bad" = 0 ] && ok "$name: $i files, each complete alone, within the bounds"
  if [ "$fmt" = csv ]; then tail -n +2 "$E2E_TMP/want.$name" >"$got.want"; else cp "$E2E_TMP/want.$name" "$got.want"; fi
  expect_file_eq "$name: the files' rows, in order, are the query's rows" "$got" "$got.want"
  echo "$i" >"$E2E_TMP/count.$name"
}
names() { objects "$1" | awk '{print $1}' | sed "s|^$2||" | tr '\n' ' ' | sed 's/ $//'; }
# split_part NAME FOLDER PART: run NAME's files under FOLDER=PART/ and the
# query's rows of that partition (CSV column 2), as run NAME_pPART
split_part() {
  python3 - "$E2E_TMP/$1.json" "/$2=$3/" >"$E2E_TMP/$1_p$3.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["output"] = [o for o in d["output"] if sys.argv[2] in o["path"]]
json.dump(d, sys.stdout)
PY
  { head -n 1 "$E2E_TMP/want.$1"; awk -F, -v p="$3" 'NR > 1 && $2 == p' "$E2E_TMP/want.$1"; } \
    >"$E2E_TMP/want.$1_p$3"
}

# ---------------------------------------------------------- file://, rows
pipe rows_csv 50000 "file://$OUT/rows/" n csv none EXPORT_MAX_FILE_ROWS 7000
want rows_csv csv
run rows_csv && ok "run rows_csv" || { not_ok "run rows_csv"; show "$E2E_TMP/rows_csv.err"; }
check rows_csv csv 7000 0 "$OUT/rows" "file://$OUT/rows/"
expect_eq "rows_csv: 7000 rows a file, the last one the rest" \
  "$(objects rows_csv | awk '{print $3}' | sort -u | tr '\n' ' ')" "1000 7000 "
expect_eq "rows_csv: names carry a sequence number" "$(names rows_csv "file://$OUT/rows/")" \
  "n_0001.csv n_0002.csv n_0003.csv n_0004.csv n_0005.csv n_0006.csv n_0007.csv n_0008.csv"

# create_new: a second run never overwrites, its files are siblings
run rows_csv --max-file-rows 20000 && ok "run rows_csv again (override 20000 rows)" || {
  not_ok "run rows_csv again"; show "$E2E_TMP/rows_csv.err"; }
expect_eq "create_new: the second run's files are _0001.1, _0002.1, ..." \
  "$(names rows_csv "file://$OUT/rows/")" "n_0001.1.csv n_0002.1.csv n_0003.1.csv"
expect_eq "create_new: the first run's files are all there" "$(ls "$OUT/rows" | wc -l | tr -d ' ')" 11
# no bound for this run: one file, named as without bounds
run rows_csv --max-file-rows 0 && ok "run rows_csv with --max-file-rows 0" || show "$E2E_TMP/rows_csv.err"
expect_eq "--max-file-rows 0 lifts the bound: one file without a number" \
  "$(names rows_csv "file://$OUT/rows/")" "n.csv"

# ------------------------------------------ file://, size, gzip, partitions
pipe size_gz 60000 "file://$OUT/gz/" 'part={part}/events' csv gzip EXPORT_MAX_FILE_SIZE 64KiB
want size_gz csv
run size_gz && ok "run size_gz" || { not_ok "run size_gz"; show "$E2E_TMP/size_gz.err"; }
# each partition's rows are its own sequence: check them partition by partition
for part in 0 1 2; do
  split_part size_gz part "$part"
  check "size_gz_p$part" csv 0 65536 "$OUT/gz" "file://$OUT/gz/"
done
expect_eq "size_gz: every partition rolls over on its own (names)" \
  "$(names size_gz_p1 "file://$OUT/gz/" | cut -d' ' -f1-2)" "part=1/events_0001.csv.gz part=1/events_0002.csv.gz"
n=$(cat "$E2E_TMP/count.size_gz_p0")
[ "$n" -ge 3 ] && ok "size_gz: a partition of ~1.2 MB of CSV makes several 64 KiB files ($n)" ||
  not_ok "size_gz: several files per partition (got $n)"
# files are filled up to the bound, not cut early
small=$(objects size_gz_p0 | head -n -1 | awk '$2 < 65536 * 3 / 4' | wc -l)
expect_eq "size_gz: every file but the last is over 3/4 of the bound" "$small" 0

# ------------------------------------- file://, zstd NDJSON, ClickHouse reads
pipe size_zst 80000 "file://$OUT/zst/" ev ndjson zstd EXPORT_MAX_FILE_SIZE 100000 EXPORT_MAX_FILE_ROWS 30000
want size_zst ndjson
run size_zst && ok "run size_zst" || { not_ok "run size_zst"; show "$E2E_TMP/size_zst.err"; }
check size_zst ndjson 30000 100000 "$OUT/zst" "file://$OUT/zst/"
pipe csv_zst 80000 "file://$OUT/czst/" ev csv zstd EXPORT_MAX_FILE_ROWS 30000
want csv_zst csv
run csv_zst && ok "run csv_zst" || { not_ok "run csv_zst"; show "$E2E_TMP/csv_zst.err"; }
check csv_zst csv 30000 0 "$OUT/czst" "file://$OUT/czst/"
cq=$SINKPIPE_BUILD/tools/chdb_query
if [ -n "${SINKPIPE_ASAN:-}" ] || [ ! -x "$cq" ]; then
  ok "skipped: ClickHouse reader (needs build/tools/chdb_query, not under ASan)"
else
  # each file on its own, as ClickHouse reads it
  for f in "$OUT"/czst/ev_000*.csv.zst; do
    echo "$("$cq" --path "$E2E_TMP/chdb" --database default --format TSV \
      "SELECT count(), min(n), max(n) FROM file('$f', 'CSVWithNames', 'n UInt64, part UInt8, u String, ts DateTime, amount Float64', 'zstd')" 2>>"$E2E_TMP/cq.err")"
  done >"$E2E_TMP/cq.out"
  expect_eq "ClickHouse reads every zstd CSV file alone (rows, first, last)" "$(tr '\t\n' ', ' <"$E2E_TMP/cq.out")" \
    "30000,0,29999 30000,30000,59999 20000,60000,79999 "
  [ -s "$E2E_TMP/cq.err" ] && show "$E2E_TMP/cq.err"
fi

# ------------------------------------ file://, lz4 CSV by size, ClickHouse reads
pipe csv_lz4 80000 "file://$OUT/clz4/" ev csv lz4 EXPORT_MAX_FILE_SIZE 400000
want csv_lz4 csv
run csv_lz4 && ok "run csv_lz4" || { not_ok "run csv_lz4"; show "$E2E_TMP/csv_lz4.err"; }
check csv_lz4 csv 0 400000 "$OUT/clz4" "file://$OUT/clz4/"
nlz4=$(ls "$OUT"/clz4/ev_000*.csv.lz4 2>/dev/null | wc -l)
[ "$nlz4" -ge 2 ] && ok "lz4 CSV rolls over into $nlz4 files" || not_ok "lz4 CSV rolls over (files: $nlz4)"
if [ -n "${SINKPIPE_ASAN:-}" ] || [ ! -x "$cq" ]; then
  ok "skipped: ClickHouse reader (needs build/tools/chdb_query, not under ASan)"
else
  : >"$E2E_TMP/cq.err"
  got=$("$cq" --path "$E2E_TMP/chdb" --database default --format TSV \
    "SELECT count(), sum(n), uniqExact(_file) FROM file('$OUT/clz4/ev_000*.csv.lz4', 'CSVWithNames', 'n UInt64, part UInt8, u String, ts DateTime, amount Float64', 'lz4')" 2>>"$E2E_TMP/cq.err")
  expect_eq "ClickHouse reads the lz4 CSV files (rows, sum, files)" "$got" "$(printf '80000\t3199960000\t%s' "$nlz4")"
  [ -s "$E2E_TMP/cq.err" ] && show "$E2E_TMP/cq.err"
fi

# ------------------------------------------------- replace, dry run, errors
pipe repl 30000 "file://$OUT/repl/" r csv none EXPORT_MAX_FILE_ROWS 10000 EXPORT_STRATEGY replace
run repl && run repl && ok "run repl twice" || show "$E2E_TMP/repl.err"
expect_eq "replace: the second run overwrites the same names" "$(ls "$OUT/repl" | tr '\n' ' ')" \
  "r_0001.csv r_0002.csv r_0003.csv "
run repl --dry-run --max-file-rows 25000 && ok "dry run" || show "$E2E_TMP/repl.err"
expect_eq "a dry run lists the files it would write" "$(names repl "file://$OUT/repl/")" "r_0001.csv r_0002.csv"
if run repl --max-file-size 12XB; then not_ok "a bad --max-file-size fails"; else
  expect_contains "a bad --max-file-size fails with one line" "$(cat "$E2E_TMP/repl.err" "$E2E_TMP/repl.json")" \
    "pipe 'repl': EXPORT_MAX_FILE_SIZE: '12XB' is not a size"; fi
pipe badkey 10 "file://$OUT/bad/" b csv none EXPORT_MAX_FILE_ROWS ten
if "$SINKPIPE" -p "$P" check >"$E2E_TMP/check.out" 2>&1; then not_ok "check fails on a bad bound"; else
  expect_contains "check names file, line and key" "$(cat "$E2E_TMP/check.out")" \
    "pipes/badkey.pipe:10: EXPORT_MAX_FILE_ROWS: 'ten' is not a positive number of rows"; fi
rm -f "$P/pipes/badkey.pipe"

# ------------------------------------------------------------------- S3
if ! s3_available; then not_ok "python3, aws and curl are available for the S3 peer"; finish; fi
s3_start || { not_ok "the S3 server starts"; finish; }
s3_mb lake || not_ok "bucket lake"
printf 'TYPE s3\nS3_REGION us-east-1\n' >"$P/connections/lake.connection"
export SINKPIPE_CONNECTION__lake__S3_ENDPOINT=$S3_TEST_ENDPOINT
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export SINKPIPE_S3_PART_SIZE=5242880 # multipart from 5 MiB

# fetch_all NAME DIR: every file of the run, read back by aws into DIR
fetch_all() {
  local path size rows
  while read -r path size rows; do
    mkdir -p "$2/$(dirname "${path#s3://lake/}")"
    s3_aws s3 cp --only-show-errors "$path" "$2/${path#s3://lake/}" 2>>"$E2E_TMP/fetch.err" || return 1
  done < <(objects "$1")
}
# small files of zstd CSV (single PUTs), partitioned
pipe s3_zst 60000 s3://lake/zst/ 'p={part}/d' csv zstd EXPORT_MAX_FILE_SIZE 50000
want s3_zst csv
run s3_zst && ok "run s3_zst" || { not_ok "run s3_zst"; show "$E2E_TMP/s3_zst.err"; }
fetch_all s3_zst "$E2E_TMP/s3" && ok "aws reads back every s3_zst file" || show "$E2E_TMP/fetch.err"
for part in 0 1 2; do
  split_part s3_zst p "$part"
  check "s3_zst_p$part" csv 0 50000 "$E2E_TMP/s3" "s3://lake/"
done
first=$(objects s3_zst | head -n 1 | awk '{print $1}')
s3_aws s3api head-object --bucket lake --key "${first#s3://lake/}" --output json >"$E2E_TMP/head.json"
expect_eq "S3: a zstd file is stored with Content-Encoding zstd" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ContentEncoding"))' "$E2E_TMP/head.json")" zstd
# large files: ~12 MB of CSV in files of 6 MiB (multipart uploads: parts of 5 MiB)
pipe s3_big 220000 s3://lake/big/ big csv none EXPORT_MAX_FILE_SIZE 6MiB
want s3_big csv
run s3_big && ok "run s3_big" || { not_ok "run s3_big"; show "$E2E_TMP/s3_big.err"; }
fetch_all s3_big "$E2E_TMP/s3" && ok "aws reads back every s3_big file" || show "$E2E_TMP/fetch.err"
check s3_big csv 0 6291456 "$E2E_TMP/s3" "s3://lake/"
expect_eq "s3_big: two files" "$(names s3_big s3://lake/)" "big/big_0001.csv big/big_0002.csv"
[ "$(s3_log_count CompleteMultipartUpload 200)" -ge 1 ] && ok "S3: the first 6 MiB file went up as a multipart upload" ||
  not_ok "S3: multipart uploads completed (got $(s3_log_count CompleteMultipartUpload 200))"
# create_new on S3: the names are resolved before the upload
run s3_big --max-file-size 1MB && ok "run s3_big again (override 1MB)" || show "$E2E_TMP/s3_big.err"
expect_eq "S3 create_new: the second run's first files are siblings, then new names" \
  "$(names s3_big s3://lake/ | cut -d' ' -f1-3)" "big/big_0001.1.csv big/big_0002.1.csv big/big_0003.csv"
expect_eq "no multipart upload left open" "$(s3_open_uploads lake)" 0
finish
