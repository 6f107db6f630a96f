package feedback

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// scorer matches forecasts to the actual demand once their target windows
// have passed. Forecast steps wait in memory (the loop hands it what it
// writes; after a restart they are read back from the store once), and
// what it has scored is remembered (rebuilt from forecast_error), so each
// target is scored exactly once and a tick reads only demand.
type scorer struct {
	src     metrics.Source
	opt     Options
	done    map[string]time.Time         // scored key → target
	waiting map[string]map[string]scored // by LB: key → step awaiting its actual
}

func newScorer(src metrics.Source, opt Options) *scorer {
	return &scorer{src: src, opt: opt, done: map[string]time.Time{}, waiting: map[string]map[string]scored{}}
}

// scan is how far back forecasts are looked at: a target is final
// (scored or missing) MaxLateness after its window ends; the extra hour
// covers steps up to an hour and ticks the service missed.
func (s *scorer) scan() time.Duration { return s.opt.MaxLateness + time.Hour }

func (s *scorer) mark(sc scored) {
	s.done[sc.key()] = sc.Target
	delete(s.waiting[sc.LB], sc.key())
}

// expect queues a forecast step for scoring unless it was scored already.
func (s *scorer) expect(sc scored) {
	k := sc.key()
	if _, seen := s.done[k]; seen {
		return
	}
	if s.waiting[sc.LB] == nil {
		s.waiting[sc.LB] = map[string]scored{}
	}
	s.waiting[sc.LB][k] = sc
}

// load queues the stored forecasts of the scan window and beyond (targets
// still ahead), after a restart; call it after the scored set is rebuilt.
func (s *scorer) load(ctx context.Context, now time.Time) error {
	recs, err := s.src.Records(ctx, metrics.Selector{Measurement: metrics.MeasForecast}, now.Add(-s.scan()), now.Add(24*time.Hour))
	if err != nil {
		return fmt.Errorf("read forecasts: %w", err)
	}
	for _, r := range recs {
		if sc, ok := waitingFrom(r); ok {
			s.expect(sc)
		}
	}
	return nil
}

// score returns the newly scored (or missing) forecast steps of lb at now.
func (s *scorer) score(ctx context.Context, lb string, now time.Time) ([]scored, error) {
	due := map[time.Duration][]scored{}
	for k, sc := range s.waiting[lb] {
		switch {
		case sc.Target.Before(now.Add(-2 * s.scan())):
			delete(s.waiting[lb], k) // left behind by a long outage
		case !sc.Target.Add(sc.Step + s.opt.Settle).After(now):
			due[sc.Step] = append(due[sc.Step], sc)
		}
	}
	var out []scored
	for step, group := range due {
		got, err := s.withActuals(ctx, lb, step, group, now)
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	for k, t := range s.done {
		if t.Before(now.Add(-2 * s.scan())) {
			delete(s.done, k)
		}
	}
	return out, nil
}

// waitingFrom turns a stored forecast record into a step to score.
func waitingFrom(r metrics.Record) (scored, bool) {
	step := time.Duration(r.Fields[fieldStep] * float64(time.Second))
	sc := scored{LB: r.Tags[metrics.TagLB], Model: r.Tags[metrics.TagModel], Target: r.Time.UTC(), Step: step,
		P10: r.Fields[metrics.FieldP10], P50: r.Fields[metrics.FieldP50], P90: r.Fields[metrics.FieldP90],
		CalP10: math.NaN(), CalP90: math.NaN(), SNaive: math.NaN(), Actual: math.NaN()}
	if _, err := fmt.Sscan(r.Tags[metrics.TagHorizon], &sc.Lead); err != nil || sc.Model == "" || sc.LB == "" || step <= 0 {
		return scored{}, false
	}
	if v, ok := r.Fields[fieldCalP90]; ok {
		sc.CalP10, sc.CalP90 = r.Fields[fieldCalP10], v
	}
	return sc, true
}

// withActuals reads the demand over the group's targets (and one season
// before, for the seasonal naive error) and scores what has data; a target
// without data waits until MaxLateness has passed, then it is missing.
func (s *scorer) withActuals(ctx context.Context, lb string, step time.Duration, group []scored, now time.Time) ([]scored, error) {
	from, to := group[0].Target, group[0].Target
	for _, g := range group {
		from, to = minTime(from, g.Target), maxTime(to, g.Target)
	}
	to = to.Add(step)
	actual, err := s.demand(ctx, lb, from, to, step)
	if err != nil {
		return nil, err
	}
	season, err := s.demand(ctx, lb, from.Add(-s.opt.Season), to.Add(-s.opt.Season), step)
	if err != nil {
		return nil, err
	}
	var out []scored
	for _, g := range group {
		a := valueAt(actual, g.Target)
		switch {
		case !math.IsNaN(a):
			g.Actual = a
			if prev := valueAt(season, g.Target.Add(-s.opt.Season)); !math.IsNaN(prev) {
				g.SNaive = math.Abs(a - prev)
			}
		case !g.Target.Add(step + s.opt.MaxLateness).After(now):
			g.Missing = true
		default:
			continue // late data may still arrive
		}
		s.mark(g)
		out = append(out, g)
	}
	return out, nil
}

func (s *scorer) demand(ctx context.Context, lb string, from, to time.Time, step time.Duration) (metrics.Regular, error) {
	sel, field := metrics.Demand(lb)
	r, err := s.src.History(ctx, metrics.Query{Select: sel, Field: field, From: from, To: to, Step: step})
	if err != nil {
		return r, fmt.Errorf("read demand of %s for scoring: %w", lb, err)
	}
	return r, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// valueAt is the window of r holding t, NaN outside.
func valueAt(r metrics.Regular, t time.Time) float64 {
	if r.Step <= 0 || t.Before(r.Start) {
		return math.NaN()
	}
	i := int(t.Sub(r.Start) / r.Step)
	if i >= len(r.Values) {
		return math.NaN()
	}
	return r.Values[i]
}
