package feedback

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Loop is the feedback loop: the scheduler's Recorder (every tick) and
// Adjuster (calibration and stale margins before planning).
type Loop struct {
	opt    Options
	store  metrics.Store
	log    *slog.Logger
	book   *book
	cal    *calibrator
	scorer *scorer
	// Models is the champion/challenger (optional); Retrain runs the
	// retraining (optional); Schedule is the daily retraining time.
	models   *Models
	retrain  *retrainRunner
	schedule *Schedule
	// leading says whether this replica may retrain (nil: always); a
	// retraining asked for while it may not waits in deferred.
	leading  func() bool
	deferred *RetrainRequest

	mu       sync.Mutex
	restored bool
	drift    map[string]Staleness // by LB
	lbs      []string
	serving  map[string]string // by LB: the model the planner used last
}

// Deps are the loop's optional collaborators.
type Deps struct {
	Models    *Models
	Retrainer *Retrainer
	Schedule  *Schedule
	// Leading, when set, allows retraining only while it reports true:
	// with [ha] only the leader retrains, so the replicas do not train and
	// promote models of their own.
	Leading func() bool
}

// New builds the loop over a metrics store; it does no I/O until the first
// tick, which rebuilds what it knew from the store.
func New(opt Options, store metrics.Store, d Deps, log *slog.Logger) *Loop {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Loop{opt: opt, store: store, log: log, book: newBook(opt.keep()), cal: newCalibrator(opt.Calibration),
		scorer: newScorer(store, opt), models: d.Models, schedule: d.Schedule, leading: d.Leading, drift: map[string]Staleness{}, serving: map[string]string{}}
	if d.Retrainer != nil {
		l.retrain = &retrainRunner{r: d.Retrainer, log: log}
	}
	return l
}

// Accuracy is the rolling accuracy reader.
func (l *Loop) Accuracy() AccuracyReader { return l.book }

// restore rebuilds scores, calibration and the scored set from the
// forecast_error records of the last keep window.
func (l *Loop) restore(ctx context.Context, now time.Time) {
	if l.restored {
		return
	}
	recs, err := l.store.Records(ctx, metrics.Selector{Measurement: metrics.MeasForecastError}, now.Add(-l.opt.keep()), now)
	if err != nil {
		l.log.Warn("feedback: cannot restore scores from the store; starting empty", "err", err)
		l.restored = true
		return
	}
	var ss []scored
	for _, r := range recs {
		if s, ok := scoredFrom(r); ok {
			ss = append(ss, s)
			l.scorer.mark(s)
			l.cal.observe(s)
		}
	}
	l.book.add(now, ss...)
	if err := l.scorer.load(ctx, now); err != nil {
		l.log.Warn("feedback: cannot restore the forecasts awaiting their actuals", "err", err)
	}
	l.restored = true
	l.log.Info("feedback: restored", "scored", len(ss))
}

// RecordTick logs the tick's forecasts and decisions, runs the challenger
// on the same histories, scores what has become known, and judges drift
// and the trial. Failures are logged; they never stop the scheduler.
func (l *Loop) RecordTick(ctx context.Context, now time.Time, ticks []scheduler.TickRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.restore(ctx, now)
	if l.models != nil {
		l.models.Sync()
	}
	l.noteLBs(ticks)
	recs := l.tickRecords(ticks)
	recs = append(recs, l.challengerRecords(ctx, ticks)...)
	for _, r := range recs {
		if sc, ok := waitingFrom(r); ok && r.Measurement == metrics.MeasForecast {
			l.scorer.expect(sc)
		}
	}
	// This tick's steps are not due yet: score first, then write
	// everything in one batch (one commit of the embedded store).
	recs = append(recs, l.score(ctx, now)...)
	if err := l.store.Write(ctx, recs...); err != nil {
		l.log.Warn("feedback: write forecasts, actions and errors", "err", err)
	}
	l.flush(ctx)
	l.checkDrift(now)
	l.judge(now)
	l.maybeRetrain(ctx, now)
}

func (l *Loop) noteLBs(ticks []scheduler.TickRecord) {
	seen := map[string]bool{}
	for _, lb := range l.lbs {
		seen[lb] = true
	}
	for _, t := range ticks {
		if t.Raw != nil {
			l.serving[t.LB] = modelOf(*t.Raw, t.Forecaster)
		}
		if !seen[t.LB] {
			l.lbs = append(l.lbs, t.LB)
			seen[t.LB] = true
		}
	}
	sort.Strings(l.lbs)
}

