package sim

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// daily is a three-day daily cycle between 20 and 180 req/s.
func daily() Demand {
	return demandOf(3*1440, func(i int) float64 {
		return 100 - 80*math.Cos(2*math.Pi*float64(i)/1440)
	})
}

func predictiveConfig(d Demand, fc scheduler.Forecaster, every time.Duration) Config {
	set := scheduler.Settings{Tick: time.Minute, Horizon: 30 * time.Minute, Policy: scheduler.DefaultPolicy(),
		LBs: []scheduler.LBSpec{{Name: "web", Backend: "web", ShadowBackend: "web_shadow", Provider: "sim",
			Capacity: 10, MaxInstances: 10, Warmup: 2 * time.Minute}}}
	return Config{Demand: d, Cluster: Cluster{Capacity: 10, Boot: 3 * time.Minute, Warmup: 2 * time.Minute},
		Policies: []string{"predictive"}, Settings: set, Fallback: fc, HistoryWindow: 2 * 24 * time.Hour,
		ForecastEvery: every, Skip: 2 * 24 * time.Hour, Primary: 8, KeepDecisions: true}
}

// recHistory remembers which now each series was asked for.
type recHistory struct {
	inner scheduler.History
	mu    sync.Mutex
	asked map[time.Time]time.Time // series start -> now
}

func (h *recHistory) Demand(ctx context.Context, lb string, now time.Time) (inference.Series, error) {
	s, err := h.inner.Demand(ctx, lb, now)
	h.mu.Lock()
	h.asked[s.Start] = now
	h.mu.Unlock()
	return s, err
}

// spy checks every series it is asked to forecast against the now its
// history was read at: each value sits at its own tick (the demand encodes
// its tick), the last is the tick before now, nothing at or after now.
type spy struct {
	inner scheduler.Forecaster
	d     Demand
	h     *recHistory
	mu    sync.Mutex
	errs  []string
	calls int
}

func (s *spy) Name() string { return s.inner.Name() }

func (s *spy) Forecast(ctx context.Context, series []inference.Series, h int) ([]inference.Forecast, error) {
	s.mu.Lock()
	s.calls++
	for _, x := range series {
		s.h.mu.Lock()
		now, ok := s.h.asked[x.Start]
		s.h.mu.Unlock()
		if !ok || !x.End().Equal(now) {
			s.errs = append(s.errs, fmt.Sprintf("series ending %s was not read at that now (%s)", x.End(), now))
		}
		s.check(x, s.d.index(now))
	}
	s.mu.Unlock()
	return s.inner.Forecast(ctx, series, h)
}

func (s *spy) check(x inference.Series, now int) {
	for j, v := range x.Values {
		k := s.d.index(x.Start) + j
		switch {
		case math.IsNaN(v):
		case tickOf(v) >= now:
			s.errs = append(s.errs, fmt.Sprintf("at tick %d the forecaster sees tick %d", now, tickOf(v)))
		case tickOf(v) != k:
			s.errs = append(s.errs, fmt.Sprintf("value of tick %d at the position of tick %d", tickOf(v), k))
		}
	}
	if last := x.Values[len(x.Values)-1]; tickOf(last) != now-1 {
		s.errs = append(s.errs, fmt.Sprintf("at tick %d the last value is tick %d, want the tick before", now, tickOf(last)))
	}
}

// encoded demand: 100 + a small fraction that names the tick.
func encode(i int) float64              { return 100 + float64(i)*1e-6 }
func tickOf(v float64) int              { return int(math.Round((v - 100) * 1e6)) }
func encoded(n int) Demand              { return demandOf(n, encode) }
func holtWinters() scheduler.Forecaster { return inference.HoltWinters{} }

// Walk-forward honesty: the forecaster sees exactly the ticks before the
// origin it forecasts from, at every tick and with a forecast cadence.
func TestForecasterSeesOnlyThePast(t *testing.T) {
	for _, every := range []time.Duration{time.Minute, 10 * time.Minute} {
		d := encoded(2*1440 + 120)
		cfg := predictiveConfig(d, nil, every)
		h := &recHistory{inner: NewHistory(d, cfg.HistoryWindow), asked: map[time.Time]time.Time{}}
		s := &spy{inner: inference.Naive{}, d: d, h: h}
		cfg.Fallback, cfg.History = s, h
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		if s.calls < 120/int(every/time.Minute) {
			t.Errorf("every %s: %d forecasts for 120 ticks", every, s.calls)
		}
		for _, e := range s.errs[:min(len(s.errs), 5)] {
			t.Errorf("every %s: %s", every, e)
		}
	}
}

// Changing the demand from tick P on changes no decision up to tick P (the
// scheduler decides before the tick's demand is served) and does change
// later ones: the scheduler cannot see the future, and does see the past.
func TestFutureDoesNotChangeDecisions(t *testing.T) {
	for _, every := range []time.Duration{time.Minute, 10 * time.Minute} {
		base := daily()
		cfg := predictiveConfig(base, holtWinters(), every)
		cfg.Demand.Values = base.Values[:2*1440+4*60]
		a, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := 2*1440 + 2*60
		other := append([]float64(nil), cfg.Demand.Values...)
		for i := p; i < len(other); i++ {
			other[i] *= 3
		}
		cfg.Demand.Values = other
		b, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		cut := p - 2*1440
		for i := 0; i <= cut; i++ {
			if a.Decisions[i] != b.Decisions[i] {
				t.Fatalf("every %s: decision %d (before the change) differs:\n%+v\n%+v", every, i, a.Decisions[i], b.Decisions[i])
			}
		}
		differ := false
		for i := cut + 1; i < len(a.Decisions); i++ {
			differ = differ || a.Decisions[i] != b.Decisions[i]
		}
		if !differ {
			t.Errorf("every %s: tripling the demand changed no later decision", every)
		}
	}
}

// The predictive policy opens, warms, cuts over to and retires a shadow
// pool over a daily peak the primary cannot carry, through the real
// scheduler, and it counts what it did.
func TestPredictiveServesAPeak(t *testing.T) {
	cfg := predictiveConfig(daily(), holtWinters(), 10*time.Minute)
	cfg.Demand.Values = cfg.Demand.Values[:2*1440+1080]
	cfg.Policies = []string{"predictive", "reactive"}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pr := rep.Results[1]
	if pr.Policy != "predictive" || pr.Cutovers < 1 || pr.Actions < 5 {
		t.Fatalf("%s: %d cutovers, %d actions; want predictive with a cutover and actions", pr.Policy, pr.Cutovers, pr.Actions)
	}
	seen := map[scheduler.Phase]bool{}
	for _, d := range rep.Decisions {
		seen[d.Phase] = true
	}
	for _, ph := range []scheduler.Phase{scheduler.Provisioning, scheduler.WarmingUp, scheduler.Active} {
		if !seen[ph] {
			t.Errorf("the pool never was %s", ph)
		}
	}
	if max8 := 8 * 18.0; pr.InstanceHours <= max8 {
		t.Errorf("instance-hours %g: the pool's instances are not counted on top of the primary's %g", pr.InstanceHours, max8)
	}
	if f := pr.Forecast; f == nil || f.Forecasts == 0 || f.Points == 0 || f.Model != "holt-winters" {
		t.Errorf("forecast accuracy %+v", f)
	}
	if len(rep.Peaks) == 0 || rep.Peaks[0].Ready["predictive"] <= 80 {
		t.Errorf("peaks %+v: the predictive policy had no more than the primary ready", rep.Peaks)
	}
}
