#!/usr/bin/env bash
# Configures (CMake + Ninja + ccache) and builds orderd.
#   scripts/build.sh             RelWithDebInfo into build/
#   scripts/build.sh --release   Release into build/release
#   scripts/build.sh --debug     Debug into build/debug
# Environment: JOBS (parallel jobs, default 2), BUILD_DIR (override the directory),
# CCACHE_DIR (default ~/.ccache), CCACHE_MAXSIZE (default 5G), CMAKE_ARGS (extra -D flags).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }

build_type=RelWithDebInfo
default_dir=build
for arg in "$@"; do
  case "$arg" in
    --release) build_type=Release; default_dir=build/release ;;
    --debug) build_type=Debug; default_dir=build/debug ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-$default_dir}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO/$BUILD_DIR"
JOBS=${JOBS:-2}

for tool in cmake ninja; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build: '$tool' not found; run scripts/deps.sh first" >&2
    exit 1
  fi
done

launcher=()
if command -v ccache >/dev/null 2>&1; then
  if [[ -z "${CCACHE_DIR:-}" ]]; then
    if [[ -n "${HOME:-}" && -w "${HOME}" ]]; then
      CCACHE_DIR="$HOME/.ccache"
    else
      CCACHE_DIR="$REPO/build/.ccache"
    fi
  fi
  export CCACHE_DIR
  # Paths relative to the checkout, so clones and worktrees elsewhere hit the same cache.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REPO}
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
  mkdir -p "$CCACHE_DIR"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
else
  echo "build: ccache not found, building without it" >&2
fi

# A directory configured earlier with another generator cannot be reused with Ninja.
if [[ -f "$BUILD_DIR/CMakeCache.txt" ]] \
    && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
  echo "build: $BUILD_DIR was configured with another generator; reconfiguring from scratch" >&2
  rm -rf "$BUILD_DIR/CMakeCache.txt" "$BUILD_DIR/CMakeFiles"
fi

echo "build: configuring $build_type in ${BUILD_DIR#"$REPO"/}" >&2
quiet=()
[[ -f "$BUILD_DIR/CMakeCache.txt" ]] && quiet=(--log-level=WARNING)  # full output the first time
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of flags
cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja "${quiet[@]}" \
  -DCMAKE_BUILD_TYPE="$build_type" "${launcher[@]}" ${CMAKE_ARGS:-}

echo "build: compiling with $JOBS jobs" >&2
start=$SECONDS
cmake --build "$BUILD_DIR" --parallel "$JOBS"
echo "build: done in $((SECONDS - start)) s ($BUILD_DIR)" >&2
if [[ -n "${CCACHE_DIR:-}" ]] && command -v ccache >/dev/null 2>&1; then
  ccache --show-stats 2>/dev/null | grep -iE 'hits|cache size' | sed 's/^/build: ccache /' >&2 || true
fi
