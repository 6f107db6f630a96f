package adapt_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// t0 is the simulated start; ticks advance simulated time by a minute
// while real HAProxy and real app processes run in real time.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

const checkInter = 100 * time.Millisecond

var demoBin struct {
	once sync.Once
	path string
	err  error
}

func demoappBinary(t *testing.T) string {
	demoBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "sched-demoapp")
		if err != nil {
			demoBin.err = err
			return
		}
		demoBin.path = filepath.Join(dir, "demoapp")
		cmd := exec.Command("go", "build", "-o", demoBin.path, "./cmd/demoapp")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			demoBin.err = fmt.Errorf("go build ./cmd/demoapp: %v\n%s", err, out)
		}
	})
	if demoBin.err != nil {
		t.Fatal(demoBin.err)
	}
	return demoBin.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoBin.path != "" {
		os.RemoveAll(filepath.Dir(demoBin.path))
	}
	os.Exit(code)
}

// demand is 150 req/s with a peak of 400 from 20m to 40m (simulated).
func demand(_ string, t time.Time) float64 {
	if d := t.Sub(t0); d >= 20*time.Minute && d < 40*time.Minute {
		return 400
	}
	return 150
}

type oracle struct{}

func (oracle) Name() string { return "oracle" }
func (oracle) Forecast(_ context.Context, in []inference.Series, h int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(in))
	for i, s := range in {
		f := inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: "oracle"}
		for k := range h {
			v := demand(s.ID, s.End().Add(time.Duration(k)*s.Step))
			f.P10, f.P50, f.P90 = append(f.P10, v), append(f.P50, v), append(f.P90, v)
		}
		out[i] = f
	}
	return out, nil
}

type history struct{}

func (history) Demand(_ context.Context, lb string, now time.Time) (inference.Series, error) {
	s := inference.Series{ID: lb, Step: time.Minute, Start: now.Add(-29 * time.Minute)}
	for i := range 30 {
		s.Values = append(s.Values, demand(lb, s.Start.Add(time.Duration(i)*time.Minute)))
	}
	return s, nil
}

// rig is real HAProxy in front of two in-process primaries, a local
// process provider for the shadow pool, and light steady client load.
type rig struct {
	t         *testing.T
	h         *haproxytest.HAProxy
	rt        *haproxy.Runtime
	prov      provision.Provider
	sch       *scheduler.Scheduler
	now       time.Time
	statePath string
	dryRun    bool
	sent      atomic.Int64
	fails     atomic.Int64
}

