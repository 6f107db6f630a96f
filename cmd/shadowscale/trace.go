package main

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// loadTrace reads a trace CSV and puts it on the grid of its native (median)
// step, reporting missing points and duplicates.
func loadTrace(path string, allowNegative bool) (metrics.Regular, error) {
	if path == "" {
		return metrics.Regular{}, fmt.Errorf("--trace is required")
	}
	tr, r, err := metrics.LoadRegular(path, metrics.TraceOptions{AllowNegative: allowNegative})
	if err != nil {
		return metrics.Regular{}, err
	}
	slog.Debug("trace loaded", "trace", path, "rows", len(tr.Points), "missing", tr.Missing,
		"duplicates", tr.Duplicates, "step", r.Step, "slots", len(r.Values))
	return r, nil
}

// horizonSteps converts a horizon duration to whole steps (at least one).
func horizonSteps(horizon, step time.Duration) (int, error) {
	if horizon <= 0 {
		return 0, fmt.Errorf("--horizon must be positive, got %s", horizon)
	}
	return max(1, int(math.Ceil(float64(horizon)/float64(step)))), nil
}
