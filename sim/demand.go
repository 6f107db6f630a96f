package sim

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// Demand is a trace on the simulator's tick grid: Values[i] is the mean
// request rate (requests/s) during [Start + i×Step, Start + (i+1)×Step),
// NaN where the trace has no data.
type Demand struct {
	Name   string
	Start  time.Time // epoch-aligned to Step
	Step   time.Duration
	Values []float64
}

// Time is the start of tick i.
func (d Demand) Time(i int) time.Time { return d.Start.Add(time.Duration(i) * d.Step) }

// index is the tick at t (t on the grid).
func (d Demand) index(t time.Time) int { return int(t.Sub(d.Start) / d.Step) }

// OnGrid puts a regular trace on the tick grid: a coarser trace is held over
// the ticks of each of its steps, a finer one is averaged into each tick
// (missing points ignored). The grid starts at the first tick at or after
// the trace's start.
func OnGrid(r metrics.Regular, tick time.Duration) (Demand, error) {
	if tick <= 0 || r.Step <= 0 || len(r.Values) == 0 {
		return Demand{}, fmt.Errorf("trace %s: need points, a step and a positive tick", r.Name)
	}
	start := metrics.AlignDown(r.Start, tick)
	if start.Before(r.Start) {
		start = start.Add(tick)
	}
	n := int(r.Start.Add(r.Span()).Sub(start) / tick)
	if n < 1 {
		return Demand{}, fmt.Errorf("trace %s: shorter than one tick (%s)", r.Name, tick)
	}
	d := Demand{Name: r.Name, Start: start, Step: tick, Values: make([]float64, n)}
	for i := range d.Values {
		d.Values[i] = meanOver(r, d.Time(i), tick)
	}
	return d, nil
}

// meanOver averages the trace's slots that overlap [t, t+dt), weighting by
// the overlap; NaN when none has data.
func meanOver(r metrics.Regular, t time.Time, dt time.Duration) float64 {
	first := int(t.Sub(r.Start) / r.Step)
	sum, w := 0.0, 0.0
	for j := first; j < len(r.Values) && r.Time(j).Before(t.Add(dt)); j++ {
		if j < 0 || math.IsNaN(r.Values[j]) {
			continue
		}
		lo, hi := maxTime(t, r.Time(j)), minTime(t.Add(dt), r.Time(j+1))
		if ov := hi.Sub(lo).Seconds(); ov > 0 {
			sum += r.Values[j] * ov
			w += ov
		}
	}
	if w == 0 {
		return math.NaN()
	}
	return sum / w
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// at is the demand of tick i, 0 where missing (nothing to serve).
func (d Demand) at(i int) float64 {
	if i < 0 || i >= len(d.Values) || math.IsNaN(d.Values[i]) {
		return 0
	}
	return d.Values[i]
}

// History serves a Demand to the scheduler as serve's metrics store does:
// the Window of ticks before now (epoch-aligned), NaN where nothing was
// observed — never the tick at now or later.
type History struct {
	d      Demand
	window int       // ticks
	padded []float64 // window NaNs, then the demand
}

// NewHistory makes the walk-forward history of d over window.
func NewHistory(d Demand, window time.Duration) *History {
	w := max(1, int(window/d.Step))
	p := make([]float64, w+len(d.Values))
	for i := range w {
		p[i] = math.NaN()
	}
	copy(p[w:], d.Values)
	return &History{d: d, window: w, padded: p}
}

// Demand implements scheduler.History. The slice shares memory with the
// history: forecasters must not write to their input.
func (h *History) Demand(ctx context.Context, lb string, now time.Time) (inference.Series, error) {
	if err := ctx.Err(); err != nil {
		return inference.Series{}, err
	}
	end := h.d.index(metrics.AlignDown(now, h.d.Step))
	end = min(end, len(h.d.Values))
	if end < 0 {
		return inference.Series{}, fmt.Errorf("history of %s: %s is before the trace", lb, now)
	}
	// padded[end] is tick end-window; the last value is tick end-1.
	v := h.padded[end : end+h.window : end+h.window]
	return inference.Series{ID: lb, Start: h.d.Time(end - h.window), Step: h.d.Step, Values: v}, nil
}
