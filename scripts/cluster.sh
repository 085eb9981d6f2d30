#!/usr/bin/env bash
# A cluster on this machine, with real servers and no containers: a private PostgreSQL
# (tests/postgres/with_postgres.sh), N orderd nodes sharing it, and HAProxy (Debian's) in front.
#   scripts/cluster.sh [--nodes N] [--port P] [--no-build] [--check] [-- orderd args...]
# The load balancer answers on http://127.0.0.1:P (default 8080); node i on P+i, its cluster
# port on P+100+i. The first node loads the demo catalogue. Ctrl-C stops everything (the
# database included: it lives in a temporary directory).
#   --check   start, place an order through the load balancer, read it on every node, cancel it
#             through the balancer, stop; exit 0 only if all of that worked (CI runs this)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
all_args=("$@")
nodes=3 port=8080 build=1 check=0 orderd_args=()
while (($#)); do
  case "$1" in
    --nodes) nodes=$2; shift ;;
    --port) port=$2; shift ;;
    --no-build) build=0 ;;
    --check) check=1 ;;
    --) shift; orderd_args=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "cluster: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ $nodes =~ ^[1-9][0-9]?$ ]] || { echo "cluster: --nodes must be 1..99" >&2; exit 2; }
log() { printf 'cluster: %s\n' "$*" >&2; }

if [[ -z "${ORDERD_TEST_DATABASE_URL:-}" ]]; then
  if ((build)); then
    "$REPO/scripts/deps.sh" --no-test-tools
    "$REPO/scripts/build.sh" >&2
  fi
  exec "$REPO/tests/postgres/with_postgres.sh" "$0" "${all_args[@]}" --no-build
fi
command -v haproxy >/dev/null || { log "haproxy is not installed (scripts/deps.sh installs it)"; exit 1; }
bin="${ORDERD_BIN:-$REPO/build/app/orderd}"
[[ -x $bin ]] || { log "$bin was not built (scripts/build.sh)"; exit 1; }

work=$(mktemp -d /tmp/orderd-cluster.XXXXXX)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

"$ORDERD_TEST_PG_BIN/psql" -q -v ON_ERROR_STOP=1 "$ORDERD_TEST_DATABASE_URL/postgres" \
  -c "CREATE DATABASE orderd_cluster" >/dev/null
url="$ORDERD_TEST_DATABASE_URL/orderd_cluster"

wait_ready() { # wait_ready PORT: /health answers
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "nothing answers on port $1"; return 1
}

servers=""
for i in $(seq 1 "$nodes"); do
  mkdir -p "$work/node-$i"
  extra=()
  ((i == 1)) && extra+=(--demo-catalogue)
  "$bin" --host 127.0.0.1 --port $((port + i)) --data-dir "$work/node-$i" \
    --store postgres --database-url "$url" --node-id "node-$i" \
    --cluster-advertise "127.0.0.1:$((port + 100 + i))" "${extra[@]}" "${orderd_args[@]}" \
    >"$work/node-$i.log" 2>&1 &
  pids+=($!)
  wait_ready $((port + i))
  servers+="    server node-$i 127.0.0.1:$((port + i)) check"$'\n'
  log "node-$i: http://127.0.0.1:$((port + i)) (log $work/node-$i.log)"
done

cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A node answering 503 (a shard changing hands) is tried again on another node.
    retry-on 503 conn-failure empty-response response-timeout
    retries 3
    option redispatch
frontend orderd
    bind 127.0.0.1:$port
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /health
$servers
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_ready "$port"
log "load balancer: http://127.0.0.1:$port (HAProxy, round robin over $nodes nodes)"

# Every shard has an owner before we say it is up.
for _ in $(seq 1 200); do
  served=0
  for i in $(seq 1 "$nodes"); do
    n=$(curl -fsS "http://127.0.0.1:$((port + i))/ready" \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["checks"]["cluster"]["served"]))')
    served=$((served + n))
  done
  shards=$(curl -fsS "http://127.0.0.1:$((port + 1))/ready" \
           | python3 -c 'import json,sys; print(json.load(sys.stdin)["checks"]["cluster"]["shards"])')
  ((served == shards)) && break
  sleep 0.1
done
((served == shards)) || { log "only $served of $shards shards are served"; exit 1; }
log "all $shards shards served"

if ((check)); then
  body='{"customer_id":"c-1","customer_email":"c-1@example.com","items":[{"sku":"BOOK-001","quantity":1},{"sku":"MUG-001","quantity":1}]}'
  order=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$body" \
          "http://127.0.0.1:$port/api/v1/orders")
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$order")
  for i in $(seq 1 "$nodes"); do
    curl -fsS "http://127.0.0.1:$((port + i))/api/v1/orders/$id" | grep -q "\"$id\"" \
      || { log "node-$i does not find order $id"; exit 1; }
  done
  curl -fsS -X POST "http://127.0.0.1:$port/api/v1/orders/$id/cancel" | grep -q CANCELLED \
    || { log "cancelling $id through the load balancer failed"; exit 1; }
  log "check passed: order $id placed through the balancer, found on all $nodes nodes, cancelled"
  exit 0
fi
log "Ctrl-C stops the cluster"
wait "${pids[0]}"
