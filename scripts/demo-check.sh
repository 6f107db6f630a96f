#!/usr/bin/env bash
# The short demo, checked from its own JSON summary: pre-warmed capacity was
# ready before the replayed peak in the predictive run; during the peak
# window (the rise into the day's peak, the peak and the fall, from the
# replay alone) the predictive run had fewer client errors (or none, like
# the reactive run) and a lower p99 than the reactive run; over the day it
# had fewer client errors, a lower p99 and fewer requests served cold; no
# client error happened during a cutover.
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
fewer_peak_errors = p["peak_errors"] < r["peak_errors"] or p["peak_errors"] == r["peak_errors"] == 0
checks = [
    ("pre-warmed capacity ready before the peak (predictive, from %ds; peak at %ds)" % (p["ready_at_s"], s["peak_at_s"]),
     p["ready_before_peak"] and p["warmed"]),
    ("peak window %d-%ds: fewer client errors (predictive %d < reactive %d, or both 0)"
     % (s["peak_from_s"], s["peak_to_s"], p["peak_errors"], r["peak_errors"]), fewer_peak_errors),
    ("peak window: lower client p99 (predictive %.0f ms < reactive %.0f ms)" % (p["peak_p99_ms"], r["peak_p99_ms"]),
     p["peak_p99_ms"] < r["peak_p99_ms"]),
    ("fewer client errors (predictive %d < reactive %d)" % (p["errors"], r["errors"]), p["errors"] < r["errors"]),
    ("lower client p99 (predictive %.0f ms < reactive %.0f ms)" % (p["p99_ms"], r["p99_ms"]), p["p99_ms"] < r["p99_ms"]),
    ("fewer requests served by cold instances (predictive %d < reactive %d)" % (p["cold_served"], r["cold_served"]),
     p["cold_served"] < r["cold_served"]),
    ("no client error during a cutover (predictive %d)" % p["cutover_errors"], p["cutover_errors"] == 0),
]
print("info peak window served cold: predictive %d, reactive %d" % (p["peak_cold_served"], r["peak_cold_served"]))
bad = [name for name, ok in checks if not ok]
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
sys.exit(1 if bad else 0)
PY
