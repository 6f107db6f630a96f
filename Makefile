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

pytest:
	@if [ -d training/tests ]; then cd training && SHADOWSCALE_STRICT=1 $(PYTHON) -m pytest -q tests; fi

bench: setup build
	bash scripts/bench.sh

demo: setup build
	bash scripts/demo.sh

# The default model: fixed seed, progress bar, loss log in models/lstm-1/loss.csv (~10 min on 2 cores).
train: setup
	$(PYTHON) training/train.py --traces $(TRACES) --out models/lstm-1
