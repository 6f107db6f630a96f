package main

import (
	"context"
	"math"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// reactiveTarget is the target utilisation of [policy] mode = reactive, as
// Kubernetes HPA and cloud target tracking are usually set.
const reactiveTarget = 0.7

// reactiveSettings turns the scheduler into target tracking on the load
// now: capacity for the current demand at 70 % utilisation (headroom
// 1/0.7 − 1), no warm-up (healthy instances take their share at once, cold),
// the whole share in one cutover step, and no traffic gate: like a
// Kubernetes readiness probe, only the health check keeps an instance out
// (a target tracker does not roll back on its instances' error rate). The
// scale-down stabilisation is scale_down_after, as configured.
func reactiveSettings(s scheduler.Settings) scheduler.Settings {
	s.Policy.Headroom = 1/reactiveTarget - 1
	s.Policy.CutoverSteps = []int{100}
	s.Gate.ErrRateSlack, s.Gate.FailErrRate, s.Gate.LatencyRatio = 1, 2, 1e6
	lbs := make([]scheduler.LBSpec, len(s.LBs))
	for i, l := range s.LBs {
		l.Warmup = 0
		lbs[i] = l
	}
	s.LBs = lbs
	return s
}

// currentLoad "forecasts" every step as the last observed value, with no
// band: the reactive policy's view of the future is the present.
type currentLoad struct{}

func (currentLoad) Name() string { return "reactive" }

func (currentLoad) Forecast(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(series))
	for i, s := range series {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		last := lastKnown(s.Values)
		v := make([]float64, horizon)
		for h := range v {
			v[h] = last
		}
		out[i] = inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, P10: v, P50: v, P90: v, Model: "reactive"}
	}
	return out, nil
}

// lastKnown is the newest non-NaN value (0 when there is none).
func lastKnown(v []float64) float64 {
	for i := len(v) - 1; i >= 0; i-- {
		if !math.IsNaN(v[i]) {
			return v[i]
		}
	}
	return 0
}
