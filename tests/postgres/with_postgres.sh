#!/usr/bin/env bash
# Runs a command against a private PostgreSQL server: initdb in a temporary directory, a free
# loopback port, password authentication over TCP; stopped and removed afterwards, whatever the
# command's outcome. The command sees ORDERD_TEST_DATABASE_URL=postgresql://orderd:PASSWORD@
# 127.0.0.1:PORT (no database: each test creates its own) and ORDERD_TEST_PG_BIN (the server's
# bin directory, for psql) and ORDERD_TEST_PG_CONTROL (a script: `stop` or `start` the server),
# and exits with the command's code.
#
#   tests/postgres/with_postgres.sh COMMAND [ARGS...]
#
# As root the server runs as the `postgres` user (PostgreSQL refuses to run as root), so the
# directory lives under /tmp, not under a 0700 home. Needs the postgresql package
# (scripts/deps.sh installs it).
set -euo pipefail

bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [[ -z $bin || ! -x $bin/initdb ]]; then
  echo "with_postgres: no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/deps.sh)" >&2
  exit 2
fi

dir=$(mktemp -d /tmp/orderd-pg.XXXXXX)
as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" >"$dir/pwfile"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/pwfile"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

as_server_user "$bin/initdb" -D "$dir/data" -U orderd --pwfile="$dir/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 2; }
# A control script for tests that take the server down and bring it back (stop | start), the
# same way this script starts it.
run_as=""
[[ $(id -u) -eq 0 ]] && run_as="runuser -u postgres --"
cat >"$dir/server.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
case "\${1:-}" in
  stop) $run_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ;;
  start) $run_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \\
           -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
EOF
chmod 755 "$dir/server.sh"
"$dir/server.sh" start || { cat "$dir/server.log" >&2; exit 2; }

export ORDERD_TEST_DATABASE_URL="postgresql://orderd:$password@127.0.0.1:$port"
export ORDERD_TEST_PG_BIN="$bin"
export ORDERD_TEST_PG_CONTROL="$dir/server.sh"
status=0
"$@" || status=$?
if ((status != 0)); then
  echo "with_postgres: the command failed ($status); the server log's tail:" >&2
  tail -n 20 "$dir/server.log" >&2 || true
fi
exit "$status"
