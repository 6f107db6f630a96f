// Package testenv lets tests find the real components (HAProxy 2.6 and
// 3.2, the Data Plane API, InfluxDB, ONNX Runtime, PyTorch) and decide what
// to do when one is missing: under `make test` (SHADOWSCALE_STRICT=1) a
// missing component fails the test; a plain `go test` skips with a message
// naming what is missing.
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

// HAProxy returns the haproxy binary tests run: SHADOWSCALE_HAPROXY when
// set (`make test` runs the HAProxy suites a second time with it pointing
// at the built 3.2), else Debian's haproxy (2.6) from PATH; it fails/skips
// when that is missing.
func HAProxy(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SHADOWSCALE_HAPROXY"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, "haproxy "+p+" (SHADOWSCALE_HAPROXY)", "run `make setup`, which builds HAProxy 3.2 into .cache/bin/haproxy-3.2")
		}
		return p
	}
	return binary(t, "haproxy")
}

// HAProxyVersions returns the HAProxy binaries tests that span versions
// run against, by version: Debian's 2.6 and the 3.2 LTS `make setup`
// builds (.cache/bin/haproxy-3.2, or HAPROXY_32). A missing one
// fails/skips.
func HAProxyVersions(t testing.TB) map[string]string {
	t.Helper()
	p := cached(t, "HAPROXY_32", "bin/haproxy-3.2", "HAProxy 3.2", "run `make setup`, which builds it from the vendored source")
	return map[string]string{"2.6": binary(t, "haproxy"), "3.2": p}
}

// DataplaneAPI returns the Data Plane API v2.9.9 binary `make setup`
// builds (.cache/bin/dataplaneapi, or DATAPLANEAPI), or fails/skips.
func DataplaneAPI(t testing.TB) string {
	t.Helper()
	return cached(t, "DATAPLANEAPI", "bin/dataplaneapi", "the Data Plane API v2.9.9", "run `make setup`, which builds it from the vendored source")
}

// Chromium returns Debian's chromium (for the status page test) or
// fails/skips.
func Chromium(t testing.TB) string { return binary(t, "chromium") }

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
	return cached(t, "ONNXRUNTIME_LIB", "lib/libonnxruntime.so", "the ONNX Runtime library", "run `make setup`, which unpacks it from the npm package onnxruntime-node")
}

// Influxd returns the InfluxDB 1.8.3 server binary or fails/skips.
func Influxd(t testing.TB) string {
	t.Helper()
	return cached(t, "INFLUXD", "bin/influxd", "influxd 1.8.3", "run `make setup`, which builds it with go install")
}

// cached is Cached for a test: the component what, or fail/skip with
// how to install it.
func cached(t testing.TB, envVar, rel, what, howToInstall string) string {
	t.Helper()
	p := Cached(envVar, rel)
	if p == "" {
		Missing(t, what+" ("+envVar+" or .cache/"+rel+")", howToInstall)
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
