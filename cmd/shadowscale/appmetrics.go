package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/influx"
)

// appSource runs app metric queries (the InfluxDB store does).
type appSource interface {
	App(ctx context.Context, q influx.AppQuery, from, to time.Time, step time.Duration) ([]metrics.Regular, error)
}

// appUtilisation gives the scheduler each LB's app utilisation from its
// [lb.*] app_query: the mean over the query's series (one per host, say)
// of their latest point within the last few steps.
type appUtilisation struct {
	src     appSource
	queries map[string]influx.AppQuery
	step    time.Duration
}

// appLookback is how many steps back a utilisation point still counts.
const appLookback = 5

// newAppUtilisation is nil when no LB has an app query (config validation
// made sure the store then is InfluxDB).
func newAppUtilisation(cfg config.Config, store metrics.Store) *appUtilisation {
	src, ok := store.(appSource)
	if !ok {
		return nil
	}
	a := &appUtilisation{src: src, queries: map[string]influx.AppQuery{}, step: historyStep(cfg)}
	for _, name := range cfg.LBNames() {
		if q := cfg.LBs[name].AppQuery; q != "" {
			a.queries[name] = influx.AppQuery{LB: name, Name: "utilisation", Flux: q}
		}
	}
	if len(a.queries) == 0 {
		return nil
	}
	return a
}

// Utilisation is NaN for an LB without a query or without recent points.
func (a *appUtilisation) Utilisation(ctx context.Context, lb string, now time.Time) (float64, error) {
	q, ok := a.queries[lb]
	if !ok {
		return math.NaN(), nil
	}
	end := metrics.AlignDown(now, a.step).Add(a.step)
	series, err := a.src.App(ctx, q, end.Add(-appLookback*a.step), end, a.step)
	if err != nil {
		return math.NaN(), fmt.Errorf("utilisation of %s: %w", lb, err)
	}
	return latestMean(series), nil
}

// latestMean averages each series' last observed value, NaN if none.
func latestMean(series []metrics.Regular) float64 {
	sum, n := 0.0, 0
	for _, s := range series {
		for i := len(s.Values) - 1; i >= 0; i-- {
			if !math.IsNaN(s.Values[i]) {
				sum, n = sum+s.Values[i], n+1
				break
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
