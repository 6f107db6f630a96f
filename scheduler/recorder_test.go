package scheduler

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

type recordingSink struct{ ticks [][]TickRecord }

func (r *recordingSink) RecordTick(_ context.Context, _ time.Time, ticks []TickRecord) {
	r.ticks = append(r.ticks, ticks)
}

// doubler widens p90 by a factor and says so.
type doubler struct{ factor float64 }

func (d doubler) Adjust(lb string, f inference.Forecast) (inference.Forecast, []string) {
	f.P90 = slices.Clone(f.P90)
	for i := range f.P90 {
		f.P90[i] *= d.factor
	}
	return f, []string{"widened for " + lb}
}

func TestRecorderAndAdjuster(t *testing.T) {
	for _, c := range []struct {
		name   string
		factor float64
		want   int // pool size asked for at 150 req/s demand and 100 req/s per instance
		note   bool
	}{{"no adjuster", 0, 2, false}, {"p90 doubled", 2, 3, true}, {"bad adjustment ignored", -1, 2, true}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testSettings(), step(150, 150, 0, 0))
			rec := &recordingSink{}
			h.build()
			h.sch.deps.Recorder = rec
			if c.factor != 0 {
				h.sch.deps.Adjuster = doubler{c.factor}
			}
			h.tick()
			if len(rec.ticks) != 1 || len(rec.ticks[0]) != 1 {
				t.Fatalf("recorded %v, want one tick of one LB", rec.ticks)
			}
			tr := rec.ticks[0][0]
			if tr.Raw == nil || tr.Used == nil || tr.LB != "app" || tr.Forecaster != "model" || tr.Plan.Decision == "" {
				t.Fatalf("tick record %+v incomplete", tr)
			}
			if tr.Raw.P90[0] != 150 {
				t.Errorf("raw p90 %v, want the model's 150", tr.Raw.P90[0])
			}
			if got := tr.Plan.Reason.Horizon.Needed; got != c.want {
				t.Errorf("needed over the horizon %d, want %d (notes %v)", got, c.want, tr.Plan.Reason.Notes)
			}
			if got := len(tr.Plan.Reason.Notes) > 0; got != c.note {
				t.Errorf("notes %v, want some: %v", tr.Plan.Reason.Notes, c.note)
			}
		})
	}
}
