#!/usr/bin/env bash
# parquet: EXPORT_FORMAT parquet end to end.  One query makes a column of
# every type sinkpipe maps to Parquet (NULLs, empty and nested arrays, maps,
# tuples, LowCardinality, 128/256-bit integers, decimals of every width,
# dates before 1970, DateTime64 of scales 1, 3, 6, 9 …).  The file sink
# writes it with each page compression (snappy, the default; zstd; gzip; lz4,
# as LZ4_RAW; none) in row groups of 1000 rows, an S3 sink (the harness's strict S3
# server) once more; every file is read back
#   - by ClickHouse (chDB, tests/tools/chdb_query: file(…, Parquet, <the
#     query's own structure>)) and compared with `sinkpipe sql --format csv`
#     of the same query, byte for byte;
#   - by DuckDB (read_parquet, tests/harness/duckdb.sh) and compared value by
#     value with the same texts computed by ClickHouse from the query.
# Also: `sql --format parquet` to stdout, partitioned templates (one file
# per partition), create_new siblings and replace, an unmappable type fails
# before any file exists, and Kafka sinks and bad row-group sizes are
# refused at the definition's line.
. "$(dirname "$0")/lib.sh"
if [ -n "${SINKPIPE_ASAN:-}" ] || [ "${SINKPIPE_ENGINE:-embedded}" != embedded ]; then
  # the types (Int256, Date32, Map, IPv6, …) and the reader (chDB) need the
  # embedded ClickHouse; the writer runs under ASan in tests/unit/test_parquet.c
  ok "skipped: needs the embedded ClickHouse"
  finish
fi
. "$E2E_ROOT/tests/harness/duckdb.sh"
. "$E2E_ROOT/tests/harness/s3.sh"
NOW=2026-11-25T02:00:00Z
ROWS=${PARQUET_E2E_ROWS:-5000}
P=$E2E_TMP/proj
OUT=$E2E_TMP/out
CH=$SINKPIPE_BUILD/tools/chdb_query
CHDIR=$E2E_TMP/chdb
mkdir -p "$P/pipes" "$P/connections" "$OUT"
show() { sed 's/^/#   /' "$@" | head -20; }

if [ ! -x "$CH" ]; then not_ok "chdb_query is built ($CH)"; finish; fi
have_duck=1
duckdb_install "$E2E_TMP/duckdb.log" || { not_ok "DuckDB installs from npm"; show "$E2E_TMP/duckdb.log"; have_duck=0; }

