#!/usr/bin/env bash
# Benchmarks: every Go benchmark (bounded by -benchtime), then the figures
# that other scripts print. Output also goes to out/bench.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p out
{
  go test -run '^$' -bench . -benchtime "${BENCHTIME:-1x}" -timeout 30m ./...
  for s in scripts/bench-*.sh; do
    if [ -e "$s" ]; then bash "$s"; fi
  done
} 2>&1 | tee out/bench.txt
