package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Recorder writes what each tick decided into the metrics store, so the
// status page, the history endpoints and the Grafana dashboard can show it
// over hours and across restarts: per LB one `forecast` record (the band of
// the next step, at its target time) and one `action` record (decision,
// phase, share, instances, ready capacity).
type Recorder struct {
	Sched interface {
		Status() scheduler.Status
		Forecasts() (map[string]inference.Forecast, time.Time)
	}
	Sink metrics.Sink
	Log  *slog.Logger
	// OnDecision, if set, sees each recorded decision (the /metrics
	// counter of actions).
	OnDecision func(lb, decision string)
	// SkipForecasts leaves the forecast records to the feedback loop,
	// which logs every step of every forecast itself.
	SkipForecasts bool
	last          time.Time
}

// Run polls the status every poll and records each new tick once, until
// ctx is done.
func (r *Recorder) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.RecordOnce(ctx); err != nil {
				r.Log.Warn("record tick", "err", err)
			}
		}
	}
}

// RecordOnce records the last tick if it was not recorded yet.
func (r *Recorder) RecordOnce(ctx context.Context) error {
	st := r.Sched.Status()
	if st.Ticks <= 0 || !st.At.After(r.last) {
		return nil
	}
	fcs, _ := r.Sched.Forecasts()
	var recs []metrics.Record
	for _, l := range st.LBs {
		recs = append(recs, actionRecord(st.At, l))
		if f, ok := fcs[l.LB]; ok && len(f.P50) > 0 && !r.SkipForecasts {
			recs = append(recs, forecastRecord(l.LB, f))
		}
	}
	if err := r.Sink.Write(ctx, recs...); err != nil {
		return err
	}
	r.last = st.At
	for _, l := range st.LBs {
		if r.OnDecision != nil {
			r.OnDecision(l.LB, l.Plan.Decision)
		}
	}
	return nil
}

func actionRecord(at time.Time, l scheduler.LBStatus) metrics.Record {
	p := l.Plan
	return metrics.Record{
		Measurement: metrics.MeasAction,
		Tags:        map[string]string{metrics.TagLB: l.LB, metrics.TagKind: metrics.KindDecision},
		Fields: map[string]float64{
			metrics.FieldShare: float64(l.Share), metrics.FieldNeeded: float64(p.Needed),
			metrics.FieldCurrent: float64(p.Current), metrics.FieldPoolSize: float64(p.Pool),
			metrics.FieldCapacity: readyCapacity(l), metrics.FieldPerInstance: p.Reason.Capacity,
		},
		Text: map[string]string{metrics.TextReason: orNone(p.Decision), metrics.TextPhase: string(l.Phase)},
		Time: at,
	}
}

func forecastRecord(lb string, f inference.Forecast) metrics.Record {
	model := f.Model
	if model == "" {
		model = "unknown"
	}
	return metrics.Record{
		Measurement: metrics.MeasForecast,
		Tags:        map[string]string{metrics.TagLB: lb, metrics.TagModel: model},
		Fields: map[string]float64{metrics.FieldP10: f.P10[0], metrics.FieldP50: f.P50[0], metrics.FieldP90: f.P90[0],
			metrics.FieldHorizon: f.Step.Seconds()},
		Time: f.Start,
	}
}

// readyCapacity is what the LB can serve now at healthy latency: the
// serving primaries plus a pool that takes traffic, times the capacity per
// instance.
func readyCapacity(l scheduler.LBStatus) float64 {
	n := l.Plan.Current
	switch l.Phase {
	case scheduler.Ready, scheduler.CuttingOver, scheduler.Active, scheduler.Draining:
		n += l.Plan.Pool
	}
	return float64(n) * l.Plan.Reason.Capacity
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
