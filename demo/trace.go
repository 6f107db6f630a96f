package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// replay is the day of the trace the demo replays, time-compressed and
// scaled: Rate[i] is req/s for second i of the replay.
type replay struct {
	Trace    string
	Day      time.Time     // the trace day replayed (UTC midnight)
	Compress float64       // trace seconds per demo second
	Second   time.Duration // demo time per Rate entry (1s)
	Rate     []float64     // req/s per demo second
	History  []float64     // the days before, compressed the same way
	Smooth   []float64     // Rate's hourly moving average: where the daily peak is
	PeakAt   int           // index of the smoothed day's largest rate
}

// loadReplay picks the day with the largest peak-to-median ratio among the
// trace's complete days (after at least `before` complete days of history),
// compresses a day into `dur` and scales the rates so the peak is `peak`.
func loadReplay(path string, dur time.Duration, peak float64, before int) (*replay, error) {
	_, reg, err := metrics.LoadRegular(path, metrics.TraceOptions{})
	if err != nil {
		return nil, err
	}
	if reg.Step <= 0 || 24*time.Hour%reg.Step != 0 {
		return nil, fmt.Errorf("trace %s: its step %s does not divide a day", path, reg.Step)
	}
	perDay := int(24 * time.Hour / reg.Step)
	first := dayStart(reg)
	days := (len(reg.Values) - first) / perDay
	if days < before+1 {
		return nil, fmt.Errorf("trace %s: need %d whole days, have %d", path, before+1, days)
	}
	best, bestScore := -1, 0.0
	for d := before; d < days; d++ {
		v := reg.Values[first+d*perDay : first+(d+1)*perDay]
		if s := peakScore(v); s > bestScore {
			best, bestScore = d, s
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("trace %s: no complete day with traffic", path)
	}
	r := &replay{Trace: path, Second: time.Second, Compress: float64(24*time.Hour) / float64(dur)}
	r.Day = reg.Start.Add(time.Duration(first+best*perDay) * reg.Step)
	hist := reg.Values[first+(best-before)*perDay : first+best*perDay]
	day := reg.Values[first+best*perDay : first+(best+1)*perDay]
	n := int(dur / time.Second)
	r.Rate, r.History = compress(day, n), compress(hist, n*before)
	scale := peak / maxOf(r.Rate)
	for i := range r.Rate {
		r.Rate[i] *= scale
	}
	for i := range r.History {
		r.History[i] *= scale
	}
	r.Smooth = smooth(r.Rate, n/24)
	r.PeakAt = argmax(r.Smooth)
	return r, nil
}

// dayStart is the index of the first point at a UTC midnight.
func dayStart(r metrics.Regular) int {
	for i := range r.Values {
		t := r.Start.Add(time.Duration(i) * r.Step)
		if t.Equal(t.Truncate(24 * time.Hour)) {
			return i
		}
	}
	return 0
}

// peakScore favours a day with few gaps whose smoothed profile (an hour's
// moving average: a daily peak, not a one-minute spike) rises furthest
// above its trough.
func peakScore(v []float64) float64 {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			n++
		}
	}
	if n < len(v)*9/10 {
		return 0
	}
	sm := smooth(v, len(v)/24)
	lo, hi := math.Inf(1), 0.0
	for _, x := range sm {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo <= 0 {
		return 0
	}
	return hi / lo
}

// smooth is a centred moving average over w points (NaN skipped).
func smooth(v []float64, w int) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		var s float64
		c := 0
		for j := max(0, i-w/2); j < min(len(v), i+w/2+1); j++ {
			if !math.IsNaN(v[j]) {
				s += v[j]
				c++
			}
		}
		if c > 0 {
			out[i] = s / float64(c)
		}
	}
	return out
}

// compress averages v into n equal buckets (NaN points skipped; an empty
// bucket repeats the previous one).
func compress(v []float64, n int) []float64 {
	out := make([]float64, n)
	prev := 0.0
	for i := range out {
		lo, hi := i*len(v)/n, (i+1)*len(v)/n
		var s float64
		c := 0
		for _, x := range v[lo:max(hi, lo+1)] {
			if !math.IsNaN(x) {
				s += x
				c++
			}
		}
		if c > 0 {
			prev = s / float64(c)
		}
		out[i] = prev
	}
	return out
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// peakHeight is where the peak window's edges are, as a share of the
// smoothed peak: the peak's width at half its height.
const peakHeight = 0.5

// peakWindow is the replay's peak as a user would call it: the rise into
// the day's peak, the peak and the fall after it — the contiguous seconds
// around the smoothed maximum whose smoothed rate is at least half of it,
// as [from, to). It comes from the replay alone, so it is the same for
// every run. The rise belongs in it: that is where capacity must already
// be warm, and where a policy that only follows the load is still cold.
func (r *replay) peakWindow() (int, int) {
	limit := peakHeight * r.Smooth[r.PeakAt]
	from, to := r.PeakAt, r.PeakAt+1
	for from > 0 && r.Smooth[from-1] >= limit {
		from--
	}
	for to < len(r.Smooth) && r.Smooth[to] >= limit {
		to++
	}
	return from, to
}
