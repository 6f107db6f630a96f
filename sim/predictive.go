package sim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shadowscale/shadowscale/scheduler"
)

// Decision is what the scheduler did at one tick (the equivalence test
// compares these between the simulator and serve's wiring).
type Decision struct {
	At       time.Time       `json:"at"`
	Phase    scheduler.Phase `json:"phase"`
	Share    int             `json:"share"`
	Decision string          `json:"decision"`
	Needed   int             `json:"needed"`   // instances the plan asked for
	Peak     float64         `json:"peak"`     // forecast quantile at the provision window's peak, req/s
	Observed float64         `json:"observed"` // demand the scheduler saw last, req/s (-1: none)
}

// predictiveRun is the real scheduler over the simulated cloud.
type predictiveRun struct {
	cl    *cloud
	sch   *scheduler.Scheduler
	fcs   []*cadence
	pre   *prefetch
	phase scheduler.Phase
}

func newPredictive(ctx context.Context, e *env) (*predictiveRun, error) {
	spec := e.cfg.Settings.LBs[0]
	pr := &predictiveRun{cl: newCloud(e.cluster, spec, e.primary, e.cfg.SlowStart), phase: scheduler.Idle}
	wrap := func(f scheduler.Forecaster) scheduler.Forecaster {
		c := &cadence{inner: f, every: e.every}
		pr.fcs = append(pr.fcs, c)
		return c
	}
	var hist scheduler.History = NewHistory(e.d, e.cfg.HistoryWindow)
	if e.cfg.History != nil {
		hist = e.cfg.History
	}
	deps := scheduler.Deps{Fallback: wrap(e.cfg.Fallback), History: hist, Driver: pr.cl,
		Providers: map[string]scheduler.Provider{spec.Provider: pr.cl}, Store: &scheduler.MemStore{}, Log: e.cfg.Log}
	if e.cfg.Forecaster != nil {
		deps.Forecaster = wrap(e.cfg.Forecaster)
	}
	sch, err := scheduler.New(e.cfg.Settings, deps)
	if err != nil {
		return nil, fmt.Errorf("predictive: %w", err)
	}
	pr.sch = sch
	pr.cl.now = e.d.Time(e.from)
	if err := sch.Reconcile(ctx, pr.cl.now); err != nil {
		return nil, fmt.Errorf("predictive: reconcile: %w", err)
	}
	// The forecaster every tick uses is prefetched: the primary if any.
	used, inner := pr.fcs[len(pr.fcs)-1], e.cfg.Fallback
	if e.cfg.Forecaster != nil {
		inner = e.cfg.Forecaster
	}
	var origins []time.Time
	for k := e.from; k < e.to; k += e.every {
		origins = append(origins, e.d.Time(k))
	}
	h := int(math.Ceil(float64(e.cfg.Settings.Horizon)/float64(e.d.Step))) + e.every - 1
	used.pre = startPrefetch(ctx, inner, hist, spec.Name, origins, h)
	pr.pre = used.pre
	return pr, nil
}

func runPredictive(ctx context.Context, e *env, t *tally) error {
	pr, err := newPredictive(ctx, e)
	if err != nil {
		return err
	}
	defer pr.pre.stop()
	for k := e.from; k < e.to; k++ {
		if err := e.tick(ctx, k); err != nil {
			return err
		}
		now := e.d.Time(k)
		d, err := pr.step(ctx, now)
		if err != nil {
			return fmt.Errorf("predictive at %s: %w", now.Format(time.RFC3339), err)
		}
		if pr.cl.mutations > 0 {
			t.actions++
		}
		if entered(pr.phase, d.Phase) {
			t.cutovers++
		}
		pr.phase = d.Phase
		if e.cfg.KeepDecisions {
			e.decisions = append(e.decisions, d)
		}
		t.add(pr.cl.advance(e.d.at(k), e.d.Step))
	}
	st := pr.sch.Status()
	if len(st.LBs) > 0 {
		t.rollbacks = st.LBs[0].RolledBack
	}
	for _, c := range pr.fcs {
		e.forecasts = append(e.forecasts, c.made...)
	}
	return nil
}

// step runs one scheduler tick at now.
func (pr *predictiveRun) step(ctx context.Context, now time.Time) (Decision, error) {
	pr.cl.now, pr.cl.mutations = now, 0
	if err := pr.sch.RunOnce(ctx, now); err != nil {
		return Decision{}, err
	}
	st := pr.sch.Status()
	if len(st.LBs) != 1 {
		return Decision{}, fmt.Errorf("status has %d load balancers, want 1", len(st.LBs))
	}
	l := st.LBs[0]
	d := Decision{At: now, Phase: l.Phase, Share: l.Share, Decision: l.Plan.Decision, Needed: l.Plan.Needed,
		Peak: l.Plan.Reason.Provision.Peak, Observed: -1}
	if o := l.Plan.Reason.Observed; o != nil {
		d.Observed = *o
	}
	return d, nil
}

// entered reports a cutover starting: into CuttingOver from a phase that
// is not already serving the pool's share.
func entered(prev, cur scheduler.Phase) bool {
	serving := []scheduler.Phase{scheduler.CuttingOver, scheduler.Active}
	return slices.Contains(serving, cur) && !slices.Contains(serving, prev)
}

// advance serves one tick: the share to the shadow backend's serving
// servers, the rest to the primary, and updates HAProxy's counters.
func (cl *cloud) advance(rate float64, dt time.Duration) tickOut {
	shadowRate := rate * float64(cl.share) / 100
	primRate := rate - shadowRate
	ins, ss := cl.serving()
	pb := cl.c.serve(cl.primaryServers, primRate)
	sb := cl.c.serveWeighted(ins, cl.weights(ss, dt), shadowRate)
	cl.count(cl.primary, pb, primRate, dt, len(cl.primaryServers))
	cl.count(cl.shadow, sb, shadowRate, dt, len(ins))
	if len(ins) > 0 {
		per := shadowRate / float64(len(ins))
		for _, s := range ss {
			s.sess = int64(math.Round(per * sb.meanLatency()))
		}
	}
	warmUp(ins, shadowRate, dt)
	o := cl.c.combine(rate, pb, sb)
	o.ready = cl.c.readyCapacity(cl.primaryServers) + cl.c.readyCapacity(ins)
	o.instances = len(cl.primaryServers) + len(cl.instances)
	return o
}

// count adds one tick to a backend's cumulative counters (kept whole, as
// HAProxy's are; the fractions carry over).
func (cl *cloud) count(backend string, bt backendTick, rate float64, dt time.Duration, serving int) {
	st := cl.stats[backend]
	acc := cl.acc(backend)
	acc[0] += rate * dt.Seconds()
	acc[1] += bt.failed * dt.Seconds()
	st.Requests, st.Errors = int64(acc[0]), int64(acc[1])
	st.ResponseTime = time.Duration(bt.meanLatency() * float64(time.Second))
	st.Serving = serving
	st.Sessions = int64(math.Round(rate * bt.meanLatency()))
}

func (cl *cloud) acc(backend string) *[2]float64 {
	if cl.accs == nil {
		cl.accs = map[string]*[2]float64{}
	}
	a := cl.accs[backend]
	if a == nil {
		a = &[2]float64{}
		cl.accs[backend] = a
	}
	return a
}
