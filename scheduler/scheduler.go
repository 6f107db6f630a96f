package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Scheduler is the control loop. RunOnce and Reconcile must not run
// concurrently; Status may be called from any goroutine.
type Scheduler struct {
	set  Settings
	deps Deps
	log  *slog.Logger

	state  State
	loaded bool
	live   map[string]*lbLive // per LB, not persisted
	last   time.Time          // previous tick

	mu     sync.Mutex // guards status
	status Status
}

// lbLive is what the loop keeps between ticks in memory only: counter
// snapshots for rates and the forecaster bookkeeping.
type lbLive struct {
	primary, shadow BackendStats
	statsAt         time.Time
	failures        int    // consecutive primary forecaster failures
	lastErr         string // the last failure
}

// New checks the settings and collaborators; it does no I/O. Call
// Reconcile before the first RunOnce (RunOnce loads the state itself if
// not).
func New(s Settings, d Deps) (*Scheduler, error) {
	s = s.withDefaults()
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("new scheduler: %w", err)
	}
	if err := s.validate(d); err != nil {
		return nil, fmt.Errorf("new scheduler: %w", err)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	sch := &Scheduler{set: s, deps: d, log: d.Log, live: map[string]*lbLive{}}
	for _, l := range s.LBs {
		sch.live[l.Name] = &lbLive{}
	}
	return sch, nil
}

func (s *Scheduler) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	st, err := s.deps.Store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	if st.Version != 0 && st.Version != StateVersion {
		return fmt.Errorf("load state: version %d, this build reads %d", st.Version, StateVersion)
	}
	st.Version = StateVersion
	s.state, s.loaded = st, true
	return nil
}

func (s *Scheduler) save(ctx context.Context) error {
	if err := s.deps.Store.Save(ctx, s.state); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// observation is one LB's inputs at a tick.
type observation struct {
	series     inference.Series
	missing    string // why demand is unknown ("" = known)
	observed   float64
	util       float64 // app utilisation now, NaN when unknown
	appErr     string
	primary    Rates
	shadow     Rates
	primaryN   int
	servers    []Server
	statsErr   string
	forecast   *inference.Forecast
	forecastBy string
	fallback   string
}
