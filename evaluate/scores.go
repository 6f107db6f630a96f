// Package evaluate scores forecasters on a series by rolling-origin
// evaluation: many origins across the test part of the series, each
// forecasting the horizon from data strictly before the origin.
package evaluate

import (
	"math"

	"github.com/shadowscale/shadowscale/inference"
)

// accumulator sums errors of forecasts against actuals, skipping missing
// actuals.
type accumulator struct {
	n             int
	absErr, smape float64
	pinball       float64
	coveredP90    int
}

func (a *accumulator) add(y float64, q [3]float64) {
	if math.IsNaN(y) {
		return
	}
	a.n++
	a.absErr += math.Abs(y - q[1])
	a.smape += SMAPETerm(y, q[1])
	for k, level := range inference.Quantiles {
		a.pinball += Pinball(y, q[k], level) / float64(len(inference.Quantiles))
	}
	if y <= q[2] {
		a.coveredP90++
	}
}

func (a *accumulator) mean(sum float64) float64 {
	if a.n == 0 {
		return math.NaN()
	}
	return sum / float64(a.n)
}

// Pinball is the quantile (pinball) loss of predicting q at level tau for y.
func Pinball(y, q, tau float64) float64 {
	if d := y - q; d >= 0 {
		return tau * d
	} else {
		return (tau - 1) * d
	}
}

// SMAPETerm is 2|y-f|/(|y|+|f|), and 0 when both are 0; sMAPE is its mean
// (a fraction in [0, 2]).
func SMAPETerm(y, f float64) float64 {
	den := math.Abs(y) + math.Abs(f)
	if den == 0 {
		return 0
	}
	return 2 * math.Abs(y-f) / den
}

// SeasonalScale is the MASE denominator: the mean absolute error of the
// one-season-ago forecast over v (missing pairs skipped). It is NaN when no
// pair exists.
func SeasonalScale(v []float64, season int) float64 {
	sum, n := 0.0, 0
	for t := season; t < len(v); t++ {
		if !math.IsNaN(v[t]) && !math.IsNaN(v[t-season]) {
			sum += math.Abs(v[t] - v[t-season])
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
