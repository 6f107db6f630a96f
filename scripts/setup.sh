#!/usr/bin/env bash
# Idempotent set-up of everything shadowscale needs on a fresh Debian machine.
# Each step checks first and does nothing when its result is already there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mkdir -p "$cache/bin" "$cache/lib"

log() { printf 'setup: %s\n' "$*" >&2; }

apt_pkgs=(haproxy wrk socat etcd-server python3-torch python3-onnx python3-numpy python3-tqdm python3-pytest libopenblas0)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing from apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The ONNX Runtime shared library ships inside the npm package onnxruntime-node.
ort_ver=1.24.1
ort_lib="$cache/lib/libonnxruntime.so.$ort_ver"
if [ ! -s "$ort_lib" ]; then
  log "fetching ONNX Runtime $ort_ver from the npm package"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ort_ver" >/dev/null &&
    tar xzf "onnxruntime-node-$ort_ver.tgz" --strip-components=5 package/bin/napi-v6/linux/x64/libonnxruntime.so.1)
  mv "$tmp/libonnxruntime.so.1" "$ort_lib.tmp" && mv "$ort_lib.tmp" "$ort_lib"
  rm -rf "$tmp"
fi
ln -sf "libonnxruntime.so.$ort_ver" "$cache/lib/libonnxruntime.so"

# InfluxDB 1.8.3 is the last pure-Go release with Flux and /api/v2; build it once.
if [ ! -x "$cache/bin/influxd" ]; then
  log "building InfluxDB 1.8.3 (a few minutes, once)"
  GOBIN="$cache/bin" GOFLAGS=-mod=mod go install -ldflags "-X main.version=1.8.3" \
    github.com/influxdata/influxdb/cmd/influxd@v1.8.3
fi
log "ready: haproxy $(haproxy -v | head -1 | awk '{print $3}'), onnxruntime $ort_ver, influxd $("$cache/bin/influxd" version 2>/dev/null | awk '{print $2}')"
