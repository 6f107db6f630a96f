# shadowscale — every target works on a fresh Debian machine; `setup` is
# idempotent and each target that needs real components runs it first.
SHELL := /bin/bash
GO ?= go
ROOT := $(CURDIR)
CACHE := $(ROOT)/.cache
PYTHON := /usr/bin/python3
TRACES ?= $(ROOT)/../shared/data/traces

# Tests find the real components here; SHADOWSCALE_STRICT makes a missing one a failure.
export ONNXRUNTIME_LIB ?= $(CACHE)/lib/libonnxruntime.so
export INFLUXD ?= $(CACHE)/bin/influxd
export SHADOWSCALE_TRACES ?= $(TRACES)
export DATAPLANEAPI ?= $(CACHE)/bin/dataplaneapi
export HAPROXY_32 ?= $(CACHE)/bin/haproxy-3.2
# The suites that drive a real HAProxy run once more against 3.2 LTS (the
# first run uses Debian's 2.6).
HAPROXY_MATRIX := ./haproxy/ ./scheduler/adapt/
# serve with the runtime driver on several nodes and with [ha], on 3.2 too
SERVE_MATRIX := -run 'TestHA$$|TestServeTwoNodes' ./cmd/shadowscale/

.PHONY: setup build test gotest pytest bench demo lint train

setup:
	@bash scripts/setup.sh

build:
	$(GO) build -o bin/shadowscale ./cmd/shadowscale
	$(GO) build -o bin/demo-app ./cmd/demoapp

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...

test: setup lint gotest pytest

gotest:
	SHADOWSCALE_STRICT=1 $(GO) test -race -count=1 -timeout 20m ./...
	SHADOWSCALE_STRICT=1 SHADOWSCALE_HAPROXY=$(HAPROXY_32) $(GO) test -race -count=1 -timeout 10m $(HAPROXY_MATRIX)
	SHADOWSCALE_STRICT=1 SHADOWSCALE_HAPROXY=$(HAPROXY_32) $(GO) test -race -count=1 -timeout 10m $(SERVE_MATRIX)

pytest:
	@if [ -d training/tests ]; then cd training && SHADOWSCALE_STRICT=1 $(PYTHON) -m pytest -q tests; fi

bench: setup build
	bash scripts/bench.sh

demo: setup build
	bash scripts/demo.sh

# The default model: fixed seed, loss log in models/lstm-2/loss.csv (~4 min on an idle core).
train: setup
	$(PYTHON) training/train.py --traces $(TRACES) --out models/lstm-2 --version 2 --samples 2000 --epochs 12 --max-seconds 1500 --quiet
