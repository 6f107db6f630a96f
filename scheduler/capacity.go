package scheduler

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Rates are one backend's traffic over the last tick, from two counter
// snapshots. Valid is false when there was no previous snapshot or the
// counters went backwards (a reload reset them).
type Rates struct {
	Requests int64         `json:"requests"` // in the interval
	ReqRate  float64       `json:"req_rate"` // requests/s
	ErrRate  float64       `json:"err_rate"` // errors / requests, 0..1
	Latency  time.Duration `json:"latency"`
	Serving  int           `json:"serving"`
	Valid    bool          `json:"valid"`
}

// ratesBetween turns two snapshots dt apart into rates.
func ratesBetween(prev, cur BackendStats, dt time.Duration) Rates {
	r := Rates{Latency: cur.ResponseTime, Serving: cur.Serving}
	dReq, dErr := cur.Requests-prev.Requests, cur.Errors-prev.Errors
	if dt <= 0 || dReq < 0 || dErr < 0 {
		return r
	}
	r.Valid, r.Requests = true, dReq
	r.ReqRate = float64(dReq) / dt.Seconds()
	if dReq > 0 {
		r.ErrRate = math.Min(1, float64(dErr)/float64(dReq))
	}
	return r
}

// Learner estimates one instance's capacity from observed throughput: a
// high percentile of the requests/s per serving instance seen while the
// primary was healthy, never below Floor. Throughput at low load
// underestimates capacity, which errs on the side of more instances.
type Learner struct {
	Samples        int           // kept per LB (default 288)
	Percentile     float64       // 0..1 (default 0.95)
	Floor          float64       // req/s (default 1)
	MaxErrRate     float64       // healthy at or below (default 0.01)
	HealthyLatency time.Duration // healthy at or below (default 500ms)
	// MinSamples an estimate needs before it is used (default 6).
	MinSamples int
	// TargetUtilisation is the utilisation an instance may run at
	// (default 0.7), for the utilisation estimate.
	TargetUtilisation float64
	// KneeRatio and KneeSlack: latency above low-load latency × ratio +
	// slack is saturated (defaults 2 and 10ms).
	KneeRatio float64
	KneeSlack time.Duration
}

func (l Learner) withDefaults() Learner {
	if l.Samples <= 0 {
		l.Samples = 288
	}
	if l.Percentile <= 0 || l.Percentile > 1 {
		l.Percentile = 0.95
	}
	if l.Floor <= 0 {
		l.Floor = 1
	}
	if l.MaxErrRate <= 0 {
		l.MaxErrRate = 0.01
	}
	if l.HealthyLatency <= 0 {
		l.HealthyLatency = 500 * time.Millisecond
	}
	if l.MinSamples <= 0 {
		l.MinSamples = 6
	}
	if l.TargetUtilisation <= 0 || l.TargetUtilisation > 1 {
		l.TargetUtilisation = 0.7
	}
	if l.KneeRatio <= 1 {
		l.KneeRatio = 2
	}
	if l.KneeSlack <= 0 {
		l.KneeSlack = 10 * time.Millisecond
	}
	return l
}

// Observe appends a sample when the primary was healthy and busy, keeping
// the newest Samples.
func (l Learner) Observe(samples []float64, primary Rates) []float64 {
	l = l.withDefaults()
	if !primary.Valid || primary.Serving <= 0 || primary.ReqRate <= 0 ||
		primary.ErrRate > l.MaxErrRate || primary.Latency > l.HealthyLatency {
		return samples
	}
	samples = append(samples, primary.ReqRate/float64(primary.Serving))
	if len(samples) > l.Samples {
		samples = samples[len(samples)-l.Samples:]
	}
	return samples
}

// Estimate is the learned capacity, or 0 when nothing was learned yet.
func (l Learner) Estimate(samples []float64) float64 {
	l = l.withDefaults()
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(math.Ceil(l.Percentile*float64(len(s)))) - 1
	return math.Max(s[max(i, 0)], l.Floor)
}

// Sample is one tick of the primary's behaviour: what capacity per
// instance is learned from.
type Sample struct {
	RPI     float64 `json:"rpi"`        // requests/s per serving instance
	Latency float64 `json:"latency_ms"` // average response time
	ErrRate float64 `json:"err_rate"`
	// Util is the app's utilisation (0..1) from its app metric; 0 when
	// the LB has none.
	Util float64 `json:"util,omitempty"`
}

// Estimate is a learned capacity per instance and how it was found.
type Estimate struct {
	Capacity   float64 `json:"capacity"` // req/s; 0 = unknown
	Method     string  `json:"method"`   // utilisation | knee | throughput
	Confidence float64 `json:"confidence"`
	Samples    int     `json:"samples"`
}