# the query: one column per type (ORDER BY id: files are compared in order)
read -r -d '' Q <<SQL
SELECT
  number AS id,
  toUInt8(number % 256) AS u8, toUInt16(number * 7 % 65536) AS u16,
  toUInt32(number * 2654435761 % 4294967296) AS u32, toUInt64(18446744073709551615 - number) AS u64,
  toInt8(toInt16(number % 256) - 128) AS i8, toInt16(toInt32(number * 13 % 65536) - 32768) AS i16,
  toInt32(toInt64(number * 2654435761 % 4294967296) - 2147483648) AS i32,
  toInt64(-9223372036854775807 + number * 1000003) AS i64,
  toInt128('-170141183460469231731687303715884105727') + number * 99991 AS i128,
  toUInt128(number) * toUInt128('3402823669209384634633746074317') AS u128,
  toInt256('-57896044618658097711785492504343953926634992332820282019728792003956564819967') + number AS i256,
  toUInt256(number) * toUInt256('1000000000000000000000000000000000000007') AS u256,
  toFloat32(number) / 8 - 100 AS f32, toFloat64(number) / 1024 - 2.5 AS f64,
  number % 2 = 0 AS b,
  concat('s', toString(number), if(number % 5 = 0, ',"q"\n\\\\x', ''), if(number % 7 = 0, 'é€', '')) AS s,
  toFixedString(toString(number % 1000), 4) AS fs,
  toDate('2020-01-01') + number AS d, toDate32('1900-01-01') + number * 7 AS d32,
  toDateTime('2020-01-01 00:00:00', 'UTC') + number * 3601 AS dt,
  addMilliseconds(toDateTime64('2020-01-01 00:00:00', 3, 'UTC'), number * 1001) AS dt3,
  addMilliseconds(toDateTime64('2021-06-01 00:00:00', 1, 'UTC'), number * 100) AS dt1,
  addMicroseconds(toDateTime64('1969-12-31 23:59:59', 6, 'UTC'), number * 123457) AS dt6,
  addNanoseconds(toDateTime64('2020-01-01 00:00:00', 9, 'UTC'), number * 987654321) AS dt9,
  toDecimal32(number, 2) / 3 - 20 AS dec9, toDecimal64(number, 4) / -3 AS dec18,
  toDecimal128(number, 10) / -7 AS dec38, toDecimal256(number, 20) / 11 AS dec76,
  toUUID(concat('61f0c404-5cb3-11e7-907b-', leftPad(lower(hex(number * 48271)), 12, '0'))) AS uuid,
  toIPv4(number * 16777619 % 4294967296) AS ip4,
  toIPv6(concat('2001:db8::', lower(hex(toUInt16(number))))) AS ip6,
  CAST(if(number % 3 = 0, 'a', 'b'), 'Enum8(\'a\' = 1, \'b\' = -2)') AS e8,
  CAST(if(number % 2 = 0, 'x', 'y'), 'Enum16(\'x\' = 1000, \'y\' = 2)') AS e16,
  if(number % 4 = 0, NULL, toInt32(number)) AS n,
  if(number % 3 = 0, NULL, concat('n', toString(number))) AS ns,
  toLowCardinality(concat('lc', toString(number % 10))) AS lc,
  toLowCardinality(if(number % 5 = 0, NULL, toString(number % 7))) AS lcn,
  toLowCardinality(CAST(NULL, 'Nullable(String)')) AS lc_nulls,
  range(number % 4) AS arr,
  arrayMap(x -> range(x), range(number % 3)) AS arr2,
  arrayMap(x -> if(x % 2 = 0, NULL, toString(x)), range(number % 4)) AS arrn,
  mapFromArrays(arrayMap(x -> concat('k', toString(x)), range(number % 3)), range(number % 3)) AS m,
  CAST((toInt32(number), toString(number)), 'Tuple(a Int32, b String)') AS t,
  (number, 'u') AS tu,
  [CAST((number, 'x'), 'Tuple(a UInt64, b String)')] AS ta
FROM numbers($ROWS)
SQL
Q_SQL=$(printf '%s' "$Q" | sed 's/^/    /')

cat > "$P/pipes/typed.pipe" <<X
NODE q
SQL >
$Q_SQL

TYPE sink
EXPORT_BUCKET_URI file://$OUT/typed/
EXPORT_FILE_TEMPLATE typed
EXPORT_FORMAT parquet
EXPORT_PARQUET_ROW_GROUP_SIZE 1000
X

# ---------------------------------------------------------------- helpers
"$SINKPIPE" -p "$P" sql --format csv "$Q ORDER BY id" >"$E2E_TMP/want.csv" 2>"$E2E_TMP/want.err" ||
  { not_ok "sql --format csv of the query"; show "$E2E_TMP/want.err"; finish; }
# the query's structure, as ClickHouse names it ("name Type, …")
STRUCT=$("$CH" --path "$CHDIR" --database default --format JSONEachRow "DESCRIBE ($Q)" 2>"$E2E_TMP/struct.err" |
  python3 -c 'import json,sys; print(", ".join("`%s` %s" % (r["name"], r["type"]) for r in map(json.loads, sys.stdin)))')
[ -n "$STRUCT" ] || { not_ok "DESCRIBE of the query"; show "$E2E_TMP/struct.err"; finish; }

