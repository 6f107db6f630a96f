package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Operator controls: pause/resume a load balancer, force a pool's rollback,
// the kill switch and dry-run. They are persisted in State.Controls, so they
// survive a restart and override the configuration until changed again.
//
// Concurrency: RunOnce and Reconcile are not safe to run concurrently with
// anything that touches the state. Run holds the control lock (ctl.run)
// around every tick and reconcile, and every control call takes the same
// lock, applies the change to the state, persists it and returns: a call
// waits for a running tick to finish and is in force from the next one.

// ErrUnknownLB is returned for a load balancer the settings do not name.
var ErrUnknownLB = errors.New("unknown load balancer")

// ErrNoPool is returned when a rollback is asked for an LB without a pool.
var ErrNoPool = errors.New("no shadow pool")

// ErrNoEvent is returned when deleting an operator event that is not there.
var ErrNoEvent = errors.New("no such event")

// AllLBs is the LB of an operator event that affects every load balancer.
const AllLBs = "*"

// OperatorEvent is an external event created through the API: it lifts
// the plan of its LB (or of every LB) like the configured events files do.
type OperatorEvent struct {
	ID    string    `json:"id"`
	LB    string    `json:"lb"`
	Kind  string    `json:"kind"`
	Name  string    `json:"name,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Lift  float64   `json:"lift"`
}

// Controls are the operator's overrides, as persisted. Nil switches mean the
// configured value.
type Controls struct {
	KillSwitch *bool                `json:"kill_switch,omitempty"`
	DryRun     *bool                `json:"dry_run,omitempty"`
	Paused     map[string]time.Time `json:"paused,omitempty"` // LB → since
	Events     []OperatorEvent      `json:"events,omitempty"`
	EventSeq   int                  `json:"event_seq,omitempty"` // last event number handed out
}

// ControlView is what is in force, and where each switch comes from
// ("config" or "operator").
type ControlView struct {
	KillSwitch       bool                 `json:"kill_switch"`
	KillSwitchSource string               `json:"kill_switch_source"`
	DryRun           bool                 `json:"dry_run"`
	DryRunSource     string               `json:"dry_run_source"`
	Paused           map[string]time.Time `json:"paused"`
	Events           []OperatorEvent      `json:"events"`
}

// control is the scheduler's operator-facing part.
type control struct {
	run sync.Mutex // held around every tick, reconcile and control call

	once            sync.Once
	cfgKill, cfgDry bool      // the configured switches, before any override
	cfgEvents       [][]Event // the configured events of each LB (by index)
	mu              sync.Mutex
	view            ControlView
	forecasts       map[string]inference.Forecast // the last tick's, per LB
	forecastsAt     time.Time
}

func (c *Controls) clone() *Controls {
	if c == nil {
		return nil
	}
	out := *c
	out.Paused = maps.Clone(c.Paused)
	out.Events = slices.Clone(c.Events)
	return &out
}

// locked runs f holding the control lock: Run's ticks go through it.
func (s *Scheduler) locked(f func()) {
	s.ctl.run.Lock()
	defer s.ctl.run.Unlock()
	f()
}

// applyControls puts the persisted overrides in force (after every load).
func (s *Scheduler) applyControls() {
	s.ctl.once.Do(func() {
		s.ctl.cfgKill, s.ctl.cfgDry = s.set.KillSwitch, s.set.DryRun
		// The settings' LB slice may be shared with the caller's: copy it
		// before applyEvents writes into it.
		s.set.LBs = slices.Clone(s.set.LBs)
		for _, l := range s.set.LBs {
			s.ctl.cfgEvents = append(s.ctl.cfgEvents, slices.Clone(l.Events))
		}
	})
	c := s.state.Controls
	v := ControlView{KillSwitch: s.ctl.cfgKill, KillSwitchSource: "config", DryRun: s.ctl.cfgDry, DryRunSource: "config"}
	if c != nil && c.KillSwitch != nil {
		v.KillSwitch, v.KillSwitchSource = *c.KillSwitch, "operator"
	}
	if c != nil && c.DryRun != nil {
		v.DryRun, v.DryRunSource = *c.DryRun, "operator"
	}
	v.Paused = map[string]time.Time{}
	if c != nil {
		maps.Copy(v.Paused, c.Paused)
		v.Events = slices.Clone(c.Events)
	}
	s.applyEvents(v.Events)
	s.set.KillSwitch, s.set.DryRun = v.KillSwitch, v.DryRun
	s.ctl.mu.Lock()
	s.ctl.view = v
	s.ctl.mu.Unlock()
	s.updateStatus(func(st *Status) { st.KillSwitch, st.DryRun = v.KillSwitch, v.DryRun })
}

// Controls returns the controls in force; safe from any goroutine. Before
// the state was first loaded it loads it (waiting for the control lock).
func (s *Scheduler) Controls(ctx context.Context) (ControlView, error) {
	s.ctl.mu.Lock()
	v := s.ctl.view
	s.ctl.mu.Unlock()
	if v.KillSwitchSource == "" {
		var err error
		s.locked(func() { err = s.load(ctx) })
		if err != nil {
			return ControlView{}, err
		}
		s.ctl.mu.Lock()
		v = s.ctl.view
		s.ctl.mu.Unlock()
	}
	v.Paused = maps.Clone(v.Paused)
	if v.Paused == nil {
		v.Paused = map[string]time.Time{}
	}
	v.Events = slices.Clone(v.Events)
	if v.Events == nil {
		v.Events = []OperatorEvent{}
	}
	return v, nil
}

// paused reports whether the operator paused lb (read in the loop).
func (s *Scheduler) paused(lb string) bool {
	c := s.state.Controls
	_, ok := c.pausedAt(lb)
	return ok
}

func (c *Controls) pausedAt(lb string) (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	t, ok := c.Paused[lb]
	return t, ok
}

// change loads the state, lets f edit the controls, persists and applies.
func (s *Scheduler) change(ctx context.Context, f func(c *Controls) error) error {
	var err error
	s.locked(func() {
		if err = s.load(ctx); err != nil {
			return
		}
		c := s.state.Controls.clone()
		if c == nil {
			c = &Controls{}
		}
		if err = f(c); err != nil {
			return
		}
		prev := s.state.Controls
		s.state.Controls = c
		if err = s.save(ctx); err != nil {
			s.state.Controls = prev
			return
		}
		s.applyControls()
	})
	return err
}

// SetKillSwitch turns the global kill switch on or off (persisted).
func (s *Scheduler) SetKillSwitch(ctx context.Context, on bool) error {
	return s.change(ctx, func(c *Controls) error { c.KillSwitch = &on; return nil })
}

// SetDryRun turns dry-run on or off (persisted).
func (s *Scheduler) SetDryRun(ctx context.Context, on bool) error {
	return s.change(ctx, func(c *Controls) error { c.DryRun = &on; return nil })
}

// Pause stops acting on lb from the next tick: it is still observed,
// forecast and planned, and its pool (if any) is held as it is, like the
// kill switch for one LB. A forced rollback still works.
func (s *Scheduler) Pause(ctx context.Context, lb string, now time.Time) error {
	return s.change(ctx, func(c *Controls) error {
		if s.spec(lb) == nil {
			return fmt.Errorf("pause %q: %w", lb, ErrUnknownLB)
		}
		if _, ok := c.Paused[lb]; !ok {
			if c.Paused == nil {
				c.Paused = map[string]time.Time{}
			}
			c.Paused[lb] = now.UTC()
		}
		return nil
	})
}

// Resume undoes Pause.
func (s *Scheduler) Resume(ctx context.Context, lb string) error {
	return s.change(ctx, func(c *Controls) error {
		if s.spec(lb) == nil {
			return fmt.Errorf("resume %q: %w", lb, ErrUnknownLB)
		}
		delete(c.Paused, lb)
		return nil
	})
}

// ForceRollback rolls lb's pool back now, in the normal rollback order
// (traffic to the primary first, then the pool torn down), whatever its
// phase, and even in dry-run or under the kill switch: sending traffic
// back to the primary is always safe. A step that fails leaves the pool in
// RollingBack, retried at each tick. It returns what was done.
func (s *Scheduler) ForceRollback(ctx context.Context, lb, reason string, now time.Time) (string, error) {
	var msg string
	var err error
	s.locked(func() { msg, err = s.forceRollback(ctx, lb, reason, now) })
	return msg, err
}

func (s *Scheduler) forceRollback(ctx context.Context, lb, reason string, now time.Time) (string, error) {
	if err := s.load(ctx); err != nil {
		return "", err
	}
	l := s.spec(lb)
	if l == nil {
		return "", fmt.Errorf("rollback %q: %w", lb, ErrUnknownLB)
	}
	st := s.state.lb(lb)
	if st.Pool == nil {
		return "", fmt.Errorf("rollback %q: %w", lb, ErrNoPool)
	}
	var errs []error
	e := &stepEnv{ctx: ctx, now: now, dt: s.set.Tick, set: &s.set, lb: *l, st: st, drv: s.deps.Driver,
		prov: s.deps.Providers[l.Provider], save: s.saver(ctx, &errs), log: s.log, gate: NoData}
	p := st.Pool
	var msg string
	var err error
	if p.Phase == RollingBack {
		msg, err = e.rollback(p)
	} else {
		msg, err = e.startRollback(p, "forced by operator: "+reason)
	}
	e.save()
	s.publishPhase(lb, st)
	return msg, errors.Join(append(errs, err)...)
}

// publishPhase updates one LB's phase in the status after a control call,
// so readers need not wait for the next tick.
func (s *Scheduler) publishPhase(lb string, st *LBState) {
	s.updateStatus(func(status *Status) {
		for i := range status.LBs {
			if status.LBs[i].LB == lb {
				status.LBs[i].Phase, status.LBs[i].Share = phaseOf(st), shareOf(st)
				status.LBs[i].RolledBack, status.LBs[i].Cooldown = st.RolledBack, st.CooldownUntil
				status.LBs[i].Pool = ""
				if st.Pool != nil {
					status.LBs[i].Pool = st.Pool.ID
				}
			}
		}
	})
}

// keepForecasts keeps the tick's forecasts for readers (the API).
func (s *Scheduler) keepForecasts(now time.Time, obs map[string]*observation) {
	fs := make(map[string]inference.Forecast, len(obs))
	for name, o := range obs {
		if o != nil && o.forecast != nil {
			fs[name] = *o.forecast
		}
	}
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	s.ctl.forecasts, s.ctl.forecastsAt = fs, now
}

// Forecasts returns the last tick's forecast per LB (LBs without one are
// absent) and the tick's time. The slices are shared: do not modify them.
func (s *Scheduler) Forecasts() (map[string]inference.Forecast, time.Time) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	return maps.Clone(s.ctl.forecasts), s.ctl.forecastsAt
}

// applyEvents sets each LB's events to the configured ones plus the
// operator's that name it (or every LB).
func (s *Scheduler) applyEvents(evs []OperatorEvent) {
	for i := range s.set.LBs {
		l := &s.set.LBs[i]
		l.Events = slices.Clone(s.ctl.cfgEvents[i])
		for _, e := range evs {
			if e.LB == l.Name || e.LB == AllLBs {
				l.Events = append(l.Events, Event{Start: e.Start, End: e.End, Lift: e.Lift})
			}
		}
	}
}

// AddEvent adds an operator event (persisted) and returns it with its ID.
// The caller validates it; the LB must be configured or AllLBs.
func (s *Scheduler) AddEvent(ctx context.Context, e OperatorEvent) (OperatorEvent, error) {
	err := s.change(ctx, func(c *Controls) error {
		if e.LB != AllLBs && s.spec(e.LB) == nil {
			return fmt.Errorf("add event for %q: %w", e.LB, ErrUnknownLB)
		}
		c.EventSeq++
		e.ID = fmt.Sprintf("ev-%d", c.EventSeq)
		c.Events = append(c.Events, e)
		return nil
	})
	return e, err
}

// DeleteEvent removes an operator event by ID.
func (s *Scheduler) DeleteEvent(ctx context.Context, id string) error {
	return s.change(ctx, func(c *Controls) error {
		i := slices.IndexFunc(c.Events, func(e OperatorEvent) bool { return e.ID == id })
		if i < 0 {
			return fmt.Errorf("delete event %q: %w", id, ErrNoEvent)
		}
		c.Events = slices.Delete(c.Events, i, i+1)
		return nil
	})
}
