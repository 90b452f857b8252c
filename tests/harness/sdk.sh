# tests/harness/sdk.sh — install the pinned Tinybird SDK (examples/ts) for
# tests, once per version (sourced).
#   sdk_install LOGFILE   sets SDK_DIR to a folder whose node_modules holds
#                         the SDK; returns non-zero (log in LOGFILE) if npm
#                         cannot install it.
# The cache is outside the repository: $SINKPIPE_SDK_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/sinkpipe/sdk, one folder per lockfile hash.
sdk_install() {
  local log=$1 ts root stage
  ts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/ts" && pwd)
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
    echo "node and npm are not installed (scripts/setup.sh installs them)" >"$log"; return 1; }
  root=${SINKPIPE_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sinkpipe/sdk}
  SDK_DIR=$root/$(cat "$ts/package.json" "$ts/package-lock.json" | sha256sum | cut -c1-16)
  [ -f "$SDK_DIR/.complete" ] && return 0
  mkdir -p "$root"
  stage=$(mktemp -d "$root/.install.XXXXXX")
  cp "$ts/package.json" "$ts/package-lock.json" "$stage/"
  if (cd "$stage" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >"$log" 2>&1; then
    touch "$stage/.complete"
    # another run may have won the race: keep theirs
    mv -T "$stage" "$SDK_DIR" 2>/dev/null || rm -rf "$stage"
    return 0
  fi
  rm -rf "$stage"
  return 1
}
