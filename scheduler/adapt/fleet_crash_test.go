package adapt_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/scheduler"
)

// errCrash is what a crashing node panics with: the process "dies" after
// the fleet changed the nodes before it and before anything was saved.
var errCrash = errors.New("crash between node changes")

// crashNode dies (panics) on its next change of the armed kind, before
// making it.
type crashNode struct {
	haproxy.Node
	armed atomic.Value // "state" or "share"; "" = off
}

func (c *crashNode) crash(kind string) {
	if c.armed.Load() == kind {
		c.armed.Store("")
		panic(errCrash)
	}
}

func (c *crashNode) SetState(ctx context.Context, backend, server string, st haproxy.State) error {
	c.crash("state")
	return c.Node.SetState(ctx, backend, server, st)
}

func (c *crashNode) SetShare(ctx context.Context, lb string, pct int) error {
	c.crash("share")
	return c.Node.SetShare(ctx, lb, pct)
}

// crashTick runs a tick that must die in the middle; the scheduler object
// is then dropped, as a killed process is.
func (r *fleetRig) crashTick(pause time.Duration) (crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != errCrash {
				panic(v)
			}
			crashed = true
		}
	}()
	_, _ = r.tick(pause)
	return false
}

// splitNodes says how the two nodes differ from each other right now.
func (r *fleetRig) splitNodes() string {
	s1, l1 := r.observe(r.nodes[0])
	s2, l2 := r.observe(r.nodes[1])
	return fmt.Sprintf("n1 %d%% %s, n2 %d%% %s", s1, serverCells(l1), s2, serverCells(l2))
}

// TestFleetCrashBetweenNodes: the scheduler dies twice between its change
// of node n1 and that of node n2, leaving the two nodes in different
// states (n1 applied, n2 not, nothing saved): while readying the servers
// for warm-up, while setting the warm-up share, and mid-cutover. Each time a restart's reconcile
// brings both nodes to the persisted state, and the lifecycle then runs to
// the end with no orphan and no client error.
func TestFleetCrashBetweenNodes(t *testing.T) {
	r := newFleetRig(t, 2)
	n2 := &crashNode{}
	n2.armed.Store("")
	r.wrap = func(i int, n haproxy.Node) haproxy.Node {
		if i == 1 {
			n2.Node = n
			return n2
		}
		return n
	}
	if err := r.build(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stop()
	r.loadAll(ctx)
	crashes := 0
	crashAt := func(kind string) {
		t.Helper()
		phase := r.persisted().Phase
		n2.armed.Store(kind)
		for range 10 {
			if r.crashTick(pause300) {
				break
			}
			r.checkNodes(r.sch.Status().LBs[0])
		}
		if n2.armed.Load() != "" {
			t.Fatalf("no crash on %s in phase %s", kind, phase)
		}
		crashes++
		split := r.splitNodes()
		if err := r.build(); err != nil {
			t.Fatalf("reconcile after the crash: %v", err)
		}
		t.Logf("crash %d (%s, %s): nodes were %s; after reconcile %s, persisted %s %d%%",
			crashes, phase, kind, split, r.splitNodes(), r.persisted().Phase, r.persisted().Share)
		r.checkNodes(r.sch.Status().LBs[0])
	}
	r.untilPhase(scheduler.Provisioning, 30)
	crashAt("state") // startWarmup readies the servers: n1's first one only
	crashAt("share") // startWarmup's share: on n1 only, servers ready on both
	r.untilPhase(scheduler.CuttingOver, 30)
	crashAt("share") // the next cutover step: on n1 only
	for range 40 {
		st, err := r.tick(0)
		if err != nil {
			t.Fatalf("%s: %v", r.now.Sub(t0), err)
		}
		r.checkNodes(st)
		if st.Phase == scheduler.Idle {
			break
		}
	}
	stop()
	st := r.sch.Status().LBs[0]
	t.Logf("crashes %d; end %s, retired %d, rolled back %d; clients: %s", crashes, st.Phase, st.Retired, st.RolledBack, r.clientCounts())
	if st.Phase != scheduler.Idle || st.Retired != 1 {
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
