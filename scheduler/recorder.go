package scheduler

import (
	"context"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// TickRecord is one load balancer's tick as the learning loop sees it: the
// history the forecast started from, the forecast as the model gave it, the
// forecast the planner used (after the Adjuster, when one is set) and the
// plan with its decision and reason.
type TickRecord struct {
	LB         string
	At         time.Time
	Series     inference.Series
	Raw        *inference.Forecast // nil: no forecast this tick
	Used       *inference.Forecast // what the planner sized to
	Forecaster string
	Plan       Plan
}

// Recorder receives every tick once the state is saved (optional Deps
// field). It must return quickly and when ctx is done; its failures are its
// own to report: a tick never fails because of it.
type Recorder interface {
	RecordTick(ctx context.Context, at time.Time, ticks []TickRecord)
}

// Adjuster may change a forecast before the planner sizes to it (online
// calibration, a wider margin for a model known to be stale) and says why,
// for the plan's reason. It must keep P10 <= P50 <= P90 and non-negative
// values; an empty note means "unchanged".
type Adjuster interface {
	Adjust(lb string, f inference.Forecast) (inference.Forecast, []string)
}

// adjust applies the optional Adjuster to an LB's forecast, keeping the raw
// one for the Recorder, and returns the notes for the reason.
func (s *Scheduler) adjust(lb string, o *observation) []string {
	if o.forecast == nil {
		return nil
	}
	o.raw = o.forecast
	if s.deps.Adjuster == nil {
		return nil
	}
	f, notes := s.deps.Adjuster.Adjust(lb, *o.forecast)
	if err := checkForecast(f); err != nil {
		return []string{"forecast adjustment ignored: " + err.Error()}
	}
	o.forecast = &f
	return notes
}

// recordTicks hands the tick to the optional Recorder.
func (s *Scheduler) recordTicks(ctx context.Context, now time.Time, obs map[string]*observation, plans map[string]*Plan) {
	if s.deps.Recorder == nil {
		return
	}
	ticks := make([]TickRecord, 0, len(s.set.LBs))
	for _, l := range s.set.LBs {
		o, p := obs[l.Name], plans[l.Name]
		ticks = append(ticks, TickRecord{LB: l.Name, At: now, Series: o.series, Raw: o.raw, Used: o.forecast,
			Forecaster: o.forecastBy, Plan: *p})
	}
	s.deps.Recorder.RecordTick(ctx, now, ticks)
}
