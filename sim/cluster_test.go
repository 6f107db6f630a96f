package sim

import (
	"math"
	"testing"
	"time"
)

func TestErlangC(t *testing.T) {
	for _, tc := range []struct {
		c    int
		a    float64
		want float64
	}{
		{1, 0.5, 0.5},     // M/M/1: the wait probability is rho
		{2, 1, 1.0 / 3},   // textbook: c=2, a=1
		{3, 2, 4.0 / 9},   // (a^c/c!)(c/(c-a)) / (sum + that) = (8/6·3)/(1+2+2+4) = 4/9
		{10, 0, 0},        // no load, no wait
		{100, 50, 0.0000}, // half-loaded large pool: practically never waits
	} {
		if got := erlangC(tc.c, tc.a); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("erlangC(%d, %g) = %g, want %g", tc.c, tc.a, got, tc.want)
		}
	}
}

// A cold instance is slower than a warm one by the configured factor: at a
// negligible load its mean latency and its p99 are factor × the warm ones,
// and it saturates at capacity / factor.
func TestColdInstanceSlowerByFactor(t *testing.T) {
	for _, factor := range []float64{1, 2, 3.5} {
		c := Cluster{Capacity: 10, Warmup: time.Minute, ColdFactor: factor}.WithDefaults()
		warm := c.serve([]*instance{{warmFor: time.Minute}}, 1e-6)
		cold := c.serve([]*instance{{}}, 1e-6)
		if r := cold.meanLatency() / warm.meanLatency(); math.Abs(r-factor) > 1e-6 {
			t.Errorf("factor %g: cold/warm mean latency = %g", factor, r)
		}
		to := c.QueueTimeout.Seconds()
		if r := p99(cold.outs, to) / p99(warm.outs, to); math.Abs(r-factor) > 1e-6 {
			t.Errorf("factor %g: cold/warm p99 = %g", factor, r)
		}
		if math.Abs(warm.meanLatency()-c.ServiceTime.Seconds()) > 1e-9 {
			t.Errorf("idle warm latency %g, want the service time %s", warm.meanLatency(), c.ServiceTime)
		}
		over := c.serve([]*instance{{}}, 100)
		if want := 100 - 10/factor*(1-c.ColdErrorRate); math.Abs(over.failed-want) > 1e-9 {
			t.Errorf("factor %g: an overloaded cold instance fails %g req/s, want %g", factor, over.failed, want)
		}
	}
}

// Round-robin gives every server the same rate: a cold server saturates
// while its warm peers are fine, and its failures are the excess.
func TestRoundRobinSaturatesColdFirst(t *testing.T) {
	c := Cluster{Capacity: 10, Warmup: time.Minute}.WithDefaults()
	servers := []*instance{{warmFor: time.Minute}, {warmFor: time.Minute}, {}}
	bt := c.serve(servers, 21) // 7 req/s each; the cold one serves 5
	if want := 2 + 5*c.ColdErrorRate; math.Abs(bt.failed-want) > 1e-9 {
		t.Errorf("failed %g req/s, want %g", bt.failed, want)
	}
	if got := c.readyCapacity(servers); got != 25 {
		t.Errorf("ready capacity %g, want 25", got)
	}
}

func TestNeeded(t *testing.T) {
	c := Cluster{Capacity: 10}.WithDefaults()
	slo := SLO{}.withDefaults()
	for _, tc := range []struct {
		rate float64
		want int
	}{{0, 1}, {5, 1}, {10, 2}, {100, 11}, {1000, 101}} {
		if got := c.needed(tc.rate, slo); got != tc.want {
			t.Errorf("needed(%g) = %d, want %d", tc.rate, got, tc.want)
		}
	}
}

func TestOracleTargetsSlidingMax(t *testing.T) {
	got := oracleTargets([]int{1, 3, 2, 1, 1, 5, 1}, 2)
	want := []int{3, 3, 2, 5, 5, 5, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("targets = %v, want %v", got, want)
		}
	}
}

// Weighted round-robin (HAProxy's slowstart ramp): the same three servers
// as above, the cold one at a quarter weight, take 9, 9 and 2.25 req/s of
// 20.25: the cold one no longer saturates, nothing fails but its cold 2 %.
func TestWeightedSpareTheSlowStartingServer(t *testing.T) {
	c := Cluster{Capacity: 10, Warmup: time.Minute}.WithDefaults()
	servers := []*instance{{warmFor: time.Minute}, {warmFor: time.Minute}, {}}
	bt := c.serveWeighted(servers, []float64{1, 1, 0.25}, 20.25)
	if want := 2.25 * c.ColdErrorRate; math.Abs(bt.failed-want) > 1e-9 {
		t.Errorf("failed %g req/s, want %g", bt.failed, want)
	}
	if want := []float64{0.9, 0.9, 0.45}; math.Abs(bt.busy[0]-want[0]) > 1e-9 || math.Abs(bt.busy[2]-want[2]) > 1e-9 {
		t.Errorf("busy %v, want %v", bt.busy, want)
	}
	eq, rr := c.serveWeighted(servers, []float64{1, 1, 1}, 21), c.serve(servers, 21)
	if math.Abs(eq.failed-rr.failed) > 1e-9 || math.Abs(p99(eq.outs, 5)-p99(rr.outs, 5)) > 1e-9 {
		t.Errorf("equal weights: failed %g p99 %g, round-robin %g %g", eq.failed, p99(eq.outs, 5), rr.failed, p99(rr.outs, 5))
	}
}

// A shadow server set ready ramps its weight over the slowstart, from the
// middle of its first tick; without slowstart it takes its full part.
func TestCloudSlowStartWeights(t *testing.T) {
	cl := &cloud{slowStart: 2 * time.Minute, now: t0.Add(time.Minute)}
	ss := []*server{{since: t0}, {since: t0.Add(time.Minute)}, {since: t0.Add(-time.Hour)}}
	got, want := cl.weights(ss, time.Minute), []float64{0.75, 0.25, 1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("weights %v, want %v", got, want)
		}
	}
	if cl.slowStart = 0; cl.weights(ss, time.Minute) != nil {
		t.Error("no slowstart: weights, want nil (all equal)")
	}
}