# ch_check WHAT FILE: ClickHouse reads FILE back as the query's structure
ch_check() {
  if "$CH" --path "$CHDIR" --database default --format CSVWithNames \
      "SELECT * FROM file('$2', Parquet, '${STRUCT//\'/\\\'}') ORDER BY id" >"$E2E_TMP/ch.csv" 2>"$E2E_TMP/ch.err"; then
    expect_file_eq "$1: ClickHouse reads back every value" "$E2E_TMP/ch.csv" "$E2E_TMP/want.csv"
  else not_ok "$1: ClickHouse reads the file"; show "$E2E_TMP/ch.err"; fi
}

# DuckDB: each column as a text both engines compute the same way
# (DuckDB reads a UTC timestamp as TIMESTAMPTZ, whose unit is the
# microsecond: dt9's nanoseconds are compared to the microsecond there, in
# full by ClickHouse)
# (name | DuckDB expression | ClickHouse expression)
COLS=(
  "id~~CAST(id AS VARCHAR)~~toString(id)"
  "ints~~concat_ws(';', u8, u16, u32, u64, i8, i16, i32, i64)~~arrayStringConcat([toString(u8), toString(u16), toString(u32), toString(u64), toString(i8), toString(i16), toString(i32), toString(i64)], ';')"
  "floats~~CAST(f32 * 8 AS BIGINT) || ';' || CAST(f64 * 1024 AS BIGINT)~~toString(toInt64(f32 * 8)) || ';' || toString(toInt64(f64 * 1024))"
  "b~~CAST(b AS VARCHAR)~~toString(b)"
  "s~~s~~s"
  "fs~~hex(fs)~~hex(fs)"
  "dates~~CAST(d AS VARCHAR) || ';' || CAST(d32 AS VARCHAR)~~toString(d) || ';' || toString(d32)"
  "times~~concat_ws(';', epoch_ms(dt), epoch_ms(dt3), epoch_ms(dt1), epoch_us(dt6), epoch_ns(dt9))~~arrayStringConcat([toString(toUnixTimestamp(dt) * 1000), toString(toUnixTimestamp64Milli(dt3)), toString(toUnixTimestamp64Milli(dt1)), toString(toUnixTimestamp64Micro(dt6)), toString(intDiv(toUnixTimestamp64Nano(dt9), 1000) * 1000)], ';')"
  "decimals~~concat_ws(';', dec9, dec18, dec38)~~arrayStringConcat([toDecimalString(dec9, 2), toDecimalString(dec18, 4), toDecimalString(dec38, 10)], ';')"
  "uuid~~CAST(uuid AS VARCHAR)~~toString(uuid)"
  "ips~~CAST(ip4 AS VARCHAR) || ';' || hex(ip6)~~toString(toUInt32(ip4)) || ';' || hex(ip6)"
  "enums~~e8 || ';' || e16~~toString(e8) || ';' || toString(e16)"
  "nulls~~coalesce(CAST(n AS VARCHAR), 'NULL') || ';' || coalesce(ns, 'NULL')~~ifNull(toString(n), 'NULL') || ';' || ifNull(ns, 'NULL')"
  "lc~~lc || ';' || coalesce(lcn, 'NULL')~~toString(lc) || ';' || ifNull(toString(lcn), 'NULL')"
  "arrays~~replace(CAST(arr AS VARCHAR), ' ', '') || ';' || replace(CAST(arr2 AS VARCHAR), ' ', '') || ';' || len(arrn) || ':' || array_to_string(list_transform(arrn, x -> coalesce(x, 'NULL')), '|')~~toString(arr) || ';' || toString(arr2) || ';' || toString(length(arrn)) || ':' || arrayStringConcat(arrayMap(x -> ifNull(x, 'NULL'), arrn), '|')"
  "map~~array_to_string(list_transform(map_entries(m), e -> e.key || '=' || CAST(e.value AS VARCHAR)), '|')~~arrayStringConcat(arrayMap((k, v) -> k || '=' || toString(v), mapKeys(m), mapValues(m)), '|')"
  "tuples~~CAST(t.a AS VARCHAR) || ';' || t.b || ';' || CAST(struct_extract(tu, '1') AS VARCHAR) || ';' || struct_extract(tu, '2') || ';' || CAST(ta[1].a AS VARCHAR) || ta[1].b~~toString(t.a) || ';' || t.b || ';' || toString(tu.1) || ';' || tu.2 || ';' || toString(ta[1].a) || ta[1].b"
)
duck_sel= ch_sel=
for c in "${COLS[@]}"; do
  name=${c%%~~*} rest=${c#*~~}
  duck_sel+="${duck_sel:+, }${rest%%~~*} AS $name"
  ch_sel+="${ch_sel:+, }${rest#*~~} AS $name"
done
"$SINKPIPE" -p "$P" sql --format csv "SELECT $ch_sel FROM ($Q) ORDER BY id" >"$E2E_TMP/duck_want.csv" 2>"$E2E_TMP/dw.err" ||
  { not_ok "sql --format csv of the DuckDB comparison texts"; show "$E2E_TMP/dw.err"; }
# csv_same A B: same rows of values (csv quoting aside), header of A skipped
csv_same() { python3 - "$1" "$2" <<'PY'
import csv, sys
a = list(csv.reader(open(sys.argv[1], newline='')))[1:]
b = list(csv.reader(open(sys.argv[2], newline='')))
if a == b:
    sys.exit(0)
print('# rows: %d vs %d' % (len(a), len(b)))
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        for j, (u, v) in enumerate(zip(x, y)):
            if u != v:
                print('# row %d column %d: want %r, duckdb %r' % (i, j, u, v))
        break
sys.exit(1)
PY
}
# duck_check WHAT FILE: DuckDB reads FILE; the texts match ClickHouse's
duck_check() {
  [ $have_duck = 1 ] || return 0
  if duckdb_sql "SELECT $duck_sel FROM read_parquet('$2') ORDER BY id" >"$E2E_TMP/duck.csv" 2>"$E2E_TMP/duck.err"; then
    if out=$(csv_same "$E2E_TMP/duck_want.csv" "$E2E_TMP/duck.csv"); then ok "$1: DuckDB reads back every value"
    else not_ok "$1: DuckDB reads back every value"; echo "$out"; fi
  else not_ok "$1: DuckDB reads the file"; show "$E2E_TMP/duck.err"; fi
}
# rowgroups FILE: "row groups, rows" per DuckDB's parquet_metadata
rowgroups() {
  duckdb_sql "SELECT count(DISTINCT row_group_id), sum(row_group_num_rows) / count(*) * count(DISTINCT row_group_id) FROM parquet_metadata('$1')"
}
# codec_of FILE: the compression of its column chunks
codec_of() { duckdb_sql "SELECT DISTINCT compression FROM parquet_metadata('$1')"; }

# ------------------------------------------------- file sink, each codec
for c in default snappy zstd gzip lz4 none; do
  args=(--file-template "typed_$c")
  [ $c = default ] || args+=(--compression $c)
  json=$("$SINKPIPE" -p "$P" --json run typed --now $NOW "${args[@]}" 2>"$E2E_TMP/run.err"); rc=$?
  expect_eq "file sink ($c): run exits 0" "$rc" 0
  [ $rc = 0 ] || { show "$E2E_TMP/run.err"; continue; }
  f=$OUT/typed/typed_$c.parquet
  expect_contains "file sink ($c): the object is named .parquet" "$json" "typed_$c.parquet\""
  [ -f "$f" ] || { not_ok "file sink ($c): $f exists"; ls "$OUT/typed" | show; continue; }
  expect_eq "file sink ($c): magic at both ends" "$(head -c4 "$f")$(tail -c4 "$f")" "PAR1PAR1"
  ch_check "file sink ($c)" "$f"
  duck_check "file sink ($c)" "$f"
  if [ $have_duck = 1 ]; then
    want=$c; [ $c = default ] && want=snappy
    [ $c = none ] && want=uncompressed
    [ $c = lz4 ] && want=lz4_raw
    expect_eq "file sink ($c): page compression" "$(codec_of "$f" | tr A-Z a-z)" "$want"
    expect_eq "file sink ($c): row groups of 1000 rows" "$(rowgroups "$f")" "$(( (ROWS + 999) / 1000 )),$ROWS"
  fi
done

# ------------------------------------------- sql --format parquet (stdout)
if "$SINKPIPE" -p "$P" sql --format parquet "$Q" >"$E2E_TMP/stdout.parquet" 2>"$E2E_TMP/sql.err"; then
  ch_check "sql --format parquet" "$E2E_TMP/stdout.parquet"
  duck_check "sql --format parquet" "$E2E_TMP/stdout.parquet"
  [ $have_duck = 1 ] && expect_eq "sql --format parquet: one row group (default 1000000 rows)" \
    "$(rowgroups "$E2E_TMP/stdout.parquet")" "1,$ROWS"
else not_ok "sql --format parquet exits 0"; show "$E2E_TMP/sql.err"; fi

# an empty result is a valid file: schema, no row group
"$SINKPIPE" -p "$P" sql --format parquet "SELECT * FROM ($Q) WHERE id > $ROWS" >"$E2E_TMP/empty.parquet" 2>"$E2E_TMP/sql.err" ||
  { not_ok "sql --format parquet (no rows) exits 0"; show "$E2E_TMP/sql.err"; }
got=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count() FROM file('$E2E_TMP/empty.parquet', Parquet, '${STRUCT//\'/\\\'}')" 2>&1)
expect_eq "no rows: ClickHouse reads an empty file" "$got" "0"
if [ $have_duck = 1 ]; then
  got=$(duckdb_sql "SELECT count(*), (SELECT count(*) FROM parquet_schema('$E2E_TMP/empty.parquet') WHERE name = 'dt9') FROM read_parquet('$E2E_TMP/empty.parquet')" 2>&1)
  expect_eq "no rows: DuckDB reads an empty file with its schema" "$got" "0,1"
fi

# -------------------------------------------------------------- S3 sink
if s3_available && s3_start; then
  ok "the S3 server starts"
  s3_mb pq-bucket us-east-1 || not_ok "create bucket pq-bucket"
  cat > "$P/connections/pq_s3.connection" <<'X'
TYPE s3
S3_REGION us-east-1
X
  sed -e "s|^EXPORT_BUCKET_URI .*|EXPORT_CONNECTION_NAME pq_s3\nEXPORT_BUCKET_URI s3://pq-bucket/exports/|" \
      -e 's|^EXPORT_FILE_TEMPLATE .*|EXPORT_FILE_TEMPLATE typed_{date}|' \
      "$P/pipes/typed.pipe" >"$P/pipes/typed_s3.pipe"
  s3env=(SINKPIPE_CONNECTION__pq_s3__S3_ENDPOINT="$S3_TEST_ENDPOINT"
         SINKPIPE_CONNECTION__pq_s3__S3_ACCESS_KEY="$S3_TEST_ACCESS_KEY"
         SINKPIPE_CONNECTION__pq_s3__S3_SECRET="$S3_TEST_SECRET")
  json=$(env "${s3env[@]}" "$SINKPIPE" -p "$P" --json run typed_s3 --now $NOW 2>"$E2E_TMP/s3.err"); rc=$?
  expect_eq "S3 sink: run exits 0" "$rc" 0
  [ $rc = 0 ] || show "$E2E_TMP/s3.err"
  key=exports/typed_2026-11-25.parquet
  expect_contains "S3 sink: the object is named .parquet" "$json" "s3://pq-bucket/$key"
  if s3_aws s3 cp --only-show-errors "s3://pq-bucket/$key" "$E2E_TMP/s3.parquet" 2>"$E2E_TMP/cp.err"; then
    ch_check "S3 sink" "$E2E_TMP/s3.parquet"
    duck_check "S3 sink" "$E2E_TMP/s3.parquet"
    ct=$(s3_aws s3api head-object --bucket pq-bucket --key "$key" --query ContentType --output text 2>&1)
    expect_eq "S3 sink: content type" "$ct" "application/vnd.apache.parquet"
  else not_ok "S3 sink: the object can be fetched"; show "$E2E_TMP/cp.err"; fi
  # create_new: a second run makes a sibling, the first object stays
  json=$(env "${s3env[@]}" "$SINKPIPE" -p "$P" --json run typed_s3 --now $NOW 2>"$E2E_TMP/s3.err")
  expect_contains "S3 sink: create_new writes a sibling" "$json" "s3://pq-bucket/exports/typed_2026-11-25.1.parquet"
else not_ok "the S3 server starts (python3, aws, curl)"; fi

# ------------------------------------- partitions and write strategies
cat > "$P/pipes/parts.pipe" <<X
NODE q
SQL >
    SELECT number AS id, toString(number % 3) AS part, if(number % 2 = 0, NULL, number) AS v
    FROM numbers(3000) ORDER BY id

TYPE sink
EXPORT_BUCKET_URI file://$OUT/parts/
EXPORT_FILE_TEMPLATE part={part}/data
EXPORT_FORMAT parquet
EXPORT_COMPRESSION zstd
X
"$SINKPIPE" -p "$P" run parts --now $NOW >/dev/null 2>"$E2E_TMP/parts.err" || { not_ok "partitioned run"; show "$E2E_TMP/parts.err"; }
for k in 0 1 2; do
  f=$OUT/parts/part=$k/data.parquet
  if [ -f "$f" ]; then
    got=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), countIf(part != '$k'), sum(id), countIf(v IS NULL) FROM file('$f', Parquet)" 2>&1)
    want=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), 0, sum(number), countIf(number % 2 = 0) FROM numbers(3000) WHERE number % 3 = $k" 2>&1)
    expect_eq "partition part=$k: its rows only" "$got" "$want"
  else not_ok "partition file $f exists"; fi
