#!/usr/bin/env bash
# Installs the Debian 12 packages orderd needs to build, test and run. Idempotent: when every
# package is already installed it only asks dpkg and exits (well under a second); otherwise it
# runs `apt-get update` once and installs just the missing ones (with sudo when not root).
#   scripts/deps.sh                   everything: build, servers the tests start, test tools
#   scripts/deps.sh --no-test-tools   without the test-only tools (the Docker build stage)
set -euo pipefail
cd "$(dirname "$0")/.."

with_test_tools=1
for arg in "$@"; do
  case "$arg" in
    --no-test-tools) with_test_tools=0 ;;
    *) echo "deps: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

# Toolchain, libraries and tools for building and testing orderd.
BUILD_PACKAGES=(
  build-essential cmake ninja-build ccache
  libcaf-dev libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  librabbitmq-dev libsqlite3-dev libjemalloc-dev libpq-dev libpqxx-dev
  libssl-dev  # HMAC-SHA256 of webhook signatures (notify/)
  python3 python3-yaml curl wrk
)

# Servers the test suite starts itself (never as system services: scripts/rabbitmq.sh runs a
# private node; tests/postgres/with_postgres.sh a private PostgreSQL; scripts/cluster.sh its
# own HAProxy). librabbitmq-dev and
# libpq-dev, the client libraries, are in BUILD_PACKAGES above.
SERVICE_PACKAGES=(
  rabbitmq-server
  postgresql-15
  haproxy  # the load balancer in front of scripts/cluster.sh
)

# Test-only tools: headless Chromium drives the dashboard test (tests/integration/
# test_dashboard.py). Not needed to build or run orderd.
TEST_PACKAGES=(
  chromium
)

PACKAGES=("${BUILD_PACKAGES[@]}" "${SERVICE_PACKAGES[@]}")
if ((with_test_tools)); then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

log() { printf 'deps: %s\n' "$*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  log "this script needs a Debian-based system (dpkg-query and apt-get); install by hand:"
  log "  ${PACKAGES[*]}"
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != ii* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

log "missing packages: ${missing[*]}"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    log "not root and sudo is not installed; run as root: apt-get install ${missing[*]}"
    exit 1
  fi
fi

# libboost1.81-dev conflicts with every libboost1.74-dev package (libboost-dev & co.):
# apt removes those to install it. Say so, so nobody is surprised.
if [[ " ${missing[*]} " == *" libboost1.81-dev "* ]]; then
  old_boost=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'libboost*1.74*-dev' 2>/dev/null \
    | awk '$1 ~ /^ii/ {print $2}' || true)
  if [[ -n "$old_boost" ]]; then
    log "note: libboost1.81-dev conflicts with installed Boost 1.74 packages, which apt will remove:"
    log "  $(echo "$old_boost" | tr '\n' ' ')"
  fi
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300 --no-install-recommends)

log "running apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update
log "installing: ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" "${missing[@]}"
log "done"
