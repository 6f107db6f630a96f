package scheduler

import (
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
