package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// The environment selects the binaries: SHADOWSCALE_HAPROXY the HAProxy
// every HAProxy test runs (the make test matrix), HAPROXY_32 and
// DATAPLANEAPI the built ones.
func TestEnvironmentSelects(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "haproxy")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  string
		get  func(testing.TB) string
		name string
	}{
		{"SHADOWSCALE_HAPROXY", HAProxy, "HAProxy"},
		{"DATAPLANEAPI", DataplaneAPI, "DataplaneAPI"},
		{"HAPROXY_32", func(t testing.TB) string { return HAProxyVersions(t)["3.2"] }, "HAProxyVersions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, bin)
			if got := tt.get(t); got != bin {
				t.Fatalf("%s with %s=%s: %q", tt.name, tt.env, bin, got)
			}
		})
	}
}
