package sim

import (
	"context"
	"math"
	"time"
)

// Reactive is the target-tracking autoscaler (Kubernetes HPA's algorithm
// and defaults).
type Reactive struct {
	Target          float64       // utilisation to hold (default 0.7)
	Tolerance       float64       // no change within ±Tolerance of the target ratio (default 0.1)
	Eval            time.Duration // evaluation period (default 1m, at least one tick)
	ScaleDownWindow time.Duration // stabilisation: the largest desired of this window (default 5m)
	StepPods        int           // scale-up limit per evaluation: max(StepPods, 100 %) (default 4)
	Min             int           // instances (default 1)
	Max             int           // instances; 0 = unlimited
}

func (r Reactive) withDefaults() Reactive {
	if r.Target <= 0 {
		r.Target = 0.7
	}
	if r.Tolerance <= 0 {
		r.Tolerance = 0.1
	}
	if r.Eval <= 0 {
		r.Eval = time.Minute
	}
	if r.ScaleDownWindow <= 0 {
		r.ScaleDownWindow = 5 * time.Minute
	}
	if r.StepPods <= 0 {
		r.StepPods = 4
	}
	if r.Min <= 0 {
		r.Min = 1
	}
	return r
}

type recommendation struct {
	at      time.Time
	desired int
}

// reactiveRun is one reactive autoscaler and its fleet.
type reactiveRun struct {
	r      Reactive
	c      Cluster
	fleet  []*instance // by creation time
	seq    int
	busy   float64 // mean utilisation reported over the last tick
	recent []recommendation
}

func runReactive(ctx context.Context, e *env, t *tally) error {
	rr := &reactiveRun{r: e.cfg.Reactive.withDefaults(), c: e.cluster}
	start := e.d.Time(e.from)
	n := max(rr.r.Min, int(math.Ceil(e.d.at(e.from)/(e.cluster.Capacity*rr.r.Target))))
	for range n {
		rr.add(start.Add(-e.cluster.Boot - e.cluster.Warmup))
	}
	for _, in := range rr.fleet {
		in.warmFor = e.cluster.Warmup
	}
	every := max(1, int(rr.r.Eval/e.d.Step))
	for k := e.from; k < e.to; k++ {
		if err := e.tick(ctx, k); err != nil {
			return err
		}
		now := e.d.Time(k)
		if k > e.from && (k-e.from)%every == 0 && rr.decide(now) {
			t.actions++
		}
		t.add(rr.serve(now, e.d.at(k), e.d.Step))
	}
	return nil
}

func (rr *reactiveRun) add(at time.Time) {
	rr.seq++
	rr.fleet = append(rr.fleet, &instance{id: "r", created: at})
}

func (rr *reactiveRun) serving(now time.Time) []*instance {
	var out []*instance
	for _, in := range rr.fleet {
		if rr.c.up(in, now) {
			out = append(out, in)
		}
	}
	return out
}

// decide applies the HPA rule to last tick's metric; true if it scaled.
func (rr *reactiveRun) decide(now time.Time) bool {
	ready := len(rr.serving(now))
	cur := len(rr.fleet)
	desired := cur
	if ratio := rr.busy / rr.r.Target; ready > 0 && math.Abs(ratio-1) > rr.r.Tolerance {
		desired = int(math.Ceil(float64(ready) * ratio))
	}
	desired = max(desired, rr.r.Min)
	if rr.r.Max > 0 {
		desired = min(desired, rr.r.Max)
	}
	rr.recent = append(rr.recent, recommendation{now, desired})
	for len(rr.recent) > 0 && now.Sub(rr.recent[0].at) >= rr.r.ScaleDownWindow {
		rr.recent = rr.recent[1:]
	}
	switch {
	case desired > cur:
		add := min(desired-cur, max(rr.r.StepPods, cur))
		for range add {
			rr.add(now)
		}
		return true
	case desired < cur:
		stable := desired
		for _, r := range rr.recent {
			stable = max(stable, r.desired)
		}
		if stable < cur {
			rr.fleet = rr.fleet[:stable] // the newest go first
			return true
		}
	}
	return false
}

func (rr *reactiveRun) serve(now time.Time, rate float64, dt time.Duration) tickOut {
	servers := rr.serving(now)
	ready := rr.c.readyCapacity(servers)
	bt := rr.c.serve(servers, rate)
	warmUp(servers, rate, dt)
	rr.busy = 0
	for _, b := range bt.busy {
		rr.busy += b / float64(len(bt.busy))
	}
	o := rr.c.combine(rate, bt)
	o.ready, o.instances = ready, len(rr.fleet)
	return o
}
