package haproxytest

import (
	"context"
	"os"
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// Start starts HAProxy for a test with cfg in a fresh temp dir and stops it
// (by PID) at cleanup. A missing haproxy binary skips the test, or fails it
// under SHADOWSCALE_STRICT=1.
func Start(t testing.TB, cfg Config) *HAProxy {
	t.Helper()
	bin := testenv.HAProxy(t)
	// os.MkdirTemp rather than t.TempDir: unix socket paths must stay
	// under 108 bytes and t.TempDir embeds the test name.
	dir, err := os.MkdirTemp("", "hap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h, err := StartProcess(context.Background(), bin, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Error(err)
		}
	})
	return h
}
