package scheduler

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Status is a snapshot for the API: the loop's health and every LB.
type Status struct {
	At          time.Time  `json:"at"`
	Ticks       int64      `json:"ticks"`
	MissedTicks int64      `json:"missed_ticks"`
	Heartbeat   time.Time  `json:"heartbeat"` // the last tick that completed
	DryRun      bool       `json:"dry_run"`
	KillSwitch  bool       `json:"kill_switch"`
	Steps       []StepTime `json:"steps"`
	Error       string     `json:"error,omitempty"`
	// Reconcile lists, in dry-run, what the start-up reconcile would have
	// changed in HAProxy and the providers (it changed nothing).
	Reconcile []string   `json:"reconcile,omitempty"`
	LBs       []LBStatus `json:"lbs"`
}

// LBStatus is one load balancer's part of the status.
type LBStatus struct {
	LB         string   `json:"lb"`
	Phase      Phase    `json:"phase"`
	Pool       string   `json:"pool,omitempty"`
	Share      int      `json:"share"`
	Servers    []Server `json:"servers,omitempty"`
	Plan       Plan     `json:"plan"`
	Forecaster string   `json:"forecaster"`
	// Fallback says why the forecaster in use is not the primary one,
	// or why there is no forecast at all.
	Fallback    string    `json:"fallback,omitempty"`
	Failures    int       `json:"forecaster_failures"`
	LastFailure string    `json:"last_failure,omitempty"`
	Cooldown    time.Time `json:"cooldown_until,omitzero"`
	Retired     int       `json:"retired"`
	RolledBack  int       `json:"rolled_back"`
}

// Status returns a copy of the last tick's status.
func (s *Scheduler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Steps = slices.Clone(st.Steps)
	st.LBs = slices.Clone(st.LBs)
	return st
}

func (s *Scheduler) updateStatus(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.status)
}

// publishState publishes the persisted phases without a plan (after
// Reconcile, before the first tick).
func (s *Scheduler) publishState(now time.Time, err error) {
	obs, plans := map[string]*observation{}, map[string]*Plan{}
	for _, l := range s.set.LBs {
		obs[l.Name] = &observation{}
		plans[l.Name] = &Plan{LB: l.Name, At: now, Decision: "reconciled"}
	}
	s.record(now, obs, plans, nil, []error{err})
	s.updateStatus(func(st *Status) { st.Ticks-- })
}

// record logs every decision and publishes the status.
func (s *Scheduler) record(now time.Time, obs map[string]*observation, plans map[string]*Plan, steps []StepTime, errs []error) {
	lbs := make([]LBStatus, 0, len(s.set.LBs))
	for _, l := range s.set.LBs {
		o, p, st, live := obs[l.Name], plans[l.Name], s.state.lb(l.Name), s.live[l.Name]
		ls := LBStatus{
			LB: l.Name, Phase: phaseOf(st), Share: shareOf(st), Servers: o.servers, Plan: *p,
			Forecaster: o.forecastBy, Fallback: o.fallback, Failures: live.failures,
			LastFailure: st.LastFailure, Cooldown: st.CooldownUntil, Retired: st.Retired, RolledBack: st.RolledBack,
		}
		if st.Pool != nil {
			ls.Pool = st.Pool.ID
		}
		lbs = append(lbs, ls)
		s.logDecision(ls, p, poolSize(st.Pool))
	}
	s.updateStatus(func(st *Status) {
		st.At, st.Heartbeat, st.Steps, st.LBs = now, now, steps, lbs
		st.Ticks++
		st.DryRun, st.KillSwitch = s.set.DryRun, s.set.KillSwitch
		st.Error = ""
		if err := joinErrs(errs); err != nil {
			st.Error = err.Error()
		}
	})
}

// logDecision is the per-tick line a user follows: what was decided and
// every number it rests on (forecast peak and when, demand now, capacity
// per instance and where it came from, primary and pool sizes).
func (s *Scheduler) logDecision(ls LBStatus, p *Plan, pool int) {
	r := p.Reason
	observed := "missing"
	if r.Observed != nil {
		observed = fmt.Sprintf("%.1f", *r.Observed)
	}
	s.log.Info("decision", "lb", ls.LB, "phase", ls.Phase, "share", ls.Share, "decision", p.Decision,
		"observed_rps", observed, "quantile", r.Quantile,
		"peak_rps", round1(r.Provision.Peak*r.Provision.Lift), "peak_at", r.Provision.PeakAt, "look_ahead", r.Provision.LookAhead.String(),
		"horizon_peak_rps", round1(r.Horizon.Peak*r.Horizon.Lift), "horizon_peak_at", r.Horizon.PeakAt,
		"capacity_rps", round1(r.Capacity), "capacity_source", r.CapacitySource, "headroom", r.Headroom,
		"needed", p.Needed, "current", p.Current, "deficit", p.Deficit, "pool", pool,
		"forecaster", ls.Forecaster, "fallback", ls.Fallback, "bounds", r.Bounds, "notes", r.Notes)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
