package collect

import "time"

// Counters are one stats row's cumulative counters.
type Counters struct {
	Requests uint64
	Sessions uint64
	Errors   uint64 // failed requests: haproxy.StatRow.Errors (5xx, connection and response errors)
}

// PerSecond are rates derived from two snapshots of Counters.
type PerSecond struct {
	Requests, Sessions, Errors float64
}

// Outcome says what Rates.Update made of a new snapshot.
type Outcome int

const (
	// RateOK means the rates are valid.
	RateOK Outcome = iota
	// FirstSeen means the row is new (a server that appeared, the first
	// scrape): only a baseline was recorded.
	FirstSeen
	// Reset means a counter went down (HAProxy reloaded or restarted): the
	// interval's rate is unknown, so none is given and the new values become
	// the baseline. Guessing cur/dt would understate it; cur-prev would be
	// negative.
	Reset
	// NoTime means the snapshot is not later than the previous one.
	NoTime
)

type snapshot struct {
	at time.Time
	c  Counters
}

// Rates turns cumulative counters into per-second rates per row key. It is
// not safe for concurrent use (the collector owns one).
type Rates struct {
	prev map[string]snapshot
	seen map[string]bool
}

// NewRates makes an empty tracker.
func NewRates() *Rates { return &Rates{prev: map[string]snapshot{}, seen: map[string]bool{}} }

// Update records the row's counters read at time at and returns the rates
// over the interval since its previous snapshot. Rates are never negative:
// a decrease in any counter is a reset and yields no rate.
func (r *Rates) Update(key string, at time.Time, c Counters) (PerSecond, Outcome) {
	r.seen[key] = true
	old, ok := r.prev[key]
	if !ok {
		r.prev[key] = snapshot{at, c}
		return PerSecond{}, FirstSeen
	}
	dt := at.Sub(old.at).Seconds()
	if dt <= 0 {
		return PerSecond{}, NoTime
	}
	r.prev[key] = snapshot{at, c}
	if c.Requests < old.c.Requests || c.Sessions < old.c.Sessions || c.Errors < old.c.Errors {
		return PerSecond{}, Reset
	}
	return PerSecond{
		Requests: float64(c.Requests-old.c.Requests) / dt,
		Sessions: float64(c.Sessions-old.c.Sessions) / dt,
		Errors:   float64(c.Errors-old.c.Errors) / dt,
	}, RateOK
}

// Sweep forgets rows not updated since the previous Sweep (servers that
// disappeared), so one that comes back starts from a fresh baseline instead
// of a rate over its absence. It returns how many were forgotten.
func (r *Rates) Sweep() int {
	n := 0
	for k := range r.prev {
		if !r.seen[k] {
			delete(r.prev, k)
			n++
		}
	}
	clear(r.seen)
	return n
}