done
before=$(md5sum <"$OUT/parts/part=0/data.parquet")
"$SINKPIPE" -p "$P" run parts --now $NOW >/dev/null 2>&1
[ -f "$OUT/parts/part=0/data.1.parquet" ] && ok "create_new: a second run writes data.1.parquet" ||
  not_ok "create_new: a second run writes data.1.parquet"
expect_eq "create_new: the first file is untouched" "$(md5sum <"$OUT/parts/part=0/data.parquet")" "$before"
"$SINKPIPE" -p "$P" run parts --now $NOW --strategy replace --file-template 'part={part}/data' >/dev/null 2>&1 &&
  ok "replace overwrites" || not_ok "replace overwrites"
n=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count() FROM file('$OUT/parts/part=0/data.parquet', Parquet)" 2>&1)
expect_eq "replace: the file holds one run's rows" "$n" "1000"

# --------------------------------------------------- a partition per row
# a partition per id: 300 small files, each complete
sed -e "s|EXPORT_FILE_TEMPLATE .*|EXPORT_FILE_TEMPLATE many/{id}|" "$P/pipes/parts.pipe" |
  sed -e 's/numbers(3000)/numbers(300)/' >"$P/pipes/many.pipe"
"$SINKPIPE" -p "$P" run many --now $NOW >/dev/null 2>"$E2E_TMP/many.err" || { not_ok "a file per row"; show "$E2E_TMP/many.err"; }
n=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), sum(id) FROM file('$OUT/parts/many/*.parquet', Parquet)" 2>&1)
expect_eq "a file per row: 300 valid files" "$n" "300,44850"