func (l *Loop) tickRecords(ticks []scheduler.TickRecord) []metrics.Record {
	var out []metrics.Record
	for _, t := range ticks {
		out = append(out, actionRecord(t))
		if t.Raw == nil {
			continue
		}
		var used *inference.Forecast
		if t.Used != nil && t.Used != t.Raw {
			used = t.Used
		}
		out = append(out, forecastRecords(t.LB, modelOf(*t.Raw, t.Forecaster), *t.Raw, used)...)
	}
	return out
}

// challengerRecords forecasts the same histories as the champion with the
// challenger: logged and scored, never planned with.
func (l *Loop) challengerRecords(ctx context.Context, ticks []scheduler.TickRecord) []metrics.Record {
	if l.models == nil {
		return nil
	}
	f, chal := l.models.Trial()
	if f == nil {
		return nil
	}
	var batch []inference.Series
	var lbs []string
	horizon := 0
	for _, t := range ticks {
		if t.Raw != nil {
			batch, lbs, horizon = append(batch, t.Series), append(lbs, t.LB), max(horizon, len(t.Raw.P90))
		}
	}
	if len(batch) == 0 {
		return nil
	}
	out, err := f.Forecast(ctx, batch, horizon)
	if err != nil || len(out) != len(batch) {
		l.log.Warn("feedback: challenger forecast failed", "model", chal.Dir, "err", err)
		return nil
	}
	var recs []metrics.Record
	for i, fc := range out {
		if fc.Fallback == "" { // its own forecast, not a baseline's
			recs = append(recs, forecastRecords(lbs[i], Label(f), fc, nil)...)
		}
	}
	return recs
}

// score scores every LB's due forecasts and returns the error records.
func (l *Loop) score(ctx context.Context, now time.Time) []metrics.Record {
	var all []scored
	for _, lb := range l.lbs {
		got, err := l.scorer.score(ctx, lb, now)
		if err != nil {
			l.log.Warn("feedback: scoring", "lb", lb, "err", err)
		}
		all = append(all, got...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Target.Before(all[j].Target) })
	recs := make([]metrics.Record, len(all))
	for i, s := range all {
		recs[i] = s.record()
		l.cal.observe(s)
	}
	l.book.add(now, all...)
	return recs
}

// Adjust calibrates an LB's forecast and widens a stale model's band; the
// notes go into the plan's reason.
func (l *Loop) Adjust(lb string, f inference.Forecast) (inference.Forecast, []string) {
	var notes []string
	if l.opt.Calibration.Enabled {
		var note string
		if f, note = l.cal.apply(lb, f); note != "" {
			notes = append(notes, note)
		}
	}
	l.mu.Lock()
	st := l.drift[lb]
	l.mu.Unlock()
	if st.Stale && st.Model == modelOf(f, "") && l.opt.Drift.Margin > 0 {
		f = l.opt.Drift.widen(f)
		notes = append(notes, "model "+st.Model+" stale for "+lb+" since "+st.Since.Format(time.RFC3339)+": "+st.Why+
			"; band widened by "+percent(l.opt.Drift.Margin))
	}
	return f, notes
}

// Staleness is the drift verdict per LB.
func (l *Loop) Staleness() map[string]Staleness {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Staleness, len(l.drift))
	for k, v := range l.drift {
		out[k] = v
	}
	return out
}

// checkDrift judges the model each LB's plans used last.
func (l *Loop) checkDrift(now time.Time) {
	var stale []string
	for _, lb := range l.lbs {
		m := l.serving[lb]
		if m == "" {
			continue
		}
		st, became := l.opt.Drift.update(l.drift[lb], m, l.book.Accuracy(lb, m, l.opt.Drift.Window, now), now)
		l.drift[lb] = st
		if became {
			l.log.Warn("model stale", "lb", lb, "model", m, "why", st.Why)
			stale = append(stale, lb)
		}
	}
	if len(stale) > 0 {
		l.startRetrain(RetrainRequest{LBs: stale, Why: "drift: " + l.drift[stale[0]].Why, At: now})
	}
}

// flush pushes buffered writes (InfluxDB's batches) out, so what this tick
// wrote is readable by the next one as it is with the embedded store.
func (l *Loop) flush(ctx context.Context) {
	if f, ok := l.store.(interface{ Flush(context.Context) error }); ok {
		// Bounded: during an outage the writes stay buffered and the tick
		// goes on.
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := f.Flush(ctx); err != nil {
			l.log.Warn("feedback: flush the metrics store", "err", err)
		}
	}
}
