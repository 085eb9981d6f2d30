#!/usr/bin/env bash
# The PostgreSQL store beside the SQLite store, measured in one run: bench/run.sh once with each
# (same options, no messaging scenario), then the ratios the PostgreSQL issue asks for.
#
#   bench/postgres_vs_sqlite.sh [RUN.SH OPTIONS...]     e.g. --quick --no-build --orderd PATH
#                                                         --store-bench PATH
#
# Prints the two tables, then "postgres / sqlite" for create, reads and the store alone, and
# writes both JSON reports into --out (default bench/results).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/orderd-pg-vs-sqlite.XXXXXX")
trap 'rm -rf "$out"' EXIT
for store in sqlite postgres; do
  echo "== bench/run.sh --store $store $*" >&2
  "$BENCH/run.sh" --no-messaging "$@" --store "$store" --out "$out/$store"
done
python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
report = {s: json.load(open(sorted(glob.glob(os.path.join(out, s, "*.json")))[-1]))
          for s in ("sqlite", "postgres")}
def rate(r, name):
    return r["scenarios"][name]["ok_per_s"]
def store(r, batch):
    return next(x["change_sets_per_s"] for x in r["store"]["runs"] if x["batch"] == batch)
rows = [("create POST /orders", rate(report["postgres"], "create"), rate(report["sqlite"], "create")),
        ("reads GET /orders/{id}", rate(report["postgres"], "reads"), rate(report["sqlite"], "reads")),
        ("store alone, batch 256", store(report["postgres"], 256), store(report["sqlite"], 256)),
        ("store alone, batch 64", store(report["postgres"], 64), store(report["sqlite"], 64))]
print(f"\n{'scenario':<26} {'postgres/s':>11} {'sqlite/s':>11} {'ratio':>7}")
for name, pg, lite in rows:
    print(f"{name:<26} {pg:>11,.0f} {lite:>11,.0f} {pg / lite:>7.2f}")
ratio = rows[0][1] / rows[0][2]
print(f"\npostgres create / sqlite create = {ratio:.2f}: target >= 0.50 "
      f"{'met' if ratio >= 0.5 else 'NOT met'}")
PY
for store in sqlite postgres; do
  mkdir -p "$BENCH/results"
  cp "$out/$store"/*.json "$BENCH/results/" 2>/dev/null || true
done
