package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// newEnv checks the configuration against the trace and derives the
// scored range, the predictive primary and the forecast cadence.
func newEnv(cfg Config) (*env, error) {
	c := cfg.Cluster.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d := cfg.Demand
	if d.Step <= 0 || len(d.Values) == 0 {
		return nil, errors.New("demand is empty")
	}
	if err := checkSettings(cfg, d); err != nil {
		return nil, err
	}
	for _, p := range cfg.Policies {
		if !slices.Contains(Policies, p) {
			return nil, fmt.Errorf("policy %q: want one of reactive, predictive, oracle", p)
		}
	}
	span := time.Duration(len(d.Values)) * d.Step
	if c.Boot+c.Warmup >= span {
		return nil, fmt.Errorf("boot %s + warm-up %s is not shorter than the trace (%s)", c.Boot, c.Warmup, span)
	}
	e := &env{cfg: cfg, cluster: c, slo: cfg.SLO.withDefaults(), d: d, to: len(d.Values), done: &atomic.Int64{}}
	e.from = int(cfg.Skip / d.Step)
	if cfg.Skip < 0 || e.from >= e.to {
		return nil, fmt.Errorf("skip %s leaves nothing of the trace (%s) to score", cfg.Skip, span)
	}
	if h := cfg.Settings.Horizon; time.Duration(e.to-e.from)*d.Step < h {
		return nil, fmt.Errorf("the scored part of the trace (%s after a skip of %s) is shorter than the horizon %s",
			time.Duration(e.to-e.from)*d.Step, cfg.Skip, h)
	}
	e.every = max(1, int(cfg.ForecastEvery/d.Step))
	e.primary = cfg.Primary
	if e.primary <= 0 {
		e.primary = autoPrimary(d.Values[:max(e.from, 1)], c.Capacity, cfg.Settings.Policy.Headroom)
	}
	e.total = int64(e.to-e.from) * int64(len(Policies))
	return e, nil
}

func checkSettings(cfg Config, d Demand) error {
	s := cfg.Settings
	switch {
	case len(s.LBs) != 1:
		return fmt.Errorf("settings: the simulator runs one load balancer, got %d", len(s.LBs))
	case s.Tick != d.Step:
		return fmt.Errorf("settings: tick %s must be the demand grid's step %s", s.Tick, d.Step)
	case cfg.Fallback == nil:
		return errors.New("a fallback forecaster is required")
	case cfg.HistoryWindow <= s.Horizon:
		return fmt.Errorf("history window %s must be longer than the horizon %s", cfg.HistoryWindow, s.Horizon)
	}
	return nil
}

// autoPrimary sizes the primary for the median of the history-only part
// at the scheduler's headroom: a fleet sized for typical load.
func autoPrimary(v []float64, capacity, headroom float64) int {
	var ok []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			ok = append(ok, x)
		}
	}
	if len(ok) == 0 {
		return 1
	}
	slices.Sort(ok)
	med := ok[len(ok)/2]
	return max(1, int(math.Ceil(med*(1+headroom)/capacity-1e-9)))
}
