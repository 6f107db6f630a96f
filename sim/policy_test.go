package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// demandOf is a one-minute demand built by f(tick).
func demandOf(n int, f func(i int) float64) Demand {
	d := Demand{Name: "test", Start: t0, Step: time.Minute, Values: make([]float64, n)}
	for i := range d.Values {
		d.Values[i] = f(i)
	}
	return d
}

func runPolicies(t *testing.T, d Demand, c Cluster, policies ...string) map[string]Result {
	t.Helper()
	rep, err := Run(context.Background(), Config{Demand: d, Cluster: c, Policies: policies})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Result{}
	for _, r := range rep.Results {
		out[r.Policy] = r
	}
	return out
}

func firstViolation(r Result) int {
	for i, v := range r.Series.Violated {
		if v {
			return i
		}
	}
	return -1
}

// A flat line: reactive starts at ceil(100 / (10 × 0.7)) = 15 instances,
// 67 % busy is within tolerance of the 70 % target, so it never acts; the
// oracle holds the 11 that serve 100 req/s within the SLO (10 would be
// saturated). Neither violates; reactive costs 15/11 of the oracle.
func TestFlatLine(t *testing.T) {
	d := demandOf(120, func(int) float64 { return 100 })
	res := runPolicies(t, d, Cluster{Capacity: 10, Boot: 3 * time.Minute, Warmup: 2 * time.Minute}, "reactive", "oracle")
	re, or := res["reactive"], res["oracle"]
	if re.Actions != 0 || re.SLOViolationMinutes != 0 || re.Series.Instances[119] != 15 {
		t.Errorf("reactive: %d actions, %g violation minutes, %d instances; want 0, 0, 15",
			re.Actions, re.SLOViolationMinutes, re.Series.Instances[119])
	}
	if or.InstanceHours != 11*2 || or.SLOViolationMinutes != 0 || or.Actions != 0 {
		t.Errorf("oracle: %g instance-hours, %g violation minutes, %d actions; want 22, 0, 0", or.InstanceHours, or.SLOViolationMinutes, or.Actions)
	}
	if math.Abs(re.CostVsOracle-15.0/11) > 1e-9 {
		t.Errorf("reactive cost vs oracle %g, want 15/11", re.CostVsOracle)
	}
}

// A step from 50 to 100 req/s at minute 30, capacity 10, boot 3m, warm-up
// 2m. Reactive (8 instances, 62.5 % busy) is saturated at the step (80 of
// 100 served: 20 req/s fail for the whole minute), sees 100 % busy one
// minute later and asks ceil(8 × 1/0.7) = 12: 4 new instances serve from
// minute 34, cold. The oracle starts its 11th instance 5 minutes before the
// step and never violates.
func TestStepChange(t *testing.T) {
	d := demandOf(90, func(i int) float64 { return map[bool]float64{true: 100, false: 50}[i >= 30] })
	res := runPolicies(t, d, Cluster{Capacity: 10, Boot: 3 * time.Minute, Warmup: 2 * time.Minute}, "reactive", "oracle")
	re, or := res["reactive"], res["oracle"]
	if got := firstViolation(re); got != 30 {
		t.Errorf("reactive first violates at minute %d, want 30 (the step)", got)
	}
	if re.Series.Instances[30] != 8 || re.Series.Instances[31] != 12 {
		t.Errorf("reactive instances at 30, 31 = %d, %d; want 8, 12", re.Series.Instances[30], re.Series.Instances[31])
	}
	if re.Series.Ready[33] != 80 || re.Series.Ready[34] != 8*10+4*5 {
		t.Errorf("reactive ready capacity at 33, 34 = %g, %g; want 80 then 100 (4 cold at half speed)", re.Series.Ready[33], re.Series.Ready[34])
	}
	if or.SLOViolationMinutes != 0 || or.Series.Instances[24] != 6 || or.Series.Instances[25] != 11 {
		t.Errorf("oracle: %g violation minutes, instances at 24, 25 = %d, %d; want 0, 6, 11",
			or.SLOViolationMinutes, or.Series.Instances[24], or.Series.Instances[25])
	}
	// 20 req/s fail for at least the step minute and the three boot minutes.
	if re.ExcessRequests < 4*20*60 {
		t.Errorf("reactive excess requests %g, want at least %d", re.ExcessRequests, 4*20*60)
	}
}

