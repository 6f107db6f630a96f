// Package feedback is the Learn stage of the loop: it logs every forecast
// the scheduler uses and every decision, scores each forecast against what
// happened once its target has passed, keeps rolling accuracy per load
// balancer and model, calibrates the quantiles online (conformal), marks a
// model stale when it drifts, retrains on production traffic and runs a
// challenger beside the champion until it earns promotion.
//
// Everything it learns is written to the metrics store (forecast,
// forecast_error and action measurements) and rebuilt from it after a
// restart; nothing reads the wall clock: times are passed in.
package feedback

import (
	"errors"
	"fmt"
	"time"
)

// Options are the feedback loop's knobs ([feedback] in the configuration).
// Zero values mean the defaults of DefaultOptions.
type Options struct {
	// Settle is how long after a target window ends its actual is looked
	// for (the scrape that closes the window must have landed).
	Settle time.Duration
	// MaxLateness is how long a target waits for its actual; after that a
	// target without data is marked missing, never scored against a gap.
	MaxLateness time.Duration
	// Windows are the rolling accuracy windows.
	Windows []time.Duration
	// Season is the lag of the seasonal naive forecast MASE is scaled by.
	Season time.Duration

	Calibration Calibration
	Drift       Drift
	Trial       Trial
}

// Calibration is the online conformal correction per LB, model and step.
type Calibration struct {
	Enabled bool
	// Scores kept per (LB, model, step): the calibration window.
	Scores int
	// MinScores before any correction is applied.
	MinScores int
	// Gamma is the adaptive conformal step (Gibbs & Candès 2021); 0 is
	// plain split-conformal at the nominal level.
	Gamma float64
	// MaxWiden and MaxNarrow bound the correction, in units of the raw
	// p10..p90 band width, so one outlier cannot explode the band.
	MaxWiden, MaxNarrow float64
}

// Drift marks a model stale for an LB when its raw accuracy stays past the
// thresholds for For.
type Drift struct {
	Window      time.Duration
	MinSamples  int
	MinCoverage float64 // raw p90 coverage below this is drift
	MaxMASE     float64 // MASE above this is drift (0 = not checked)
	For         time.Duration
	// Margin widens p90 (and the p50..p90 gap) of a stale model by this
	// fraction, and the reason says so.
	Margin float64
}

// Trial is the champion/challenger run.
type Trial struct {
	Period     time.Duration // how long a challenger runs before it is judged
	MinSamples int           // scored forecasts of both on the same targets
	// Margin: the challenger's mean pinball must be below the champion's
	// by this fraction.
	Margin float64
}

// DefaultOptions are the documented defaults.
func DefaultOptions() Options {
	return Options{
		Settle: 30 * time.Second, MaxLateness: time.Hour,
		Windows: []time.Duration{time.Hour, 24 * time.Hour}, Season: 24 * time.Hour,
		Calibration: Calibration{Enabled: true, Scores: 500, MinScores: 50, Gamma: 0.005, MaxWiden: 3, MaxNarrow: 0.5},
		Drift: Drift{Window: 2 * time.Hour, MinSamples: 60, MinCoverage: 0.7, MaxMASE: 2, For: 30 * time.Minute,
			Margin: 0.25},
		Trial: Trial{Period: 6 * time.Hour, MinSamples: 200, Margin: 0.02},
	}
}

// Validate names the first bad option.
func (o Options) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.Settle >= 0, "settle %s must not be negative", o.Settle)
	check(o.MaxLateness > 0, "max_lateness %s must be positive", o.MaxLateness)
	check(o.Season > 0, "season %s must be positive", o.Season)
	for _, w := range o.Windows {
		check(w > 0, "accuracy window %s must be positive", w)
	}
	c := o.Calibration
	check(c.Scores >= 10 && c.MinScores >= 1 && c.MinScores <= c.Scores, "calibration scores %d / min %d: want 1 <= min <= scores, scores >= 10", c.Scores, c.MinScores)
	check(c.Gamma >= 0 && c.Gamma < 0.1, "calibration gamma %g: want 0 <= gamma < 0.1", c.Gamma)
	check(c.MaxWiden > 0 && c.MaxNarrow >= 0 && c.MaxNarrow < 1, "calibration bounds widen %g / narrow %g: want widen > 0, 0 <= narrow < 1", c.MaxWiden, c.MaxNarrow)
	d := o.Drift
	check(d.Window > 0 && d.For >= 0 && d.MinSamples >= 1, "drift window %s / for %s / min samples %d: want positive", d.Window, d.For, d.MinSamples)
	check(d.MinCoverage >= 0 && d.MinCoverage <= 1 && d.MaxMASE >= 0 && d.Margin >= 0, "drift thresholds coverage %g / mase %g / margin %g out of range", d.MinCoverage, d.MaxMASE, d.Margin)
	t := o.Trial
	check(t.Period > 0 && t.MinSamples >= 1 && t.Margin >= 0 && t.Margin < 1, "trial period %s / min samples %d / margin %g out of range", t.Period, t.MinSamples, t.Margin)
	return errors.Join(errs...)
}

// keep is how far back in-memory scores must reach.
func (o Options) keep() time.Duration {
	k := max(o.Drift.Window, o.Trial.Period*2)
	for _, w := range o.Windows {
		k = max(k, w)
	}
	return k
}
