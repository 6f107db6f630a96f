package scheduler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestControlsPersistAndApply: each control is in force from the next tick
// and survives a restart (a new Scheduler over the same store).
func TestControlsPersistAndApply(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	if err := h.sch.Pause(ctx, "app", h.now); err != nil {
		t.Fatal(err)
	}
	if err := h.sch.SetKillSwitch(ctx, true); err != nil {
		t.Fatal(err)
	}
	h.build() // restart
	for range 15 {
		h.tick()
	}
	st := h.lb()
	if st.Phase != Idle || !strings.HasPrefix(st.Plan.Decision, "paused by operator") {
		t.Fatalf("paused LB: phase %s decision %q", st.Phase, st.Plan.Decision)
	}
	v, _ := h.sch.Controls(ctx)
	if !v.KillSwitch || v.KillSwitchSource != "operator" || v.DryRunSource != "config" || v.Paused["app"].IsZero() {
		t.Fatalf("controls after restart: %+v", v)
	}
	if !h.sch.Status().KillSwitch {
		t.Fatal("status does not show the kill switch")
	}
	if err := h.sch.Resume(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := h.sch.SetKillSwitch(ctx, false); err != nil {
		t.Fatal(err)
	}
	h.tick()
	if got := h.lb(); got.Phase != Provisioning {
		t.Fatalf("resumed LB did not provision: %s %q", got.Phase, got.Plan.Decision)
	}
}

// TestControlErrors: unknown LBs and rollback without a pool are refused
// with the sentinel errors the API maps to status codes.
func TestControlErrors(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testSettings(), step(150, 150, 0, 0))
	for name, err := range map[string]error{
		"pause":    h.sch.Pause(ctx, "nope", h.now),
		"resume":   h.sch.Resume(ctx, "nope"),
		"rollback": func() error { _, err := h.sch.ForceRollback(ctx, "nope", "x", h.now); return err }(),
	} {
		if !errors.Is(err, ErrUnknownLB) {
			t.Errorf("%s: %v, want ErrUnknownLB", name, err)
		}
	}
	if _, err := h.sch.ForceRollback(ctx, "app", "x", h.now); !errors.Is(err, ErrNoPool) {
		t.Errorf("rollback without pool: %v", err)
	}
}

// TestForceRollbackActivePool: a cut-over pool goes back to the primary at
// once (share 0 before teardown) and the reason is recorded.
func TestForceRollbackActivePool(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	for range 18 {
		h.tick()
	}
	h.expect(Active, 50)
	msg, err := h.sch.ForceRollback(context.Background(), "app", "operator test", h.now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "forced by operator: operator test") {
		t.Fatalf("message %q", msg)
	}
	h.expect(Idle, 0)
	if st := h.lb(); st.RolledBack != 1 {
		t.Fatalf("rolled back %d", st.RolledBack)
	}
	saved, _ := h.store.Load(context.Background())
	if saved.lb("app").Pool != nil || !strings.Contains(saved.lb("app").LastFailure, "operator test") {
		t.Fatalf("saved %+v", saved.lb("app"))
	}
}

// TestControlsConcurrentWithRun: control calls from another goroutine while
// Run ticks (go test -race checks the locking).
func TestControlsConcurrentWithRun(t *testing.T) {
	set := testSettings()
	set.Tick = 5 * time.Millisecond
	h := newHarness(t, set, step(150, 400, 0, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.sch.Run(ctx, SystemClock{}) }()
	for i := range 50 {
		h.sch.SetDryRun(ctx, i%2 == 0)
		h.sch.Pause(ctx, "app", time.Now())
		h.sch.Resume(ctx, "app")
		h.sch.Status()
		h.sch.Forecasts()
		h.sch.Controls(ctx)
	}
	cancel()
	wg.Wait()
	if v, _ := h.sch.Controls(ctx); v.DryRun || v.DryRunSource != "operator" {
		t.Fatalf("controls %+v", v)
	}
}

// TestOperatorEventLiftsPlan: an event added through the controls lifts the
// plan from the next tick, survives a restart and goes away when deleted.
func TestOperatorEventLiftsPlan(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testSettings(), step(150, 150, 0, 0))
	h.tick()
	base := h.lb().Plan.Needed
	ev, err := h.sch.AddEvent(ctx, OperatorEvent{LB: AllLBs, Kind: "campaign", Start: t0, End: t0.Add(time.Hour), Lift: 3})
	if err != nil || ev.ID != "ev-1" {
		t.Fatalf("add: %+v %v", ev, err)
	}
	h.build()
	h.tick()
	if got := h.lb().Plan.Needed; got <= base {
		t.Fatalf("needed %d with a lift of 3, %d without", got, base)
	}
	if err := h.sch.DeleteEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.sch.DeleteEvent(ctx, ev.ID); !errors.Is(err, ErrNoEvent) {
		t.Fatalf("second delete: %v", err)
	}
	h.tick()
	if got := h.lb().Plan.Needed; got != base {
		t.Fatalf("needed %d after delete, want %d: %+v", got, base, h.lb().Plan.Reason)
	}
}
