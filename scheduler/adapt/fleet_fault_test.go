package adapt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/scheduler"
)

// TestFleetNodeRestartedEmpty: node n2 is killed mid-warm-up. While it is
// down the pool holds (no phase change, no share change, the reason names
// n2). It comes back from its original configuration, without the pool's
// servers and with share 0: the fleet re-adds them there in MAINT, holds
// until their checks pass on n2, sets them ready, re-applies the share,
// and the lifecycle completes with no orphan on either node.
func TestFleetNodeRestartedEmpty(t *testing.T) {
	r := newFleetRig(t, 2)
	if err := r.build(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stop()
	r.loadAll(ctx)
	n2 := r.nodes[1]
	st := r.untilPhase(scheduler.WarmingUp, 30)
	before := r.persisted()

	n2.down.Store(true)
	if err := n2.h.Kill(); err != nil {
		t.Fatal(err)
	}
	holds := 0
	for range 3 {
		st, err := r.tick(pause300)
		p := r.persisted()
		t.Logf("%s n2 down: %s share %d: %s; notes %v; err %v", r.now.Sub(t0), st.Phase, st.Share, st.Plan.Decision, st.Plan.Reason.Notes, err)
		if p.Phase != before.Phase || p.Share != before.Share || p.HealthyFor != before.HealthyFor {
			t.Fatalf("pool moved while n2 was down: %+v, was %+v", p, before)
		}
		if !strings.Contains(st.Plan.Decision, "hold") || !strings.Contains(strings.Join(st.Plan.Reason.Notes, " "), "n2") {
			t.Fatalf("decision %q, notes %v: want a hold naming n2", st.Plan.Decision, st.Plan.Reason.Notes)
		}
		holds++
	}
	h, err := n2.h.RestartEmpty(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	n2.h = h
	n2.down.Store(false)
	if _, servers := r.observe(n2); len(servers) != 0 {
		t.Fatalf("n2 restarted with %d shadow servers, want none", len(servers))
	}

	reseeded, regated := false, false
	for range 60 {
		st, err = r.tick(pause300)
		_, s2 := r.observe(n2)
		for _, s := range s2 {
			reseeded = true
			if s.Admin == haproxy.StateMaint && st.Phase != scheduler.Provisioning {
				regated = true // re-added, not serving until its check passed on n2
			}
		}
		degraded := err != nil || strings.Contains(strings.Join(st.Plan.Reason.Notes, " "), "n2")
		t.Logf("%s %s share %d: %s; n2 %s; degraded %v", r.now.Sub(t0), st.Phase, st.Share, st.Plan.Decision, serverCells(s2), degraded)
		if !degraded {
			r.checkNodes(st) // both nodes agree with the persisted pool again
		}
		if st.Phase == scheduler.Idle && st.Retired == 1 {
			break
		}
	}
	stop()
	t.Logf("holds while n2 down: %d; clients: %s", holds, r.clientCounts())
	if !reseeded || !regated {
		t.Fatalf("n2 re-seeded %v, re-gated in MAINT %v", reseeded, regated)
	}
	if st.Phase != scheduler.Idle || st.Retired != 1 || st.RolledBack != 0 {
		t.Fatalf("end: phase %s, retired %d, rolled back %d (%s)", st.Phase, st.Retired, st.RolledBack, st.LastFailure)
	}
	for _, nd := range r.nodes {
		if share, servers := r.observe(nd); share != 0 || len(servers) != 0 {
			t.Errorf("node %s at the end: share %d, servers %s (orphans)", nd.name, share, serverCells(servers))
		}
		if nd.fails.Load() != 0 {
			t.Errorf("node %s: %d client requests failed while it was up", nd.name, nd.fails.Load())
		}
	}
	if n, _ := r.prov.List(context.Background()); len(n) != 0 {
		t.Errorf("%d instances left", len(n))
	}
}

// untilPhase ticks (asserting both nodes) until the phase is reached.
func (r *fleetRig) untilPhase(phase scheduler.Phase, n int) scheduler.LBStatus {
	r.t.Helper()
	for range n {
		st, err := r.tick(pause300)
		if err != nil {
			r.t.Fatalf("%s: %v", r.now.Sub(t0), err)
		}
		r.checkNodes(st)
		if st.Phase == phase {
			return st
		}
	}
	r.t.Fatalf("phase %s not reached in %d ticks", phase, n)
	return scheduler.LBStatus{}
}
