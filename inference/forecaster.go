// Package inference turns recent history into quantile forecasts: the
// Forecaster interface, the classical baselines and the ONNX Runtime model.
package inference

import (
	"context"
	"errors"
	"time"
)

// Quantiles are the levels every forecaster predicts, in this order.
var Quantiles = [3]float64{0.1, 0.5, 0.9}

// Series is the recent history of one load balancer's demand at a regular
// step. Missing points are NaN; forecasters must tolerate them.
type Series struct {
	ID     string
	Start  time.Time // time of Values[0]
	Step   time.Duration
	Values []float64
}

// End is the time of the first step after the history: the forecast origin.
func (s Series) End() time.Time { return s.Start.Add(time.Duration(len(s.Values)) * s.Step) }

// Forecast holds quantile predictions for the Horizon steps that follow a
// series' history: P10[i] is the 10th percentile at Start + i*Step.
type Forecast struct {
	ID    string
	Start time.Time
	Step  time.Duration
	P10   []float64
	P50   []float64
	P90   []float64
	// Model names what produced this forecast; when a forecaster had to fall
	// back (series too short, model failing), Fallback says why.
	Model    string
	Fallback string
	// Reason says why Model was chosen, for forecasters that choose (auto).
	Reason string
}

// Forecaster predicts many series at once. Implementations must be safe for
// concurrent use, return one Forecast per input in input order, keep
// P10 <= P50 <= P90 and non-negative values, and return when ctx is done.
type Forecaster interface {
	Name() string
	Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error)
}

// ErrTooShort is returned when a series has too little history to forecast.
var ErrTooShort = errors.New("history too short")
