#!/usr/bin/env bash
# The layering check: each source folder may include only the folders listed for it below
# (its own folder is always allowed). A forbidden include is printed as file:line and the
# script exits 1. Run by ctest as `layering` (scripts/test.sh, .ci/run) and by hand:
#   scripts/check_layers.sh
# Why: every target sees the repository root as an include path, so only this check stops
# e.g. the domain from reaching into the store, or an actor from reaching into an AMQP bridge.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder -> folders it may include (lower layers only). app/, tests/ and bench/ may include
# anything: they wire the layers together or exercise them.
# util/ (header-only helpers on the standard library alone, e.g. util/name_table.hpp behind the
# enums' to_string) knows no layer: every folder may include it, and it may include nothing.
declare -A allowed=(
  [util]=""
  [domain]=""
  [resilience]=""
  [observability]=""
  [config]=""
  [cluster]="domain"
  [wire]="domain"
  [events]="domain wire"
  [persistence]="domain events"
  [notify]="domain resilience observability"
  [actors]="domain events wire persistence resilience observability notify cluster"
  [http]="domain wire events actors observability resilience cluster"
  [messaging]="domain wire events actors observability resilience"
)

violations=0
for folder in "${!allowed[@]}"; do
  [[ -d $folder ]] || continue
  ok=" $folder ${allowed[$folder]} "
  [[ $folder == util ]] || ok+="util "
  while IFS=: read -r file line text; do
    target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^/"]+)\/.*/\1/' <<<"$text")
    [[ $target == "$text" ]] && continue  # an include without a folder: same directory
    [[ -d $target ]] || continue          # not a repository folder (e.g. "caf/...")
    if [[ $ok != *" $target "* ]]; then
      echo "$file:$line: $folder/ may not include $target/ ($(sed -E 's/^[[:space:]]+//' <<<"$text"))"
      violations=$((violations + 1))
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$folder" \
             --include='*.hpp' --include='*.cpp' --include='*.h' || true)
done

if ((violations > 0)); then
  echo "layering: $violations forbidden include(s); the matrix is in scripts/check_layers.sh" >&2
  exit 1
fi
echo "layering: every include follows the matrix"
