#!/usr/bin/env bash
# Backtest speed and figures: all three policies on a 60-day, 1-minute
# trace (a synthetic daily and weekly cycle with bursts, 4 days of history
# first) and on the NASA HTTP trace. Prints wall and CPU seconds; the
# target is under 60 s of wall time for the 60-day run on an idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=bin/shadowscale
[ -x "$bin" ] || go build -o "$bin" ./cmd/shadowscale
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 64 days of minutes: 4 days of history, 60 days scored.
awk 'BEGIN {
  srand(11); print "timestamp,value"; t0 = 1735689600; pi = atan2(0, -1); burst = 1
  for (i = 0; i < 64 * 1440; i++) {
    d = 100 + 60 * sin(2 * pi * (i % 1440) / 1440 - pi / 2) + 20 * ((int(i / 1440) % 7) < 5)
    if (rand() < 0.002) burst = 1 + 2 * rand()
    burst = 1 + (burst - 1) * 0.97
    printf "%d,%.2f\n", t0 + 60 * i, d * burst * (0.9 + 0.2 * rand())
  }
}' > "$tmp/synthetic-60d.csv"
traces=${SHADOWSCALE_TRACES:-$root/../shared/data/traces}
for trace in "$tmp/synthetic-60d.csv" "$traces/ita_nasa_http_requests_per_minute.csv"; do
  [ -e "$trace" ] || continue
  TIMEFORMAT='%R %U %S'
  { time "$bin" backtest --trace "$trace" > "$tmp/out" 2>/dev/null; } 2> "$tmp/cpu"
  read -r wall user sys < "$tmp/cpu"
  awk -v n="$(basename "$trace")" -v w="$wall" -v c="$user" -v s="$sys" \
    'BEGIN { printf "backtest %s: %.1f s wall, %.1f s CPU (all three policies)\n", n, w, c + s }'
  sed -n '1,5p' "$tmp/out"
done
