package scheduler

import (
	"math"
	"strings"
	"testing"
	"time"
)

// ticks is n one-minute samples of the shadow (reqs, errs, latency ms)
// beside a busy, healthy primary at 20ms.
func ticks(n int, reqs, errs int64, latMS float64) []GateSample {
	var ev []GateSample
	for i := range n {
		ev = append(ev, GateSample{At: t0.Add(time.Duration(i) * time.Minute), Requests: reqs, Errors: errs, LatencyMS: latMS,
			PrimaryRequests: 6000, PrimaryErrors: 6, PrimaryLatencyMS: 20})
	}
	return ev
}

func withPrimaryErrors(ev []GateSample, r float64) []GateSample {
	for i := range ev {
		ev[i].PrimaryErrors = int64(r * float64(ev[i].PrimaryRequests))
	}
	return ev
}

// overloadOver is five ticks in which shadow and primary both failed half
// their requests, then five healthy ticks: the window's shadow error rate
// is still above FailErrRate, but no higher than the primary's.
func overloadOver() []GateSample {
	ev := ticks(10, 60, 0, 20)
	for i := range 5 {
		ev[i].Errors, ev[i].PrimaryErrors = 30, 3000
	}
	return ev
}

// coldOver is a shadow whose instances failed 5 % while cold, then none:
// the window is still worse than the primary, the last tick is not.
func coldOver() []GateSample {
	ev := ticks(10, 60, 0, 20)
	for i := range 9 {
		ev[i].Errors = 3
	}
	return ev
}

func TestGateJudge(t *testing.T) {
	cases := []struct {
		name string
		ev   []GateSample
		want Verdict
		why  string
	}{
		{"no evidence", nil, NoData, "holding"},
		{"few requests, slow", ticks(8, 4, 0, 85), NoData, "holding"},
		{"few requests, one error each tick", ticks(8, 5, 1, 20), NoData, "holding"},
		{"one error in five: not a failure", ticks(1, 5, 1, 20), NoData, "holding"},
		{"all of three failing", ticks(1, 3, 3, 20), Fail, "in the last tick"},
		{"half failing", ticks(1, 180, 90, 20), Fail, "shadow error rate 0.500"},
		{"as good", ticks(6, 30, 0, 22), Pass, "shadow 180 requests"},
		{"more errors", ticks(6, 100, 5, 20), Worse, "99% lower bound"},
		{"slower but too few ticks to judge latency", ticks(4, 30, 0, 120), Pass, "latency not judged"},
		{"twice as slow as the limit allows", ticks(6, 30, 0, 120), Worse, "Mann–Whitney"},
		{"failing no more than the primary: overload", withPrimaryErrors(ticks(1, 180, 90, 20), 0.5), Pass, "error rate 0.500, latency 20.0ms vs primary 0.500"},
		{"failing more than a failing primary", withPrimaryErrors(ticks(1, 180, 90, 20), 0.25), Fail, "0.250 beyond the primary's"},
		{"an overload over, still in the window", overloadOver(), Pass, "shadow 600 requests"},
		{"cold errors over, still in the window", coldOver(), Pass, "shadow 600 requests"},
	}
	for _, c := range cases {
		got, why := (Gate{}).Judge(c.ev)
		if got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s: %s (%s), want %s (%q)", c.name, got, why, c.want, c.why)
		}
	}
}

// Latency noise alone (some slow ticks among normal ones) is not
// significant; a consistent shift is.
func TestGateLatencyNeedsSignificance(t *testing.T) {
	ev := ticks(10, 30, 0, 20)
	ev[3].LatencyMS, ev[7].LatencyMS = 400, 300 // two slow ticks raise the mean above the limit
	if v, why := (Gate{}).Judge(ev); v != Pass {
		t.Errorf("two slow ticks of ten: %s (%s), want pass", v, why)
	}
}

func TestGateObserveWindow(t *testing.T) {
	g := Gate{Window: 5 * time.Minute}
	var ev []GateSample
	prim := Rates{Valid: true, Requests: 1000, Latency: 20 * time.Millisecond}
	for i := range 12 {
		ev = g.Observe(ev, t0.Add(time.Duration(i)*time.Minute), prim, Rates{Valid: true, Requests: 10, ErrRate: 0.1})
	}
	ev = g.Observe(ev, t0.Add(12*time.Minute), prim, Rates{}) // no snapshot: nothing added
	if len(ev) != 4 || ev[0].At != t0.Add(8*time.Minute) || ev[3].Errors != 1 || ev[3].PrimaryLatencyMS != 20 {
		t.Fatalf("evidence %+v, want the 4 samples of the last 5m", ev)
	}
}

func TestWilsonAndMannWhitney(t *testing.T) {
	if lo := wilsonLower(0, 100, 1.96); lo != 0 {
		t.Errorf("wilson(0/100) = %v", lo)
	}
	if lo := wilsonLower(50, 100, 1.96); math.Abs(lo-0.4038) > 1e-3 { // the textbook value
		t.Errorf("wilson(50/100) = %v, want 0.4038", lo)
	}
	if p := mannWhitneyGreater([]float64{5, 6, 7, 8, 9}, []float64{1, 2, 3, 4, 4.5}); p > 0.01 {
		t.Errorf("separated samples: p = %v", p)
	}
	if p := mannWhitneyGreater([]float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}); p < 0.3 {
		t.Errorf("interleaved samples: p = %v", p)
	}
	if p := mannWhitneyGreater([]float64{1, 1}, []float64{1, 1}); p != 1 {
		t.Errorf("all tied: p = %v", p)
	}
}
