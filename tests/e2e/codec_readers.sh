#!/usr/bin/env bash
# Files written by our codecs must be read by independent readers:
#   gzip  -> gzip -t, zcat, Python's gzip module
#   snappy-> python3-snappy's framing decoder (StreamDecompressor)
#   zstd  -> zstd -t, zstd -dc, and ClickHouse (chDB) reading the file with
#            file(..., 'zstd')
#   lz4   -> lz4 -t, lz4 -dc (the lz4 CLI), and ClickHouse (chDB) reading
#            the file with file(..., 'lz4')
# The input is fed to the codec in randomly sized writes by
# $SINKPIPE_BUILD/tools/codec_write (tests/tools/codec_write.c).
. "$(dirname "$0")/lib.sh"
cw="$SINKPIPE_BUILD/tools/codec_write"
if [ ! -x "$cw" ]; then not_ok "codec_write tool is built ($cw)"; finish; fi

py=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import snappy' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || not_ok "a python3 with the snappy module (python3-snappy) is installed"

d=$E2E_TMP
# inputs: CSV-like text over several gzip members, noise, tiny and empty
"${py:-python3}" - "$d" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(42)
rows = []
size = 0
while size < 3 * 1024 * 1024 + 4321:
    row = '%d,"user_%d",2024-01-%02d,%d.%02d\n' % (
        len(rows), r.randrange(1000), r.randrange(1, 29), r.randrange(100000), r.randrange(100))
    rows.append(row)
    size += len(row)
open(os.path.join(d, 'text'), 'w').write(''.join(rows))
open(os.path.join(d, 'noise'), 'wb').write(r.randbytes(1024 * 1024 + 17))
open(os.path.join(d, 'tiny'), 'wb').write(b'x')
open(os.path.join(d, 'small'), 'wb').write(''.join(rows[:3000]).encode())
open(os.path.join(d, 'empty'), 'wb').write(b'')
PY

# py_gunzip IN OUT: Python's gzip module (reads every member)
py_gunzip() { "${py:-python3}" -c 'import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],"rb").read()))' "$1" > "$2"; }

# python-snappy helpers (framing decoder and encoder).  Debian's build of
# python3-snappy 0.5.3 fails in its C _crc32c on Python >= 3.10
# ("PY_SSIZE_T_CLEAN macro must be defined"); then the CRC check uses a
# pure-Python CRC-32C instead, still independent of ours.
py_snappy_prelude='
import sys, snappy, snappy.snappy as ss
try:
    ss._crc32c(b"123456789")
except SystemError:
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        tab.append(c)
    def crc32c(data, tab=tab):
        c = 0xFFFFFFFF
        for b in data:
            c = (c >> 8) ^ tab[(c ^ b) & 0xFF]
        return c ^ 0xFFFFFFFF
    assert crc32c(b"123456789") == 0xE3069283
    ss._crc32c = crc32c
'
# py_unsnappy IN OUT: python-snappy's framing decoder
py_unsnappy() {
  "$py" - "$1" "$2" <<PY
$py_snappy_prelude
data = open(sys.argv[1], "rb").read()
d = snappy.StreamDecompressor()
out = d.decompress(data)
d.flush()  # raises if the stream ends inside a chunk
open(sys.argv[2], "wb").write(out)
PY
}
# py_snappy IN OUT: python-snappy's framing encoder
py_snappy() {
  "$py" - "$1" "$2" <<PY
$py_snappy_prelude
with open(sys.argv[1], "rb") as fi, open(sys.argv[2], "wb") as fo:
    snappy.stream_compress(fi, fo)
PY
}

