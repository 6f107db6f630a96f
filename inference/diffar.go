package inference

import (
	"context"
	"fmt"
	"math"
	"time"
)

// DiffAR is an ARIMA(p,1,0) model, optionally with the day-ago and
// week-ago differences as extra regressors (a seasonal AR term): the
// step-to-step changes are regressed on their own recent past by least
// squares over the last diffARFit points, p and the seasonal terms chosen
// by AIC. Forecasts are recursive; quantiles come from the h-step errors
// of the same recursion over the recent history. Like Holt-Winters, one
// made by NewDiffAR fits a series once per refit interval (on the data
// before it); the zero value fits on every call.
type DiffAR struct {
	Refit time.Duration
	cache *fitCache[arModel]
}

// NewDiffAR returns a DiffAR that refits each series once per refit
// interval (DefaultRefit when refit <= 0).
func NewDiffAR(refit time.Duration) DiffAR {
	if refit <= 0 {
		refit = DefaultRefit
	}
	return DiffAR{Refit: refit, cache: newFitCache[arModel]()}
}

// Name implements Forecaster.
func (DiffAR) Name() string { return "diff-ar" }

// Forecast implements Forecaster.
func (d DiffAR) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	return forecastEach(ctx, series, horizon, d.one)
}

const (
	diffARFit       = 5000 // points fitted, as the reference ARIMA
	diffARResiduals = 300  // origins whose h-step errors give the bands
)

// diffAROrders are the AR orders tried.
var diffAROrders = []int{1, 2, 4, 8, 16, 24, 32, 48}

func (d DiffAR) one(s Series, horizon int) (Forecast, error) {
	if validCount(s.Values) < 3 {
		return Forecast{}, fmt.Errorf("diff-ar: series %q: %w: need at least 3 observed values", s.ID, ErrTooShort)
	}
	v := fillGaps(s.Values)
	fitEnd, key := len(v), hwKey{}
	if d.cache != nil {
		fitEnd, key = refitPoint(s, max(d.Refit, 100*s.Step), 0)
	}
	fit := func() arModel { return fitDiffAR(s, v[max(0, fitEnd-diffARFit-int(week/s.Step)-1):fitEnd]) }
	var m arModel
	if key == (hwKey{}) {
		m = fit()
	} else {
		m = d.cache.get(key, fit)
	}
	tail := v[max(0, len(v)-diffARResiduals-horizon-int(week/s.Step)-2):]
	point := m.forecast(tail, len(tail), horizon)
	return newForecast(s, "diff-ar", point, m.bands(tail, horizon)), nil
}

// fitDiffAR chooses and fits the lags with the lowest AIC on v (gap-free).
func fitDiffAR(s Series, v []float64) arModel {
	dv := make([]float64, max(len(v)-1, 0))
	for t := range dv {
		dv[t] = v[t+1] - v[t]
	}
	m := arModel{}
	bestAIC := math.Inf(1)
	for _, lags := range candidateLags(s, len(dv)) {
		if c, aic, ok := fitAR(dv, lags); ok && aic < bestAIC {
			m, bestAIC = c, aic
		}
	}
	return m
}

// candidateLags are the regressor lag sets: 1..p, plus the day-ago and
// week-ago lags when the history has them a few times over.
func candidateLags(s Series, n int) [][]int {
	var seasonal []int
	for _, season := range []int{SeasonSteps(day, s.Step), SeasonSteps(week, s.Step)} {
		if season > 8 && n > 3*season+50 {
			seasonal = append(seasonal, season)
		}
	}
	var out [][]int
	for _, p := range diffAROrders {
		if n < 4*p+10 {
			continue
		}
		lags := make([]int, p)
		for i := range lags {
			lags[i] = i + 1
		}
		out = append(out, lags)
		if len(seasonal) > 0 {
			out = append(out, append(append([]int(nil), lags...), seasonal...))
		}
	}
	if len(out) == 0 {
		out = append(out, nil) // a random walk
	}
	return out
}

// arModel regresses the change at t on the changes at t-lag.
type arModel struct {
	lags []int
	coef []float64
}

