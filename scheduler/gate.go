package scheduler

import (
	"fmt"
	"math"
	"time"
)

// Verdict is the health gate's answer for the shadow pool at one tick.
type Verdict string

// Verdicts, from best to worst.
const (
	NoData Verdict = "no-data" // too little evidence to judge: hold
	Pass   Verdict = "pass"    // as good as the primary
	Worse  Verdict = "worse"   // measurably worse: lower the share
	Fail   Verdict = "fail"    // failing: roll back
)

// Gate compares the shadow pool with the primary on accumulated evidence,
// as canary analysis does (Kayenta, Flagger): a sliding window of per-tick
// samples, persisted with the pool; error rates are compared through a
// Wilson confidence bound, latencies through the request-weighted means and
// a one-sided Mann–Whitney U test over the per-tick latencies. With too few
// requests it says NoData (hold), never Worse.
type Gate struct {
	// ErrRateSlack is how much the shadow's error rate may exceed the
	// primary's before it is Worse (default 0.01 = 1 point); the shadow
	// rate is its 99% lower confidence bound.
	ErrRateSlack float64
	// FailErrRate fails at once when the 99.5% lower confidence bound of
	// the shadow's error rate, in the last tick or the window, reaches it
	// (default 0.1). The bound needs at least 3 requests, all failing.
	FailErrRate float64
	// LatencyRatio and LatencySlack: the shadow is Worse above
	// primary × ratio + slack (defaults 1.5 and 20ms).
	LatencyRatio float64
	LatencySlack time.Duration
	// MinRequests the shadow must have served within the window before
	// it may be called Worse (default 50).
	MinRequests int64
	// MinLatencySamples ticks with shadow requests in the window before
	// latency is judged (default 5).
	MinLatencySamples int
	// Alpha is the significance the latency test needs (default 0.05).
	Alpha float64
	// Window is how far back evidence counts (default 10m).
	Window time.Duration
}

// maxSamples bounds the persisted evidence whatever the tick.
const maxSamples = 120

func (g Gate) withDefaults() Gate {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&g.ErrRateSlack, 0.01)
	def(&g.FailErrRate, 0.1)
	def(&g.LatencyRatio, 1.5)
	def(&g.Alpha, 0.05)
	if g.LatencySlack <= 0 {
		g.LatencySlack = 20 * time.Millisecond
	}
	if g.MinRequests <= 0 {
		g.MinRequests = 50
	}
	if g.MinLatencySamples <= 0 {
		g.MinLatencySamples = 5
	}
	if g.Window <= 0 {
		g.Window = 10 * time.Minute
	}
	return g
}

// GateSample is one tick of evidence: what the shadow and the primary
// served in it. Latencies are milliseconds (HAProxy's average response
// time at the tick).
type GateSample struct {
	At               time.Time `json:"at"`
	Requests         int64     `json:"requests"`
	Errors           int64     `json:"errors"`
	LatencyMS        float64   `json:"latency_ms"`
	PrimaryRequests  int64     `json:"primary_requests"`
	PrimaryErrors    int64     `json:"primary_errors"`
	PrimaryLatencyMS float64   `json:"primary_latency_ms"`
}

// Observe appends this tick's rates to the evidence and drops what is
// older than the window; an interval without valid counters adds nothing.
func (g Gate) Observe(ev []GateSample, now time.Time, primary, shadow Rates) []GateSample {
	g = g.withDefaults()
	if shadow.Valid {
		s := GateSample{At: now, Requests: shadow.Requests, Errors: errorsOf(shadow), LatencyMS: ms(shadow.Latency)}
		if primary.Valid {
			s.PrimaryRequests, s.PrimaryErrors, s.PrimaryLatencyMS = primary.Requests, errorsOf(primary), ms(primary.Latency)
		}
		ev = append(ev, s)
	}
	from := 0
	for from < len(ev) && (now.Sub(ev[from].At) >= g.Window || len(ev)-from > maxSamples) {
		from++
	}
	return append([]GateSample(nil), ev[from:]...)
}

