package adapt_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// ramp needs a pool of 1, 2, then 3 instances (2 primaries of 100 req/s,
// no headroom), then 2, 1, and none.
func ramp(_ string, t time.Time) float64 {
	d := t.Sub(t0)
	for _, s := range []struct {
		from time.Duration
		v    float64
	}{{69 * time.Minute, 150}, {60 * time.Minute, 250}, {51 * time.Minute, 350}, {39 * time.Minute, 450},
		{27 * time.Minute, 350}, {15 * time.Minute, 250}} {
		if d >= s.from {
			return s.v
		}
	}
	return 150
}

type profileModel struct {
	f func(string, time.Time) float64
}

func (profileModel) Name() string { return "profile" }
func (m profileModel) Forecast(_ context.Context, in []inference.Series, h int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(in))
	for i, s := range in {
		f := inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: "profile"}
		for k := range h {
			v := m.f(s.ID, s.End().Add(time.Duration(k)*s.Step))
			f.P10, f.P50, f.P90 = append(f.P10, v), append(f.P50, v), append(f.P90, v)
		}
		out[i] = f
	}
	return out, nil
}

func (m profileModel) Demand(_ context.Context, lb string, now time.Time) (inference.Series, error) {
	s := inference.Series{ID: lb, Step: time.Minute, Start: now.Add(-29 * time.Minute)}
	for i := range 30 {
		s.Values = append(s.Values, m.f(lb, s.Start.Add(time.Duration(i)*time.Minute)))
	}
	return s, nil
}

var errKilled = errors.New("killed")

// dyingStore is the state file of a process that is killed (kill -9) at
// the first save whose state matches die: that save never happens and
// nothing after it runs.
type dyingStore struct {
	scheduler.FileStore
	die   func(scheduler.State) bool
	fired bool
}

func (d *dyingStore) Save(ctx context.Context, s scheduler.State) error {
	if !d.fired && d.die != nil && d.die(s) {
		d.fired = true
		panic(errKilled)
	}
	return d.FileStore.Save(ctx, s)
}

// elastic is the rig's HAProxy, provider and state file with a scheduler
// driven by a demand profile.
type elastic struct {
	*rig
	store *dyingStore
}

func newElastic(t *testing.T) *elastic {
	e := &elastic{rig: newRig(t)}
	e.store = &dyingStore{FileStore: scheduler.FileStore{Path: e.statePath}}
	e.restart()
	return e
}

// restart builds a new scheduler over the same state file and reconciles.
func (e *elastic) restart() {
	pol := scheduler.DefaultPolicy()
	pol.Headroom, pol.ScaleDownAfter, pol.Cooldown = 0, 3*time.Minute, 5*time.Minute
	set := scheduler.Settings{Tick: time.Minute, Horizon: 30 * time.Minute, Policy: pol,
		// The gate's latency judgement is not what this test is about,
		// and a shared machine's latency is noisy: a wide slack.
		ProvisionTimeout: 30 * time.Minute, Gate: scheduler.Gate{MinRequests: 1, LatencySlack: 250 * time.Millisecond},
		LBs: []scheduler.LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local",
			Capacity: 100, MaxInstances: 4, Warmup: 2 * time.Minute}}}
	m := profileModel{ramp}
	sch, err := scheduler.New(set, scheduler.Deps{Forecaster: m, Fallback: m, History: m,
		Driver:    adapt.Driver{RT: e.rt, CheckInter: checkInter},
		Providers: map[string]scheduler.Provider{"local": adapt.Provider{P: e.prov}}, Store: e.store})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sch = sch
	if err := sch.Reconcile(context.Background(), e.now); err != nil {
		e.t.Fatal(err)
	}
}

// step runs one tick; a kill in it restarts the scheduler (reported true).
func (e *elastic) step() (killed bool) {
	e.t.Helper()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v != errKilled {
					panic(v)
				}
				killed = true
			}
		}()
		e.tick(pause)
	}()
	if st := e.sch.Status().LBs[0]; st.RolledBack > 0 && !killed {
		e.t.Logf("%4s rolled back: %s", e.now.Sub(t0), st.LastFailure)
	}
	if killed {
		e.t.Logf("%4s killed mid-step; restarting", e.now.Sub(t0))
		e.restart()
	}
	return killed
}

