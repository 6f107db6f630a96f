package metrics

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Regular is a series on a fixed grid: Values[i] is at Start + i*Step and is
// NaN where nothing was observed.
type Regular struct {
	Name   string
	Start  time.Time
	Step   time.Duration
	Values []float64
}

// Time returns the time of slot i.
func (r Regular) Time(i int) time.Time { return r.Start.Add(time.Duration(i) * r.Step) }

// Span is the time covered from the first slot to the end of the last.
func (r Regular) Span() time.Duration { return time.Duration(len(r.Values)) * r.Step }

// MedianStep is the median spacing between consecutive points: the native
// step of a trace (DESIGN.md 3.1). It is 0 for fewer than two points.
func (t *Trace) MedianStep() time.Duration {
	if len(t.Points) < 2 {
		return 0
	}
	d := make([]time.Duration, len(t.Points)-1)
	for i := 1; i < len(t.Points); i++ {
		d[i-1] = t.Points[i].T.Sub(t.Points[i-1].T)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// Resample puts the trace on a grid of the given step starting at its first
// point. Each point goes to the nearest slot (absorbing jitter such as
// irregular sensor spacing); a slot with several points takes their mean and
// a slot with none is NaN. Missing (NaN) points do not count. A grid of
// more than MaxSlots slots is refused rather than allocated.
func (t *Trace) Resample(step time.Duration) (Regular, error) {
	r := Regular{Name: t.Name, Step: step}
	if len(t.Points) == 0 || step <= 0 {
		return r, fmt.Errorf("resample %s: need points and a positive step", t.Name)
	}
	r.Start = t.Points[0].T
	span := t.Points[len(t.Points)-1].T.Sub(r.Start)
	if float64(span)/float64(step) >= MaxSlots || span == math.MaxInt64 {
		return r, fmt.Errorf("resample %s: %s at a %s step is more than %d slots", t.Name, span, step, MaxSlots)
	}
	last := slot(r.Start, t.Points[len(t.Points)-1].T, step)
	sum := make([]float64, last+1)
	n := make([]int, last+1)
	for _, p := range t.Points {
		if math.IsNaN(p.V) {
			continue
		}
		i := slot(r.Start, p.T, step)
		sum[i] += p.V
		n[i]++
	}
	r.Values = sum
	for i := range sum {
		if n[i] == 0 {
			r.Values[i] = math.NaN()
		} else {
			r.Values[i] = sum[i] / float64(n[i])
		}
	}
	return r, nil
}

// LoadRegular reads a trace CSV and puts it on the grid of its native
// (median) step: what every consumer of a trace file wants.
func LoadRegular(path string, opt TraceOptions) (*Trace, Regular, error) {
	tr, err := ReadTraceFile(path, opt)
	if err != nil {
		return nil, Regular{}, err
	}
	step := tr.MedianStep()
	if step <= 0 {
		return nil, Regular{}, fmt.Errorf("%s: need at least two distinct timestamps to find the step", path)
	}
	r, err := tr.Resample(step)
	if err != nil {
		return nil, Regular{}, err
	}
	return tr, r, nil
}

// MaxSlots bounds a resampled series (ten years of minutes fit).
const MaxSlots = 6_000_000

func slot(start, t time.Time, step time.Duration) int {
	return int(math.Floor(float64(t.Sub(start))/float64(step) + 0.5)) // float: no overflow near the Duration limit
}
