package inference

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// hwFit is a fitted Holt-Winters model: its period (0 = no season) and the
// state (with parameters) at the end of the history it was fitted on.
type hwFit struct {
	m           int
	seasonTried bool // a seasonal candidate had enough history
	end         *hwState
	bands       bands
}

// hwSimpler is how much better a longer period must forecast the holdout
// to be chosen: a season fitted to noise must not win by chance.
const hwSimpler = 0.03

// hwHoldout is the share of the fit window held out to choose the period.
const hwHoldout = 0.2

// fitHoltWinters chooses the period (none, a day or a week) and the fit
// window (all of v, or only its recent hwShortSteps: a series whose
// behaviour shifted forecasts better from recent data) by the horizon-step
// MAE on the last hwHoldout of v of models fitted before it, then filters
// the winner through the rest of v. idx0 is v[0]'s absolute step number
// (phases are taken modulo the period).
func fitHoltWinters(v []float64, step time.Duration, idx0 int64, horizon int) hwFit {
	head := len(v) - max(int(hwHoldout*float64(len(v))), horizon+1)
	if head < 3 || validCount(v[:head]) < 3 {
		head = len(v) // too short to hold out: no season, nothing to choose
	}
	var best *hwState
	bestM, bestFrom, bestErr, tried := 0, 0, math.Inf(1), false
	for _, from := range hwWindowStarts(step, head) {
		periods := hwPeriods(step, head-from)
		if head == len(v) {
			periods = periods[:1]
		}
		tried = tried || len(periods) > 1
		for _, m := range periods {
			init := fitPeriod(v[from:head], m, phase(idx0+int64(from), m))
			st := init.clone()
			st.sse(v[from:head])
			score := holdoutMAE(st, v[head:], horizon)
			if best == nil || score < (1-hwSimpler)*bestErr {
				best, bestM, bestFrom, bestErr = init, m, from, score
			}
		}
	}
	b := best.filterBands(v[bestFrom:], horizon)
	return hwFit{m: bestM, seasonTried: tried, end: best, bands: b}
}

// hwShortSteps is the recent fit window that competes with the whole one:
// four days, at least 1,000 steps.
func hwShortSteps(step time.Duration) int { return max(int(4*day/step), 1000) }

// hwWindowStarts are the fit windows' first indexes in a head-step history.
func hwWindowStarts(step time.Duration, head int) []int {
	if short := hwShortSteps(step); head > 2*short {
		return []int{0, head - short}
	}
	return []int{0}
}

// hwPeriods are the candidate periods with two whole seasons in n steps.
func hwPeriods(step time.Duration, n int) []int {
	out := []int{0}
	for _, season := range []time.Duration{day, week} {
		if m := SeasonSteps(season, step); m > 0 && n >= 2*m {
			out = append(out, m)
		}
	}
	return out
}

func phase(idx0 int64, m int) int {
	if m == 0 {
		return 0
	}
	return int(((idx0 % int64(m)) + int64(m)) % int64(m))
}

// fitPeriod estimates the smoothing parameters and the initial season by
// minimising the one-step SSE over v: Nelder-Mead on bounded parameters
// from two starts, then a correction of the initial season by the mean
// residual at each phase (accepted only when it lowers the SSE), then
// Nelder-Mead again. It returns the state before v[0], parameters set.
func fitPeriod(v []float64, m, phase0 int) *hwState {
	init := initialState(v, m, phase0)
	cost := func(x []float64) float64 {
		st := init.clone()
		st.p = decodeHW(x, m)
		s, _ := st.sse(v)
		return s
	}
	var x []float64
	bestCost := math.Inf(1)
	for _, s0 := range hwStarts(cost, m) {
		if xs := nelderMead(cost, s0, 200); cost(xs) < bestCost {
			x, bestCost = xs, cost(xs)
		}
	}
	if m > 0 {
		init.p = decodeHW(x, m)
		for range 3 {
			if !refineSeason(v, init) {
				break
			}
		}
		x = nelderMead(cost, x, 120)
	}
	init.p = decodeHW(x, m)
	return init
}

// hwStarts are the two best points of a coarse grid over the parameters:
// the SSE surface has local minima (near alpha = 1 especially) that one
// simplex start falls into.
func hwStarts(cost func([]float64) float64, m int) [][]float64 {
	type pt struct {
		x []float64
		c float64
	}
	var pts []pt
	for _, a := range []float64{0.05, 0.2, 0.5, 0.8, 0.95} {
		for _, g := range []float64{0.01, 0.1, 0.4} {
			for _, b := range []float64{0.01, 0.2} {
				for _, ph := range []float64{0.3, 0.9} {
					x := []float64{logit(a), logit(b), logit(g), logit(ph)}
					if m == 0 {
						if g != 0.01 {
							continue
						}
						x = []float64{x[0], x[1], x[3]}
					}
					pts = append(pts, pt{x, cost(x)})
				}
			}
		}
	}
	slices.SortStableFunc(pts, func(p, q pt) int { return cmp.Compare(p.c, q.c) })
	return [][]float64{pts[0].x, pts[1].x}
}

// decodeHW maps unbounded x to statsmodels' usual region: alpha in (0,1),
// beta in (0, alpha), gamma in (0, 1), phi in (0.8, 0.995).
func decodeHW(x []float64, m int) hwParams {
	a := logistic(x[0])
	p := hwParams{alpha: a, beta: a * logistic(x[1]), phi: 0.8 + 0.195*logistic(x[len(x)-1])}
	if m > 0 {
		p.gamma = logistic(x[2])
	}
	return p
}

// refineSeason shifts st's initial season by the mean one-step residual at
// each phase when that lowers the SSE over v, and reports whether it did.
func refineSeason(v []float64, st *hwState) bool {
	m := len(st.season)
	sum, cnt := make([]float64, m), make([]int, m)
	run := st.clone()
	base := 0.0
	for _, y := range v {
		ph := run.phase
		if e := run.update(y); !math.IsNaN(e) {
			sum[ph] += e
			cnt[ph]++
			base += e * e
		}
	}
	cand := st.clone()
	total := 0.0
	for i := range sum {
		if cnt[i] > 0 {
			sum[i] /= float64(cnt[i])
		}
		total += sum[i] / float64(m)
	}
	for i := range cand.season {
		cand.season[i] += sum[i] - total
	}
	trial := cand.clone()
	if s, _ := trial.sse(v); s < base {
		copy(st.season, cand.season)
		return true
	}
	return false
}

// holdoutMAE filters v from st (which it changes) and returns the mean
// absolute error of its 1..horizon-step forecasts from every origin in v.
func holdoutMAE(st *hwState, v []float64, horizon int) float64 {
	sum, n := 0.0, 0
	for t, y := range v {
		for h := 1; h <= horizon && t+h-1 < len(v); h++ {
			if y := v[t+h-1]; !math.IsNaN(y) {
				sum += math.Abs(y - st.predict(h))
				n++
			}
		}
		st.update(y)
	}
	if n == 0 {
		return math.Inf(1)
	}
	return sum / float64(n)
}
