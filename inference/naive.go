package inference

import (
	"context"
	"fmt"
	"math"
)

// Naive forecasts the last observed value for every step: p50 is that
// value, p10/p90 are it plus the 10th/90th percentile of the historical
// h-step changes (never above/below it).
type Naive struct{}

// Name implements Forecaster.
func (Naive) Name() string { return "naive" }

// Forecast implements Forecaster.
func (n Naive) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	return forecastEach(ctx, series, horizon, n.one)
}

func (Naive) one(s Series, horizon int) (Forecast, error) {
	last := lastValid(s.Values)
	if last < 0 {
		return Forecast{}, fmt.Errorf("naive: series %q: %w: no observed value", s.ID, ErrTooShort)
	}
	point := make([]float64, horizon)
	for h := range point {
		point[h] = s.Values[last]
	}
	return newForecast(s, "naive", point, naiveBands(s.Values, horizon).centred()), nil
}

// naiveBands collects the h-step errors of the naive forecast, y[t+h]-y[t],
// over the recent history.
func naiveBands(v []float64, horizon int) bands {
	res := make([][]float64, horizon)
	for h := 1; h <= horizon; h++ {
		for t := len(v) - 1 - h; t >= 0 && len(res[h-1]) < maxResiduals; t-- {
			if !math.IsNaN(v[t]) && !math.IsNaN(v[t+h]) {
				res[h-1] = append(res[h-1], v[t+h]-v[t])
			}
		}
	}
	return bandsFrom(res)
}

// forecastEach validates the request and runs one forecast per series.
func forecastEach(ctx context.Context, series []Series, horizon int, one func(Series, int) (Forecast, error)) ([]Forecast, error) {
	if horizon < 1 {
		return nil, fmt.Errorf("forecast: horizon must be at least 1 step, got %d", horizon)
	}
	out := make([]Forecast, len(series))
	err := forEach(ctx, len(series), func(i int) error {
		if series[i].Step <= 0 {
			return fmt.Errorf("forecast: series %q: step must be positive", series[i].ID)
		}
		f, err := one(series[i], horizon)
		out[i] = f
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
