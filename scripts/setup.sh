#!/usr/bin/env bash
# setup.sh — install what sinkpipe needs to build and test, idempotently.
#   - Debian packages (compiler libraries, test peers and clients)
#   - the embedded ClickHouse: chDB 26.7.3's libchdb.so from the npm package
#     @chdb/lib-linux-x64-gnu, into third_party/chdb/ (sinkpipe loads it at
#     run time), unless a system libchdb.so is installed.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CHDB_VERSION=26.7.3
CHDB_PKG=@chdb/lib-linux-x64-gnu@26.7.3-stable.1
CHDB_SO_SHA256=${CHDB_SO_SHA256:-}

# Debian packages: build libraries, then the test peers and their clients.
PKGS=(
  gcc make pkg-config ca-certificates curl gzip python3
  libdeflate-dev libsnappy-dev zlib1g-dev libjansson-dev
  libzstd-dev liblz4-dev libcurl4-openssl-dev librdkafka-dev libmicrohttpd-dev libssl-dev libexpat1-dev
  clickhouse-server clickhouse-client python3-snappy lz4 kcat awscli faketime valgrind
)

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm (for chDB's package and the SDK test): any install
# that provides the commands will do (Debian's, or NodeSource's).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The embedded ClickHouse (chDB)
if ls /usr/lib/*/libchdb.so /usr/lib/libchdb.so /usr/local/lib/libchdb.so >/dev/null 2>&1; then
  say "using the system libchdb.so"
elif [ -f third_party/chdb/libchdb.so ] && grep -qx "$CHDB_VERSION" third_party/chdb/VERSION 2>/dev/null; then
  : # already there
else
  say "fetching chDB $CHDB_VERSION (ClickHouse as a library, npm pack, ~180 MB)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  ( cd "$tmp" && npm pack --silent "$CHDB_PKG" >/dev/null )
  mkdir -p "$tmp/c" third_party/chdb
  tar -xzf "$tmp"/chdb-lib-linux-x64-gnu-*.tgz -C "$tmp/c" package/libchdb.so
  if [ -n "$CHDB_SO_SHA256" ]; then
    echo "$CHDB_SO_SHA256  $tmp/c/package/libchdb.so" | sha256sum -c - >&2
  fi
  mv "$tmp/c/package/libchdb.so" third_party/chdb/libchdb.so.part
  mv third_party/chdb/libchdb.so.part third_party/chdb/libchdb.so
  echo "$CHDB_VERSION" > third_party/chdb/VERSION
  rm -rf "$tmp"
fi
say "ready"
