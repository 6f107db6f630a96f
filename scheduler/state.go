package scheduler

import (
	"fmt"
	"time"
)

// Phase is a shadow pool's lifecycle step (DESIGN.md 1).
type Phase string

// The phases, in lifecycle order. Idle is the phase of a load balancer with
// no pool; RollingBack is reachable from every phase after Provisioning.
const (
	Idle         Phase = "Idle"
	Provisioning Phase = "Provisioning"
	WarmingUp    Phase = "WarmingUp"
	Ready        Phase = "Ready"
	CuttingOver  Phase = "CuttingOver"
	Active       Phase = "Active"
	Draining     Phase = "Draining"
	Retired      Phase = "Retired"
	RollingBack  Phase = "RollingBack"
)

// StateVersion is the schema version of a persisted State.
const StateVersion = 1

// State is everything the scheduler persists: enough to resume after a
// crash with nothing lost and nothing orphaned.
type State struct {
	Version int                 `json:"version"`
	Seq     int                 `json:"seq"` // last pool number handed out
	LBs     map[string]*LBState `json:"lbs"`
	// Controls are the operator's overrides (control.go); absent in
	// files written before they existed.
	Controls *Controls `json:"controls,omitempty"`
}

// LBState is the persisted state of one load balancer.
type LBState struct {
	Pool          *Pool     `json:"pool,omitempty"`
	CooldownUntil time.Time `json:"cooldown_until,omitzero"`
	// LowSince is when the forecast last fell below primary capacity
	// (zero while it is not low): the scale-down hysteresis.
	LowSince     time.Time `json:"low_since,omitzero"`
	LastFailure  string    `json:"last_failure,omitempty"`
	LastFailedAt time.Time `json:"last_failed_at,omitzero"`
	// Capacity holds the learner's recent healthy per-instance throughput.
	Capacity []float64 `json:"capacity,omitempty"`
	// Behaviour holds recent (requests per instance, latency, errors,
	// utilisation) samples of the primary: what capacity is learned from.
	Behaviour []Sample `json:"behaviour,omitempty"`
	// Leads holds measured boot and warm-up times of this LB's pools.
	Leads []Lead `json:"leads,omitempty"`
	// Recs are the pool sizes asked over the scale-down window, newest
	// last: a pool shrinks only to the largest of them (HPA's
	// stabilisation window).
	Recs []Rec `json:"recs,omitempty"`
	// Retired counts pools closed normally, RolledBack pools rolled back.
	Retired    int `json:"retired"`
	RolledBack int `json:"rolled_back"`
}

// Pool is one shadow pool: its instances, its servers in the shadow backend
// and where it is in its lifecycle.
type Pool struct {
	ID        string     `json:"id"`
	LB        string     `json:"lb"`
	Provider  string     `json:"provider"`
	Backend   string     `json:"backend"` // the shadow backend its servers are in
	Phase     Phase      `json:"phase"`
	Since     time.Time  `json:"since"` // when Phase was entered
	Created   time.Time  `json:"created"`
	Size      int        `json:"size"`                // instances asked for
	Instances []Instance `json:"instances,omitempty"` // created, not yet destroyed
	Servers   []string   `json:"servers,omitempty"`   // added, not yet removed
	Share     int        `json:"share"`               // percent of the LB's traffic
	// HealthyFor is the warm-up time accumulated under a passing gate.
	HealthyFor time.Duration `json:"healthy_for"`
	// Evidence is the health gate's sliding window of per-tick traffic,
	// persisted so a restart judges on what was already seen.
	Evidence []GateSample `json:"evidence,omitempty"`
	// GateFailures counts consecutive failing gate checks.
	GateFailures int `json:"gate_failures"`
	// Step indexes the cutover (or drain) steps taken so far.
	Step int `json:"step"`
	// From and Target are the shares a cutover or drain moves between.
	From   int `json:"from"`
	Target int `json:"target"`
	// DrainedAt is when the share reached 0 and the servers were set to
	// drain: the start of the bounded wait for sessions to end.
	DrainedAt time.Time `json:"drained_at,omitzero"`
	// Reason is why the pool is rolling back (or was retired).
	Reason string `json:"reason,omitempty"`
	// Next numbers the next server added (names stay unique after a
	// shrink); 0 in a state written before resizing existed.
	Next int `json:"next,omitempty"`
	// Resize is the grow or shrink in progress, nil when none.
	Resize *Resize `json:"resize,omitempty"`
	// HealthyAt is when the pool's first servers passed their checks.
	HealthyAt time.Time `json:"healthy_at,omitzero"`
}