// fitAR is least squares over the last diffARFit changes; aic is
// n·log(SSE/n) + 2k.
func fitAR(dv []float64, lags []int) (arModel, float64, bool) {
	maxLag := 0
	for _, l := range lags {
		maxLag = max(maxLag, l)
	}
	from := max(maxLag, len(dv)-diffARFit)
	k := len(lags)
	xtx, xty := make([]float64, k*k), make([]float64, k)
	n := 0
	for t := from; t < len(dv); t++ {
		for i, li := range lags {
			xty[i] += dv[t-li] * dv[t]
			for j, lj := range lags {
				xtx[i*k+j] += dv[t-li] * dv[t-lj]
			}
		}
		n++
	}
	if n <= k+2 {
		return arModel{}, 0, false
	}
	coef, ok := solve(xtx, xty, k)
	if !ok {
		return arModel{}, 0, false
	}
	m := arModel{lags: lags, coef: coef}
	sse := 0.0
	for t := from; t < len(dv); t++ {
		e := dv[t] - m.predictChange(dv, t)
		sse += e * e
	}
	return m, float64(n)*math.Log(math.Max(sse, 1e-300)/float64(n)) + 2*float64(k), true
}

func (m arModel) predictChange(dv []float64, t int) float64 {
	f := 0.0
	for i, l := range m.lags {
		if t-l >= 0 {
			f += m.coef[i] * dv[t-l]
		}
	}
	return f
}

// forecast continues v[:end] (gap-free) for horizon steps by recursion.
func (m arModel) forecast(v []float64, end, horizon int) []float64 {
	dv := make([]float64, end-1)
	for t := range dv {
		dv[t] = v[t+1] - v[t]
	}
	return m.continueFrom(dv, v[end-1], horizon, make([]float64, horizon))
}

// continueFrom forecasts horizon levels after the changes dv that end at
// level last; ext is scratch for the predicted changes.
func (m arModel) continueFrom(dv []float64, last float64, horizon int, ext []float64) []float64 {
	n := len(dv)
	at := func(t int) float64 {
		if t < n {
			return dv[t]
		}
		return ext[t-n]
	}
	out := make([]float64, horizon)
	for h := range out {
		d := 0.0
		for i, l := range m.lags {
			if t := n + h - l; t >= 0 {
				d += m.coef[i] * at(t)
			}
		}
		ext[h] = d
		last += d
		out[h] = last
	}
	return out
}

// bands are the h-step errors of the recursion at the last
// diffARResiduals origins.
func (m arModel) bands(v []float64, horizon int) bands {
	res := make([][]float64, horizon)
	dv := make([]float64, max(len(v)-1, 0))
	for t := range dv {
		dv[t] = v[t+1] - v[t]
	}
	ext := make([]float64, horizon)
	for o := max(2, len(v)-diffARResiduals-horizon); o < len(v); o++ {
		f := m.continueFrom(dv[:o-1], v[o-1], min(horizon, len(v)-o), ext)
		for h, p := range f {
			res[h] = append(res[h], v[o+h]-p)
		}
	}
	return bandsFrom(res)
}

// fillGaps carries the last observed value over missing points (and the
// first observed one back over leading gaps), so changes are defined.
func fillGaps(v []float64) []float64 {
	out := make([]float64, len(v))
	last := v[firstValid(v)]
	for i, x := range v {
		if !math.IsNaN(x) {
			last = x
		}
		out[i] = last
	}
	return out
}

// solve solves the k×k system a·x = b by Gaussian elimination with partial
// pivoting and a small ridge (collinear lags); ok is false when singular.
func solve(a, b []float64, k int) ([]float64, bool) {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	for i := range k {
		a[i*k+i] *= 1 + 1e-9
	}
	for c := range k {
		p := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[p*k+c]) {
				p = r
			}
		}
		if math.Abs(a[p*k+c]) < 1e-300 {
			return nil, false
		}
		for j := range k {
			a[c*k+j], a[p*k+j] = a[p*k+j], a[c*k+j]
		}
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < k; r++ {
			f := a[r*k+c] / a[c*k+c]
			for j := c; j < k; j++ {
				a[r*k+j] -= f * a[c*k+j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		sum := b[r]
		for j := r + 1; j < k; j++ {
			sum -= a[r*k+j] * x[j]
		}
		x[r] = sum / a[r*k+r]
	}
	return x, true
}