# ------------------------------------- many partitions over the budget
# 40 partitions of ~3 MiB each: none reaches a row group's own bound, but
# together they pass the sink's 64 MiB, so row groups are closed early
# (largest first): the files have several row groups and every row
cat > "$P/pipes/budget.pipe" <<X
NODE q
SQL >
    SELECT number AS id, number % 40 AS part, repeat(toString(number), 100) AS pad
    FROM numbers(120000) ORDER BY id

TYPE sink
EXPORT_BUCKET_URI file://$OUT/budget/
EXPORT_FILE_TEMPLATE p{part}
EXPORT_FORMAT parquet
EXPORT_COMPRESSION none
X
"$SINKPIPE" -p "$P" run budget --now $NOW >/dev/null 2>"$E2E_TMP/budget.err" || { not_ok "over the budget: the run"; show "$E2E_TMP/budget.err"; }
got=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), sum(id), countIf(pad != repeat(toString(id), 100)), uniqExact(_file) FROM file('$OUT/budget/p*.parquet', Parquet)" 2>&1)
expect_eq "over the budget: every row in 40 files" "$got" "120000,7199940000,0,40"
if [ $have_duck = 1 ]; then
  got=$(duckdb_sql "SELECT max(n) > 1 FROM (SELECT file_name, count(DISTINCT row_group_id) AS n FROM parquet_metadata('$OUT/budget/p*.parquet') GROUP BY 1)")
  expect_eq "over the budget: row groups were closed early" "$got" "true"
