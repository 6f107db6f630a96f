#!/usr/bin/env bash
# Idempotent set-up of everything shadowscale needs on a fresh Debian machine.
# Each step checks first and does nothing when its result is already there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mkdir -p "$cache/bin" "$cache/lib"

log() { printf 'setup: %s\n' "$*" >&2; }

apt_pkgs=(haproxy wrk socat etcd-server python3-torch python3-onnx python3-numpy python3-tqdm python3-pytest libopenblas0
  build-essential libssl-dev libpcre2-dev zlib1g-dev liblua5.4-dev # these five build HAProxy 3.2
  chromium fonts-dejavu-core) # the status page test
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
vendor="$root/../shared/vendor"

# build_once NAME CHECK CMD...: unless CHECK succeeds (the result is there,
# in the right version), runs CMD in a fresh temp dir under the cache (its
# first argument is that dir); a lock keeps two set-ups sharing the cache
# from building the same thing at once, and CMD moves its result into place
# only when complete.
build_once() {
  local name=$1 check=$2
  shift 2
  "$check" && return 0
  mkdir -p "$cache/tmp"
  exec 9>"$cache/tmp/$name.lock"
  flock 9
  if ! "$check"; then
    local work
    work=$(mktemp -d "$cache/tmp/$name.XXXXXX")
    log "building $name (once; a few minutes)"
    local t0=$SECONDS
    "$@" "$work"
    log "built $name in $((SECONDS - t0)) s"
    rm -rf "$work"
  fi
  exec 9>&-
}

# The real Data Plane API v2.9.9, to test the Data Plane driver against the program itself.
build_dataplaneapi() {
  tar xzf "$vendor/dataplaneapi-2.9.9.tar.gz" -C "$1"
  (cd "$1/dataplaneapi-2.9.9" && GOFLAGS=-mod=mod go build -o "$1/dataplaneapi" \
    -ldflags "-X main.GitTag=v2.9.9 -X main.GitCommit=d12243aa -X main.GitDirty=" ./cmd/dataplaneapi)
  mv "$1/dataplaneapi" "$cache/bin/dataplaneapi"
}
have_dataplaneapi() { [ -x "$cache/bin/dataplaneapi" ] && "$cache/bin/dataplaneapi" --version 2>/dev/null | grep -q 'v2\.9\.9'; }
build_once dataplaneapi have_dataplaneapi build_dataplaneapi

# HAProxy 3.2 LTS beside Debian's 2.6: the drivers are tested against both.
build_haproxy32() {
  tar xzf "$vendor/haproxy-3.2.0.tar.gz" -C "$1"
  make -s -C "$1/haproxy-3.2.0" -j2 TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_ZLIB=1 USE_PROMEX=1 USE_LUA=1 >/dev/null
  mv "$1/haproxy-3.2.0/haproxy" "$cache/bin/haproxy-3.2"
}
have_haproxy32() { [ -x "$cache/bin/haproxy-3.2" ] && "$cache/bin/haproxy-3.2" -v 2>/dev/null | grep -q 'version 3\.2\.0'; }
build_once haproxy-3.2 have_haproxy32 build_haproxy32

log "ready: haproxy $(haproxy -v | head -1 | awk '{print $3}'), onnxruntime $ort_ver, influxd $("$cache/bin/influxd" version 2>/dev/null | awk '{print $2}'), haproxy-3.2 $("$cache/bin/haproxy-3.2" -v | head -1 | awk '{print $3}'), dataplaneapi $("$cache/bin/dataplaneapi" --version 2>/dev/null | head -1 | awk '{print $5}')"
