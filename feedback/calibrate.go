package feedback

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/shadowscale/shadowscale/inference"
)

// calibrator is split-conformal quantile calibration per (LB, model,
// horizon step) with adaptive conformal levels (Gibbs & Candès 2021): for
// each scored step it keeps the normalised exceedance scores
//
//	hi = (actual - p90) / w,  lo = (p10 - actual) / w,  w = band width
//
// of the last Scores targets and moves p90 (p10) by the score quantile at
// the level that made it cover 90 % (90 % above p10). The level itself
// moves by Gamma after every calibrated miss or hit, so coverage stays
// honest under drift. Corrections are clamped to [-MaxNarrow, MaxWiden]
// band widths, and a quantile of many scores barely moves for one outlier.
type calibrator struct {
	opt Calibration
	mu  sync.Mutex
	by  map[calKey]*calState
}

type calKey struct {
	lb, model string
	lead      int64
}

type calState struct {
	hi, lo           []float64 // rings of the last opt.Scores scores
	next             int
	levelHi, levelLo float64
}

// nominal is the coverage each side aims for: 90 % at or below p90, 90 %
// at or above p10.
const nominal = 0.9

// scoreClip bounds a single stored score, in band widths.
const scoreClip = 20

func newCalibrator(opt Calibration) *calibrator {
	return &calibrator{opt: opt, by: map[calKey]*calState{}}
}

func bandWidth(p10, p50, p90 float64) float64 {
	return math.Max(p90-p10, math.Max(0.05*p50, 1e-6))
}

func clip(v, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, v)) }

// observe adds a scored step; missing ones teach nothing.
func (c *calibrator) observe(s scored) {
	if s.Missing {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := calKey{s.LB, s.Model, s.Lead}
	st := c.by[k]
	if st == nil {
		st = &calState{levelHi: nominal, levelLo: nominal}
		c.by[k] = st
	}
	w := bandWidth(s.P10, s.P50, s.P90)
	hi, lo := clip((s.Actual-s.P90)/w, -scoreClip, scoreClip), clip((s.P10-s.Actual)/w, -scoreClip, scoreClip)
	if len(st.hi) < c.opt.Scores {
		st.hi, st.lo = append(st.hi, hi), append(st.lo, lo)
	} else {
		st.hi[st.next], st.lo[st.next] = hi, lo
		st.next = (st.next + 1) % c.opt.Scores
	}
	if s.calibrated() {
		// Adaptive conformal: a miss raises the level, a hit lowers it.
		st.levelHi = clip(st.levelHi+c.opt.Gamma*(b2f(s.Actual > s.CalP90)-(1-nominal)), 0.5, 0.995)
		st.levelLo = clip(st.levelLo+c.opt.Gamma*(b2f(s.Actual < s.CalP10)-(1-nominal)), 0.5, 0.995)
	}
}

// conformalQuantile is the finite-sample split-conformal quantile: the
// ceil((n+1)·level)-th smallest score.
func conformalQuantile(scores []float64, level float64) float64 {
	s := slices.Clone(scores)
	sort.Float64s(s)
	k := int(math.Ceil(float64(len(s)+1)*level)) - 1
	return s[max(0, min(k, len(s)-1))]
}

// correction returns the hi and lo corrections (band widths) for a step,
// ok false while too few scores are known.
func (c *calibrator) correction(lb, model string, lead int64) (hi, lo float64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.by[calKey{lb, model, lead}]
	if st == nil || len(st.hi) < c.opt.MinScores {
		return 0, 0, false
	}
	hi = clip(conformalQuantile(st.hi, st.levelHi), -c.opt.MaxNarrow, c.opt.MaxWiden)
	lo = clip(conformalQuantile(st.lo, st.levelLo), -c.opt.MaxNarrow, c.opt.MaxWiden)
	return hi, lo, true
}

// apply calibrates a forecast; it returns it unchanged (and "") until a
// step has enough scores.
func (c *calibrator) apply(lb string, f inference.Forecast) (inference.Forecast, string) {
	model := modelOf(f, "")
	out := f
	out.P10, out.P90 = slices.Clone(f.P10), slices.Clone(f.P90)
	n, sumHi := 0, 0.0
	for i := range f.P90 {
		hi, lo, ok := c.correction(lb, model, leadSeconds(f, i))
		if !ok {
			continue
		}
		w := bandWidth(f.P10[i], f.P50[i], f.P90[i])
		out.P90[i] = math.Max(f.P50[i], f.P90[i]+hi*w)
		out.P10[i] = math.Max(0, math.Min(f.P50[i], f.P10[i]-lo*w))
		n, sumHi = n+1, sumHi+hi
	}
	if n == 0 {
		return f, ""
	}
	return out, fmt.Sprintf("p10/p90 calibrated (conformal, %d of %d steps; mean p90 shift %+.2f band widths)", n, len(f.P90), sumHi/float64(n))
}

func leadSeconds(f inference.Forecast, i int) int64 {
	return int64(f.Step.Seconds()) * int64(i+1)
}
