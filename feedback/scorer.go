package feedback

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// scorer matches stored forecasts to the actual demand once their target
// windows have passed. What it has scored is remembered (and rebuilt from
// forecast_error after a restart), so each target is scored exactly once.
type scorer struct {
	src  metrics.Source
	opt  Options
	done map[string]time.Time // scored key → target
}

func newScorer(src metrics.Source, opt Options) *scorer {
	return &scorer{src: src, opt: opt, done: map[string]time.Time{}}
}

// scan is how far back forecasts are looked at: a target is final
// (scored or missing) MaxLateness after its window ends; the extra hour
// covers steps up to an hour and ticks the service missed.
func (s *scorer) scan() time.Duration { return s.opt.MaxLateness + time.Hour }

func (s *scorer) mark(sc scored) { s.done[sc.key()] = sc.Target }

// score returns the newly scored (or missing) forecast steps of lb at now.
func (s *scorer) score(ctx context.Context, lb string, now time.Time) ([]scored, error) {
	recs, err := s.src.Records(ctx, metrics.Selector{Measurement: metrics.MeasForecast,
		Tags: map[string]string{metrics.TagLB: lb}}, now.Add(-s.scan()), now)
	if err != nil {
		return nil, fmt.Errorf("read forecasts of %s: %w", lb, err)
	}
	pending := map[time.Duration][]scored{}
	for _, r := range recs {
		sc, ok := s.pending(r, now)
		if ok {
			pending[sc.Step] = append(pending[sc.Step], sc)
		}
	}
	var out []scored
	for step, group := range pending {
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

// pending turns a forecast record whose target window has ended into an
// unscored step.
func (s *scorer) pending(r metrics.Record, now time.Time) (scored, bool) {
	step := time.Duration(r.Fields[fieldStep] * float64(time.Second))
	if step <= 0 || r.Time.Add(step+s.opt.Settle).After(now) {
		return scored{}, false
	}
	sc := scored{LB: r.Tags[metrics.TagLB], Model: r.Tags[metrics.TagModel], Target: r.Time.UTC(), Step: step,
		P10: r.Fields[metrics.FieldP10], P50: r.Fields[metrics.FieldP50], P90: r.Fields[metrics.FieldP90],
		CalP10: math.NaN(), CalP90: math.NaN(), SNaive: math.NaN(), Actual: math.NaN()}
	if _, err := fmt.Sscan(r.Tags[metrics.TagHorizon], &sc.Lead); err != nil || sc.Model == "" {
		return scored{}, false
	}
	if v, ok := r.Fields[fieldCalP90]; ok {
		sc.CalP10, sc.CalP90 = r.Fields[fieldCalP10], v
	}
	if _, seen := s.done[sc.key()]; seen {
		return scored{}, false
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
