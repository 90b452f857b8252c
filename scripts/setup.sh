#!/usr/bin/env bash
# setup.sh — install what sinkpipe needs to build and test, idempotently.
#   - Debian packages (compiler libraries, test peers and clients)
#   - DuckDB 1.4.4's C library, unless a system libduckdb is installed:
#     libduckdb.so from the npm package @duckdb/node-bindings-linux-x64 and
#     duckdb.h from the npm package duckdb, into third_party/duckdb/.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCKDB_VERSION=1.4.4
DUCKDB_BINDINGS=@duckdb/node-bindings-linux-x64@1.4.4-r.4
DUCKDB_HEADER_PKG=duckdb@1.4.4
DUCKDB_SO_SHA256=${DUCKDB_SO_SHA256:-}

# Debian packages: build libraries, then the test peers and their clients.
PKGS=(
  gcc make pkg-config ca-certificates curl gzip python3
  libdeflate-dev libsnappy-dev zlib1g-dev libjansson-dev
  libcurl4-openssl-dev librdkafka-dev libmicrohttpd-dev libssl-dev libexpat1-dev
  clickhouse-server clickhouse-client python3-snappy kcat awscli faketime
)

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm (for DuckDB's packages and the SDK test): any install
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

# DuckDB
if [ -f /usr/include/duckdb.h ] && ls /usr/lib/*/libduckdb.so /usr/lib/libduckdb.so /usr/local/lib/libduckdb.so >/dev/null 2>&1; then
  say "using the system libduckdb"
elif [ -f third_party/duckdb/libduckdb.so ] && [ -f third_party/duckdb/duckdb.h ] \
     && grep -q "$DUCKDB_VERSION" third_party/duckdb/VERSION 2>/dev/null; then
  : # already there
else
  say "fetching DuckDB $DUCKDB_VERSION C library (npm pack)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  ( cd "$tmp" && npm pack --silent "$DUCKDB_BINDINGS" "$DUCKDB_HEADER_PKG" >/dev/null )
  mkdir -p "$tmp/b" "$tmp/h" third_party/duckdb
  tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/b"
  tar -xzf "$tmp"/duckdb-"$DUCKDB_VERSION".tgz -C "$tmp/h" package/src/duckdb/src/include/duckdb.h
  if [ -n "$DUCKDB_SO_SHA256" ]; then
    echo "$DUCKDB_SO_SHA256  $tmp/b/package/libduckdb.so" | sha256sum -c - >&2
  fi
  cp "$tmp/b/package/libduckdb.so" third_party/duckdb/libduckdb.so
  cp "$tmp/h/package/src/duckdb/src/include/duckdb.h" third_party/duckdb/duckdb.h
  echo "$DUCKDB_VERSION" > third_party/duckdb/VERSION
fi
say "ready"
