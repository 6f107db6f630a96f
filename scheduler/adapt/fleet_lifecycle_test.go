package adapt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/scheduler"
)

// dropMapKey makes the node's map a new load balancer's: no key for "app"
// in the live map nor in the file.
func dropMapKey(t *testing.T, nd *fleetNode) {
	t.Helper()
	if _, err := haproxytest.Command(nd.h.StatsSocket, "del map "+nd.h.MapFile+" app"); err != nil {
		t.Fatal(err)
	}
	if out, _ := haproxytest.Command(nd.h.StatsSocket, "show map "+nd.h.MapFile); strings.Contains(out, "app") {
		t.Fatalf("node %s map still has the key: %q", nd.name, out)
	}
}

// TestTwoNodeFleetLifecycle: the scheduler over two real HAProxy nodes
// (own sockets and maps, the same apps behind them, load through both)
// runs a whole peak: provision → warm-up → cutover → drain → retire. After
// every tick both nodes hold the persisted share and exactly the pool's
// servers, in the phase's admin state, with checks running and passing.
// The maps start without a key for the LB (a new load balancer), so the
// first share change must add it. No client request fails on either node.
func TestTwoNodeFleetLifecycle(t *testing.T) {
	r := newFleetRig(t, 2)
	for _, nd := range r.nodes {
		dropMapKey(t, nd)
	}
	if err := r.build(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stop()
	r.loadAll(ctx)
	seen := map[scheduler.Phase]bool{}
	for i := 0; i < 70; i++ {
		pause := time.Duration(0)
		if p := r.persisted(); p != nil && p.Phase != scheduler.Active {
			pause = pause300
		}
		st, err := r.tick(pause)
		if err != nil {
			t.Fatalf("%s: %v", r.now.Sub(t0), err)
		}
		seen[st.Phase] = true
		r.checkNodes(st)
		if st.Phase == scheduler.Idle && st.Retired == 1 {
			break
		}
	}
	stop()
	t.Logf("per tick, as both nodes report it:\n%s", r.table())
	t.Logf("clients: %s", r.clientCounts())
	for _, ph := range []scheduler.Phase{scheduler.Provisioning, scheduler.WarmingUp, scheduler.Ready,
		scheduler.CuttingOver, scheduler.Active, scheduler.Draining} {
		if !seen[ph] {
			t.Errorf("phase %s never seen", ph)
		}
	}
	st := r.sch.Status().LBs[0]
	if st.Phase != scheduler.Idle || st.Retired != 1 || st.RolledBack != 0 {
		t.Fatalf("end: phase %s, retired %d, rolled back %d (%s)", st.Phase, st.Retired, st.RolledBack, st.LastFailure)
	}
	if n, _ := r.prov.List(context.Background()); len(n) != 0 {
		t.Errorf("%d instances left", len(n))
	}
	for _, nd := range r.nodes {
		if nd.fails.Load() != 0 {
			t.Errorf("node %s: %d of %d client requests failed", nd.name, nd.fails.Load(), nd.sent.Load())
		}
	}
}

const pause300 = 300 * time.Millisecond