// A ramp of 1 req/s per minute from 20: the oracle's fleet at minute k is
// what minute k+5 (boot + warm-up later) needs, so it is never short.
func TestRampOracleLeadsByBootAndWarmup(t *testing.T) {
	d := demandOf(200, func(i int) float64 { return 20 + float64(i) })
	c := Cluster{Capacity: 10, Boot: 3 * time.Minute, Warmup: 2 * time.Minute}
	res := runPolicies(t, d, c, "oracle", "reactive")
	or := res["oracle"]
	cw := c.WithDefaults()
	for k := 0; k+5 < 200; k++ {
		if want := cw.needed(d.Values[k+5], SLO{}.withDefaults()); or.Series.Instances[k] != want {
			t.Fatalf("oracle instances at %d = %d, want needed(demand at %d) = %d", k, or.Series.Instances[k], k+5, want)
		}
	}
	if or.SLOViolationMinutes != 0 || or.UnderprovisionedMinutes != 0 {
		t.Errorf("oracle: %g violation and %g under-provisioned minutes on a ramp", or.SLOViolationMinutes, or.UnderprovisionedMinutes)
	}
	if re := res["reactive"]; re.CostVsOracle <= 0 {
		t.Errorf("reactive cost vs oracle %g", re.CostVsOracle)
	}
}

// The oracle never violates, whatever the demand and the delays.
func TestOracleNeverViolates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, delays := range [][2]time.Duration{{0, 0}, {3 * time.Minute, 2 * time.Minute}, {10 * time.Minute, 0}, {time.Minute, 15 * time.Minute}} {
		level := 50.0
		d := demandOf(720, func(int) float64 {
			level = math.Max(0, level*math.Exp(rng.NormFloat64()*0.1))
			if rng.Float64() < 0.01 {
				return level * 5 // a burst
			}
			return level
		})
		or := runPolicies(t, d, Cluster{Capacity: 7, Boot: delays[0], Warmup: delays[1]}, "oracle")["oracle"]
		if or.SLOViolationMinutes != 0 || or.ExcessRequests != 0 {
			t.Errorf("boot %s warm-up %s: oracle violated %g minutes, failed %g requests", delays[0], delays[1], or.SLOViolationMinutes, or.ExcessRequests)
		}
	}
}

// With zero boot and warm-up, reactive is instant scaling behind a one-
// minute metric: after a step it violates only in the step's minute (the
// lag), then holds ceil(demand / (capacity × 0.7)).
func TestReactiveInstantWithoutDelays(t *testing.T) {
	d := demandOf(60, func(i int) float64 { return map[bool]float64{true: 100, false: 50}[i >= 20] })
	re := runPolicies(t, d, Cluster{Capacity: 10}, "reactive")["reactive"]
	if re.SLOViolationMinutes != 1 || !re.Series.Violated[20] {
		t.Errorf("violation minutes %g (at the step: %v), want only the step's minute", re.SLOViolationMinutes, re.Series.Violated[20])
	}
	if got := re.Series.Instances[59]; got != 15 {
		t.Errorf("instances after the step %d, want ceil(100/7) = 15", got)
	}
	if re.UnderprovisionedMinutes != 1 {
		t.Errorf("under-provisioned minutes %g, want 1", re.UnderprovisionedMinutes)
	}
}

// Scale-down waits for the 5-minute stabilisation window.
func TestReactiveScaleDownStabilised(t *testing.T) {
	d := demandOf(60, func(i int) float64 { return map[bool]float64{true: 30, false: 100}[i >= 20] })
	re := runPolicies(t, d, Cluster{Capacity: 10}, "reactive")["reactive"]
	if re.Series.Instances[21] != 15 || re.Series.Instances[24] != 15 {
		t.Errorf("instances right after the drop: %d, %d; want 15 held for the window", re.Series.Instances[21], re.Series.Instances[24])
	}
	if got := re.Series.Instances[40]; got != 5 {
		t.Errorf("instances after the window %d, want ceil(30/7) = 5", got)
	}
}
