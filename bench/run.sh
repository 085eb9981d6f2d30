#!/usr/bin/env bash
# The orderd benchmark harness (issue 5; docs/PERFORMANCE.md explains the numbers).
#
#   bench/run.sh [--quick] [--out DIR] [--no-build] [--orderd PATH] [--store-bench PATH]
#                [--duration S] [--connections N] [--skus N] [--keep] [--store sqlite|postgres]
#                [-- ORDERD_ARGS...]
#
# Builds orderd in Release (scripts/build.sh --release), starts it on a free loopback port with
# a fresh data directory, loads a catalogue of 1,000 SKUs, drives it with wrk (one load thread,
# 64 connections, 10 s per scenario) and runs the store-only benchmark:
#   1 baseline GET /health             4 reads GET /api/v1/orders/{id}
#   2 create POST /api/v1/orders       5 mixed: 70% reads, 25% creates, 5% cancels
#   3 flash sale on two SKUs           6 the store alone (batches of 256 and 64)
#   7 create again with RabbitMQ configured (a private broker on loopback; events through the
#     outbox into a durable queue), and the publish lag from commit to broker confirm
# Prints a table and writes DIR/<timestamp>.json (DIR defaults to bench/results). Exits 1 if a
# scenario produced no number or the flash sale sold a different quantity than was stocked.
#
#   --quick            2 s per scenario, 50 SKUs (the CI smoke, well under 30 s)
#   --no-build         do not build; use --orderd and --store-bench (default: build/release/...)
#   --orderd PATH      the orderd binary          --store-bench PATH  the orderd_store_bench binary
#   --duration S       seconds per scenario       --connections N     wrk connections (64)
#   --skus N           catalogue size             --keep              keep the temp dir (logs, data)
#   --no-messaging     skip scenario 7 (it starts a RabbitMQ node: about 15 s more)
#   --store postgres   orderd and the store bench on PostgreSQL: the harness runs itself under
#                      tests/postgres/with_postgres.sh (a private server on loopback, removed
#                      afterwards) and gives every orderd start and the store bench a fresh database
#   --amqp-tail PATH   tool that declares the events queue (default: next to orderd, ../tests/)
#   -- ORDERD_ARGS     extra orderd flags, e.g. -- --http-threads 2
# Environment: WRK (wrk binary), PYTHON (python3), BENCH_BUILD_DIR (default build/release),
# BENCH_COMMIT (what to report as the commit when the tree is not a git checkout).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" bench

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
command_line="bench/run.sh $*"

quick=0 build=1 keep=0 messaging=1 amqp_tail="" store=sqlite
all_args=("$@")
out_dir="$BENCH/results"
orderd="" store_bench="" duration="" connections=64 skus=""
orderd_args=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --no-messaging) messaging=0 ;;
    --amqp-tail) amqp_tail=$2; shift ;;
    --out) out_dir=$2; shift ;;
    --orderd) orderd=$2; shift ;;
    --store-bench) store_bench=$2; shift ;;
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    --skus) skus=$2; shift ;;
    --store) store=$2; shift ;;
    --) shift; orderd_args=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$store" in
  sqlite) ;;
  postgres)
    if [[ -z "${ORDERD_TEST_DATABASE_URL:-}" ]]; then
      exec "$REPO/tests/postgres/with_postgres.sh" "$0" "${all_args[@]}"
    fi ;;
  *) die "--store must be sqlite or postgres, not '$store'" ;;
esac
# fresh_database NAME: creates database NAME on the private server and prints its URL.
fresh_database() {
  "$ORDERD_TEST_PG_BIN/psql" -q -v ON_ERROR_STOP=1 "$ORDERD_TEST_DATABASE_URL/postgres" \
    -c "CREATE DATABASE $1" >/dev/null
  echo "$ORDERD_TEST_DATABASE_URL/$1"
}

