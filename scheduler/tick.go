package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
)

// RunOnce runs one tick at now: observe, forecast (one batch), plan, act,
// record, each step timed. An error means the tick could not complete
// (e.g. the state could not be saved); per-LB problems are reported in the
// status and logs, not returned, so one broken LB does not stop the rest.
func (s *Scheduler) RunOnce(ctx context.Context, now time.Time) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	t := stepTimer{log: s.log}
	obs := make(map[string]*observation, len(s.set.LBs))
	t.run("observe", func() { s.observe(ctx, now, obs) })
	t.run("forecast", func() { s.forecast(ctx, now, obs) })
	plans := make(map[string]*Plan, len(s.set.LBs))
	t.run("plan", func() { s.plan(now, obs, plans) })
	var errs []error
	t.run("act", func() { errs = s.act(ctx, now, obs, plans) })
	t.run("record", func() {
		if err := s.save(ctx); err != nil {
			errs = append(errs, err)
		}
		s.record(now, obs, plans, t.steps, errs)
	})
	s.updateStatus(func(st *Status) { st.Steps = t.steps })
	s.last = now
	return errors.Join(errs...)
}

// stepTimer times the named steps of a tick (VPA's timer.ObserveStep).
type stepTimer struct {
	steps []StepTime
	log   interface {
		Debug(string, ...any)
	}
}

// StepTime is how long one step of a tick took.
type StepTime struct {
	Step     string        `json:"step"`
	Duration time.Duration `json:"duration"`
}

func (t *stepTimer) run(name string, f func()) {
	// Durations are measured, not used for decisions: the only wall
	// clock reading in the loop.
	start := time.Now()
	f()
	d := time.Since(start)
	t.steps = append(t.steps, StepTime{Step: name, Duration: d})
	t.log.Debug("tick step", "step", name, "duration", d)
}

func (s *Scheduler) dt(now time.Time) time.Duration {
	if s.last.IsZero() || !now.After(s.last) {
		return s.set.Tick
	}
	return now.Sub(s.last)
}

// observe reads demand history and backend stats for every LB.
func (s *Scheduler) observe(ctx context.Context, now time.Time, obs map[string]*observation) {
	for _, l := range s.set.LBs {
		o := &observation{observed: math.NaN(), util: math.NaN()}
		obs[l.Name] = o
		s.observeDemand(ctx, now, l, o)
		s.observeApp(ctx, now, l, o)
		s.observeStats(ctx, now, l, o)
	}
}

// observeApp reads the LB's application utilisation, when it has an app
// metric: one input of the capacity estimate.
func (s *Scheduler) observeApp(ctx context.Context, now time.Time, l LBSpec, o *observation) {
	if s.deps.App == nil || l.Capacity > 0 {
		return
	}
	u, err := s.deps.App.Utilisation(ctx, l.Name, now)
	switch {
	case err != nil:
		o.appErr = fmt.Sprintf("app metric: %v", err)
	case !math.IsNaN(u) && !math.IsInf(u, 0) && u >= 0:
		o.util = u
	}
}

func (s *Scheduler) observeDemand(ctx context.Context, now time.Time, l LBSpec, o *observation) {
	series, err := s.deps.History.Demand(ctx, l.Name, now)
	switch {
	case err != nil:
		o.missing = fmt.Sprintf("demand history: %v", err)
	case len(series.Values) == 0 || series.Step <= 0:
		o.missing = "demand history empty"
	case math.IsNaN(series.Values[len(series.Values)-1]):
		o.missing = "latest demand point missing (NaN)"
	default:
		o.observed = series.Values[len(series.Values)-1]
	}
	o.series = series
	o.series.ID = l.Name
}

