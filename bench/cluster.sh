#!/usr/bin/env bash
# The cluster benchmark (bench/cluster.py says what it measures): builds orderd in Release,
# then runs under a private PostgreSQL (tests/postgres/with_postgres.sh).
#   bench/cluster.sh [--no-build] [--duration S] [--kills N] [--skus N] [--orderd PATH]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
args=() build=1
for arg in "$@"; do
  if [[ $arg == --no-build ]]; then build=0; else args+=("$arg"); fi
done
if ((build)); then
  "$REPO/scripts/deps.sh"
  "$REPO/scripts/build.sh" --release >&2
fi
exec "$REPO/tests/postgres/with_postgres.sh" python3 "$REPO/bench/cluster.py" "${args[@]}"