if ((quick)); then
  duration=${duration:-2}; skus=${skus:-50}; store_seconds=1
else
  duration=${duration:-10}; skus=${skus:-1000}; store_seconds=5
fi
pause=$((quick ? 0 : 2))  # seconds between scenarios, so one's tail does not spill into the next

for tool in "$WRK" "$PYTHON" curl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (scripts/deps.sh installs it)"
done

build_dir=${BENCH_BUILD_DIR:-$REPO/build/release}
if ((build)); then
  log "building Release into ${build_dir#"$REPO"/}"
  BUILD_DIR="$build_dir" "$REPO/scripts/build.sh" --release
fi
orderd=${orderd:-$build_dir/app/orderd}
store_bench=${store_bench:-$build_dir/bench/orderd_store_bench}
[[ -x "$orderd" ]] || die "no orderd binary at $orderd (build it, or pass --orderd)"
[[ -x "$store_bench" ]] || die "no store benchmark at $store_bench (build it, or pass --store-bench)"

# -- processes and clean-up -----------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/orderd-bench.XXXXXX")
orderd_pid="" child_pid="" broker_dir=""
stop_orderd() {
  [[ -n "$orderd_pid" ]] || return 0
  if kill -0 "$orderd_pid" 2>/dev/null; then
    kill -TERM "$orderd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$orderd_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$orderd_pid" 2>/dev/null; then
      log "orderd did not stop within 10 s; killing it"
      kill -KILL "$orderd_pid" 2>/dev/null || true
    fi
  fi
  wait "$orderd_pid" 2>/dev/null || true
  orderd_pid=""
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$child_pid" ]] && kill -0 "$child_pid" 2>/dev/null; then
    kill -TERM "$child_pid" 2>/dev/null || true
    wait "$child_pid" 2>/dev/null || true
  fi
  stop_orderd
  if [[ -n "$broker_dir" ]]; then
    "$REPO/scripts/rabbitmq.sh" stop "$broker_dir" >/dev/null 2>&1 || true
  fi
  if ((keep)) || ((status != 0)); then
    log "kept $tmp (logs, data, raw results)"
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command in the background and waits for it, so a signal reaches the trap at once and
# the trap can stop the command.
run_child() {
  "$@" &
  child_pid=$!
  local rc=0
  wait "$child_pid" || rc=$?
  child_pid=""
  return "$rc"
}

# -- start orderd -------------------------------------------------------------------------------
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n "${BENCH_COMMIT:-}" ]]; then
  commit=$BENCH_COMMIT
else
  commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]]; then commit="$commit (dirty)"; fi
fi
started=$(date -u +%FT%TZ)
log "$started, commit $commit, load average $loadavg_start, $(nproc) cores"

mkdir -p "$tmp/results"
# start_orderd DATA_DIR LOG [FLAGS...]: starts orderd, waits until it is ready, sets $url.
databases=0
start_orderd() {
  local store_flags=()
  if [[ $store == postgres ]]; then
    databases=$((databases + 1))
    store_flags=(--store postgres --database-url "$(fresh_database "bench_orderd_$databases")")
  fi
  spawn_orderd "$1" "$2" 3600 30 "${store_flags[@]}" "${@:3}"
  "${TOOL[@]}" wait-ready "$url"
  log "orderd (pid $orderd_pid) listening on $url; data in $1"
}
start_orderd "$tmp/data" "$tmp/orderd.log"

run_child "${TOOL[@]}" load "$url" --count "$skus"