fi

# ------------------------------------------- files bounded by rows
# EXPORT_MAX_FILE_ROWS: each file is finished (last row group, footer) and
# the next one starts with a new writer: every file is complete on its own
sed -e "s|^EXPORT_FILE_TEMPLATE .*|EXPORT_FILE_TEMPLATE rolled|" \
    -e "s|^EXPORT_PARQUET_ROW_GROUP_SIZE .*|EXPORT_PARQUET_ROW_GROUP_SIZE 700\nEXPORT_MAX_FILE_ROWS 2000|" \
    "$P/pipes/typed.pipe" >"$P/pipes/rolled.pipe"
"$SINKPIPE" -p "$P" run rolled --now $NOW >/dev/null 2>"$E2E_TMP/rolled.err" || { not_ok "rows bound: the run"; show "$E2E_TMP/rolled.err"; }
nfiles=$(( (ROWS + 1999) / 2000 ))
expect_eq "rows bound: $nfiles files" "$(ls "$OUT/typed" | grep -c '^rolled_[0-9]*\.parquet$')" "$nfiles"
got=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), sum(id), max(c) FROM (SELECT _file, count() AS c, sum(id) AS id FROM file('$OUT/typed/rolled_*.parquet', Parquet, '${STRUCT//\'/\\\'}') GROUP BY _file)" 2>&1)
expect_eq "rows bound: every file valid, at most 2000 rows each, every row once" "$got" "$nfiles,$(( ROWS * (ROWS - 1) / 2 )),2000"
if [ $have_duck = 1 ]; then
  got=$(duckdb_sql "SELECT count(*), count(DISTINCT filename) FROM read_parquet('$OUT/typed/rolled_*.parquet', filename = true)")
  expect_eq "rows bound: DuckDB reads every file" "$got" "$ROWS,$nfiles"
