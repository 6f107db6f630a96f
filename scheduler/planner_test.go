package scheduler

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// flat is a forecast of n 1-minute points starting at t0+1m, v(i) each.
func flat(n int, v func(i int) float64) inference.Forecast {
	f := inference.Forecast{Start: t0.Add(time.Minute), Step: time.Minute, Model: "m"}
	for i := range n {
		x := v(i)
		f.P10, f.P50, f.P90 = append(f.P10, x/2), append(f.P50, x*0.8), append(f.P90, x)
	}
	return f
}

func TestMakePlan(t *testing.T) {
	ramp := flat(30, func(i int) float64 { return 100 + 20*float64(i) }) // p90 at t0+(i+1)m
	cases := []struct {
		name                  string
		in                    PlanInput
		needed, deficit, horz int
		peakAt                time.Duration
	}{
		{"fits", PlanInput{Forecast: flat(30, func(int) float64 { return 150 }), Capacity: 100, Primary: 2}, 2, 0, 2, time.Minute},
		{"look-ahead bounds the peak", PlanInput{Forecast: ramp, Capacity: 100, Primary: 2, ProvisionLead: 5 * time.Minute}, 2, 0, 7, 5 * time.Minute},
		{"ramp beyond capacity", PlanInput{Forecast: ramp, Capacity: 100, Primary: 2, ProvisionLead: 10 * time.Minute}, 3, 1, 7, 10 * time.Minute},
		{"headroom", PlanInput{Forecast: flat(30, func(int) float64 { return 200 }), Capacity: 100, Headroom: 0.2, Primary: 2}, 3, 1, 3, time.Minute},
		{"exact multiple stays", PlanInput{Forecast: flat(30, func(int) float64 { return 300 }), Capacity: 100, Primary: 2}, 3, 1, 3, time.Minute},
		// p10/p50/p90 of 250/400/500 req/s: each quantile gives its own answer.
		{"p90 quantile", PlanInput{Forecast: flat(30, func(int) float64 { return 500 }), Quantile: "p90", Capacity: 100, Primary: 2}, 5, 3, 5, time.Minute},
		{"p50 quantile", PlanInput{Forecast: flat(30, func(int) float64 { return 500 }), Quantile: "p50", Capacity: 100, Primary: 2}, 4, 2, 4, time.Minute},
		{"p10 quantile", PlanInput{Forecast: flat(30, func(int) float64 { return 500 }), Quantile: "p10", Capacity: 100, Primary: 2}, 3, 1, 3, time.Minute},
		{"event lift in window", PlanInput{Forecast: flat(30, func(int) float64 { return 150 }), Capacity: 100, Primary: 2, ProvisionLead: 5 * time.Minute,
			Events: []Event{{Start: t0.Add(4 * time.Minute), End: t0.Add(6 * time.Minute), Lift: 2}}}, 3, 1, 3, 4 * time.Minute},
		{"event outside window", PlanInput{Forecast: flat(30, func(int) float64 { return 150 }), Capacity: 100, Primary: 2, ProvisionLead: 5 * time.Minute,
			Events: []Event{{Start: t0.Add(20 * time.Minute), End: t0.Add(25 * time.Minute), Lift: 2}}}, 2, 0, 3, time.Minute},
		{"no capacity plans nothing", PlanInput{Forecast: flat(30, func(int) float64 { return 150 }), Primary: 2}, 0, 0, 0, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Now = t0
			if c.in.Quantile == "" {
				c.in.Quantile = "p90"
			}
			p := MakePlan(c.in)
			if p.Needed != c.needed || p.Deficit != c.deficit || p.Reason.Horizon.Needed != c.horz {
				t.Fatalf("needed %d deficit %d horizon %d, want %d %d %d; reason %+v", p.Needed, p.Deficit, p.Reason.Horizon.Needed, c.needed, c.deficit, c.horz, p.Reason)
			}
			if got := p.Reason.Provision.PeakAt.Sub(t0); got != c.peakAt {
				t.Errorf("peak at %s, want %s", got, c.peakAt)
			}
		})
	}
}

func TestPlanReasonSerialises(t *testing.T) {
	p := MakePlan(PlanInput{Now: t0, Quantile: "p90", Forecast: flat(5, func(int) float64 { return 1 }), Capacity: 1, CapacitySource: "learned"})
	b, err := json.Marshal(p)
	if err == nil {
		var back Plan
		err = json.Unmarshal(b, &back)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestPlanLow(t *testing.T) {
	base := MakePlan(PlanInput{Now: t0, Quantile: "p90", Forecast: flat(30, func(int) float64 { return 150 }), Capacity: 100, Primary: 2})
	v150, v250 := 150.0, 250.0
	cases := []struct {
		name     string
		observed *float64
		want     bool
		capacity float64
	}{{"low", &v150, true, 100}, {"observed above", &v250, false, 100}, {"observed missing", nil, false, 100},
		{"capacity unknown", &v150, false, 0}}
	for _, c := range cases {
		p := base
		p.Reason.Observed, p.Reason.Capacity = c.observed, c.capacity
		if p.Low() != c.want {
			t.Errorf("%s: Low() = %v", c.name, !c.want)
		}
	}
}

func TestRatesBetween(t *testing.T) {
	prev := BackendStats{Requests: 1000, Errors: 10}
	r := ratesBetween(prev, BackendStats{Requests: 1600, Errors: 16, Serving: 3}, time.Minute)
	if !r.Valid || r.ReqRate != 10 || r.ErrRate != 0.01 || r.Serving != 3 {
		t.Errorf("rates %+v", r)
	}
	if r := ratesBetween(prev, BackendStats{Requests: 5}, time.Minute); r.Valid {
		t.Errorf("a counter reset must not give rates: %+v", r)
	}
}

func TestLearner(t *testing.T) {
	l := Learner{Samples: 4, Floor: 5}
	var s []float64
	for _, r := range []Rates{
		{Valid: true, ReqRate: 200, Serving: 2, Latency: 10 * time.Millisecond}, // 100/instance
		{Valid: true, ReqRate: 900, Serving: 2, ErrRate: 0.2},                   // unhealthy: skipped
		{Valid: true, ReqRate: 900, Serving: 2, Latency: time.Second},           // slow: skipped
		{Valid: true, ReqRate: 240, Serving: 2},
		{Valid: true, ReqRate: 100, Serving: 2},
		{Valid: true, ReqRate: 60, Serving: 2},
		{Valid: true, ReqRate: 4, Serving: 2},
	} {
		s = l.Observe(s, r)
	}
	if len(s) != 4 || s[0] != 120 {
		t.Fatalf("samples %v, want the newest 4", s)
	}
	if got := l.Estimate(s); got != 120 {
		t.Errorf("estimate %v, want 120 (p95 of %v)", got, s)
	}
	if got := l.Estimate([]float64{1, 2}); got != 5 {
		t.Errorf("estimate %v, want the floor 5", got)
	}
	if got := l.Estimate(nil); got != 0 {
		t.Errorf("estimate with no samples %v, want 0", got)
	}
}
