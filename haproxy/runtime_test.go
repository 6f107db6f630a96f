package haproxy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

func TestServerLifecycle(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	shadow := startApps(t, "s", 1, demoapp.Config{})
	h, r := lb(t, primary)
	be := h.ShadowBackend()

	must(t, r.AddServer(ctx, be, spec(shadow[0])))
	st, err := r.Server(ctx, be, "s1")
	must(t, err)
	if st.Admin != haproxy.StateMaint || st.Weight != 100 {
		t.Fatalf("after add: %+v, want maint weight 100", st)
	}
	must(t, r.WaitHealthy(ctx, be, "s1", 5*time.Second))
	if st, _ = r.Server(ctx, be, "s1"); st.Admin != haproxy.StateMaint || !haproxy.Healthy(st.CheckStatus) {
		t.Fatalf("after health wait: %+v, want maint with L7OK", st)
	}
	must(t, r.SetState(ctx, be, "s1", haproxy.StateReady))
	must(t, r.SetWeight(ctx, be, "s1", 50))
	must(t, r.SetShare(ctx, h.LB, 5))
	if st, _ = r.Server(ctx, be, "s1"); st.Admin != haproxy.StateReady || st.Weight != 50 {
		t.Fatalf("after ready+weight: %+v", st)
	}
	if pct, err := r.Share(ctx, h.LB); err != nil || pct != 5 {
		t.Fatalf("Share = %d, %v; want 5", pct, err)
	}
	cfg := readFile(t, h.Config)
	if !strings.Contains(cfg, "server s1 127.0.0.1:") || !strings.Contains(cfg, "weight 50") {
		t.Fatalf("config does not hold s1 at weight 50:\n%s", cfg)
	}
	if m := readFile(t, h.MapFile); m != "app 5\n" {
		t.Fatalf("map file = %q", m)
	}
	must(t, r.SetState(ctx, be, "s1", haproxy.StateDrain))
	must(t, r.RemoveServer(ctx, be, "s1", 2*time.Second))
	if _, err := r.Server(ctx, be, "s1"); !errors.Is(err, haproxy.ErrNotFound) {
		t.Fatalf("after remove: %v, want ErrNotFound", err)
	}
	if strings.Contains(readFile(t, h.Config), "server s1 ") {
		t.Fatal("config still holds s1 after removal")
	}
}

func TestReloadKeepsChanges(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	shadow := startApps(t, "s", 2, demoapp.Config{})
	h, r := lb(t, primary)
	be := h.ShadowBackend()
	for _, a := range shadow {
		must(t, r.AddServer(ctx, be, spec(a)))
		must(t, r.WaitHealthy(ctx, be, a.App.Stats().Name, 5*time.Second))
	}
	must(t, r.SetState(ctx, be, "s1", haproxy.StateReady))
	must(t, r.SetWeight(ctx, be, "s1", 42))
	must(t, r.SetState(ctx, be, "s2", haproxy.StateDrain))
	must(t, r.SetShare(ctx, h.LB, 7))
	must(t, r.Reload(ctx))

	got, err := r.ListServers(ctx, be)
	must(t, err)
	want := map[string]struct {
		admin  haproxy.State
		weight int
	}{"s1": {haproxy.StateReady, 42}, "s2": {haproxy.StateDrain, 100}}
	if len(got) != 2 {
		t.Fatalf("after reload: %+v, want s1 and s2", got)
	}
	for _, s := range got {
		if w := want[s.Name]; s.Admin != w.admin || s.Weight != w.weight {
			t.Errorf("after reload %s: admin %s weight %d, want %s %d", s.Name, s.Admin, s.Weight, w.admin, w.weight)
		}
	}
	if pct, err := r.Share(ctx, h.LB); err != nil || pct != 7 {
		t.Errorf("share after reload = %d, %v; want 7", pct, err)
	}
}

func TestShareForNewLBAddsKey(t *testing.T) {
	ctx := context.Background()
	_, r := lb(t, startApps(t, "p", 1, demoapp.Config{}))
	must(t, r.SetShare(ctx, "other", 3))
	must(t, r.SetShare(ctx, "other", 4))
	if pct, err := r.Share(ctx, "other"); err != nil || pct != 4 {
		t.Fatalf("Share(other) = %d, %v; want 4", pct, err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}