# -- wrk scenarios ------------------------------------------------------------------------------
# scenario NAME SCRIPT PATH [ENV=VALUE...]: wrk with bench/lua/SCRIPT.lua; the script's done()
# hook writes $tmp/results/NAME.json.
# Also records the CPU time orderd and wrk used during the scenario in $tmp/results/NAME.cpu.json
# (orderd from /proc/PID/stat; wrk from this shell's children times, read with the `times`
# builtin, which must run in this shell, not in a subshell).
clk_tck=$(getconf CLK_TCK)
orderd_cpu_ticks() { awk '{print $14 + $15}' "/proc/$orderd_pid/stat"; }
children_cpu_s() {
  times >"$tmp/times"
  sed -n 2p "$tmp/times" | awk '{split($1, u, /[ms]/); split($2, s, /[ms]/);
                                  printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2]}'
}
scenario() {
  local name=$1 script=$2 path=$3
  shift 3
  log "scenario $name: wrk -t1 -c$connections -d${duration}s $path"
  local t0 c0 t1 c1
  t0=$(orderd_cpu_ticks)
  children_cpu_s >"$tmp/c0"
  run_child env BENCH_RESULT="$tmp/results/$name.json" BENCH_SKUS="$skus" BENCH_THREADS=1 "$@" \
    "$WRK" -t1 -c"$connections" -d"${duration}s" --timeout 10s -s "$BENCH/lua/$script.lua" \
    "$url$path" >"$tmp/$name.wrk.txt" 2>&1 || { cat "$tmp/$name.wrk.txt" >&2; die "wrk failed"; }
  t1=$(orderd_cpu_ticks)
  children_cpu_s >"$tmp/c1"
  c0=$(<"$tmp/c0") c1=$(<"$tmp/c1")
  echo "{\"orderd_cpu_s\": $(awk "BEGIN {print ($t1 - $t0) / $clk_tck}"), \"wrk_cpu_s\": $(awk "BEGIN {print $c1 - $c0}")}" \
    >"$tmp/results/$name.cpu.json"
  sed 's/^/  /' "$tmp/$name.wrk.txt" >&2
  sleep "$pause"
}
json_get() { # json_get FILE EXPR: a value from a JSON file (EXPR indexes `r`)
  "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"
}

scenario baseline health /health

scenario create create /api/v1/orders BENCH_IDS_OUT="$tmp/ids"
cat "$tmp"/ids.* >"$tmp/ids.txt" 2>/dev/null || : >"$tmp/ids.txt"
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$orderd_pid/status")
orders_created=$(wc -l <"$tmp/ids.txt")
log "after create: $orders_created orders, orderd RSS $((rss_kib / 1024)) MiB"

# Flash sale: two SKUs stocked with what 0.5 x the create rate would take in one scenario (each
# order takes 2/3 of a unit of each SKU on average), so a flash sale at or above the target of
# 0.5 x create sells out before wrk stops and the rest of its orders are 409s. Its rate is the
# accepted orders per second while the stock lasted (flash-check measures the sale's span).
create_rps=$(json_get "$tmp/results/create.json" "r['rps']")
flash_stock=$("$PYTHON" -c "import sys; print(max(50, int(float(sys.argv[1]) * $duration * 0.5 * 2 / 3)))" "$create_rps")
for sku in FLASH-A FLASH-B; do "${TOOL[@]}" product "$url" "$sku" "$flash_stock"; done
log "flash sale: FLASH-A and FLASH-B stocked with $flash_stock units each"
scenario flash flash /api/v1/orders BENCH_FLASH_SKUS=FLASH-A,FLASH-B
"${TOOL[@]}" flash-check "$url" --result "$tmp/results/flash.json" --connections "$connections" \
  --stock FLASH-A="$flash_stock" --stock FLASH-B="$flash_stock" --out "$tmp/results/flash_check.json"

scenario reads read /api/v1/orders BENCH_IDS="$tmp/ids.txt"
scenario mixed mixed /api/v1/orders BENCH_IDS="$tmp/ids.txt"

rss_kib_end=$(awk '/^VmRSS:/ {print $2}' "/proc/$orderd_pid/status")
log "stopping orderd"
stop_orderd

