package scheduler

import (
	"fmt"
	"time"
)

// Verdict is the health gate's answer for the shadow pool at one tick.
type Verdict string

// Verdicts, from best to worst.
const (
	NoData Verdict = "no-data" // too few shadow requests to judge
	Pass   Verdict = "pass"    // as good as the primary
	Worse  Verdict = "worse"   // measurably worse: lower the share
	Fail   Verdict = "fail"    // failing: roll back
)

// Gate compares the shadow pool with the primary (Flagger's metric checks).
type Gate struct {
	// ErrRateSlack is how much the shadow's error rate may exceed the
	// primary's before it is Worse (default 0.01 = 1 point).
	ErrRateSlack float64
	// FailErrRate is the shadow error rate that fails at once (default 0.1).
	FailErrRate float64
	// LatencyRatio and LatencySlack: the shadow is Worse above
	// primary × ratio + slack (defaults 1.5 and 20ms).
	LatencyRatio float64
	LatencySlack time.Duration
	// MinRequests the shadow must have served in the tick (default 5).
	MinRequests int64
}

func (g Gate) withDefaults() Gate {
	if g.ErrRateSlack <= 0 {
		g.ErrRateSlack = 0.01
	}
	if g.FailErrRate <= 0 {
		g.FailErrRate = 0.1
	}
	if g.LatencyRatio <= 0 {
		g.LatencyRatio = 1.5
	}
	if g.LatencySlack <= 0 {
		g.LatencySlack = 20 * time.Millisecond
	}
	if g.MinRequests <= 0 {
		g.MinRequests = 5
	}
	return g
}

// Judge compares one tick of shadow traffic with the primary's; the string
// says which numbers decided.
func (g Gate) Judge(primary, shadow Rates) (Verdict, string) {
	g = g.withDefaults()
	if !shadow.Valid || shadow.Requests < g.MinRequests {
		return NoData, fmt.Sprintf("shadow served %d requests (< %d)", shadow.Requests, g.MinRequests)
	}
	if shadow.ErrRate >= g.FailErrRate {
		return Fail, fmt.Sprintf("shadow error rate %.3f >= %.3f", shadow.ErrRate, g.FailErrRate)
	}
	if shadow.ErrRate > primary.ErrRate+g.ErrRateSlack {
		return Worse, fmt.Sprintf("shadow error rate %.3f > primary %.3f + %.3f", shadow.ErrRate, primary.ErrRate, g.ErrRateSlack)
	}
	limit := time.Duration(float64(primary.Latency)*g.LatencyRatio) + g.LatencySlack
	if primary.Valid && shadow.Latency > limit {
		return Worse, fmt.Sprintf("shadow latency %s > primary %s × %.2f + %s", shadow.Latency, primary.Latency, g.LatencyRatio, g.LatencySlack)
	}
	return Pass, fmt.Sprintf("shadow error rate %.3f, latency %s vs primary %.3f, %s", shadow.ErrRate, shadow.Latency, primary.ErrRate, primary.Latency)
}

// unhealthy names the pool's servers whose check is not passing (or that
// are missing from the backend). With pendingOK a server whose check has no
// result yet (HAProxy just restarted or reloaded) does not count: its first
// check decides, and the traffic gate still watches it meanwhile.
func unhealthy(names []string, listed []Server, pendingOK bool) []string {
	byName := make(map[string]Server, len(listed))
	for _, s := range listed {
		byName[s.Name] = s
	}
	var bad []string
	for _, n := range names {
		s, ok := byName[n]
		switch {
		case !ok:
			bad = append(bad, n+"=missing")
		case !s.Healthy && !(pendingOK && s.Pending):
			bad = append(bad, n+"="+s.Check)
		}
	}
	return bad
}
