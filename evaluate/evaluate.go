package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// Options set up a rolling-origin evaluation.
type Options struct {
	HorizonSteps int
	TestFraction float64 // the last share of the series that origins fall in
	MaxOrigins   int     // origins are spread evenly when there would be more
	// MaxHistory bounds the history handed to a forecaster at each origin
	// (0 = all): production forecasters also see a bounded window.
	MaxHistory int
}

// Result scores one forecaster; NaN metrics encode as JSON null.
type Result struct {
	Forecaster  string  `json:"forecaster"`
	MASE        Num     `json:"mase"`
	SMAPE       Num     `json:"smape"`
	Pinball     Num     `json:"pinball"`
	CoverageP90 Num     `json:"coverage_p90"`
	Seconds     float64 `json:"seconds"`
	Points      int     `json:"points"`
	Fallbacks   int     `json:"fallbacks,omitempty"` // origins where the forecaster fell back
}

// Report is the document `shadowscale eval --json` prints (DESIGN.md 3.2).
type Report struct {
	Trace        string   `json:"trace"`
	StepSeconds  float64  `json:"step_seconds"`
	HorizonSteps int      `json:"horizon_steps"`
	Origins      int      `json:"origins"`
	SeasonSteps  int      `json:"mase_season_steps"`
	Results      []Result `json:"results"`
}

// Num is a float that encodes NaN and infinities as null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// Run evaluates each forecaster on r.
func Run(ctx context.Context, r metrics.Regular, fcs []inference.Forecaster, opt Options) (Report, error) {
	origins, err := Origins(len(r.Values), opt)
	if err != nil {
		return Report{}, fmt.Errorf("evaluate %s: %w", r.Name, err)
	}
	season := MASESeason(r)
	scale := SeasonalScale(r.Values[:origins[0]], season)
	rep := Report{Trace: r.Name, StepSeconds: r.Step.Seconds(), HorizonSteps: opt.HorizonSteps,
		Origins: len(origins), SeasonSteps: season}
	batch := histories(r, origins, opt.MaxHistory)
	for _, fc := range fcs {
		res, err := score(ctx, fc, r.Values, batch, origins, opt.HorizonSteps)
		if err != nil {
			return Report{}, fmt.Errorf("evaluate %s with %s: %w", r.Name, fc.Name(), err)
		}
		res.MASE = Num(float64(res.MASE) / scale)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// MASESeason is 1 day in steps when the series spans at least 3 days, else
// 1 step (DESIGN.md 3.2).
func MASESeason(r metrics.Regular) int {
	if r.Span() >= 3*24*time.Hour && r.Step < 24*time.Hour {
		return int(24 * time.Hour / r.Step)
	}
	return 1
}

// Origins are the forecast origins: indexes in the last TestFraction of an
// n-point series at which a whole horizon still fits, at most MaxOrigins of
// them, evenly spaced.
func Origins(n int, opt Options) ([]int, error) {
	if opt.HorizonSteps < 1 {
		return nil, fmt.Errorf("horizon must be at least one step")
	}
	if !(opt.TestFraction > 0 && opt.TestFraction < 1) {
		return nil, fmt.Errorf("test fraction must be in (0, 1), got %g", opt.TestFraction)
	}
	first := int(math.Floor(float64(n) * (1 - opt.TestFraction)))
	last := n - opt.HorizonSteps
	if first < 2 || last < first {
		return nil, fmt.Errorf("series of %d steps is too short for a %d-step horizon with test fraction %g",
			n, opt.HorizonSteps, opt.TestFraction)
	}
	count := last - first + 1
	if opt.MaxOrigins > 0 && count > opt.MaxOrigins {
		count = opt.MaxOrigins
	}
	out := make([]int, count)
	for i := range out {
		if count == 1 {
			out[i] = first
			continue
		}
		out[i] = first + int(math.Round(float64(i)*float64(last-first)/float64(count-1)))
	}
	return out, nil
}

func histories(r metrics.Regular, origins []int, maxHistory int) []inference.Series {
	batch := make([]inference.Series, len(origins))
	for i, o := range origins {
		from := 0
		if maxHistory > 0 && o > maxHistory {
			from = o - maxHistory
		}
		// One ID for every origin: forecasters that refit per series on a
		// schedule (Holt-Winters) then fit once per interval, as in serve.
		batch[i] = inference.Series{ID: r.Name, Start: r.Time(from),
			Step: r.Step, Values: r.Values[from:o:o]}
	}
	return batch
}

// score runs one forecaster over every origin in one batch; Result.MASE
// holds the raw MAE until the caller scales it.
func score(ctx context.Context, fc inference.Forecaster, v []float64, batch []inference.Series, origins []int, h int) (Result, error) {
	start := time.Now()
	fs, err := fc.Forecast(ctx, batch, h)
	if err != nil {
		return Result{}, err
	}
	res := Result{Forecaster: fc.Name(), Seconds: time.Since(start).Seconds()}
	var acc accumulator
	for i, f := range fs {
		if f.Fallback != "" {
			res.Fallbacks++
		}
		for k := range h {
			acc.add(v[origins[i]+k], [3]float64{f.P10[k], f.P50[k], f.P90[k]})
		}
	}
	res.Points = acc.n
	res.MASE = Num(acc.mean(acc.absErr))
	res.SMAPE = Num(acc.mean(acc.smape))
	res.Pinball = Num(acc.mean(acc.pinball))
	res.CoverageP90 = Num(acc.mean(float64(acc.coveredP90)))
	return res, nil
}
