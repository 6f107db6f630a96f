package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// cadence runs the wrapped forecaster at most once per every (ticks) and
// serves the last forecast, advanced to the requested origin, in between.
// It records every forecast it really made, for the accuracy report and
// the plot. One load balancer only (the simulator's).
type cadence struct {
	inner scheduler.Forecaster
	every int // ticks between real forecasts (1 = every call)
	last  *inference.Forecast
	made  []inference.Forecast
	calls int
}

func (c *cadence) Name() string { return c.inner.Name() }

func (c *cadence) Forecast(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	if len(series) != 1 {
		return nil, fmt.Errorf("sim forecaster: %d series, the simulator has one load balancer", len(series))
	}
	s := series[0]
	if f, ok := c.cached(s.End(), horizon); ok {
		return []inference.Forecast{f}, nil
	}
	out, err := c.inner.Forecast(ctx, series, horizon+c.every-1)
	c.calls++
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return out, nil // the scheduler reports the mismatch
	}
	f := out[0]
	c.last = &f
	c.made = append(c.made, f)
	return []inference.Forecast{slice(f, 0, horizon)}, nil
}

// cached is the last forecast from origin on, if it is recent enough and
// long enough.
func (c *cadence) cached(origin time.Time, horizon int) (inference.Forecast, bool) {
	if c.last == nil || c.every <= 1 || c.last.Step <= 0 {
		return inference.Forecast{}, false
	}
	off := int(origin.Sub(c.last.Start) / c.last.Step)
	if origin.Before(c.last.Start) || off >= c.every || off+horizon > len(c.last.P50) {
		return inference.Forecast{}, false
	}
	return slice(*c.last, off, horizon), true
}

func slice(f inference.Forecast, off, n int) inference.Forecast {
	n = min(n, len(f.P50)-off)
	g := f
	g.Start = f.Start.Add(time.Duration(off) * f.Step)
	g.P10, g.P50, g.P90 = f.P10[off:off+n:off+n], f.P50[off:off+n:off+n], f.P90[off:off+n:off+n]
	return g
}
