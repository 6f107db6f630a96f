#!/usr/bin/env bash
# The short demo, checked from its own JSON summary: pre-warmed capacity was
# ready before the replayed peak in the predictive run; the predictive run
# had fewer client errors and a lower p99 during the peak than the reactive
# run; no client error happened during a cutover.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SHADOWSCALE_TRACES=${SHADOWSCALE_TRACES:-$root/../shared/data/traces}
mkdir -p out/demo
"$root/bin/shadowscale" demo --json --duration "${DEMO_DURATION:-120s}" --out out/demo >out/demo/ci-summary.json
/usr/bin/python3 - out/demo/ci-summary.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
runs = {r["policy"]: r for r in s["runs"]}
p, r = runs["predictive"], runs["reactive"]
checks = [
    ("pre-warmed capacity ready before the peak (predictive)", p["ready_before_peak"] and p["warmed"]),
    ("fewer client errors during the peak (predictive %d < reactive %d, or both 0)" % (p["peak_errors"], r["peak_errors"]),
     p["peak_errors"] < r["peak_errors"] or p["peak_errors"] == r["peak_errors"] == 0),
    ("lower p99 during the peak (predictive %.0f ms < reactive %.0f ms)" % (p["peak_p99_ms"], r["peak_p99_ms"]),
     p["peak_p99_ms"] < r["peak_p99_ms"]),
    ("no client error during a cutover (predictive %d)" % p["cutover_errors"], p["cutover_errors"] == 0),
]
bad = [name for name, ok in checks if not ok]
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
sys.exit(1 if bad else 0)
PY
