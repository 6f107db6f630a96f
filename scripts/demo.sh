#!/usr/bin/env bash
# The demo, until the full pipeline demo lands: rolling-origin evaluation of
# every forecaster on real traffic traces, printed as tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
traces=${SHADOWSCALE_TRACES:-$root/../shared/data/traces}
bin=$root/bin/shadowscale
for t in nab_elb_request_count_8c0756 ita_nasa_http_requests_per_minute nab_nyc_taxi; do
  f="$traces/$t.csv"
  [ -f "$f" ] || { echo "demo: trace $f is missing" >&2; exit 1; }
  "$bin" eval --trace "$f" --horizon 30m
  echo
done
