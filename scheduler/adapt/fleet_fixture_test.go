package adapt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// fleetNode is one HAProxy of the fleet rig with its own sockets and map,
// and the client load sent through it.
type fleetNode struct {
	name      string
	h         *haproxytest.HAProxy
	rt        *haproxy.Runtime
	down      atomic.Bool // killed on purpose: failures count apart
	sent      atomic.Int64
	fails     atomic.Int64
	failsDown atomic.Int64
}

// fleetRig is two (or more) real HAProxy processes in front of the same
// primaries, one local process provider for the shadow pool, and the
// scheduler over the fleet of both.
type fleetRig struct {
	t         *testing.T
	nodes     []*fleetNode
	wrap      func(i int, n haproxy.Node) haproxy.Node // optional, per node
	prov      provision.Provider
	sch       *scheduler.Scheduler
	now       time.Time
	statePath string
	rows      []string
}

func newFleetRig(t *testing.T, n int) *fleetRig {
	bin := demoappBinary(t)
	r := &fleetRig{t: t, now: t0, statePath: filepath.Join(t.TempDir(), "state.json")}
	var prim []haproxytest.Server
	for i := range 2 {
		in, err := demoapp.Start(demoapp.Config{Name: fmt.Sprintf("p%d", i), Delay: time.Millisecond}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		prim = append(prim, haproxytest.Server{Name: fmt.Sprintf("p%d", i), Addr: in.Addr})
	}
	for i := range n {
		nd := &fleetNode{name: fmt.Sprintf("n%d", i+1)}
		nd.h = haproxytest.Start(t, haproxytest.Config{LB: "app", Primary: prim, CheckInter: checkInter})
		var err error
		nd.rt, err = haproxy.NewRuntime(context.Background(), haproxy.NodeConfig{Name: nd.name, StatsSocket: nd.h.StatsSocket,
			MasterSocket: nd.h.MasterSocket, MapFile: nd.h.MapFile, StateFile: nd.h.StateFile, Timeout: 2 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.nodes = append(r.nodes, nd)
	}
	pc := config.DefaultProvider("local")
	pc.Kind, pc.AppBinary, pc.AppArgs = "local", bin, []string{"--delay", "1ms", "--cold-error-rate", "0"}
	pc.BootTime, pc.WarmupTime, pc.PricePerHour = time.Minute, 2*time.Minute, 0.1
	var err error
	if r.prov, err = provision.New(pc, "local", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		insts, _ := r.prov.List(context.Background())
		for _, in := range insts {
			r.prov.Destroy(context.Background(), in)
		}
	})
	return r
}

// build is a (re)start of the service: a new fleet over the same nodes, a
// new scheduler over the same state file, then reconcile.
func (r *fleetRig) build() error {
	nodes := make([]haproxy.Node, len(r.nodes))
	for i, nd := range r.nodes {
		nodes[i] = nd.rt
		if r.wrap != nil {
			nodes[i] = r.wrap(i, nd.rt)
		}
	}
	pol := scheduler.DefaultPolicy()
	pol.Headroom, pol.ScaleDownAfter, pol.Cooldown = 0, 3*time.Minute, 5*time.Minute
	set := scheduler.Settings{Tick: time.Minute, Horizon: 30 * time.Minute, Policy: pol,
		ProvisionTimeout: 30 * time.Minute, Gate: scheduler.Gate{MinRequests: 1},
		LBs: []scheduler.LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local",
			Capacity: 100, MaxInstances: 4, Warmup: 2 * time.Minute}}}
	sch, err := scheduler.New(set, scheduler.Deps{Forecaster: oracle{}, Fallback: oracle{}, History: history{},
		Driver:    adapt.Driver{Fleet: fleetOf(r.t, nodes...), CheckInter: checkInter},
		Providers: map[string]scheduler.Provider{"local": adapt.Provider{P: r.prov}},
		Store:     scheduler.FileStore{Path: r.statePath}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.sch = sch
	return sch.Reconcile(context.Background(), r.now)
}

// load sends steady requests through one node until ctx is done.
func (r *fleetRig) load(ctx context.Context, nd *fleetNode) {
	url := nd.h.URL() // a restarted node keeps its port
	steadyGets(ctx, func() string { return url }, func(ok bool) {
		nd.sent.Add(1)
		switch {
		case !ok && nd.down.Load():
			nd.failsDown.Add(1)
		case !ok:
			nd.fails.Add(1)
		}
	})
}

func (r *fleetRig) loadAll(ctx context.Context) {
	for _, nd := range r.nodes {
		go r.load(ctx, nd)
	}
}

// tick pauses (real time, for checks and requests), advances simulated
// time by a minute and runs one tick; the tick's error is returned.
func (r *fleetRig) tick(pause time.Duration) (scheduler.LBStatus, error) {
	time.Sleep(pause)
	r.now = r.now.Add(time.Minute)
	err := r.sch.RunOnce(context.Background(), r.now)
	return r.sch.Status().LBs[0], err
}

// persisted is the pool as the state file has it (nil when idle).
func (r *fleetRig) persisted() *scheduler.Pool {
	r.t.Helper()
	st, err := scheduler.FileStore{Path: r.statePath}.Load(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if l := st.LBs["app"]; l != nil {
		return l.Pool
	}
	return nil
}

// observe reads every node directly (not through the fleet) and returns
// one table row: share, servers with admin state and check, per node.
func (r *fleetRig) observe(nd *fleetNode) (share int, servers []haproxy.ServerStatus) {
	r.t.Helper()
	ctx := context.Background()
	share, err := nd.rt.Share(ctx, "app")
	if errors.Is(err, haproxy.ErrNotFound) {
		share, err = 0, nil // no key: the frontend's map() default, 0
	}
	if err != nil {
		r.t.Fatalf("node %s share: %v", nd.name, err)
	}
	servers, err = nd.rt.ListServers(ctx, "app_shadow")
	if err != nil {
		r.t.Fatalf("node %s servers: %v", nd.name, err)
	}
	return share, servers
}

// checkNodes asserts that every node agrees with the persisted pool: the
// same share, exactly its servers, the admin state its phase implies, and
// health checks running (healthy once past provisioning). It records the
// tick's row.
func (r *fleetRig) checkNodes(st scheduler.LBStatus) {
	r.t.Helper()
	p := r.persisted()
	row := fmt.Sprintf("| %5s | %-12s |", r.now.Sub(t0), st.Phase)
	for _, nd := range r.nodes {
		share, servers := r.observe(nd)
		row += fmt.Sprintf(" %2d%% %s |", share, serverCells(servers))
		if msg := agree(p, share, servers); msg != "" {
			r.t.Fatalf("%s node %s: %s (pool %+v)", r.now.Sub(t0), nd.name, msg, p)
		}
	}
	r.rows = append(r.rows, row)
}

func serverCells(servers []haproxy.ServerStatus) string {
	if len(servers) == 0 {
		return "-"
	}
	var cells []string
	for _, s := range servers {
		i := strings.LastIndexByte(s.Name, '-')
		cells = append(cells, fmt.Sprintf("%s:%s/%s", s.Name[i+1:], s.Admin, strings.TrimPrefix(s.CheckStatus, "* ")))
	}
	return strings.Join(cells, " ")
}

// agree says how a node differs from the persisted pool, or "".
func agree(p *scheduler.Pool, share int, servers []haproxy.ServerStatus) string {
	var names []string
	for _, s := range servers {
		names = append(names, s.Name)
	}
	if p == nil {
		if share != 0 || len(servers) != 0 {
			return fmt.Sprintf("idle but share %d%%, servers %v", share, names)
		}
		return ""
	}
	if share != p.Share {
		return fmt.Sprintf("share %d%%, persisted %d%%", share, p.Share)
	}
	if p.Phase != scheduler.Provisioning && !slices.Equal(names, p.Servers) {
		return fmt.Sprintf("servers %v, persisted %v", names, p.Servers)
	}
	for _, s := range servers {
		if msg := serverAgrees(p, s); msg != "" {
			return s.Name + ": " + msg
		}
	}
	return ""
}

func serverAgrees(p *scheduler.Pool, s haproxy.ServerStatus) string {
	want := []haproxy.State{haproxy.StateReady}
	switch {
	case p.Phase == scheduler.Provisioning:
		// Not gated yet, so no share: a crash may have readied some
		// servers on some nodes (HAProxy pauses the checks of a server
		// forced back into MAINT, so they are left ready).
		want = []haproxy.State{haproxy.StateMaint, haproxy.StateReady}
	case p.Phase == scheduler.RollingBack, p.Phase == scheduler.Retired:
		want = []haproxy.State{haproxy.StateMaint}
	case p.Phase == scheduler.Draining && !p.DrainedAt.IsZero():
		want = []haproxy.State{haproxy.StateDrain}
	}
	switch {
	case !slices.Contains(want, s.Admin):
		return fmt.Sprintf("admin %s in phase %s", s.Admin, p.Phase)
	case s.CheckStatus == "":
		return "no health check running"
	case p.Phase != scheduler.Provisioning && !haproxy.Healthy(s.CheckStatus) && s.Admin != haproxy.StateDrain:
		return fmt.Sprintf("check %q in phase %s", s.CheckStatus, p.Phase)
	}
	return ""
}

// table is the per-tick table for the log (and the closing note).
func (r *fleetRig) table() string {
	head := "|  tick | phase        |"
	for _, nd := range r.nodes {
		head += fmt.Sprintf(" %s share, servers (idx:admin/check) |", nd.name)
	}
	return head + "\n" + strings.Join(r.rows, "\n")
}

// clientCounts sums the nodes' client counters.
func (r *fleetRig) clientCounts() string {
	var parts []string
	for _, nd := range r.nodes {
		parts = append(parts, fmt.Sprintf("%s: %d sent, %d failed (+%d while it was down)", nd.name, nd.sent.Load(), nd.fails.Load(), nd.failsDown.Load()))
	}
	return strings.Join(parts, "; ")
}
