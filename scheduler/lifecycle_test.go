package scheduler

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLifecycleStepByStep steps RunOnce tick by tick through a peak and
// asserts the phase, the share HAProxy would see and the persisted state
// after every step (Flagger's scheduler tests).
func TestLifecycleStepByStep(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	want := map[int]struct {
		phase Phase
		share int
	}{
		9: {Idle, 0}, 10: {Provisioning, 0}, 12: {WarmingUp, 1}, 13: {WarmingUp, 2}, 14: {Ready, 1},
		15: {CuttingOver, 13}, 18: {Active, 50}, 19: {Active, 50}, 44: {Active, 50}, 45: {Draining, 38},
		48: {Draining, 0}, 49: {Idle, 0},
	}
	last := want[9]
	for m := 1; m <= 50; m++ {
		h.tick()
		if h.err != nil {
			t.Fatalf("%dm: %v", m, h.err)
		}
		if w, ok := want[m]; ok {
			last = w
			h.expect(w.phase, w.share)
		} else if got := h.lb(); got.Phase != last.phase && m < 15 {
			t.Fatalf("%dm: phase %s, want still %s", m, got.Phase, last.phase)
		}
		// Persisted after every step: the saved state matches the status.
		saved, _ := h.store.Load(context.Background())
		if got := phaseOf(saved.lb("app")); got != h.lb().Phase {
			t.Fatalf("%dm: saved phase %s, status %s", m, got, h.lb().Phase)
		}
	}
	if n := len(h.prov.live); n != 0 {
		t.Errorf("%d instances left after retiring", n)
	}
	if h.prov.created != 2 {
		t.Errorf("created %d instances, want 2", h.prov.created)
	}
}

// TestProvisionFailureRollsBack: the provider refuses; the failure is the
// recorded reason and the LB cools down.
func TestProvisionFailureRollsBack(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	h.prov.createErr = context.DeadlineExceeded
	for range 10 {
		h.tick()
	}
	st := h.lb()
	if st.Phase != Idle || st.RolledBack != 1 || !strings.Contains(st.LastFailure, "create 2 instances: context deadline exceeded") {
		t.Fatalf("status %+v", st)
	}
	h.tick()
	if !strings.Contains(h.lb().Plan.Decision, "cooldown") {
		t.Errorf("decision %q, want cooldown", h.lb().Plan.Decision)
	}
}

// TestReconcileRemovesForeignOrphans: a prefixed server no pool owns (left
// by an earlier run) is removed at start-up, the share zeroed first;
// servers without the prefix are left alone.
func TestReconcileRemovesForeignOrphans(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 150, 0, 0))
	ctx := context.Background()
	h.drv.AddServer(ctx, "app_shadow", ServerSpec{Name: ServerPrefix + "app-7-0", Addr: "10.0.0.9:80"})
	h.drv.AddServer(ctx, "app_shadow", ServerSpec{Name: "manual-1", Addr: "10.0.0.8:80"})
	h.drv.SetShare(ctx, "app", 5)
	h.prov.Create(ctx, 1)
	if err := h.sch.Reconcile(ctx, t0); err != nil {
		t.Fatal(err)
	}
	servers, _ := h.drv.ListServers(ctx, "app_shadow")
	if len(servers) != 1 || servers[0].Name != "manual-1" || h.drv.shares["app"] != 0 || len(h.prov.live) != 0 {
		t.Fatalf("servers %v share %d instances %v", servers, h.drv.shares["app"], h.prov.live)
	}
}

// TestReconcileDriverDown: HAProxy unreachable at start is an error naming
// the backend; once it is back, Reconcile succeeds.
func TestReconcileDriverDown(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 150, 0, 0))
	h.drv.down = true
	err := h.sch.Reconcile(context.Background(), t0)
	if err == nil || !strings.Contains(err.Error(), "list servers of app_shadow: haproxy unavailable") {
		t.Fatalf("err %v", err)
	}
	h.drv.down = false
	if err := h.sch.Reconcile(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	fs := FileStore{Path: filepath.Join(t.TempDir(), "sub", "state.json")}
	empty, err := fs.Load(ctx)
	if err != nil || empty.LBs != nil {
		t.Fatalf("missing file: %+v %v", empty, err)
	}
	st := State{Version: StateVersion, Seq: 3}
	st.lb("app").Pool = &Pool{ID: "ssp-app-3", Phase: WarmingUp, Share: 2, Since: t0, Servers: []string{"ssp-app-3-0"}}
	if err := fs.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	back, err := fs.Load(ctx)
	if err != nil || back.LBs["app"].Pool.Share != 2 || !back.LBs["app"].Pool.Since.Equal(t0) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(fs.Path), ".state-*"))
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	cases := map[string]func(*Settings){
		"quantile \"p75\"":     func(s *Settings) { s.Quantile = "p75" },
		"warm-up shares":       func(s *Settings) { s.Policy.WarmupShareInitial = 9 },
		"provider \"nowhere\"": func(s *Settings) { s.LBs[0].Provider = "nowhere" },
		"defined twice":        func(s *Settings) { s.LBs = append(s.LBs, s.LBs[0]) },
	}
	for want, mutate := range cases {
		s := testSettings()
		mutate(&s)
		_, err := New(s, Deps{Fallback: &oracle{}, History: &history{}, Driver: newFakeDriver(),
			Providers: map[string]Provider{"local": newFakeProvider(0, 0)}, Store: &MemStore{}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v", want, err)
		}
	}
}

// TestReconcileUnconfiguredLB: a pool of an LB dropped from the settings is
// rolled back at start-up, not left behind.
func TestReconcileUnconfiguredLB(t *testing.T) {
	set := testSettings()
	set.LBs = append(set.LBs, LBSpec{Name: "old", Backend: "old", ShadowBackend: "old_shadow", Provider: "local",
		Capacity: 100, MaxInstances: 10, Warmup: 2 * time.Minute})
	h := newHarness(t, set, step(150, 400, 20*time.Minute, 40*time.Minute))
	for range 13 {
		h.tick()
	}
	if st := h.sch.Status().LBs[1]; st.Phase != WarmingUp {
		t.Fatalf("old: %s", st.Phase)
	}
	h.set.LBs = h.set.LBs[:1]
	h.build()
	if err := h.sch.Reconcile(context.Background(), h.now); err != nil {
		t.Fatal(err)
	}
	servers, _ := h.drv.ListServers(context.Background(), "old_shadow")
	saved, _ := h.store.Load(context.Background())
	if len(servers) != 0 || h.drv.shares["old"] != 0 || saved.LBs["old"].Pool != nil || len(h.prov.live) != 2 {
		t.Fatalf("servers %v share %d pool %+v instances %d (app's 2 stay)", servers, h.drv.shares["old"], saved.LBs["old"].Pool, len(h.prov.live))
	}
}
