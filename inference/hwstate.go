package inference

import "math"

// hwParams are the smoothing weights and the trend damping.
type hwParams struct{ alpha, beta, gamma, phi float64 }

// hwState is additive damped Holt-Winters' state just before its next
// observation. season is indexed by absolute phase (the step number since
// the Unix epoch, modulo the period), so a state carries over between
// series windows that start at different times.
type hwState struct {
	p      hwParams
	level  float64
	trend  float64
	season []float64 // nil: no season
	phase  int       // phase of the next observation
}

func (st *hwState) clone() *hwState {
	c := *st
	c.season = append([]float64(nil), st.season...)
	return &c
}

// predict is the forecast h >= 1 steps ahead (h = 1: the next observation).
func (st *hwState) predict(h int) float64 {
	damp, pw := 0.0, 1.0
	for range h {
		pw *= st.p.phi
		damp += pw
	}
	f := st.level + damp*st.trend
	if m := len(st.season); m > 0 {
		f += st.season[(st.phase+h-1)%m]
	}
	return f
}

// update absorbs the next observation y and returns its one-step error (NaN
// when y is missing; a missing y is replaced by its forecast).
func (st *hwState) update(y float64) float64 {
	p, s := st.p, 0.0
	m := len(st.season)
	if m > 0 {
		s = st.season[st.phase]
	}
	damped := st.level + p.phi*st.trend
	e := y - (damped + s)
	if math.IsNaN(e) {
		y = damped + s
	}
	prevLevel := st.level
	// statsmodels' (Hyndman's) additive form: the season is updated
	// against the previous level and trend.
	st.level = p.alpha*(y-s) + (1-p.alpha)*damped
	st.trend = p.beta*(st.level-prevLevel) + (1-p.beta)*p.phi*st.trend
	if m > 0 {
		st.season[st.phase] = p.gamma*(y-damped) + (1-p.gamma)*s
		if st.phase++; st.phase == m {
			st.phase = 0
		}
	}
	return e
}

// sse filters v from st (which it changes) and returns the one-step sum of
// squared errors and the number of observed values.
func (st *hwState) sse(v []float64) (float64, int) {
	sum, n := 0.0, 0
	for _, y := range v {
		if e := st.update(y); !math.IsNaN(e) {
			sum += e * e
			n++
		}
	}
	return sum, n
}

// filterBands filters v from st (which it changes), collecting the h-step
// errors of the forecasts made at its last maxResiduals origins.
func (st *hwState) filterBands(v []float64, horizon int) bands {
	res := make([][]float64, horizon)
	from := max(0, len(v)-maxResiduals-horizon)
	for t, y := range v {
		if t >= from {
			for h := 1; h <= horizon && t+h-1 < len(v); h++ {
				if y := v[t+h-1]; !math.IsNaN(y) {
					res[h-1] = append(res[h-1], y-st.predict(h))
				}
			}
		}
		st.update(y)
	}
	return bandsFrom(res)
}

// initialState is the heuristic start the fit refines: level and trend from
// the per-season means, the season from the mean detrended profile over all
// whole seasons in v (a far better start than one noisy first season when
// the fitted gamma is small). phase0 is the phase of v[0].
func initialState(v []float64, m, phase0 int) *hwState {
	st := &hwState{}
	if m == 0 {
		st.level = v[firstValid(v)]
		return st
	}
	k := len(v) / m
	means := make([]float64, k)
	for j := range means {
		means[j] = meanValid(v[j*m : (j+1)*m])
	}
	first, last := firstLastFinite(means)
	if last > first {
		st.trend = (means[last] - means[first]) / float64((last-first)*m)
	}
	centre := float64(m-1) / 2
	st.level = means[first] - st.trend*(centre+float64(first*m)+1)
	st.season = seasonProfile(v[:k*m], means, m, st.trend)
	// Rotate from v's positions to absolute phases.
	rot := make([]float64, m)
	for i, s := range st.season {
		rot[(phase0+i)%m] = s
	}
	st.season, st.phase = rot, phase0%m
	return st
}

// seasonProfile is the mean over seasons of each position's deviation from
// its season's (trend-adjusted) mean, centred to sum to zero.
func seasonProfile(v, means []float64, m int, trend float64) []float64 {
	sum, cnt := make([]float64, m), make([]int, m)
	centre := float64(m-1) / 2
	for t, y := range v {
		j, i := t/m, t%m
		if !math.IsNaN(y) && !math.IsNaN(means[j]) {
			sum[i] += y - means[j] - trend*(float64(i)-centre)
			cnt[i]++
		}
	}
	total := 0.0
	for i := range sum {
		if cnt[i] > 0 {
			sum[i] /= float64(cnt[i])
		}
		total += sum[i]
	}
	for i := range sum {
		sum[i] -= total / float64(m)
	}
	return sum
}

func firstLastFinite(x []float64) (int, int) {
	first, last := -1, -1
	for i, v := range x {
		if !math.IsNaN(v) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return max(first, 0), max(last, 0)
}
