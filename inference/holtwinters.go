package inference

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// HoltWinters is additive Holt-Winters with a damped trend (statsmodels'
// form). Per series it estimates the smoothing parameters, the damping and
// the initial season from the data, and chooses the period (a day, a week
// or none) by the out-of-sample error on the last fifth of its fit window.
// Quantiles come from the h-step errors over the last maxResiduals origins.
//
// Fitting is the costly part, so a HoltWinters made by NewHoltWinters fits
// each series (by ID, step and horizon) once per refit interval, on the data
// before the interval's start, and then only filters the newer points; the
// zero value fits on every call.
type HoltWinters struct {
	Refit time.Duration // 0: fit on every call
	cache *fitCache[hwFit]
}

// DefaultRefit is how often NewHoltWinters refits a series.
const DefaultRefit = 24 * time.Hour

// NewHoltWinters returns a Holt-Winters forecaster that refits each series
// once per refit interval (DefaultRefit when refit <= 0).
func NewHoltWinters(refit time.Duration) HoltWinters {
	if refit <= 0 {
		refit = DefaultRefit
	}
	return HoltWinters{Refit: refit, cache: newFitCache[hwFit]()}
}

// Name implements Forecaster.
func (HoltWinters) Name() string { return "holt-winters" }

// Forecast implements Forecaster.
func (hw HoltWinters) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	return forecastEach(ctx, series, horizon, hw.one)
}

// HWFitSteps is the most history a fit uses: four weeks (two weekly seasons
// to fit and a holdout), at least 10,000 steps (a slowly changing season
// needs many seasons to show its gamma), at most 60,000.
func HWFitSteps(step time.Duration) int {
	return min(max(int(4*week/step), 10000), 60000)
}

// HistorySteps is the history a series needs for the refit schedule to see
// a whole fit window at every origin.
func (hw HoltWinters) HistorySteps(step time.Duration) int {
	return HWFitSteps(step) + int(hw.refit(step)/step) + 1
}

// refit is the refit interval, never under 100 steps (coarse series).
func (hw HoltWinters) refit(step time.Duration) time.Duration {
	return max(hw.Refit, 100*step)
}

func (hw HoltWinters) one(s Series, horizon int) (Forecast, error) {
	v := s.Values
	if validCount(v) < 3 {
		return Forecast{}, fmt.Errorf("holt-winters: series %q: %w: need at least 3 observed values", s.ID, ErrTooShort)
	}
	fitEnd, key := len(v), hwKey{}
	if hw.cache != nil {
		fitEnd, key = refitPoint(s, hw.refit(s.Step), horizon)
	}
	fit := hw.fitted(s, fitEnd, key, horizon)
	st := fit.end.clone()
	for _, y := range v[fitEnd:] {
		st.update(y)
	}
	point := make([]float64, horizon)
	for h := range point {
		point[h] = st.predict(h + 1)
	}
	f := newForecast(s, "holt-winters", point, fit.bands)
	if fit.m == 0 && !fit.seasonTried && SeasonSteps(day, s.Step) > 0 {
		f.Fallback = "history too short to fit a daily season: none"
	}
	return f, nil
}

// fitted is the fit on v[:fitEnd] (its last HWFitSteps), from the cache
// when key is set.
func (hw HoltWinters) fitted(s Series, fitEnd int, key hwKey, horizon int) hwFit {
	fit := func() hwFit {
		lo := max(0, fitEnd-HWFitSteps(s.Step))
		idx0 := s.Start.UnixNano()/int64(s.Step) + int64(lo)
		return fitHoltWinters(s.Values[lo:fitEnd], s.Step, idx0, horizon)
	}
	if key == (hwKey{}) {
		return fit()
	}
	return hw.cache.get(key, fit)
}

// refitPoint is where the fit for s's current refit interval ends (the
// interval's start) and its cache key; a series with too little history
// before that start is fitted on all of it, uncached (zero key).
//
// A history shorter than twice the interval (a young LB) is refitted every
// 100 steps instead, so a fit is still not made every tick.
func refitPoint(s Series, refit time.Duration, horizon int) (int, hwKey) {
	v := s.Values
	for _, r := range []time.Duration{refit, 100 * s.Step} {
		b := s.End().Truncate(r)
		i := int(math.Ceil(float64(b.Sub(s.Start)) / float64(s.Step)))
		if i >= len(v)/2 && i >= 1 && validCount(v[:i]) >= 3 {
			return i, hwKey{id: s.ID, step: s.Step, bucket: s.Start.Add(time.Duration(i) * s.Step), horizon: horizon}
		}
	}
	return len(v), hwKey{}
}

// hwKey names one series' fit for one refit interval and horizon.
type hwKey struct {
	id      string
	step    time.Duration
	bucket  time.Time
	horizon int
}

type fitEntry[T any] struct {
	once sync.Once
	fit  T
}

// fitCache holds the recent fits; concurrent callers of one key share one
// fit.
type fitCache[T any] struct {
	mu sync.Mutex
	m  map[hwKey]*fitEntry[T]
}

func newFitCache[T any]() *fitCache[T] { return &fitCache[T]{m: map[hwKey]*fitEntry[T]{}} }

// fitCacheSize bounds the fits kept: a few refit intervals for many series.
const fitCacheSize = 4096

func (c *fitCache[T]) get(k hwKey, fit func() T) T {
	c.mu.Lock()
	e, ok := c.m[k]
	if !ok {
		if len(c.m) >= fitCacheSize {
			c.evictOlderThan(k.bucket)
		}
		e = &fitEntry[T]{}
		c.m[k] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.fit = fit() })
	return e.fit
}

// evictOlderThan drops the fits of intervals before t (or all, when none
// is older: the series set changed).
func (c *fitCache[T]) evictOlderThan(t time.Time) {
	n := len(c.m)
	for k := range c.m {
		if k.bucket.Before(t) {
			delete(c.m, k)
		}
	}
	if len(c.m) == n {
		clear(c.m)
	}
}

// trimHistory keeps the last n values.
func trimHistory(v []float64, n int) []float64 {
	if len(v) > n {
		return v[len(v)-n:]
	}
	return v
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64    { return math.Log(p / (1 - p)) }

func validCount(v []float64) int {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			n++
		}
	}
	return n
}

func firstValid(v []float64) int {
	for i, x := range v {
		if !math.IsNaN(x) {
			return i
		}
	}
	return -1
}

func meanValid(v []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
