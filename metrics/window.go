package metrics

import (
	"math"
	"time"
)

// WindowSum builds a query's answer: each series' window means are added
// with AddSeries (raw samples) or AddMean (means computed elsewhere, e.g. by
// Flux), and windows where no series had data stay NaN.
type WindowSum struct {
	start time.Time
	step  time.Duration
	sum   []float64
	seen  []bool
}

// NewWindowSum makes n windows of step from start.
func NewWindowSum(start time.Time, step time.Duration, n int) *WindowSum {
	return &WindowSum{start: start, step: step, sum: make([]float64, n), seen: make([]bool, n)}
}

// index is the window holding t, or -1 outside the grid.
func (w *WindowSum) index(t time.Time) int {
	d := t.Sub(w.start)
	if d < 0 {
		return -1
	}
	i := int(d / w.step)
	if i >= len(w.sum) {
		return -1
	}
	return i
}

// AddMean adds one series' mean for the window holding t.
func (w *WindowSum) AddMean(t time.Time, mean float64) {
	if i := w.index(t); i >= 0 && !math.IsNaN(mean) {
		w.sum[i] += mean
		w.seen[i] = true
	}
}

// AddSeries averages one series' samples per window and adds the means.
// Times must be ascending, as stores return them.
func (w *WindowSum) AddSeries(times []time.Time, values []float64) {
	cur, sum, n := -1, 0.0, 0
	flush := func() {
		if n > 0 {
			w.sum[cur] += sum / float64(n)
			w.seen[cur] = true
		}
		sum, n = 0, 0
	}
	for k, t := range times {
		i := w.index(t)
		if i < 0 || math.IsNaN(values[k]) {
			continue
		}
		if i != cur {
			flush()
			cur = i
		}
		sum += values[k]
		n++
	}
	flush()
}

// Regular returns the summed windows, NaN where nothing was seen.
func (w *WindowSum) Regular(name string) Regular {
	vals := make([]float64, len(w.sum))
	for i, v := range w.sum {
		if w.seen[i] {
			vals[i] = v
		} else {
			vals[i] = math.NaN()
		}
	}
	return Regular{Name: name, Start: w.start, Step: w.step, Values: vals}
}
