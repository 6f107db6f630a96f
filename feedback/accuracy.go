package feedback

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Accuracy is one model's rolling accuracy for one LB over a window ending
// now. Ratios are nil when nothing in the window supports them.
type Accuracy struct {
	LB      string  `json:"lb"`
	Model   string  `json:"model"`
	Window  string  `json:"window"`
	Scored  int     `json:"scored"`
	Missing int     `json:"missing"`
	MAE     float64 `json:"mae"`
	// MASE is the mean absolute error of p50 over that of the seasonal
	// naive forecast (one Season before) at the same targets.
	MASE    *float64 `json:"mase"`
	Pinball float64  `json:"pinball"` // mean over p10, p50, p90
	// Coverage is the share of actuals within p10..p90 (nominal 0.8),
	// CoverageP90 at or below p90 (nominal 0.9), both of the raw model;
	// CalCoverageP90 is the same for the calibrated band the planner used.
	Coverage       float64  `json:"coverage"`
	CoverageP90    float64  `json:"coverage_p90"`
	CalCoverageP90 *float64 `json:"calibrated_coverage_p90"`
	Calibrated     int      `json:"calibrated"` // scored targets with a calibrated band
}

// AccuracyReader is what the API and model selection read.
type AccuracyReader interface {
	// Accuracy of model for lb over [now-window, now) by target time.
	Accuracy(lb, model string, window time.Duration, now time.Time) Accuracy
	// Models lists the models with scores for lb, sorted.
	Models(lb string) []string
}

// book keeps the scored steps of every (LB, model) for the longest window
// anyone asks about; safe for concurrent use.
type book struct {
	mu   sync.Mutex
	keep time.Duration
	by   map[[2]string][]scored // by (lb, model), in arrival order
}

func newBook(keep time.Duration) *book { return &book{keep: keep, by: map[[2]string][]scored{}} }

func (b *book) add(now time.Time, ss ...scored) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range ss {
		k := [2]string{s.LB, s.Model}
		b.by[k] = append(b.by[k], s)
	}
	cut := now.Add(-b.keep)
	for k, list := range b.by {
		i := 0
		for i < len(list) && list[i].Target.Before(cut) {
			i++
		}
		if i > 0 {
			b.by[k] = append([]scored(nil), list[i:]...)
		}
	}
}

// window returns a copy of the scored steps of (lb, model) with targets in
// [from, to).
func (b *book) window(lb, model string, from, to time.Time) []scored {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []scored
	for _, s := range b.by[[2]string{lb, model}] {
		if !s.Target.Before(from) && s.Target.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

func (b *book) Accuracy(lb, model string, window time.Duration, now time.Time) Accuracy {
	a := summarize(b.window(lb, model, now.Add(-window), now))
	a.LB, a.Model, a.Window = lb, model, window.String()
	return a
}

func (b *book) Models(lb string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k := range b.by {
		if k[0] == lb {
			out = append(out, k[1])
		}
	}
	sort.Strings(out)
	return out
}

// summarize computes the accuracy of a set of scored steps.
func summarize(ss []scored) Accuracy {
	var a Accuracy
	var absSum, pinSum, cov, cov90, calCov, mAbs, mNaive float64
	for _, s := range ss {
		if s.Missing {
			a.Missing++
			continue
		}
		a.Scored++
		absSum += s.absError()
		pinSum += s.pinball()
		cov += b2f(s.covered())
		cov90 += b2f(s.coveredP90())
		if s.calibrated() {
			a.Calibrated++
			calCov += b2f(s.Actual <= s.CalP90)
		}
		if !math.IsNaN(s.SNaive) {
			mAbs += s.absError()
			mNaive += s.SNaive
		}
	}
	if a.Scored == 0 {
		return a
	}
	n := float64(a.Scored)
	a.MAE, a.Pinball, a.Coverage, a.CoverageP90 = absSum/n, pinSum/n, cov/n, cov90/n
	if mNaive > 0 {
		m := mAbs / mNaive
		a.MASE = &m
	}
	if a.Calibrated > 0 {
		c := calCov / float64(a.Calibrated)
		a.CalCoverageP90 = &c
	}
	return a
}
