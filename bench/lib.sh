# Shell helpers that bench/run.sh and bench/scale.sh both source.

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
