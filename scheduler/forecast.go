package scheduler

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// forecast predicts every LB with known demand in one batch of the primary
// forecaster; LBs whose primary forecast failed MaxFailures times in a row
// (or all of them when there is no primary) get the fallback's forecast in
// a second batch, and their status says why (KEDA's fallback).
func (s *Scheduler) forecast(ctx context.Context, now time.Time, obs map[string]*observation) {
	var names []string
	var batch []inference.Series
	horizon := 0
	for _, l := range s.set.LBs {
		o := obs[l.Name]
		if len(o.series.Values) == 0 || o.series.Step <= 0 {
			o.fallback = "no demand history"
			continue
		}
		names = append(names, l.Name)
		batch = append(batch, o.series)
		horizon = max(horizon, int(math.Ceil(float64(s.set.Horizon)/float64(o.series.Step))))
	}
	if len(batch) == 0 {
		return
	}
	var needFallback []int
	if s.deps.Forecaster == nil {
		for i := range names {
			obs[names[i]].fallback = "no model configured"
			needFallback = append(needFallback, i)
		}
	} else {
		needFallback = s.primaryBatch(ctx, names, batch, horizon, obs)
	}
	s.fallbackBatch(ctx, names, batch, horizon, needFallback, obs)
}

// primaryBatch runs the model and returns the indexes that need the
// fallback this tick.
func (s *Scheduler) primaryBatch(ctx context.Context, names []string, batch []inference.Series, horizon int, obs map[string]*observation) []int {
	out, err := s.deps.Forecaster.Forecast(ctx, batch, horizon)
	if err == nil && len(out) != len(batch) {
		err = fmt.Errorf("%d forecasts for %d series", len(out), len(batch))
	}
	var need []int
	for i, name := range names {
		live := s.live[name]
		ferr := err
		if ferr == nil {
			ferr = checkForecast(out[i])
		}
		if ferr == nil {
			live.failures, live.lastErr = 0, ""
			f := out[i]
			obs[name].forecast, obs[name].forecastBy, obs[name].fallback = &f, s.deps.Forecaster.Name(), f.Fallback
			continue
		}
		live.failures++
		live.lastErr = ferr.Error()
		obs[name].fallback = fmt.Sprintf("%s failed %d time(s): %v", s.deps.Forecaster.Name(), live.failures, ferr)
		if live.failures >= s.set.MaxFailures {
			need = append(need, i)
		}
	}
	return need
}

func (s *Scheduler) fallbackBatch(ctx context.Context, names []string, batch []inference.Series, horizon int, idx []int, obs map[string]*observation) {
	if len(idx) == 0 {
		return
	}
	sub := make([]inference.Series, len(idx))
	for j, i := range idx {
		sub[j] = batch[i]
	}
	out, err := s.deps.Fallback.Forecast(ctx, sub, horizon)
	if err == nil && len(out) != len(sub) {
		err = fmt.Errorf("%d forecasts for %d series", len(out), len(sub))
	}
	for j, i := range idx {
		o := obs[names[i]]
		ferr := err
		if ferr == nil {
			ferr = checkForecast(out[j])
		}
		if ferr != nil {
			o.fallback += fmt.Sprintf("; fallback %s failed too: %v", s.deps.Fallback.Name(), ferr)
			continue
		}
		f := out[j]
		o.forecast, o.forecastBy = &f, s.deps.Fallback.Name()
	}
}

// checkForecast rejects a forecast the planner cannot use.
func checkForecast(f inference.Forecast) error {
	if len(f.P90) == 0 || f.Step <= 0 || len(f.P10) != len(f.P90) || len(f.P50) != len(f.P90) {
		return fmt.Errorf("forecast %q: empty or ragged", f.ID)
	}
	for i := range f.P90 {
		if bad(f.P10[i]) || bad(f.P50[i]) || bad(f.P90[i]) {
			return fmt.Errorf("forecast %q: step %d is NaN, infinite or negative", f.ID, i)
		}
	}
	return nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
