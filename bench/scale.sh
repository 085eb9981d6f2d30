#!/usr/bin/env bash
# The scale run of issue 5 (by hand; minutes, not part of CI):
#
#   bench/scale.sh [--orders N] [--orderd PATH] [--no-build] [--keep] [-- ORDERD_ARGS...]
#
# 1. Actor cost: starts orderd on a fresh data directory and measures its resident memory
#    (VmRSS) before and after making N_ACTORS stock actors live (one product each), then
#    N_ACTORS order actors (one order each, kept live by a long idle timeout). The difference per
#    actor is what one live actor costs the process (its state, mailbox, CAF bookkeeping and the
#    registry's entry), measured, not estimated.
# 2. Scale: restarts orderd with the default passivation and places N orders (default 1,000,000;
#    1-3 lines over 1,000 SKUs, wrk with bench/lua/create.lua) while sampling VmRSS every second;
#    reports the peak.
# 3. Restart: stops orderd (SIGTERM) and starts it again on that data directory, timing the
#    moment the process starts until GET /ready answers 200.
# Prints a summary and writes bench/results/scale-<timestamp>.json.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" scale

orders=1000000 build=1 keep=0 orderd="" actors=20000 skus=1000
orderd_args=()
while (($#)); do
  case "$1" in
    --orders) orders=$2; shift ;;
    --actors) actors=$2; shift ;;
    --orderd) orderd=$2; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --) shift; orderd_args=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

build_dir=${BENCH_BUILD_DIR:-$REPO/build/release}
if ((build)) && [[ -z "$orderd" ]]; then
  BUILD_DIR="$build_dir" "$REPO/scripts/build.sh" --release
fi
orderd=${orderd:-$build_dir/app/orderd}
[[ -x "$orderd" ]] || die "no orderd binary at $orderd"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/orderd-scale.XXXXXX")
orderd_pid="" url="" ready_ms=0
stop() {
  [[ -n "$orderd_pid" ]] || return 0
  kill -TERM "$orderd_pid" 2>/dev/null || true
  wait "$orderd_pid" 2>/dev/null || true
  orderd_pid=""
}
cleanup() {
  local status=$?
  stop
  if ((keep)) || ((status != 0)); then log "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT

# start DATA LOG [FLAGS...]: starts orderd and waits for /ready; sets $orderd_pid, $url and
# $ready_ms (from the process start to the first 200 from /ready).
start() {
  local t0
  t0=$(date +%s%N)
  spawn_orderd "$1" "$2" 86400 60 "${@:3}"
  "${TOOL[@]}" wait-ready "$url" --timeout 120
  ready_ms=$((($(date +%s%N) - t0) / 1000000))
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$orderd_pid/status"; }

# -- 1. actor cost ------------------------------------------------------------------------------
start "$tmp/actors" "$tmp/actors.log" --order-idle-timeout-ms 3600000 \
  --stock-idle-timeout-ms 3600000
sleep 1
base=$(rss_kib)
"${TOOL[@]}" load "$url" --count "$actors" --available 1000000
sleep 1
with_stock=$(rss_kib)
"${TOOL[@]}" place "$url" --count "$actors" --skus "$actors"
sleep 1
with_orders=$(rss_kib)
stock_bytes=$(( (with_stock - base) * 1024 / actors ))
order_bytes=$(( (with_orders - with_stock) * 1024 / actors ))
log "actor cost: RSS $((base / 1024)) MiB -> $((with_stock / 1024)) MiB with $actors stock actors -> $((with_orders / 1024)) MiB with $actors order actors"
log "actor cost: ~$stock_bytes bytes per live stock actor, ~$order_bytes bytes per live order actor (state, mailbox, registry entry; SQLite page cache included)"
stop

# -- 2. scale -----------------------------------------------------------------------------------
start "$tmp/data" "$tmp/orderd.log"
"${TOOL[@]}" load "$url" --count "$skus" --available 1000000000
peak=0
placed=0
started=$(date +%s)
while ((placed < orders)); do
  BENCH_RESULT="$tmp/chunk.json" BENCH_SKUS="$skus" BENCH_THREADS=1 \
    "$WRK" -t1 -c64 -d30s --timeout 10s -s "$BENCH/lua/create.lua" "$url/api/v1/orders" \
    >"$tmp/wrk.txt" 2>&1 &
  wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    r=$(rss_kib); ((r > peak)) && peak=$r
    sleep 1
  done
  wait "$wrk_pid" || { cat "$tmp/wrk.txt" >&2; die "wrk failed"; }
  placed=$("${TOOL[@]}" count-orders "$tmp/data/orderd.db")
  log "$placed orders so far; RSS now $(( $(rss_kib) / 1024 )) MiB, peak $((peak / 1024)) MiB"
done
elapsed=$(( $(date +%s) - started ))
rss_end=$(rss_kib)
stop

# -- 3. restart ---------------------------------------------------------------------------------
start "$tmp/data" "$tmp/orderd-restart.log"
rss_restart=$(rss_kib)
log "restart on $placed orders: /ready after $ready_ms ms; RSS $((rss_restart / 1024)) MiB"
stop

mkdir -p "$BENCH/results"
out="$BENCH/results/scale-$(date -u +%Y%m%dT%H%M%SZ).json"
cat >"$out" <<EOF
{"orders": $placed, "seconds": $elapsed, "peak_rss_kib": $peak, "rss_kib_after": $rss_end,
 "restart_ready_ms": $ready_ms, "rss_kib_after_restart": $rss_restart,
 "actor_cost": {"actors": $actors, "base_rss_kib": $base, "with_stock_actors_rss_kib": $with_stock,
                "with_order_actors_rss_kib": $with_orders, "bytes_per_stock_actor": $stock_bytes,
                "bytes_per_order_actor": $order_bytes},
 "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)", "commit": "$(git -C "$REPO" rev-parse --short HEAD)"}
EOF
echo "orders placed:           $placed in ${elapsed} s"
echo "peak RSS while placing:  $((peak / 1024)) MiB (target < 1024)"
echo "restart to /ready:       $ready_ms ms (target < 2000)"
echo "live stock actor:        ~$stock_bytes bytes"
echo "live order actor:        ~$order_bytes bytes"
echo "wrote $out"