// Resize is one grow or shrink of a serving pool. A grow appends Delta
// members (instances, then MAINT servers) that take traffic only once
// their checks pass and count toward the pool's share only after a full
// warm-up; a shrink takes the Delta newest servers out of the share, drains
// them and retires them. The members concerned are always the last Delta
// of the pool's Size.
type Resize struct {
	Grow  bool      `json:"grow"`
	Delta int       `json:"delta"`
	Since time.Time `json:"since"`
	// Ready: grow, the new servers passed their checks and were set ready.
	Ready      bool          `json:"ready,omitempty"`
	ReadyAt    time.Time     `json:"ready_at,omitzero"`
	HealthyFor time.Duration `json:"healthy_for,omitempty"`
	// DrainedAt: shrink, the leaving servers were set to drain.
	DrainedAt time.Time `json:"drained_at,omitzero"`
}

// serverName is the name of the pool's i-th server in the shadow backend;
// the prefix lets reconcile recognise servers the scheduler owns.
func (p *Pool) serverName(i int) string { return fmt.Sprintf("%s-%d", p.ID, i) }

// nextName hands out the next server name; a pool from an older state
// (Next 0) never shrank, so its servers are numbered 0..len-1.
func (p *Pool) nextName() string {
	p.Next = max(p.Next, len(p.Servers))
	p.Next++
	return p.serverName(p.Next - 1)
}

// ServerPrefix starts the name of every server and pool the scheduler owns.
const ServerPrefix = "ssp-"

func poolID(lb string, seq int) string { return fmt.Sprintf("%s%s-%d", ServerPrefix, lb, seq) }

func (p *Pool) enter(ph Phase, now time.Time) {
	p.Phase, p.Since = ph, now
	p.GateFailures, p.Step = 0, 0
	if ph == Ready {
		// The warm-up is done: what the instances did while cold judged
		// the warm-up; the warm pool starts a fresh window.
		p.Evidence = nil
	}
}

// lb returns the state of lb, creating it.
func (s *State) lb(name string) *LBState {
	if s.LBs == nil {
		s.LBs = map[string]*LBState{}
	}
	st := s.LBs[name]
	if st == nil {
		st = &LBState{}
		s.LBs[name] = st
	}
	return st
}

// clone deep-copies the state so a snapshot can be saved or reported while
// the loop goes on.
func (s State) clone() State {
	out := State{Version: s.Version, Seq: s.Seq, LBs: make(map[string]*LBState, len(s.LBs)), Controls: s.Controls.clone()}
	for k, v := range s.LBs {
		c := *v
		c.Capacity = append([]float64(nil), v.Capacity...)
		c.Behaviour = append([]Sample(nil), v.Behaviour...)
		c.Leads = append([]Lead(nil), v.Leads...)
		c.Recs = append([]Rec(nil), v.Recs...)
		if v.Pool != nil {
			p := *v.Pool
			p.Instances = append([]Instance(nil), v.Pool.Instances...)
			p.Servers = append([]string(nil), v.Pool.Servers...)
			if v.Pool.Resize != nil {
				r := *v.Pool.Resize
				p.Resize = &r
			}
			c.Pool = &p
		}
		out.LBs[k] = &c
	}
	return out
}