func newRig(t *testing.T) *rig {
	bin := demoappBinary(t)
	r := &rig{t: t, now: t0}
	var prim []haproxytest.Server
	for i := range 2 {
		in, err := demoapp.Start(demoapp.Config{Name: fmt.Sprintf("p%d", i), Delay: time.Millisecond}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		prim = append(prim, haproxytest.Server{Name: fmt.Sprintf("p%d", i), Addr: in.Addr})
	}
	r.h = haproxytest.Start(t, haproxytest.Config{LB: "app", Primary: prim, CheckInter: checkInter})
	var err error
	r.rt, err = haproxy.NewRuntime(context.Background(), haproxy.NodeConfig{Name: "n1", StatsSocket: r.h.StatsSocket,
		MasterSocket: r.h.MasterSocket, MapFile: r.h.MapFile, StateFile: r.h.StateFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := config.DefaultProvider("local")
	pc.Kind, pc.AppBinary, pc.AppArgs = "local", bin, []string{"--delay", "1ms", "--cold-error-rate", "0"}
	pc.BootTime, pc.WarmupTime, pc.PricePerHour = time.Minute, 2*time.Minute, 0.1
	if r.prov, err = provision.New(pc, "local", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // never leave processes behind, whatever failed
		insts, _ := r.prov.List(context.Background())
		for _, in := range insts {
			r.prov.Destroy(context.Background(), in)
		}
	})
	r.statePath = filepath.Join(t.TempDir(), "state.json")
	r.build()
	return r
}

// build makes a new Scheduler over the same state file and reconciles: a
// restart.
func (r *rig) build() {
	pol := scheduler.DefaultPolicy()
	pol.Headroom, pol.ScaleDownAfter, pol.Cooldown = 0, 3*time.Minute, 5*time.Minute
	set := scheduler.Settings{Tick: time.Minute, Horizon: 30 * time.Minute, Policy: pol, DryRun: r.dryRun,
		ProvisionTimeout: 30 * time.Minute, Gate: scheduler.Gate{MinRequests: 1},
		LBs: []scheduler.LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local",
			Capacity: 100, MaxInstances: 4, Warmup: 2 * time.Minute}}}
	sch, err := scheduler.New(set, scheduler.Deps{Forecaster: oracle{}, Fallback: oracle{}, History: history{},
		Driver:    adapt.Driver{Fleet: fleetOf(r.t, r.rt), CheckInter: checkInter},
		Providers: map[string]scheduler.Provider{"local": adapt.Provider{P: r.prov}},
		Store:     scheduler.FileStore{Path: r.statePath}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.sch = sch
	if err := sch.Reconcile(context.Background(), r.now); err != nil {
		r.t.Fatal(err)
	}
}

// load sends steady requests through HAProxy until ctx is done (bounded by
// the test's own deadline), counting client-side failures.
func (r *rig) load(ctx context.Context) {
	steadyGets(ctx, func() string { return r.h.URL() }, func(ok bool) {
		r.sent.Add(1)
		if !ok {
			r.fails.Add(1)
		}
	})
}

// steadyGets GETs url() every 5 ms until ctx is done and reports each
// answer: ok is a 200.
func steadyGets(ctx context.Context, url func() string, done func(ok bool)) {
	c := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		resp, err := c.Get(url())
		if resp != nil {
			resp.Body.Close()
		}
		done(err == nil && resp.StatusCode == 200)
	}
}

// tick advances simulated time by one tick after pause of real time (so
// health checks run and requests reach the shadow) and runs RunOnce.
func (r *rig) tick(pause time.Duration) scheduler.LBStatus {
	r.t.Helper()
	time.Sleep(pause)
	r.now = r.now.Add(time.Minute)
	if err := r.sch.RunOnce(context.Background(), r.now); err != nil {
		r.t.Fatalf("%s: %v", r.now.Sub(t0), err)
	}
	st := r.sch.Status().LBs[0]
	r.t.Logf("%4s %-12s share %2d: %s", r.now.Sub(t0), st.Phase, st.Share, st.Plan.Decision)
	return st
}

// until ticks until the phase is reached, at most n ticks.
func (r *rig) until(phase scheduler.Phase, n int, pause time.Duration) scheduler.LBStatus {
	r.t.Helper()
	for range n {
		if st := r.tick(pause); st.Phase == phase {
			return st
		}
	}
	r.t.Fatalf("phase %s not reached in %d ticks", phase, n)
	return scheduler.LBStatus{}
}

func (r *rig) liveShare() int {
	r.t.Helper()
	n, err := r.rt.Share(context.Background(), "app")
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *rig) shadowServers() []haproxy.ServerStatus {
	r.t.Helper()
	s, err := r.rt.ListServers(context.Background(), "app_shadow")
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) instances() int {
	insts, err := r.prov.List(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return len(insts)
}

// postFault makes every shadow instance answer 500.
func (r *rig) postFault() {
	insts, _ := r.prov.List(context.Background())
	for _, in := range insts {
		resp, err := http.Post("http://"+in.Addr+"/admin/fault", "application/json", strings.NewReader(`{"mode":"error","error_rate":1}`))
		if err != nil {
			r.t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// waitShadowErrors waits (bounded) until the shadow backend has answered n
// more 5xx: at a 1 % share a fixed sleep may let no request reach it.
func (r *rig) waitShadowErrors(n int64) {
	r.t.Helper()
	count := func() int64 {
		st, err := r.rt.Stats(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		row, _ := st.Row("backend", "app_shadow", "")
		return row.Hrsp5xx
	}
	from := count()
	for deadline := time.Now().Add(30 * time.Second); count() < from+n; {
		if time.Now().After(deadline) {
			r.t.Fatalf("the shadow backend answered fewer than %d errors in 30s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
