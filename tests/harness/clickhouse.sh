# tests/harness/clickhouse.sh — start a private clickhouse-server for tests.
#
# Usage (source it from a bash test):
#   . "$ROOT/tests/harness/clickhouse.sh"
#   ch_available || { echo "ok - skipped: no clickhouse-server"; exit 0; }
#   ch_start || exit 1          # sets CH_DIR CH_TCP_PORT CH_HTTP_PORT CH_PID
#   ch_query "SELECT 1" [extra clickhouse-client args...]
#   ch_stop                     # also installed as an EXIT trap by ch_start
#
# ch_start writes a minimal config (users, ports, data/tmp/log dirs) under a
# fresh `mktemp -d` folder, starts Debian's clickhouse-server (18.16) on two
# free loopback ports, and waits (deadline CH_START_TIMEOUT seconds, default
# 30) until `SELECT 1` answers.  ch_stop kills that server by its pid, waits
# for it to exit and removes the folder.  Nothing outside the folder is used.
# CH_CLIENT is the client command line (array) for direct use:
#   "${CH_CLIENT[@]}" --query "..." --format CSV

ch_available() {
  command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1
}

# a free TCP port on 127.0.0.1 (the kernel picks it)
ch_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

ch_start() {
  CH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sinkpipe-ch.XXXXXX") || return 1
  CH_TCP_PORT=$(ch_free_port) || return 1
  CH_HTTP_PORT=$(ch_free_port) || return 1
  while [ "$CH_HTTP_PORT" = "$CH_TCP_PORT" ]; do CH_HTTP_PORT=$(ch_free_port) || return 1; done
  mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/log" "$CH_DIR/format_schemas"
  cat >"$CH_DIR/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  cat >"$CH_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$CH_DIR/log/server.log</log>
    <errorlog>$CH_DIR/log/server.err.log</errorlog>
    <size>10M</size><count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$CH_TCP_PORT</tcp_port>
  <http_port>$CH_HTTP_PORT</http_port>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <user_files_path>$CH_DIR/user_files/</user_files_path>
  <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
  <users_config>$CH_DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
  <timezone>UTC</timezone>
</yandex>
XML
  CH_CLIENT=(clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT")
  (cd "$CH_DIR" && exec clickhouse-server --config-file="$CH_DIR/config.xml" \
      >"$CH_DIR/log/stdout.log" 2>&1) &
  CH_PID=$!
  trap 'ch_stop' EXIT
  local deadline=$(( $(date +%s) + ${CH_START_TIMEOUT:-30} ))
  until "${CH_CLIENT[@]}" --query "SELECT 1" >/dev/null 2>&1; do
    if ! kill -0 "$CH_PID" 2>/dev/null; then
      echo "# clickhouse-server exited during start:" >&2
      tail -20 "$CH_DIR/log/stdout.log" "$CH_DIR/log/server.err.log" 2>/dev/null | sed 's/^/#   /' >&2
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "# clickhouse-server did not answer within ${CH_START_TIMEOUT:-30}s" >&2
      return 1
    fi
    sleep 0.2  # polling interval while waiting on a condition with a deadline
  done
}

# ch_query SQL [client args...]: run one query, output on stdout
ch_query() {
  local q=$1; shift
  "${CH_CLIENT[@]}" "$@" --query "$q"
}

ch_stop() {
  if [ -n "${CH_PID:-}" ]; then
    kill "$CH_PID" 2>/dev/null
    local i=0
    while kill -0 "$CH_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$CH_PID" 2>/dev/null
    wait "$CH_PID" 2>/dev/null
    CH_PID=
  fi
  if [ -n "${CH_DIR:-}" ]; then rm -rf "$CH_DIR"; CH_DIR=; fi
}
