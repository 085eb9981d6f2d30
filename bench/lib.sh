# What bench/run.sh and bench/scale.sh both source: `source bench/lib.sh NAME` sets BENCH (this
# folder), REPO, WRK, PYTHON and TOOL (benchtool.py), and defines log and die (messages
# prefixed "NAME: "), logged_port and spawn_orderd.
# shellcheck shell=bash
# The variables it sets are for the scripts that source it, and spawn_orderd reads theirs:
# shellcheck disable=SC2034,SC2154

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
WRK=${WRK:-wrk}
PYTHON=${PYTHON:-python3}
TOOL=("$PYTHON" "$BENCH/tools/benchtool.py")
bench_name=${1:-bench}

log() { printf '%s: %s\n' "$bench_name" "$*" >&2; }
die() { log "$*"; exit 1; }

# logged_port LOG PID SECONDS: the port orderd (process PID) logs in LOG as
# "listening on http://HOST:PORT", waiting up to SECONDS for it. Prints the port; on failure
# prints the log's tail and why to stderr and returns 1.
logged_port() {
  local logfile=$1 pid=$2 deadline=$((SECONDS + $3)) port=""
  while ((SECONDS <= deadline)); do
    port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$logfile" | head -n1)
    if [[ -n "$port" ]]; then
      echo "$port"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      echo "orderd exited" >&2
      return 1
    fi
    sleep 0.01
  done
  tail -n 20 "$logfile" >&2
  echo "orderd did not log its port within $3 s" >&2
  return 1
}

# spawn_orderd DATA LOG GRACE SECONDS [FLAGS...]: starts $orderd in the background on a free
# loopback port with its data in DATA (created), its output in LOG, a grace period of GRACE
# seconds, ${orderd_args[@]} and FLAGS; waits up to SECONDS for it to log its port. Sets
# $orderd_pid and $url; dies if orderd does not start.
spawn_orderd() {
  local data=$1 logfile=$2 grace=$3 seconds=$4
  shift 4
  mkdir -p "$data"
  "$orderd" --host 127.0.0.1 --port 0 --data-dir "$data" --grace-period "$grace" \
    "${orderd_args[@]}" "$@" >"$logfile" 2>&1 &
  orderd_pid=$!
  local port
  port=$(logged_port "$logfile" "$orderd_pid" "$seconds") || die "orderd did not start"
  url="http://127.0.0.1:$port"
}
