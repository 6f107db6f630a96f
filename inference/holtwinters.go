package inference

import (
	"context"
	"fmt"
	"math"
)

// HoltWinters is additive Holt-Winters with a damped trend and a daily
// season (damped Holt without a season when the history holds fewer than two
// days or a day is not a whole number of steps). Smoothing parameters are
// fitted per series by minimising the in-sample one-step squared error, and
// quantiles come from the in-sample h-step error distribution.
type HoltWinters struct{}

// Name implements Forecaster.
func (HoltWinters) Name() string { return "holt-winters" }

// Forecast implements Forecaster.
func (hw HoltWinters) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	return forecastEach(ctx, series, horizon, hw.one)
}

// hwFitSeasons bounds the history used for fitting: one season initialises
// the state, the rest is fitted; older data adds cost, not accuracy.
const hwFitSeasons = 4

func (HoltWinters) one(s Series, horizon int) (Forecast, error) {
	m := SeasonSteps(day, s.Step)
	v := trimHistory(s.Values, max(hwFitSeasons*m, maxResiduals+horizon+m))
	if m > 0 && (len(v) < 2*m || validCount(v[:m]) == 0) {
		m = 0 // the season cannot be initialised from this history
	}
	if validCount(v) < 3 {
		return Forecast{}, fmt.Errorf("holt-winters: series %q: %w: need at least 3 observed values", s.ID, ErrTooShort)
	}
	p := fitHW(v, m)
	st := newHWState(v, m, p)
	var res [][]float64
	point := st.run(v, horizon, &res)
	f := newForecast(s, "holt-winters", point, bandsFrom(res))
	if m == 0 {
		f.Fallback = "history shorter than two days or step not dividing a day: no season"
	}
	return f, nil
}

// hwParams are the smoothing weights and damping.
type hwParams struct{ alpha, beta, gamma, phi float64 }

// fitHW minimises the one-step SSE over logistic-transformed parameters
// (alpha, beta, gamma in (0,1); phi in [0.8, 0.98], the usual damping range).
func fitHW(v []float64, m int) hwParams {
	decode := func(x []float64) hwParams {
		return hwParams{alpha: logistic(x[0]), beta: logistic(x[1]) * 0.5, gamma: logistic(x[2]),
			phi: 0.8 + 0.18*logistic(x[3])}
	}
	cost := func(x []float64) float64 {
		st := newHWState(v, m, decode(x))
		return st.sse(v)
	}
	start := []float64{logit(0.3), logit(0.1), logit(0.1), logit(0.8)}
	return decode(nelderMead(cost, start, 150))
}

type hwState struct {
	p      hwParams
	m      int
	level  float64
	trend  float64
	season []float64 // indexed by t mod m
	start  int       // first index updated (after initialisation)
}

// newHWState initialises level and season from the first season (or the
// first observed value) and the trend from the means of the first two.
func newHWState(v []float64, m int, p hwParams) *hwState {
	st := &hwState{p: p, m: m}
	if m == 0 {
		first := firstValid(v)
		st.level, st.start = v[first], first+1
		return st
	}
	m1, m2 := meanValid(v[:m]), meanValid(v[m:2*m])
	if math.IsNaN(m2) {
		m2 = m1
	}
	// The season means sit at the seasons' centres, (m-1)/2: detrend the
	// first season around it and carry the level to its last step.
	st.trend = (m2 - m1) / float64(m)
	centre := float64(m-1) / 2
	st.level = m1 + st.trend*centre
	st.season = make([]float64, m)
	for i := range m {
		if !math.IsNaN(v[i]) {
			st.season[i] = v[i] - (m1 + st.trend*(float64(i)-centre))
		}
	}
	st.start = m
	return st
}

// predict is the forecast made at time t (before seeing y[t]) for t+h-1.
func (st *hwState) predict(t, h int) float64 {
	damp, pw := 0.0, 1.0
	for range h {
		pw *= st.p.phi
		damp += pw
	}
	f := st.level + damp*st.trend
	if st.m > 0 {
		f += st.season[(t+h-1)%st.m]
	}
	return f
}

// update absorbs y at time t; a missing y is replaced by its forecast.
func (st *hwState) update(t int, y float64) {
	yhat := st.predict(t, 1)
	if math.IsNaN(y) {
		y = yhat
	}
	p, s := st.p, 0.0
	if st.m > 0 {
		s = st.season[t%st.m]
	}
	prevLevel := st.level
	st.level = p.alpha*(y-s) + (1-p.alpha)*(prevLevel+p.phi*st.trend)
	st.trend = p.beta*(st.level-prevLevel) + (1-p.beta)*p.phi*st.trend
	if st.m > 0 {
		st.season[t%st.m] = p.gamma*(y-st.level) + (1-p.gamma)*s
	}
}

func (st *hwState) sse(v []float64) float64 {
	sum := 0.0
	for t := st.start; t < len(v); t++ {
		if e := v[t] - st.predict(t, 1); !math.IsNaN(e) {
			sum += e * e
		}
		st.update(t, v[t])
	}
	return sum
}

// run filters the whole history, recording the h-step errors of forecasts
// made over its last maxResiduals origins, and returns the point forecast.
func (st *hwState) run(v []float64, horizon int, res *[][]float64) []float64 {
	*res = make([][]float64, horizon)
	from := max(st.start, len(v)-maxResiduals-horizon)
	for t := st.start; t < len(v); t++ {
		if t >= from {
			for h := 1; h <= horizon && t+h-1 < len(v); h++ {
				if y := v[t+h-1]; !math.IsNaN(y) {
					(*res)[h-1] = append((*res)[h-1], y-st.predict(t, h))
				}
			}
		}
		st.update(t, v[t])
	}
	point := make([]float64, horizon)
	for h := range point {
		point[h] = st.predict(len(v), h+1)
	}
	return point
}

// trimHistory keeps the last n values.
func trimHistory(v []float64, n int) []float64 {
	if len(v) > n {
		return v[len(v)-n:]
	}
	return v
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64    { return math.Log(p / (1 - p)) }

func validCount(v []float64) int {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			n++
		}
	}
	return n
}

func firstValid(v []float64) int {
	for i, x := range v {
		if !math.IsNaN(x) {
			return i
		}
	}
	return -1
}

func meanValid(v []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
