#!/usr/bin/env bash
# Starts, stops or queries a PRIVATE RabbitMQ node for tests: its own HOME and Erlang cookie,
# data, logs and config under DIR, a node name derived from DIR, loopback only. Works as root
# without systemd (it runs /usr/lib/rabbitmq/bin/*, not the /usr/sbin wrappers, which switch
# user and HOME so the cookie no longer matches).
#
#   scripts/rabbitmq.sh start  DIR PORT [--fresh]   start (--fresh: wipe DIR's data first)
#   scripts/rabbitmq.sh stop   DIR                  stop (a no-op when not running)
#   scripts/rabbitmq.sh status DIR                  exit 0 and print the URL when running
#
# Ports: AMQP on PORT, Erlang distribution on PORT+20000, CLI tools on PORT+20001..PORT+20010.
# All must stay below 32768, where the kernel's ephemeral range starts (an ephemeral port
# collided there), so PORT must be 1024..12757; the tests use 10000..12700.
# Data survives stop/start (broker-restart tests rely on that) unless --fresh is given.
# Environment: RABBITMQ_BIN (default /usr/lib/rabbitmq/bin), RABBITMQ_START_TIMEOUT (s, 120).
# The broker's epmd daemon (port 4369) is shared by every node and stays running.
set -euo pipefail

BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
START_TIMEOUT=${RABBITMQ_START_TIMEOUT:-120}
STOP_TIMEOUT=60

log() { printf 'rabbitmq.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

(($# >= 2)) || usage
cmd=$1
dir=$2
port=${3:-}
fresh=0
if (($# >= 4)); then
  [[ $4 == --fresh ]] || usage
  fresh=1
fi
[[ $cmd == start || $cmd == stop || $cmd == status ]] || usage

[[ -x $BIN/rabbitmq-server && -x $BIN/rabbitmqctl ]] \
  || die "RabbitMQ is not installed ($BIN/rabbitmq-server missing): run scripts/deps.sh"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
state_file=$dir/node.env

# The port of an existing node in DIR (stop and status take it from there).
if [[ -z $port && -f $state_file ]]; then
  port=$(sed -n 's/^PORT=//p' "$state_file")
fi

# Exports what makes the node private to DIR. Every rabbitmq* command runs after this.
node_env() {
  local id
  id=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
  export HOME=$dir/home
  export RABBITMQ_NODENAME=orderd-test-$id@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$port
  export RABBITMQ_DIST_PORT=$((port + 20000))
  export RABBITMQ_CTL_DIST_PORT_MIN=$((port + 20001))
  export RABBITMQ_CTL_DIST_PORT_MAX=$((port + 20010))
  export RABBITMQ_MNESIA_BASE=$dir/mnesia
  export RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_PID_FILE=$dir/rabbitmq.pid
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
  # Erlang distribution on loopback only.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

url() { printf 'amqp://guest:guest@127.0.0.1:%s/\n' "$port"; }

pid_alive() {
  local pid
  [[ -f $dir/rabbitmq.pid ]] || return 1
  pid=$(tr -dc '0-9' <"$dir/rabbitmq.pid")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

running() {
  pid_alive && "$BIN/rabbitmq-diagnostics" -q ping >/dev/null 2>&1
}

# Last resort: kill the node's own Erlang VM by the PID it wrote (never by name).
kill_node() {
  local pid i
  pid_alive || return 0
  pid=$(tr -dc '0-9' <"$dir/rabbitmq.pid")
  log "killing node process $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_node() {
  if pid_alive; then
    timeout "$STOP_TIMEOUT" "$BIN/rabbitmqctl" -q shutdown >/dev/null 2>&1 \
      || log "rabbitmqctl shutdown failed"
    kill_node
  fi
  rm -f "$dir/rabbitmq.pid"
}

show_logs() {
  local f
  for f in "$dir/startup.out" "$dir"/log/*.log; do
    [[ -s $f ]] || continue
    log "---- last lines of $f"
    tail -n 40 "$f" >&2
  done
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() {
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
  ((port >= 1024 && port + 20010 < 32768)) \
    || die "PORT $port out of range: AMQP PORT, distribution PORT+20000 and CLI ports up to" \
           "PORT+20010 must stay below 32768 (the ephemeral range); use 1024..12757"
}

start() {
  [[ -n $port ]] || usage
  check_port
  node_env
  if running; then
    if [[ $fresh == 0 && $(sed -n 's/^PORT=//p' "$state_file" 2>/dev/null) == "$port" ]]; then
      log "node $RABBITMQ_NODENAME already running on port $port"
      url
      return 0
    fi
    log "restarting node $RABBITMQ_NODENAME"
    stop_node
  elif pid_alive; then
    kill_node # a node that does not answer
  fi
  local p
  for p in "$port" "$RABBITMQ_DIST_PORT"; do
    ! port_in_use "$p" || die "port $p on 127.0.0.1 is already in use; pick another PORT"
  done

  if [[ $fresh == 1 ]]; then
    rm -rf "$dir/mnesia" "$dir/log"
  fi
  mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  if [[ ! -s $HOME/.erlang.cookie ]]; then
    (umask 077 && head -c 48 /dev/urandom | od -An -tx1 | tr -dc 'a-f0-9' | head -c 32 \
      >"$HOME/.erlang.cookie")
  fi
  chmod 400 "$HOME/.erlang.cookie"
  printf '[].\n' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  printf '[].\n' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
  : >"$RABBITMQ_CONF_ENV_FILE"
  cat >"$RABBITMQ_CONFIG_FILE" <<EOF
# Written by scripts/rabbitmq.sh for a private test node.
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = info
EOF
  printf 'PORT=%s\nNODENAME=%s\n' "$port" "$RABBITMQ_NODENAME" >"$state_file"
  rm -f "$RABBITMQ_PID_FILE"

  # From here on, a failure or an interrupt takes the half-started node down again.
  trap 'log "start failed"; show_logs; stop_node; exit 1' ERR
  trap 'log "interrupted"; stop_node; exit 130' INT TERM
  log "starting $RABBITMQ_NODENAME on 127.0.0.1:$port (dist $RABBITMQ_DIST_PORT) in $dir"
  "$BIN/rabbitmq-server" -detached >"$dir/startup.out" 2>&1
  # `await_startup` right after -detached fails at once (the node is not registered yet);
  # `wait` on the PID file waits for the file, then for the node to boot.
  "$BIN/rabbitmqctl" -q wait --timeout "$START_TIMEOUT" "$RABBITMQ_PID_FILE" >/dev/null
  port_in_use "$port"
  trap - ERR INT TERM
  log "node $RABBITMQ_NODENAME is up"
  url
}

case $cmd in
  start)
    start
    ;;
  stop)
    if [[ -z $port ]]; then
      log "no node was started in $dir"
      exit 0
    fi
    node_env
    if pid_alive; then
      log "stopping $RABBITMQ_NODENAME"
      stop_node
      log "stopped"
    else
      rm -f "$dir/rabbitmq.pid"
      log "node $RABBITMQ_NODENAME is not running"
    fi
    ;;
  status)
    [[ -n $port ]] || { log "no node was started in $dir"; exit 3; }
    node_env
    if running; then
      url
    else
      log "node $RABBITMQ_NODENAME is not running"
      exit 3
    fi
    ;;
esac