fi
# EXPORT_MAX_FILE_SIZE: a file closes at a row-group boundary once the
# bytes out, the row group held and room for its footer reach the bound
sed -e "s|^EXPORT_FILE_TEMPLATE .*|EXPORT_FILE_TEMPLATE sized|" \
    -e "s|^EXPORT_MAX_FILE_ROWS .*|EXPORT_MAX_FILE_SIZE 64KiB|" "$P/pipes/rolled.pipe" >"$P/pipes/rolled_size.pipe"
"$SINKPIPE" -p "$P" run rolled_size --now $NOW >/dev/null 2>"$E2E_TMP/sized.err" || { not_ok "size bound: the run"; show "$E2E_TMP/sized.err"; }
nfiles=$(ls "$OUT/typed" | grep -c '^sized_[0-9]*\.parquet$')
[ "$nfiles" -gt 1 ] && ok "size bound: the rows roll over $nfiles files" || not_ok "size bound: several files (got $nfiles)"
big=$(find "$OUT/typed" -name 'sized_*.parquet' -size +64k | wc -l)
expect_eq "size bound: no file over 64 KiB" "$big" "0"
got=$("$CH" --path "$CHDIR" --database default --format CSV "SELECT count(), sum(id) FROM (SELECT _file, count() AS c, sum(id) AS id FROM file('$OUT/typed/sized_*.parquet', Parquet, '${STRUCT//\'/\\\'}') GROUP BY _file)" 2>&1)
expect_eq "size bound: every file valid, every row once" "$got" "$nfiles,$(( ROWS * (ROWS - 1) / 2 ))"
if [ $have_duck = 1 ]; then
  got=$(duckdb_sql "SELECT count(*), count(DISTINCT filename) FROM read_parquet('$OUT/typed/sized_*.parquet', filename = true)")
  expect_eq "size bound: DuckDB reads every file" "$got" "$ROWS,$nfiles"