func errorsOf(r Rates) int64     { return int64(math.Round(r.ErrRate * float64(r.Requests))) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Judge gives the verdict on the evidence (the last sample is this tick);
// the string says which numbers decided.
func (g Gate) Judge(ev []GateSample) (Verdict, string) {
	g = g.withDefaults()
	var n, errs, pn, perrs int64
	for _, s := range ev {
		n, errs, pn, perrs = n+s.Requests, errs+s.Errors, pn+s.PrimaryRequests, perrs+s.PrimaryErrors
	}
	if v, why := g.failing(ev, n, errs); v == Fail {
		return v, why
	}
	if n < g.MinRequests {
		return NoData, fmt.Sprintf("holding: shadow served %d requests in %s (< %d to judge)", n, g.Window, g.MinRequests)
	}
	// 99% one-sided: overlapping windows judge the same errors again.
	// The last tick must still show it: errors of instances that were
	// cold (or of a burst) earlier in the window are history, not a worse
	// pool.
	lo, prim := wilsonLower(errs, n, 2.326), rate(perrs, pn)
	last := ev[len(ev)-1]
	if lo > prim+g.ErrRateSlack && rate(last.Errors, last.Requests) > rate(last.PrimaryErrors, last.PrimaryRequests)+g.ErrRateSlack {
		return Worse, fmt.Sprintf("shadow error rate %.3f (99%% lower bound %.3f, %d/%d) > primary %.3f + %.3f",
			rate(errs, n), lo, errs, n, prim, g.ErrRateSlack)
	}
	return g.latency(ev, n, errs, prim)
}

// failing is Fail when the 99.5% lower bound of the shadow's excess error
// rate, in the last tick or over the window, reaches FailErrRate: a clearly
// broken shadow rolls back within a tick, a few unlucky errors do not. The
// excess errors of a tick are those beyond the primary's error rate at the
// same tick (paired, as canary analysis compares with its baseline): when
// the whole load balancer was short of capacity both fail alike, and a
// rollback would only send the shadow's traffic to the failing primary —
// also once the overload is over but still in the window.
func (g Gate) failing(ev []GateSample, n, errs int64) (Verdict, string) {
	if len(ev) == 0 {
		return NoData, ""
	}
	last := ev[len(ev)-1]
	var excess int64
	for _, s := range ev {
		excess += s.excessErrors()
	}
	for _, c := range []struct {
		what       string
		e, x, reqs int64
	}{{"in the last tick", last.Errors, last.excessErrors(), last.Requests}, {"in " + g.Window.String(), errs, excess, n}} {
		if lo := wilsonLower(c.x, c.reqs, 2.576); lo >= g.FailErrRate {
			return Fail, fmt.Sprintf("shadow error rate %.3f %s (%d/%d), %.3f beyond the primary's (99.5%% lower bound %.3f) >= %.3f",
				rate(c.e, c.reqs), c.what, c.e, c.reqs, rate(c.x, c.reqs), lo, g.FailErrRate)
		}
	}
	return NoData, ""
}

// excessErrors are the shadow's errors beyond what the primary's error
// rate at the same tick would give its requests (at least 0).
func (s GateSample) excessErrors() int64 {
	want := math.Round(float64(s.Requests) * rate(s.PrimaryErrors, s.PrimaryRequests))
	return max(0, s.Errors-int64(want))
}

// latency is Worse when the shadow's request-weighted mean latency exceeds
// primary × ratio + slack and the per-tick latencies are significantly
// above that limit (Mann–Whitney U, one-sided).
func (g Gate) latency(ev []GateSample, n, errs int64, primErr float64) (Verdict, string) {
	var sh, lim []float64
	var shSum, pSum float64
	var pn int64
	for _, s := range ev {
		if s.Requests > 0 {
			sh = append(sh, s.LatencyMS)
			shSum += s.LatencyMS * float64(s.Requests)
		}
		if s.PrimaryRequests > 0 {
			lim = append(lim, g.limit(s.PrimaryLatencyMS))
			pSum, pn = pSum+s.PrimaryLatencyMS*float64(s.PrimaryRequests), pn+s.PrimaryRequests
		}
	}
	shMean := shSum / float64(n)
	summary := fmt.Sprintf("shadow %d requests, error rate %.3f, latency %.1fms vs primary %.3f", n, rate(errs, n), shMean, primErr)
	if len(sh) < g.MinLatencySamples || len(lim) < g.MinLatencySamples {
		return Pass, summary + fmt.Sprintf("; latency not judged (%d ticks with shadow requests < %d)", len(sh), g.MinLatencySamples)
	}
	pMean := pSum / float64(pn)
	summary += fmt.Sprintf(", %.1fms", pMean)
	if p := mannWhitneyGreater(sh, lim); shMean > g.limit(pMean) && p < g.Alpha {
		return Worse, fmt.Sprintf("shadow latency %.1fms > primary %.1fms × %.2f + %s over %d ticks (Mann–Whitney p=%.3f < %.2f)",
			shMean, pMean, g.LatencyRatio, g.LatencySlack, len(sh), p, g.Alpha)
	}
	return Pass, summary
}

func (g Gate) limit(primaryMS float64) float64 {
	return primaryMS*g.LatencyRatio + ms(g.LatencySlack)
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