func (e *elastic) saved() *scheduler.Pool {
	e.t.Helper()
	b, err := os.ReadFile(e.statePath)
	if err != nil {
		e.t.Fatal(err)
	}
	var st scheduler.State
	if err := json.Unmarshal(b, &st); err != nil {
		e.t.Fatal(err)
	}
	if l := st.LBs["app"]; l != nil {
		return l.Pool
	}
	return nil
}

// check compares HAProxy and the provider with the persisted pool and
// checks that every server was added in MAINT and was healthy when it
// first took traffic.
func (e *elastic) check(seen map[string]string) (size int) {
	e.t.Helper()
	p := e.saved()
	servers, instances := 0, 0
	if p != nil {
		servers, instances, size = len(p.Servers), len(p.Instances), p.Size
	}
	live := e.shadowServers()
	if len(live) != servers || e.instances() != instances {
		e.t.Fatalf("%s: HAProxy has %d shadow servers, provider %d instances; persisted %d servers, %d instances",
			e.now.Sub(t0), len(live), e.instances(), servers, instances)
	}
	for _, s := range live {
		switch prev := seen[s.Name]; {
		case prev == "" && s.Admin != "maint":
			e.t.Fatalf("%s: server %s first seen %s, want maint", e.now.Sub(t0), s.Name, s.Admin)
		case prev != "ready" && s.Admin == "ready" && !haproxy.Healthy(s.CheckStatus):
			e.t.Fatalf("%s: server %s takes traffic with check %s", e.now.Sub(t0), s.Name, s.CheckStatus)
		}
		seen[s.Name] = string(s.Admin)
	}
	return size
}

// TestElasticRampRealHAProxy: a ramp that grows the pool twice and shrinks
// it twice through real HAProxy and real app processes, killed once in
// the middle of a grow and once in the middle of a shrink. After every
// tick and every restart HAProxy and the provider hold what the state
// says; every added server was health-gated; no client request fails.
func TestElasticRampRealHAProxy(t *testing.T) {
	e := newElastic(t)
	ctx, stop := context.WithTimeout(context.Background(), 4*time.Minute)
	defer stop()
	go e.load(ctx)
	// Die right after persisting the name of the second grow's last new
	// server, before adding it to HAProxy.
	e.store.die = func(s scheduler.State) bool {
		p := s.LBs["app"].Pool
		return p != nil && p.Resize != nil && p.Resize.Grow && p.Size == 3 && len(p.Servers) == 3
	}
	seen := map[string]string{}
	var sizes []int
	kills := 0
	for e.now.Sub(t0) < 85*time.Minute {
		if e.step() {
			kills++
			if kills == 1 { // then in the first shrink, once its drain was applied
				e.store.fired = false
				e.store.die = func(s scheduler.State) bool {
					p := s.LBs["app"].Pool
					return p != nil && p.Resize != nil && !p.Resize.Grow && !p.Resize.DrainedAt.IsZero()
				}
			}
		}
		if size := e.check(seen); len(sizes) == 0 || sizes[len(sizes)-1] != size {
			sizes = append(sizes, size)
		}
	}
	stop()
	t.Logf("pool sizes %v; %d kills; clients: %d requests, %d failed", sizes, kills, e.sent.Load(), e.fails.Load())
	if kills != 2 {
		t.Errorf("%d kills, want one mid-grow and one mid-shrink", kills)
	}
	if want := []int{0, 1, 2, 3, 2, 1, 0}; !equal(sizes, want) {
		t.Errorf("pool sizes %v, want %v: open, grow twice, shrink twice, retire", sizes, want)
	}
	if e.fails.Load() != 0 {
		t.Errorf("%d of %d client requests failed", e.fails.Load(), e.sent.Load())
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