# -- 6: the store alone -------------------------------------------------------------------------
store_flags=(--synchronous FULL)
[[ $store == postgres ]] && store_flags=(--database-url "$(fresh_database bench_store)")
log "scenario store: $store_bench, ${store_seconds}s per batch size, ${store_flags[*]%%://*}"
run_child "$store_bench" --data-dir "$tmp/store" --skus "$skus" --seconds "$store_seconds" \
  --batch 256 --batch 64 "${store_flags[@]}" --json "$tmp/results/store.json" >&2

# -- 7: messaging -------------------------------------------------------------------------------
# The create scenario again with RabbitMQ configured: a private node on loopback (as the tests
# start one), a durable queue bound to every event (so the broker writes them, as in production),
# then the publish lag from commit to broker confirm, read from orderd's own histogram.
amqp_tail=${amqp_tail:-$(dirname "$orderd")/../tests/amqp_tail}
if ((!messaging)); then
  log "scenario messaging: skipped (--no-messaging)"
elif [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
  log "scenario messaging: skipped: rabbitmq-server is not installed (scripts/deps.sh installs it)"
else
  amqp_port=$("$PYTHON" -c "import sys; sys.path.insert(0, sys.argv[1]); import rabbitmq_fixture as f; print(f.pick_port())" "$REPO/tests/integration")
  broker_dir=$tmp/rabbitmq
  log "scenario messaging: starting a RabbitMQ node on 127.0.0.1:$amqp_port"
  run_child "$REPO/scripts/rabbitmq.sh" start "$broker_dir" "$amqp_port" --fresh >"$tmp/rabbitmq.log" 2>&1 \
    || { tail -n 20 "$tmp/rabbitmq.log" >&2; die "RabbitMQ did not start"; }
  amqp_url="amqp://guest:guest@127.0.0.1:$amqp_port/"
  if [[ -x "$amqp_tail" ]]; then
    "$amqp_tail" --url "$amqp_url" --exchange orderd.events --queue bench.events --bind '#' \
      --declare-only >/dev/null
  else
    log "scenario messaging: no amqp_tail at $amqp_tail: no queue bound, the broker drops events"
  fi
  start_orderd "$tmp/data-amqp" "$tmp/orderd-amqp.log" --amqp-url "$amqp_url"
  run_child "${TOOL[@]}" load "$url" --count "$skus"
  scenario create_amqp create /api/v1/orders
  drain_start=$(date +%s.%N)
  "${TOOL[@]}" wait-drained "$url" --timeout 300
  drain_s=$(awk "BEGIN {print $(date +%s.%N) - $drain_start}")
  "${TOOL[@]}" lag "$url" --drain-seconds "$drain_s" --out "$tmp/results/messaging.json"
  stop_orderd
  "$REPO/scripts/rabbitmq.sh" stop "$broker_dir" >/dev/null 2>&1 || true
  broker_dir=""
fi

# -- report -------------------------------------------------------------------------------------
loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)
cat >"$tmp/results/extra.json" <<EOF
{"rss_kib_after_create": $rss_kib, "rss_kib_at_end": $rss_kib_end,
 "orders_created": $orders_created, "flash_stock_per_sku": $flash_stock}
EOF
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out_dir"
echo
"${TOOL[@]}" report --dir "$tmp/results" --out "$out_dir/$stamp.json" --table "$tmp/table.txt" \
  --meta "date=$started" --meta "commit=$commit" \
  --meta "loadavg_start=$loadavg_start" --meta "loadavg_end=$loadavg_end" \
  --meta "cores=$(nproc)" --meta "mode=$( ((quick)) && echo quick || echo full)" \
  --meta "duration_s=$duration" --meta "connections=$connections" --meta "wrk_threads=1" \
  --meta "skus=$skus" --meta "orderd=$orderd" --meta "orderd_args=${orderd_args[*]:-}" \
  --meta "command=$command_line"
echo
log "load average: $loadavg_start at start, $loadavg_end at end"
log "wrote $out_dir/$stamp.json"
