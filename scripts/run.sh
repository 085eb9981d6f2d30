#!/usr/bin/env bash
# Installs what is missing, builds, and runs orderd in the foreground on the embedded store
# with the demo catalogue:   scripts/run.sh [--release|--debug] [orderd args...]
# e.g. scripts/run.sh --port 9090 --log-level debug. Data lives in ./data unless --data-dir.
set -euo pipefail
cd "$(dirname "$0")/.."

build_args=()
dir=build
case "${1:-}" in
  --release) build_args=(--release); dir=build/release; shift ;;
  --debug) build_args=(--debug); dir=build/debug; shift ;;
esac
dir=${BUILD_DIR:-$dir}

scripts/deps.sh
scripts/build.sh "${build_args[@]}"

bin="$dir/app/orderd"
if [[ ! -x "$bin" ]]; then
  echo "run: $bin was not built" >&2
  exit 1
fi

# Show the URL the server will answer on (orderd itself logs the real one, e.g. for --port 0).
host=${ORDERD_HOST:-127.0.0.1} port=${ORDERD_PORT:-8080}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --host) host=${args[i + 1]:-$host} ;;
    --host=*) host=${args[i]#--host=} ;;
    --port) port=${args[i + 1]:-$port} ;;
    --port=*) port=${args[i]#--port=} ;;
  esac
done
echo "run: starting orderd on http://$host:$port (Ctrl-C stops it)" >&2
echo "run: try  curl http://$host:$port/api/v1/products" >&2
defaults=()
if [[ " $* " != *" --data-dir"* && -z "${ORDERD_DATA_DIR:-}" ]]; then
  defaults+=(--data-dir ./data)
  mkdir -p data
fi
[[ " $* " == *" --demo-catalogue"* ]] || defaults+=(--demo-catalogue)
exec "$bin" "${defaults[@]}" "$@"