func (s *Scheduler) observeStats(ctx context.Context, now time.Time, l LBSpec, o *observation) {
	live := s.live[l.Name]
	p, perr := s.deps.Driver.BackendStats(ctx, l.Backend)
	sh, serr := s.deps.Driver.BackendStats(ctx, l.ShadowBackend)
	if err := errors.Join(perr, serr); err != nil {
		o.statsErr = fmt.Sprintf("backend stats: %v", err)
		live.statsAt = time.Time{}
		return
	}
	if !live.statsAt.IsZero() {
		dt := now.Sub(live.statsAt)
		o.primary, o.shadow = ratesBetween(live.primary, p, dt), ratesBetween(live.shadow, sh, dt)
	}
	live.primary, live.shadow, live.statsAt = p, sh, now
	o.primaryN = p.Serving
	st := s.state.lb(l.Name)
	if l.Capacity <= 0 {
		st.Capacity = s.set.Learner.Observe(st.Capacity, o.primary)
		st.Behaviour = s.set.Learner.ObserveBehaviour(st.Behaviour, o.primary, o.util)
	}
	if st.Pool != nil {
		servers, err := s.deps.Driver.ListServers(ctx, l.ShadowBackend)
		if err != nil {
			o.statsErr = fmt.Sprintf("list servers of %s: %v", l.ShadowBackend, err)
		}
		o.servers = servers
	}
}

// plan runs the pure planner for every LB that has a forecast.
func (s *Scheduler) plan(now time.Time, obs map[string]*observation, plans map[string]*Plan) {
	for _, l := range s.set.LBs {
		o, st := obs[l.Name], s.state.lb(l.Name)
		est := s.capacity(l, st)
		p := &Plan{LB: l.Name, At: now, Current: o.primaryN, Reason: Reason{Capacity: est.Capacity, CapacitySource: est.Method}}
		if o.forecast != nil && est.Capacity > 0 {
			lead, leadSrc := s.provisionLead(l, st)
			*p = MakePlan(PlanInput{
				LB: l.Name, Now: now, Forecast: *o.forecast, Quantile: s.set.Quantile,
				Capacity: est.Capacity, CapacitySource: sourceOf(est), Headroom: s.set.Policy.Headroom,
				Events: l.Events, ProvisionLead: lead, Lead: leadSrc, CutoverLead: s.cutoverLead(),
				GrowLead: lead - s.cutoverLead(),
				Primary:  o.primaryN, Pool: poolSize(st.Pool), Observed: o.observed,
			})
			p.Reason.Forecaster, p.Reason.Fallback = o.forecastBy, o.fallback
		}
		p.Reason.CapacitySource = sourceOf(est)
		if est.Method != "configured" {
			p.Reason.Estimate = est.String()
		}
		if !math.IsNaN(o.observed) {
			v := o.observed
			p.Reason.Observed = &v
		}
		if !math.IsNaN(o.util) {
			v := o.util
			p.Reason.Utilisation = &v
		}
		s.notes(p, o, est.Capacity)
		plans[l.Name] = p
	}
}

// capacity is the configured capacity per instance, or the one learned
// from the primary's behaviour.
func (s *Scheduler) capacity(l LBSpec, st *LBState) Estimate {
	if l.Capacity > 0 {
		return Estimate{Capacity: l.Capacity, Method: "configured", Confidence: 1}
	}
	ln := s.set.Learner
	if l.TargetUtilisation > 0 {
		ln.TargetUtilisation = l.TargetUtilisation
	}
	return ln.Learn(st.Behaviour, st.Capacity)
}

func sourceOf(e Estimate) string {
	if e.Method == "configured" {
		return e.Method
	}
	return "learned"
}

func (s *Scheduler) notes(p *Plan, o *observation, capacity float64) {
	add := func(n string) { p.Reason.Notes = append(p.Reason.Notes, n) }
	if o.missing != "" {
		add(o.missing)
	}
	if o.statsErr != "" {
		add(o.statsErr)
	}
	if o.appErr != "" {
		add(o.appErr)
	}
	if o.forecast == nil {
		add("no forecast: " + o.fallback)
	}
	if capacity <= 0 {
		add("capacity per instance unknown (nothing learned yet)")
	}
}

// cutoverLead is how long a cutover takes: one tick per step, plus one.
func (s *Scheduler) cutoverLead() time.Duration {
	return time.Duration(len(s.set.Policy.CutoverSteps)+1) * s.set.Tick
}

func poolSize(p *Pool) int {
	if p == nil {
		return 0
	}
	return p.Size
}

// saver persists the state at most once per change of the given pool.
func (s *Scheduler) saver(ctx context.Context, errs *[]error) func() {
	return func() {
		if err := s.save(ctx); err != nil {
			*errs = append(*errs, err)
		}
	}
}

func changed(before *Pool, after *Pool) bool { return !reflect.DeepEqual(before, after) }
