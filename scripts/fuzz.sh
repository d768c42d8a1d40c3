#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for the given time each (default 30s).
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-30s}
grep -rl --include='*_test.go' '^func Fuzz' libs services tools 2>/dev/null | while read -r f; do
  dir=$(dirname "$f")
  for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    echo "== $dir $name ($t)"
    (cd "$dir" && go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" .)
  done
done
