package scheduler

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// noisyDriver is the fake load balancer with a realistic shadow: every
// request it served in the interval has a log-normal latency around
// shadowMS (σ 0.6, so a tick of 5 requests often averages far above it)
// and fails with probability errP; ResponseTime is the interval's mean, as
// noisy as HAProxy's at a few requests per tick.
type noisyDriver struct {
	*fakeDriver
	rng      *rand.Rand
	shadowMS float64
	errP     float64
	seen     int64 // shadow requests already given latencies
	errs     int64
	lat      time.Duration
	// oldFlags counts ticks the former per-tick gate (>= 5 requests;
	// error rate >= 0.1 or latency > primary × 1.5 + 20ms) called bad.
	oldFlags int
}

func (d *noisyDriver) BackendStats(ctx context.Context, backend string) (BackendStats, error) {
	st, err := d.fakeDriver.BackendStats(ctx, backend)
	if err != nil || !strings.HasSuffix(backend, "_shadow") {
		st.Errors = int64(float64(st.Requests) * d.errP) // the primary's errors, at the same rate
		return st, err
	}
	n, errs, sum := st.Requests-d.seen, int64(0), 0.0
	for range n {
		sum += d.shadowMS * math.Exp(0.6*d.rng.NormFloat64())
		if d.rng.Float64() < d.errP {
			errs++
		}
	}
	if n > 0 {
		d.lat = time.Duration(sum / float64(n) * float64(time.Millisecond))
	}
	prim := d.backend("app").latency
	if n >= 5 && (float64(errs)/float64(n) >= 0.1 || d.lat > prim*3/2+20*time.Millisecond) {
		d.oldFlags++
	}
	d.seen, d.errs = st.Requests, d.errs+errs
	st.Errors, st.ResponseTime = d.errs, d.lat
	return st, nil
}

// gateRig is a scheduler on 10s ticks whose pool stays in warm-up at a
// fixed 1 % share, in front of the noisy shadow.
type gateRig struct {
	t     *testing.T
	set   Settings
	drv   *noisyDriver
	prov  *fakeProvider
	store *crashStore
	sch   *Scheduler
	now   time.Time
	rate  float64
}

func newGateRig(t *testing.T, rate, capacity float64, primaryMS, shadowMS, errP float64) *gateRig {
	pol := DefaultPolicy()
	pol.Headroom, pol.WarmupShareMax = 0, 1 // 1 %, always
	set := Settings{Tick: 10 * time.Second, Horizon: 30 * time.Minute, Policy: pol,
		LBs: []LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local",
			Capacity: capacity, MaxInstances: 4, Warmup: 2 * time.Hour}}}
	r := &gateRig{t: t, set: set, now: t0, rate: rate, prov: newFakeProvider(30*time.Second, 0.1), store: &crashStore{left: -1},
		drv: &noisyDriver{fakeDriver: newFakeDriver(), rng: rand.New(rand.NewPCG(1, 2)), shadowMS: shadowMS, errP: errP}}
	r.drv.healthyAfter = 30 * time.Second
	r.drv.backend("app").serving = 2
	r.drv.backend("app").latency = time.Duration(primaryMS * float64(time.Millisecond))
	r.build()
	return r
}

func (r *gateRig) demand(string, time.Time) float64 { return r.rate }

func (r *gateRig) build() {
	o := &oracle{name: "model", demand: r.demand}
	sch, err := New(r.set, Deps{Forecaster: o, Fallback: o, History: &history{demand: r.demand, step: time.Minute, points: 30},
		Driver: r.drv, Providers: map[string]Provider{"local": r.prov}, Store: r.store})
	if err != nil {
		r.t.Fatal(err)
	}
	r.sch = sch
	if err := sch.Reconcile(context.Background(), r.now); err != nil {
		r.t.Fatal(err)
	}
}

func (r *gateRig) tick() LBStatus {
	r.now = r.now.Add(r.set.Tick)
	r.drv.advance(r.now, r.set.LBs, r.demand)
	if err := r.sch.RunOnce(context.Background(), r.now); err != nil {
		r.t.Fatal(err)
	}
	return r.sch.Status().LBs[0]
}

// A healthy shadow at 1 % of 50 req/s (about 5 requests per 10s tick, the
// same error rate and latency distribution as the primary) warms for an
// hour, through a restart, without a rollback; the per-tick gate it
// replaced would have called it bad on many ticks.
func TestGateHealthyLowTrafficHour(t *testing.T) {
	r := newGateRig(t, 50, 20, 20, 20, 0.005)
	worse := 0
	for i := range 360 {
		if i == 180 {
			r.build() // a restart: the evidence must survive it
			if p := r.store.state.LBs["app"].Pool; p == nil || len(p.Evidence) == 0 {
				t.Fatalf("no gate evidence persisted across the restart: %+v", p)
			}
		}
		st := r.tick()
		if st.RolledBack != 0 {
			t.Fatalf("at %s: healthy shadow rolled back: %s", r.now.Sub(t0), st.LastFailure)
		}
		if strings.Contains(st.Plan.Decision, "warm-up worse") {
			worse++
		}
	}
	if st := r.sch.Status().LBs[0]; st.Phase != WarmingUp || st.Share != 1 {
		t.Fatalf("after an hour: %s at %d%%, want WarmingUp at 1%%", st.Phase, st.Share)
	}
	t.Logf("old per-tick gate flagged %d of 360 ticks; the evidence gate said worse %d times", r.drv.oldFlags, worse)
	if r.drv.oldFlags < 3 {
		t.Fatalf("the noise is too tame to test anything: the old gate flagged only %d ticks", r.drv.oldFlags)
	}
}

// A shadow twice as slow as the primary (120ms vs 60ms: above 60 × 1.5 +
// 20ms) at 1 % of 5000 req/s (500 requests per tick) is rolled back.
func TestGateTwiceAsSlowRollsBack(t *testing.T) {
	r := newGateRig(t, 5000, 2000, 60, 120, 0.005)
	for range 60 {
		if st := r.tick(); st.RolledBack > 0 {
			if !strings.Contains(st.LastFailure, "latency") {
				t.Fatalf("rolled back for %q, want latency", st.LastFailure)
			}
			return
		}
	}
	t.Fatalf("a shadow twice as slow was not rolled back in 10 minutes: %s", r.sch.Status().LBs[0].Plan.Decision)
}
