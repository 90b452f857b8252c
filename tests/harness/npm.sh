# tests/harness/npm.sh — npm packages pinned by a package-lock.json,
# installed once per lockfile into a cache outside the repository (sourced).
#   npm_cached_install SRC ROOT LOG  installs SRC/package.json +
#       package-lock.json with `npm ci` into ROOT/<hash of both>, sets
#       NPM_DIR to that folder; non-zero (npm's output in LOG) on failure.
npm_cached_install() {
  local src=$1 root=$2 log=$3 stage
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
    echo "node and npm are not installed (scripts/setup.sh installs them)" >"$log"; return 1; }
  NPM_DIR=$root/$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
  [ -f "$NPM_DIR/.complete" ] && return 0
  mkdir -p "$root"
  stage=$(mktemp -d "$root/.install.XXXXXX")
  cp "$src/package.json" "$src/package-lock.json" "$stage/"
  if (cd "$stage" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >"$log" 2>&1; then
    touch "$stage/.complete"
    # another run may have won the race: keep theirs
    mv -T "$stage" "$NPM_DIR" 2>/dev/null || rm -rf "$stage"
    return 0
  fi
  rm -rf "$stage"
  return 1
}
