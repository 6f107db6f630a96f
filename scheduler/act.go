package scheduler

import (
	"context"
	"fmt"
	"time"
)

// act advances every LB by one step; a failing LB does not stop the others.
func (s *Scheduler) act(ctx context.Context, now time.Time, obs map[string]*observation, plans map[string]*Plan) []error {
	var errs []error
	for _, l := range s.set.LBs {
		if err := s.actLB(ctx, now, l, obs[l.Name], plans[l.Name]); err != nil {
			plans[l.Name].Reason.Notes = append(plans[l.Name].Reason.Notes, "error: "+err.Error())
			errs = append(errs, fmt.Errorf("lb %s: %w", l.Name, err))
		}
	}
	return errs
}

func (s *Scheduler) actLB(ctx context.Context, now time.Time, l LBSpec, o *observation, p *Plan) error {
	st := s.state.lb(l.Name)
	missing := o.missing != "" || o.statsErr != "" || o.forecast == nil || p.Reason.Capacity <= 0
	low := s.trackLow(st, p, missing, now)
	if s.set.DryRun {
		p.Decision = s.dryRun(now, l, st, p)
		return nil
	}
	if st.Pool == nil {
		return s.start(ctx, now, l, st, o, p, missing)
	}
	var errs []error
	env := &stepEnv{
		ctx: ctx, now: now, dt: s.dt(now), set: &s.set, lb: l, st: st,
		drv: s.deps.Driver, prov: s.deps.Providers[l.Provider], plan: *p,
		low: low, missing: missing, servers: o.servers, save: s.saver(ctx, &errs), log: s.log,
	}
	s.sizes(env, p, now)
	env.gate, env.gateWhy = s.judge(now, st.Pool, o)
	env.primary, env.shadow = o.primary, o.shadow
	if o.statsErr != "" {
		env.gate, env.gateWhy, env.blind = NoData, o.statsErr, true
	}
	before := clonePool(st.Pool)
	msg, err := env.step(st.Pool)
	if err != nil {
		errs = append(errs, err)
	}
	if st.Pool != nil && err == nil {
		rmsg, rerr := env.resize(st.Pool)
		if rmsg != "" {
			msg += "; " + rmsg
		}
		if rerr != nil {
			errs = append(errs, rerr)
		}
	}
	p.Decision = msg
	if st.Pool == nil || changed(before, st.Pool) {
		env.save()
	}
	s.log.Info("pool step", "lb", l.Name, "pool", before.ID, "from", before.Phase, "to", phaseOf(st),
		"share", shareOf(st), "gate", env.gate, "decision", msg)
	return joinErrs(errs)
}

// sizes gives the step the bounded pool size asked now and the size the
// pool may shrink to (the largest asked over ScaleDownAfter, never below
// one instance or min_instances: emptying the pool is the whole-pool drain).
func (s *Scheduler) sizes(e *stepEnv, p *Plan, now time.Time) {
	p.Reason.Bounds = nil // start() bounded the same plan before opening
	want := p.Deficit
	if e.st.Pool.Phase == Active { // cut over: only boot and warm-up ahead
		want = max(0, p.Reason.Grow.Needed-p.Current)
	}
	e.want = s.boundSize(e.lb, p, want)
	if e.missing {
		e.st.Recs = nil // never scale down on what was not seen
		return
	}
	e.shrinkTo, e.stable = e.st.recommend(now, e.want, s.set.Policy.ScaleDownAfter)
	e.shrinkTo = max(e.shrinkTo, 1, e.lb.MinInstances)
}

// trackLow is the scale-down hysteresis: low only after the forecast has
// stayed within primary capacity for ScaleDownAfter, and never while
// metrics or the forecast are missing.
func (s *Scheduler) trackLow(st *LBState, p *Plan, missing bool, now time.Time) bool {
	if missing || !p.Low() {
		st.LowSince = time.Time{}
		return false
	}
	if st.LowSince.IsZero() {
		st.LowSince = now
	}
	return now.Sub(st.LowSince) >= s.set.Policy.ScaleDownAfter
}

// start opens a pool for an idle LB when the bounded plan wants one.
func (s *Scheduler) start(ctx context.Context, now time.Time, l LBSpec, st *LBState, o *observation, p *Plan, missing bool) error {
	switch {
	case s.set.KillSwitch:
		p.Decision = "idle: kill switch"
		return nil
	case missing:
		p.Decision = "idle: hold (inputs missing)"
		return nil
	case now.Before(st.CooldownUntil):
		p.Decision = "idle: cooldown until " + st.CooldownUntil.Format(time.RFC3339)
		return nil
	}
	want := s.bound(l, p)
	if want == 0 {
		p.Decision = "none"
		return nil
	}
	s.state.Seq++
	st.Recs = nil // a new pool's scale-down window starts now
	st.Pool = &Pool{
		ID: poolID(l.Name, s.state.Seq), LB: l.Name, Provider: l.Provider, Backend: l.ShadowBackend,
		Phase: Provisioning, Since: now, Created: now, Size: want,
	}
	if err := s.save(ctx); err != nil {
		return err
	}
	s.log.Info("pool opened", "lb", l.Name, "pool", st.Pool.ID, "size", want, "needed", p.Needed,
		"current", p.Current, "peak", p.Reason.Provision.Peak, "peak_at", p.Reason.Provision.PeakAt)
	err := s.actLB(ctx, now, l, o, p)
	p.Decision = fmt.Sprintf("provision %d: %s", want, p.Decision)
	return err
}

func (s *Scheduler) dryRun(now time.Time, l LBSpec, st *LBState, p *Plan) string {
	if st.Pool != nil {
		return "dry-run: pool " + st.Pool.ID + " left as is (" + string(st.Pool.Phase) + ")"
	}
	if now.Before(st.CooldownUntil) {
		return "dry-run: cooldown"
	}
	if want := s.bound(l, p); want > 0 {
		return fmt.Sprintf("dry-run: would provision %d", want)
	}
	return "dry-run: none"
}

func clonePool(p *Pool) *Pool {
	c := *p
	c.Instances = append([]Instance(nil), p.Instances...)
	c.Servers = append([]string(nil), p.Servers...)
	if p.Resize != nil {
		r := *p.Resize
		c.Resize = &r
	}
	return &c
}

func phaseOf(st *LBState) Phase {
	if st.Pool == nil {
		return Idle
	}
	return st.Pool.Phase
}

func shareOf(st *LBState) int {
	if st.Pool == nil {
		return 0
	}
	return st.Pool.Share
}

// judge adds this tick's traffic to the pool's persisted gate evidence
// (only once the pool serves) and judges the shadow on it.
func (s *Scheduler) judge(now time.Time, p *Pool, o *observation) (Verdict, string) {
	switch p.Phase {
	case Provisioning, RollingBack, Retired:
		return NoData, "not serving"
	}
	p.Evidence = s.set.Gate.Observe(p.Evidence, now, o.primary, o.shadow)
	return s.set.Gate.Judge(p.Evidence)
}