// String is the estimate for a reason: "knee 96.0 req/s (confidence 0.80, 14 samples)".
func (e Estimate) String() string {
	if e.Capacity <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s %.1f req/s (confidence %.2f, %d samples)", e.Method, e.Capacity, e.Confidence, e.Samples)
}

// ObserveBehaviour appends a sample of a busy primary (healthy or not:
// saturated samples are what the knee is found from), keeping the newest
// Samples. util is the app utilisation now, NaN or 0 when unknown.
func (l Learner) ObserveBehaviour(samples []Sample, primary Rates, util float64) []Sample {
	l = l.withDefaults()
	if !primary.Valid || primary.Serving <= 0 || primary.ReqRate <= 0 {
		return samples
	}
	if math.IsNaN(util) || util < 0 {
		util = 0
	}
	if util > 1 { // a percentage
		util /= 100
	}
	samples = append(samples, Sample{RPI: primary.ReqRate / float64(primary.Serving),
		Latency: float64(primary.Latency) / float64(time.Millisecond), ErrRate: primary.ErrRate, Util: util})
	if len(samples) > l.Samples {
		samples = samples[len(samples)-l.Samples:]
	}
	return samples
}

// Learn picks the best estimate the samples support, in order of how
// directly it measures capacity: utilisation (requests per instance ÷
// utilisation × target utilisation, as target tracking does), the knee
// where latency or errors start to rise with requests per instance, and
// last the healthy throughput seen (a lower bound: a lightly loaded
// primary never showed its limit). thr are the throughput samples.
func (l Learner) Learn(samples []Sample, thr []float64) Estimate {
	l = l.withDefaults()
	if e := l.byUtilisation(samples); e.Capacity > 0 {
		return e
	}
	if e := l.byKnee(samples); e.Capacity > 0 {
		return e
	}
	if len(thr) == 0 {
		return Estimate{}
	}
	// A lower bound is little evidence of the real limit.
	return Estimate{Capacity: l.Estimate(thr), Method: "throughput", Samples: len(thr),
		Confidence: 0.25 * math.Min(1, float64(len(thr))/float64(l.MinSamples))}
}

// byUtilisation: each healthy sample with a utilisation says capacity =
// rpi / util × target; the median of them, confident when they agree.
func (l Learner) byUtilisation(samples []Sample) Estimate {
	var est []float64
	for _, s := range samples {
		if s.Util >= 0.05 && s.RPI > 0 && l.healthy(s) {
			est = append(est, s.RPI/s.Util*l.TargetUtilisation)
		}
	}
	if len(est) < l.MinSamples {
		return Estimate{}
	}
	slices.Sort(est)
	med := quantile(est, 0.5)
	spread := (quantile(est, 0.75) - quantile(est, 0.25)) / med
	conf := math.Min(1, float64(len(est))/float64(4*l.MinSamples)) * math.Max(0, 1-spread)
	return Estimate{Capacity: math.Max(med, l.Floor), Method: "utilisation", Confidence: conf, Samples: len(est)}
}

// byKnee finds the request rate per instance at which the primary stops
// being healthy: latency above KneeRatio × its latency at low load, or
// errors above MaxErrRate. The capacity is the highest healthy rate below
// the lowest saturated rates (their 10th percentile, against noise).
func (l Learner) byKnee(samples []Sample) Estimate {
	if len(samples) < 2*l.MinSamples {
		return Estimate{}
	}
	s := slices.Clone(samples)
	slices.SortFunc(s, func(a, b Sample) int { return cmpFloat(a.RPI, b.RPI) })
	low := make([]float64, 0, len(s)/4+1)
	for _, x := range s[:max(len(s)/4, l.MinSamples/2+1)] {
		low = append(low, x.Latency)
	}
	slices.Sort(low)
	limit := quantile(low, 0.5)*l.KneeRatio + float64(l.KneeSlack)/float64(time.Millisecond)
	var sat, ok []float64
	for _, x := range s {
		if x.ErrRate > l.MaxErrRate || x.Latency > limit {
			sat = append(sat, x.RPI)
		} else {
			ok = append(ok, x.RPI)
		}
	}
	if len(sat) < l.MinSamples/2+1 || len(ok) < l.MinSamples {
		return Estimate{}
	}
	knee := quantile(sat, 0.1)
	best := 0.0
	for _, r := range ok {
		if r <= knee {
			best = r
		}
	}
	if best <= 0 {
		best = 0.9 * knee
	}
	conf := math.Min(1, float64(len(sat))/float64(l.MinSamples)) * math.Min(1, float64(len(ok))/float64(2*l.MinSamples))
	return Estimate{Capacity: math.Max(best, l.Floor), Method: "knee", Confidence: conf, Samples: len(s)}
}

func (l Learner) healthy(s Sample) bool {
	return s.ErrRate <= l.MaxErrRate && s.Latency <= float64(l.HealthyLatency)/float64(time.Millisecond)
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
