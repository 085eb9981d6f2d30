#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CAF unit tests and black-box tests
# against the real binary) with ctest. Extra arguments go to ctest, e.g.
#   scripts/test.sh -R integration_orders     scripts/test.sh -L unit
# Environment: JOBS (build jobs, default 2), CTEST_JOBS (parallel tests, default 2),
# BUILD_DIR (default build). The exit code is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh

dir=${BUILD_DIR:-build}
echo "test: running ctest in $dir" >&2
exec ctest --test-dir "$dir" --output-on-failure -j "${CTEST_JOBS:-2}" "$@"
