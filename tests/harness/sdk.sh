# tests/harness/sdk.sh — install the pinned Tinybird SDK (examples/ts) for
# tests, once per version (sourced).
#   sdk_install LOGFILE   sets SDK_DIR to a folder whose node_modules holds
#                         the SDK; returns non-zero (log in LOGFILE) if npm
#                         cannot install it.
# The cache is outside the repository: $SINKPIPE_SDK_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/sinkpipe/sdk, one folder per lockfile hash.
. "$(dirname "${BASH_SOURCE[0]}")/npm.sh"
sdk_install() {
  local ts
  ts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/ts" && pwd)
  npm_cached_install "$ts" "${SINKPIPE_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sinkpipe/sdk}" "$1" || return 1
  SDK_DIR=$NPM_DIR
}