fi
rm -f "$P/pipes/rolled_size.pipe"

# ----------------------------------------------------- refusals
cat > "$P/pipes/bad_type.pipe" <<X
NODE q
SQL >
    SELECT 1 AS id, NULL AS nothing

TYPE sink
EXPORT_BUCKET_URI file://$OUT/bad/
EXPORT_FILE_TEMPLATE bad
EXPORT_FORMAT parquet
X
err=$("$SINKPIPE" -p "$P" run bad_type --now $NOW 2>&1 >/dev/null); rc=$?
expect_eq "a NULL column: the run fails" "$rc" "1"
expect_contains "a NULL column: the error names the column" "$err" "parquet: column 'nothing': type Nullable(Nothing)"
[ -e "$OUT/bad" ] && [ -n "$(ls -A "$OUT/bad" 2>/dev/null)" ] && not_ok "a NULL column: no file is left" ||
  ok "a NULL column: no file is left"
rm -f "$P/pipes/bad_type.pipe"

mkdir -p "$E2E_TMP/kproj/pipes" "$E2E_TMP/kproj/connections"
cat > "$E2E_TMP/kproj/connections/k.connection" <<'X'
TYPE kafka
KAFKA_BOOTSTRAP_SERVERS 127.0.0.1:9
X
cat > "$E2E_TMP/kproj/pipes/to_kafka.pipe" <<'X'
NODE q
SQL >
    SELECT 1 AS x

TYPE sink
EXPORT_CONNECTION_NAME k
EXPORT_KAFKA_TOPIC t
EXPORT_FORMAT parquet
X
err=$("$SINKPIPE" -p "$E2E_TMP/kproj" check 2>&1); rc=$?
expect_eq "kafka + parquet: check fails" "$rc" "1"
expect_contains "kafka + parquet: refused at the line of EXPORT_FORMAT" "$err" "pipes/to_kafka.pipe:8: EXPORT_FORMAT: parquet is a file format"
sed -i 's/^EXPORT_FORMAT parquet$/EXPORT_FORMAT ndjson/' "$E2E_TMP/kproj/pipes/to_kafka.pipe"
err=$("$SINKPIPE" -p "$E2E_TMP/kproj" run to_kafka --format parquet 2>&1); rc=$?
expect_eq "kafka + --format parquet: the run fails" "$rc" "1"
expect_contains "kafka + --format parquet: refused" "$err" "format parquet: a kafka sink sends one JSON message per row"

sed -i 's/^EXPORT_PARQUET_ROW_GROUP_SIZE .*/EXPORT_PARQUET_ROW_GROUP_SIZE 0/' "$P/pipes/typed.pipe"
err=$("$SINKPIPE" -p "$P" check 2>&1); rc=$?
expect_eq "row group size 0: check fails" "$rc" "1"
expect_contains "row group size 0: refused at its line" "$err" "pipes/typed.pipe:$(grep -n EXPORT_PARQUET_ROW_GROUP_SIZE "$P/pipes/typed.pipe" | cut -d: -f1): EXPORT_PARQUET_ROW_GROUP_SIZE: '0' is not a row count"
finish
