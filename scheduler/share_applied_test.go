package scheduler

import (
	"context"
	"errors"
	"testing"
	"time"
)

// shareFails is the fake load balancer with share changes that fail, as
// they did for a new LB whose map had no key yet.
type shareFails struct {
	*fakeDriver
	fail bool
}

func (d *shareFails) SetShare(ctx context.Context, lb string, pct int) error {
	if d.fail {
		return errors.New("set share: map has no such key")
	}
	return d.fakeDriver.SetShare(ctx, lb, pct)
}

// TestPhaseRecordedOnlyOnceShareApplied: while the share change fails the
// persisted phase never runs ahead of the load balancer (no WarmingUp at
// 0 %, no Ready at the warm-up share); once it works the pool goes on.
func TestPhaseRecordedOnlyOnceShareApplied(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	drv := &shareFails{fakeDriver: h.drv}
	sch, err := New(h.set, Deps{Forecaster: h.model, Fallback: h.fb, History: h.hist, Driver: drv,
		Providers: map[string]Provider{"local": h.prov}, Store: h.store})
	if err != nil {
		t.Fatal(err)
	}
	h.sch = sch
	saved := func() (Phase, int) {
		s, _ := h.store.Load(context.Background())
		return phaseOf(s.lb("app")), shareOf(s.lb("app"))
	}
	tests := []struct {
		minute int
		fail   bool
		phase  Phase
		share  int
	}{
		{10, false, Provisioning, 0},
		{11, true, Provisioning, 0}, // healthy, but the warm-up share is not applied
		{12, true, Provisioning, 0},
		{13, false, WarmingUp, 1},
		{14, false, WarmingUp, 2},
		{15, true, WarmingUp, 2}, // warm-up done, but the keep-warm share is not applied
		{16, false, Ready, 1},
	}
	m := 0
	for _, tt := range tests {
		for m < tt.minute {
			drv.fail = tt.fail
			h.tick()
			m++
		}
		phase, share := saved()
		if phase != tt.phase || share != tt.share || drv.shares["app"] != share {
			t.Fatalf("%dm: saved %s at %d%% (load balancer %d%%), want %s at %d%%; err %v",
				m, phase, share, drv.shares["app"], tt.phase, tt.share, h.err)
		}
	}
}
