package scheduler

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestReactiveFloor: the plan asks max(forecast need, need now) and says
// which side won, in every window.
func TestReactiveFloor(t *testing.T) {
	cases := []struct {
		name     string
		forecast float64
		observed float64
		needed   int
		signal   string
	}{
		{"forecast above now", 400, 150, 4, "forecast"},
		{"forecast misses low", 120, 400, 4, "reactive"},
		{"equal: the forecast", 300, 300, 3, "forecast"},
		{"demand unknown", 200, math.NaN(), 2, "forecast"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := MakePlan(PlanInput{Now: t0, Quantile: "p90", Forecast: flat(30, func(int) float64 { return c.forecast }),
				Capacity: 100, Primary: 2, Observed: c.observed, ProvisionLead: 5 * time.Minute, GrowLead: 3 * time.Minute})
			r := p.Reason
			if p.Needed != c.needed || r.Signal != c.signal || r.Cutover.Needed < c.needed || r.Grow.Needed < c.needed || r.Horizon.Needed < c.needed {
				t.Fatalf("needed %d signal %s (cutover %d grow %d horizon %d), want %d %s", p.Needed, r.Signal,
					r.Cutover.Needed, r.Grow.Needed, r.Horizon.Needed, c.needed, c.signal)
			}
		})
	}
}

// TestLearnPicksTheBestEvidence: utilisation over the knee over
// throughput, each once it has enough samples.
func TestLearnPicksTheBestEvidence(t *testing.T) {
	var l Learner
	healthy := func(rpi float64) Sample { return Sample{RPI: rpi, Latency: 20} }
	var thr []float64
	var flatLoad, kneed, withUtil []Sample
	for i := range 12 {
		rpi := 40 + 10*float64(i) // 40..150, knee at 100
		s := healthy(rpi)
		if rpi > 100 {
			s.Latency = 20 + 10*(rpi-100)
		}
		kneed = append(kneed, s)
		u := s
		u.Util = rpi / 200 // 200 req/s at 100 %: 140 at 70 %
		if rpi <= 100 {
			withUtil = append(withUtil, u)
		}
		flatLoad = append(flatLoad, healthy(30+float64(i%3)))
		thr = append(thr, 30+float64(i%3))
	}
	cases := []struct {
		name    string
		samples []Sample
		method  string
		lo, hi  float64
	}{
		{"nothing seen", nil, "", 0, 0},
		{"light load only: throughput, a lower bound", flatLoad, "throughput", 31, 33},
		{"latency rises: the knee", kneed, "knee", 100, 100},
		{"utilisation", append(withUtil, kneed...), "utilisation", 140, 140},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := thr
			if c.samples == nil {
				th = nil
			}
			e := l.Learn(c.samples, th)
			if e.Method != c.method || e.Capacity < c.lo-1e-9 || e.Capacity > c.hi+1e-9 {
				t.Fatalf("estimate %+v, want %s in [%g, %g]", e, c.method, c.lo, c.hi)
			}
			if e.Capacity > 0 && (e.Confidence <= 0 || e.Confidence > 1 || !strings.Contains(e.String(), "confidence")) {
				t.Fatalf("confidence %v in %q", e.Confidence, e)
			}
		})
	}
}

// TestRecommendWindow: a pool may shrink only to the largest size asked
// over the whole window, and only once the records cover it.
func TestRecommendWindow(t *testing.T) {
	var st LBState
	sizes := []int{5, 3, 3, 3, 3, 3, 2, 2}
	var got []int
	var covered []bool
	for i, n := range sizes {
		s, ok := st.recommend(t0.Add(time.Duration(i)*time.Minute), n, 5*time.Minute)
		got, covered = append(got, s), append(covered, ok)
	}
	want := []int{5, 5, 5, 5, 5, 5, 3, 3}
	for i := range want {
		if got[i] != want[i] || covered[i] != (i >= 5) {
			t.Fatalf("tick %d: shrink to %d (covered %v), want %d (%v); all %v", i, got[i], covered[i], want[i], i >= 5, got)
		}
	}
	if len(st.Recs) > 7 {
		t.Errorf("%d records kept for a 5m window of 1m ticks", len(st.Recs))
	}
}

func TestLearnedLead(t *testing.T) {
	var st LBState
	for _, b := range []time.Duration{2, 4, 3} {
		if _, _, ok := learnedLead(st.Leads); ok {
			t.Fatal("learned before three measurements")
		}
		st.recordLead(b*time.Minute, 2*time.Minute)
	}
	boot, warm, ok := learnedLead(st.Leads)
	if !ok || boot != 4*time.Minute || warm != 2*time.Minute {
		t.Fatalf("boot %s warm-up %s ok %v, want the p90: 4m, 2m", boot, warm, ok)
	}
}
