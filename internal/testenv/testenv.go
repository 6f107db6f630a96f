// Package testenv lets tests find the real components (HAProxy, InfluxDB,
// ONNX Runtime, PyTorch) and decide what to do when one is missing: under
// `make test` (SHADOWSCALE_STRICT=1) a missing component fails the test; a
// plain `go test` skips with a message naming what is missing.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Strict reports whether missing components must fail tests.
func Strict() bool { return os.Getenv("SHADOWSCALE_STRICT") == "1" }

// Missing fails (strict) or skips the test, naming what is missing and how
// to get it.
func Missing(t testing.TB, what, howToInstall string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s is missing: %s", what, howToInstall)
	}
	t.Skipf("skipping: %s is missing (%s)", what, howToInstall)
}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Cached returns a file the set-up caches under .cache/ (or the env var's
// value when set), or "" when it does not exist.
func Cached(envVar, rel string) string {
	p := os.Getenv(envVar)
	if p == "" {
		p = filepath.Join(RepoRoot(), ".cache", rel)
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// HAProxy returns the haproxy binary or fails/skips.
func HAProxy(t testing.TB) string { return binary(t, "haproxy") }

// Python returns Debian's python3 (the one that sees python3-torch).
func Python(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		Missing(t, "/usr/bin/python3", "run `make setup`")
	}
	return "/usr/bin/python3"
}

// ONNXRuntime returns the ONNX Runtime shared library or fails/skips.
func ONNXRuntime(t testing.TB) string {
	t.Helper()
	p := Cached("ONNXRUNTIME_LIB", "lib/libonnxruntime.so")
	if p == "" {
		Missing(t, "the ONNX Runtime library (ONNXRUNTIME_LIB or .cache/lib/libonnxruntime.so)", "run `make setup`, which unpacks it from the npm package onnxruntime-node")
	}
	return p
}

// Influxd returns the InfluxDB 1.8.3 server binary or fails/skips.
func Influxd(t testing.TB) string {
	t.Helper()
	p := Cached("INFLUXD", "bin/influxd")
	if p == "" {
		Missing(t, "influxd 1.8.3 (INFLUXD or .cache/bin/influxd)", "run `make setup`, which builds it with go install")
	}
	return p
}

func binary(t testing.TB, name string) string {
	t.Helper()
	return binaryHint(t, name, "run `make setup` (apt-get install "+name+")")
}

func binaryHint(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, hint)
	}
	return p
}