# cli_reads CODEC EXT INPUT FILE VARIANT...: the codec's own CLI (zstd,
# lz4: same name, -t tests, -dc decodes) accepts and restores what
# codec_write made of FILE with each VARIANT ("name:codec_write args");
# bytewise variants skip the big inputs, level19 the noise
cli_reads() {
  local codec=$1 ext=$2 input=$3 in=$4 variant name args out; shift 4
  for variant in "$@"; do
    name=${variant%%:*} args=${variant#*:}
    [ "$name" = bytewise ] && [ "$input" = text -o "$input" = noise ] && continue
    [ "$name" = level19 ] && [ "$input" = noise ] && continue
    out="$d/$input.$name.$ext"
    # shellcheck disable=SC2086
    if ! "$cw" $args "$codec" < "$in" > "$out"; then not_ok "$codec $input $name: codec_write"; continue; fi
    if "$codec" -q -t "$out" 2>"$d/err"; then ok "$codec -t accepts $input ($name)"; else
      not_ok "$codec -t accepts $input ($name)"; sed 's/^/#   /' "$d/err"; fi
    "$codec" -q -dc "$out" > "$d/back" 2>"$d/err"
    expect_file_eq "$codec -d restores $input ($name)" "$d/back" "$in"
  done
}

for input in text noise small tiny empty; do
  in="$d/$input"
  # gzip: default 1 MiB members, small members, maximum level
  for variant in "default:" "chunk4k:-c 4096" "level12:-l 12 -s 3" "bytewise:-m 1"; do
    name=${variant%%:*} args=${variant#*:}
    [ "$name" = bytewise ] && [ "$input" = text -o "$input" = noise ] && continue
    out="$d/$input.$name.gz"
    # shellcheck disable=SC2086
    if ! "$cw" $args gzip < "$in" > "$out"; then not_ok "gzip $input $name: codec_write"; continue; fi
    if gzip -t "$out" 2>"$d/err"; then ok "gzip -t accepts $input ($name)"; else
      not_ok "gzip -t accepts $input ($name)"; sed 's/^/#   /' "$d/err"; fi
    zcat "$out" > "$d/back" 2>"$d/err"
    expect_file_eq "zcat restores $input ($name)" "$d/back" "$in"
    if py_gunzip "$out" "$d/back" 2>"$d/err"; then
      expect_file_eq "python gzip restores $input ($name)" "$d/back" "$in"
    else not_ok "python gzip restores $input ($name)"; sed 's/^/#   /' "$d/err" | tail -5; fi
  done
  # snappy (framing format)
  for variant in "default:" "seed9:-s 9 -m 70000" "bytewise:-m 1"; do
    name=${variant%%:*} args=${variant#*:}
    [ "$name" = bytewise ] && [ "$input" = text -o "$input" = noise ] && continue
    out="$d/$input.$name.snappy"
    # shellcheck disable=SC2086
    if ! "$cw" $args snappy < "$in" > "$out"; then not_ok "snappy $input $name: codec_write"; continue; fi
    [ -n "$py" ] || continue
    if py_unsnappy "$out" "$d/back" 2>"$d/err"; then
      expect_file_eq "python-snappy restores $input ($name)" "$d/back" "$in"
    else not_ok "python-snappy restores $input ($name)"; sed 's/^/#   /' "$d/err" | tail -5; fi
  done
  # python-snappy's own compressor (same libsnappy, same 1/8 rule) writes
  # the very same bytes
  if [ -n "$py" ] && [ "$input" != empty ]; then
    py_snappy "$in" "$d/ref.snappy" 2>"$d/err" || sed 's/^/#   /' "$d/err" | tail -5
    expect_file_eq "snappy $input is byte-identical to python-snappy's" "$d/$input.default.snappy" "$d/ref.snappy"
  fi
  # zstd: libzstd's workers (default), its top regular level, tiny writes
  cli_reads zstd zst "$input" "$in" "default:" "level19:-l 19 -s 5" "bytewise:-m 1"
  # lz4: the fast default, LZ4HC's top level, tiny writes
  cli_reads lz4 lz4 "$input" "$in" "default:" "level12:-l 12 -s 7" "bytewise:-m 1"
  # none
  "$cw" none < "$in" > "$d/back"
  expect_file_eq "codec none passes $input through" "$d/back" "$in"
done

# gzip members: 3 MiB of text at 1 MiB per member is several members
members=$("${py:-python3}" -c '
import sys, zlib
data = open(sys.argv[1], "rb").read(); n = 0
while data:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS); d.decompress(data); data = d.unused_data; n += 1
print(n)' "$d/text.default.gz")
expect_eq "3 MiB of text makes 4 gzip members" "$members" "4"

# one zstd frame for the whole stream, with a content checksum
frames=$(zstd -lv "$d/text.default.zst" 2>/dev/null | awk '/^# Zstandard Frames:/ {print $4}')
expect_eq "3 MiB of text is one zstd frame" "$frames" "1"
expect_contains "the zstd frame carries a checksum" "$(zstd -lv "$d/text.default.zst" 2>&1)" "Check: XXH64"

# ClickHouse reads the zstd file (its own decoder, through chDB)
cq=$SINKPIPE_BUILD/tools/chdb_query
if [ -n "${SINKPIPE_ASAN:-}" ] || [ ! -x "$cq" ]; then
  ok "skipped: ClickHouse reader (needs build/tools/chdb_query, not under ASan)"
else
  want=$("${py:-python3}" -c '
import sys
rows = [l.split(",") for l in open(sys.argv[1]).read().splitlines()]
print("%d\t%d" % (len(rows), sum(int(r[0]) for r in rows)))' "$d/text")
  got=$("$cq" --path "$d/chdb" --database default --format TSV \
    "SELECT count(), sum(c1) FROM file('$d/text.default.zst', 'CSV', 'c1 UInt64, c2 String, c3 Date, c4 Float64', 'zstd')" 2>"$d/err")
  expect_eq "ClickHouse reads the zstd CSV (rows, sum)" "$got" "$want"
  [ -s "$d/err" ] && sed 's/^/#   /' "$d/err" | head -5
  got=$("$cq" --path "$d/chdb" --database default --format TSV \
    "SELECT count(), sum(c1) FROM file('$d/text.default.lz4', 'CSV', 'c1 UInt64, c2 String, c3 Date, c4 Float64', 'lz4')" 2>"$d/err")
  expect_eq "ClickHouse reads the lz4 CSV (rows, sum)" "$got" "$want"
  [ -s "$d/err" ] && sed 's/^/#   /' "$d/err" | head -5
fi

# one lz4 frame with 64 KiB linked blocks and a content checksum
expect_contains "the lz4 frame is one frame of linked 64 KiB blocks with a checksum" \
  "$(lz4 -v --list "$d/text.default.lz4" 2>&1)" "B4D"

# errors: unknown codec, bad level
if "$cw" xz < /dev/null > /dev/null 2>"$d/err"; then not_ok "unknown codec fails"; else
  expect_contains "unknown codec names the choices" "$(cat "$d/err")" "none, gzip, snappy, zstd, lz4"; fi
if "$cw" -l 13 lz4 < /dev/null > /dev/null 2>"$d/err"; then not_ok "lz4 level 13 fails"; else
  expect_contains "lz4 level 13 is out of range" "$(cat "$d/err")" "out of range"; fi
if "$cw" -l 20 zstd < /dev/null > /dev/null 2>"$d/err"; then not_ok "zstd level 20 fails"; else
  expect_contains "zstd level 20 is out of range" "$(cat "$d/err")" "out of range"; fi
if "$cw" -l 13 gzip < /dev/null > /dev/null 2>"$d/err"; then not_ok "gzip level 13 fails"; else
  expect_contains "gzip level 13 is out of range" "$(cat "$d/err")" "out of range"; fi
finish
