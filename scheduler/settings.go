package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// LBSpec is one managed load balancer.
type LBSpec struct {
	Name          string
	Backend       string
	ShadowBackend string
	Provider      string
	// Capacity is requests/s per instance; 0 means learn it.
	Capacity     float64
	MinInstances int // pool size bounds
	MaxInstances int
	Warmup       time.Duration // healthy warm-up before a pool is Ready
	Events       []Event
	// TargetUtilisation overrides the learner's for this LB's app (0:
	// the learner's default).
	TargetUtilisation float64
}

// Policy bounds every action (the [policy] section of the configuration;
// cmd maps it). Warm-up shares are percent of live traffic.
type Policy struct {
	Headroom           float64
	MaxPoolsPerLB      int
	MinPoolsPerLB      int
	MaxPrewarmed       int
	MaxCostPerHour     float64 // 0 = unlimited
	Cooldown           time.Duration
	WarmupShareInitial int
	WarmupShareMin     int
	WarmupShareMax     int
	CutoverSteps       []int // percent, increasing, ending at 100
	ScaleDownAfter     time.Duration
}

// DefaultPolicy is the policy of a configuration that sets none of it.
func DefaultPolicy() Policy {
	return Policy{Headroom: 0.2, MaxPoolsPerLB: 1, MaxPrewarmed: 10, Cooldown: 5 * time.Minute,
		WarmupShareInitial: 1, WarmupShareMin: 1, WarmupShareMax: 5,
		CutoverSteps: []int{25, 50, 75, 100}, ScaleDownAfter: 10 * time.Minute}
}

// Settings are the scheduler's knobs; cmd fills them from the service
// configuration, the zero values of the extra knobs mean defaults.
type Settings struct {
	Tick        time.Duration
	Horizon     time.Duration
	Quantile    string // p10 | p50 | p90
	MaxFailures int    // consecutive forecaster failures before the fallback
	DryRun      bool
	// KillSwitch stops every forward action: no new pools, no share
	// raised, no phase advanced. A failing pool is still rolled back,
	// because sending traffic back to the primary is always safe, and
	// pools are not torn down, because a cut-over pool may be carrying
	// traffic the primary cannot.
	KillSwitch bool
	Policy     Policy
	Gate       Gate
	Learner    Learner
	// ProvisionTimeout bounds Provisioning (default 2 × boot + 2 ticks).
	ProvisionTimeout time.Duration
	// DrainTimeout bounds waiting for sessions to end (default 5m).
	DrainTimeout time.Duration
	// MaxGateFailures consecutive Worse verdicts in warm-up roll back
	// (default 3).
	MaxGateFailures int
	LBs             []LBSpec
}

func (s Settings) withDefaults() Settings {
	if s.Quantile == "" {
		s.Quantile = "p90"
	}
	if s.MaxFailures <= 0 {
		s.MaxFailures = 3
	}
	if s.DrainTimeout <= 0 {
		s.DrainTimeout = 5 * time.Minute
	}
	if s.MaxGateFailures <= 0 {
		s.MaxGateFailures = 3
	}
	if len(s.Policy.CutoverSteps) == 0 {
		s.Policy.CutoverSteps = []int{25, 50, 75, 100}
	}
	s.Gate, s.Learner = s.Gate.withDefaults(), s.Learner.withDefaults()
	return s
}

func (s Settings) validate(d Deps) error {
	var errs []error
	if s.Tick <= 0 || s.Horizon <= 0 {
		errs = append(errs, fmt.Errorf("tick %s and horizon %s must be positive", s.Tick, s.Horizon))
	}
	if _, ok := map[string]bool{"p10": true, "p50": true, "p90": true}[s.Quantile]; !ok {
		errs = append(errs, fmt.Errorf("quantile %q: want p10, p50 or p90", s.Quantile))
	}
	p := s.Policy
	if p.WarmupShareMin < 0 || p.WarmupShareMin > p.WarmupShareMax || p.WarmupShareMax > 100 ||
		p.WarmupShareInitial < p.WarmupShareMin || p.WarmupShareInitial > p.WarmupShareMax {
		errs = append(errs, fmt.Errorf("warm-up shares: want 0 <= min %d <= initial %d <= max %d <= 100",
			p.WarmupShareMin, p.WarmupShareInitial, p.WarmupShareMax))
	}
	seen := map[string]bool{}
	for _, l := range s.LBs {
		switch {
		case l.Name == "" || l.Backend == "" || l.ShadowBackend == "":
			errs = append(errs, fmt.Errorf("lb %q: name, backend and shadow backend are required", l.Name))
		case seen[l.Name]:
			errs = append(errs, fmt.Errorf("lb %q: defined twice", l.Name))
		case d.Providers[l.Provider] == nil:
			errs = append(errs, fmt.Errorf("lb %q: provider %q has no implementation", l.Name, l.Provider))
		}
		seen[l.Name] = true
	}
	return errors.Join(errs...)
}

// Deps are the scheduler's collaborators.
type Deps struct {
	// Forecaster is the primary model; nil means the fallback only.
	Forecaster Forecaster
	// Fallback takes over after MaxFailures (KEDA style); required.
	Fallback Forecaster
	History  History
	// App gives the utilisation that capacity per instance is learned
	// from; nil: learned from latency and throughput alone.
	App       AppMetrics
	Driver    Driver
	Providers map[string]Provider // by name, as LBSpec.Provider
	Store     StateStore
	Log       *slog.Logger
}

func (d Deps) validate() error {
	switch {
	case d.Fallback == nil:
		return errors.New("deps: a fallback forecaster is required")
	case d.History == nil || d.Driver == nil || d.Store == nil:
		return errors.New("deps: history, driver and state store are required")
	}
	return nil
}
