package inference

import (
	"context"
	"math"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// SeasonalNaive forecasts the value one season before each target step. The
// season is a day, or a week when that fitted the recent history better;
// with neither (too short a history, or a step of a day or more with under
// two weeks) it falls back to naive and says so.
type SeasonalNaive struct{}

// Name implements Forecaster.
func (SeasonalNaive) Name() string { return "seasonal-naive" }

// Forecast implements Forecaster.
func (sn SeasonalNaive) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	return forecastEach(ctx, series, horizon, sn.one)
}

func (SeasonalNaive) one(s Series, horizon int) (Forecast, error) {
	m := bestSeason(s.Values, s.Step)
	if m == 0 {
		f, err := Naive{}.one(s, horizon)
		f.Model, f.Fallback = "seasonal-naive", "no daily or weekly season fits this history; used naive"
		return f, err
	}
	n := len(s.Values)
	point := make([]float64, horizon)
	for h := range point {
		point[h] = seasonalValue(s.Values, n+h, m)
	}
	return newForecast(s, "seasonal-naive", point, seasonalBands(s.Values, m, horizon).centred()), nil
}

// SeasonSteps is the length in steps of a season, or 0 when it is not a
// whole number of at least two steps.
func SeasonSteps(season, step time.Duration) int {
	if step <= 0 || season%step != 0 || season/step < 2 {
		return 0
	}
	return int(season / step)
}

// bestSeason picks the day or week season with the lower in-sample MAE over
// the recent history; each needs two full seasons of history.
func bestSeason(v []float64, step time.Duration) int {
	best, bestMAE := 0, math.Inf(1)
	for _, season := range []time.Duration{day, week} {
		m := SeasonSteps(season, step)
		if m == 0 || len(v) < 2*m {
			continue
		}
		if mae := seasonalMAE(v, m); mae < bestMAE {
			best, bestMAE = m, mae
		}
	}
	return best
}

// seasonalMAE is the mean |y[t]-y[t-m]| over the last season of history.
func seasonalMAE(v []float64, m int) float64 {
	sum, n := 0.0, 0
	for t := len(v) - 1; t >= len(v)-m && t-m >= 0; t-- {
		if !math.IsNaN(v[t]) && !math.IsNaN(v[t-m]) {
			sum += math.Abs(v[t] - v[t-m])
			n++
		}
	}
	if n == 0 {
		return math.Inf(1)
	}
	return sum / float64(n)
}

// seasonalValue is the value at index t-k*m for the smallest k that lands
// inside the history on an observed value; the last value if none does.
func seasonalValue(v []float64, t, m int) float64 {
	for i := t - m; i >= 0; i -= m {
		if i < len(v) && !math.IsNaN(v[i]) {
			return v[i]
		}
	}
	return v[lastValid(v)]
}

// seasonalBands: the seasonal-naive error y[t]-y[t-m] does not depend on the
// horizon step while the step stays within one season, so all steps share it.
func seasonalBands(v []float64, m, horizon int) bands {
	var r []float64
	for t := len(v) - 1; t-m >= 0 && len(r) < maxResiduals; t-- {
		if !math.IsNaN(v[t]) && !math.IsNaN(v[t-m]) {
			r = append(r, v[t]-v[t-m])
		}
	}
	res := make([][]float64, horizon)
	for h := range res {
		res[h] = append([]float64(nil), r...)
	}
	return bandsFrom(res)
}
