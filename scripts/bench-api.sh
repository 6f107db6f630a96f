#!/usr/bin/env bash
# API benchmark: requests/s and p99 latency of the status and forecast
# endpoints under wrk, against a real serve (dry-run) with 100 load
# balancers behind a real HAProxy, everything on 127.0.0.1 in a temp dir.
# Bounded: each run lasts BENCH_API_SECONDS (default 10) seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${BENCH_API_SECONDS:-10}
n_lbs=100
for b in haproxy wrk; do
  command -v "$b" >/dev/null || { echo "bench-api: $b is missing (make setup)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/ss-bench-api.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/shadowscale" ./cmd/shadowscale
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
api_port=$(free_port)
fe_port=$(free_port)

# HAProxy: one primary and one shadow backend per LB (no checks: the
# benchmark measures the API, not the app).
{
  cat <<CFG
global
    stats socket $tmp/haproxy.sock mode 600 level admin expose-fd listeners
    server-state-file $tmp/server-state
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    load-server-state-from-file global
frontend fe
    bind 127.0.0.1:$fe_port
    default_backend lb001
CFG
  for i in $(seq -f %03g 1 $n_lbs); do
    printf 'backend lb%s\n    balance roundrobin\n    server p1 127.0.0.1:9 weight 100\nbackend lb%s_shadow\n    balance roundrobin\n' "$i" "$i"
  done
} > "$tmp/haproxy.cfg"
: > "$tmp/shadow.map"
for i in $(seq -f %03g 1 $n_lbs); do echo "lb$i 0" >> "$tmp/shadow.map"; done
haproxy -W -S "$tmp/master.sock,mode,600" -f "$tmp/haproxy.cfg" > "$tmp/haproxy.log" 2>&1 &
pids+=($!)

token=bench-token-0123456789
{
  cat <<INI
[service]
listen = 127.0.0.1:$api_port
state_dir = $tmp/state
tick = 5s
dry_run = true
log_level = warn
api_token = $token
; the 100-series upload is about 2 MB
api_max_body = 8388608

[forecast]
fallback = seasonal-naive
horizon = 30m
history = 1h

[metrics]
store = embedded
path = $tmp/state/metrics.db
scrape_interval = 1s

[haproxy]
sockets = $tmp/haproxy.sock
master_sockets = $tmp/master.sock
config_file = $tmp/haproxy.cfg
map_file = $tmp/shadow.map

[provider.pool]
kind = static
addresses = 127.0.0.1:10001,127.0.0.1:10002
INI
  for i in $(seq -f %03g 1 $n_lbs); do
    printf '\n[lb.lb%s]\nbackend = lb%s\nprovider = pool\ncapacity_per_instance = 100\nmax_instances = 2\n' "$i" "$i"
  done
} > "$tmp/shadowscale.ini"
"$tmp/shadowscale" serve --config "$tmp/shadowscale.ini" > "$tmp/serve.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$api_port"
for _ in $(seq 1 120); do
  ticks=$(curl -fsS "$base/v1/lbs" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["ticks"])' 2>/dev/null || echo 0)
  [ "$ticks" -ge 2 ] && break
  sleep 1
done
if [ "${ticks:-0}" -lt 2 ]; then
  echo "bench-api: serve did not tick; its log:" >&2
  tail -20 "$tmp/serve.log" >&2
  exit 1
fi

# Bodies and scripts for the forecast endpoints.
python3 - "$tmp" <<'PY'
import json, sys, math
tmp = sys.argv[1]
series = [{"id": f"s{i}", "start": "2026-01-01T00:00:00Z", "step_seconds": 60,
           "values": [round(100 + 50 * math.sin(2 * math.pi * j / 1440) + i, 2) for j in range(2880)]} for i in range(100)]
for name, n in (("one", 1), ("batch100", 100)):
    body = json.dumps({"horizon": "30m", "series": series[:n]})
    with open(f"{tmp}/{name}.lua", "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n")
PY
all_lbs=$(for i in $(seq -f %03g 1 $n_lbs); do printf 'lb=lb%s&' "$i"; done)
run() { # name url [lua]
  local name=$1 url=$2 lua=${3:-}
  local args=(-t2 -c16 -d"${secs}s" --latency --timeout 10s)
  [ -n "$lua" ] && args+=(-s "$lua")
  local out
  out=$(wrk "${args[@]}" "$url")
  local rps p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf 'bench-api: %-34s %10s req/s  p99 %8s  non-2xx %s\n' "$name" "$rps" "$p99" "${errs:-0}"
}
echo "bench-api: $n_lbs load balancers, dry-run, wrk -t2 -c16 ${secs}s each on 127.0.0.1"
run "GET /v1/lbs (status, 100 LBs)" "$base/v1/lbs"
run "GET /v1/lbs/lb050" "$base/v1/lbs/lb050"
run "GET /v1/forecast?lb=lb050" "$base/v1/forecast?lb=lb050"
run "GET /v1/forecast (100 LBs, 1 batch)" "$base/v1/forecast?${all_lbs%&}"
run "POST /v1/forecast (1 series x 2880)" "$base/v1/forecast" "$tmp/one.lua"
run "POST /v1/forecast (100 series x 2880)" "$base/v1/forecast" "$tmp/batch100.lua"
