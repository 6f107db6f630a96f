#!/usr/bin/env bash
# The demo: the whole product on this machine (shadowscale demo): a real
# HAProxy, cold-starting app instances, one day of a real trace replayed in
# minutes, serve predictive then reactive; a side-by-side table, a JSON
# summary and a chart in out/demo/. DEMO_DURATION shortens it (e.g. 90s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SHADOWSCALE_TRACES=${SHADOWSCALE_TRACES:-$root/../shared/data/traces}
exec "$root/bin/shadowscale" demo --out "$root/out/demo" "$@"
