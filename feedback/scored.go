package feedback

import (
	"math"
	"strconv"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// scored is one forecast step against what happened (or marked missing):
// the forecast_error record, kept in memory for accuracy, calibration and
// the trial.
type scored struct {
	LB, Model     string
	Target        time.Time
	Lead          int64 // horizon_s
	Step          time.Duration
	Missing       bool
	Actual        float64
	P10, P50, P90 float64
	CalP10        float64 // NaN: the planner used no calibrated band
	CalP90        float64
	SNaive        float64 // |actual - actual one season before|, NaN when unknown
}

// quantileLevels are the levels pinball loss averages over.
var quantileLevels = [3]float64{0.1, 0.5, 0.9}

func (s scored) absError() float64 { return math.Abs(s.Actual - s.P50) }

// pinball is the mean pinball loss over p10, p50 and p90.
func (s scored) pinball() float64 {
	sum := 0.0
	for i, p := range [3]float64{s.P10, s.P50, s.P90} {
		d := s.Actual - p
		sum += math.Max(quantileLevels[i]*d, (quantileLevels[i]-1)*d)
	}
	return sum / 3
}

func (s scored) covered() bool    { return s.Actual >= s.P10 && s.Actual <= s.P90 }
func (s scored) coveredP90() bool { return s.Actual <= s.P90 }
func (s scored) calibrated() bool { return !math.IsNaN(s.CalP90) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// record is the forecast_error record (DESIGN.md 3.4 plus the raw band and
// the calibrated coverage, so that a restart rebuilds everything from it).
func (s scored) record() metrics.Record {
	r := metrics.Record{
		Measurement: metrics.MeasForecastError, Time: s.Target,
		Tags: map[string]string{metrics.TagLB: s.LB, metrics.TagModel: s.Model,
			metrics.TagHorizon: strconv.FormatInt(s.Lead, 10)},
		Fields: map[string]float64{fieldStep: s.Step.Seconds()},
	}
	if s.Missing {
		r.Fields[fieldMissing] = 1
		return r
	}
	f := r.Fields
	f[fieldActual], f[metrics.FieldP10], f[metrics.FieldP50], f[metrics.FieldP90] = s.Actual, s.P10, s.P50, s.P90
	f[metrics.FieldAbsError], f[metrics.FieldPinball] = s.absError(), s.pinball()
	f[metrics.FieldCovered], f[fieldCoveredP90] = b2f(s.covered()), b2f(s.coveredP90())
	if s.calibrated() {
		f[fieldCalP10], f[fieldCalP90] = s.CalP10, s.CalP90
		f[fieldCalCovered] = b2f(s.Actual >= s.CalP10 && s.Actual <= s.CalP90)
		f[fieldCalCovP90] = b2f(s.Actual <= s.CalP90)
	}
	if !math.IsNaN(s.SNaive) {
		f[fieldSNaiveError] = s.SNaive
	}
	return r
}

// scoredFrom reads a forecast_error record back.
func scoredFrom(r metrics.Record) (scored, bool) {
	lead, err := strconv.ParseInt(r.Tags[metrics.TagHorizon], 10, 64)
	if err != nil || r.Tags[metrics.TagLB] == "" || r.Tags[metrics.TagModel] == "" {
		return scored{}, false
	}
	s := scored{LB: r.Tags[metrics.TagLB], Model: r.Tags[metrics.TagModel], Target: r.Time.UTC(), Lead: lead,
		Step: time.Duration(r.Fields[fieldStep] * float64(time.Second)), Missing: r.Fields[fieldMissing] == 1,
		CalP10: math.NaN(), CalP90: math.NaN(), SNaive: math.NaN()}
	if s.Missing {
		return s, true
	}
	f := r.Fields
	if _, ok := f[fieldActual]; !ok {
		return scored{}, false
	}
	s.Actual, s.P10, s.P50, s.P90 = f[fieldActual], f[metrics.FieldP10], f[metrics.FieldP50], f[metrics.FieldP90]
	if v, ok := f[fieldCalP90]; ok {
		s.CalP10, s.CalP90 = f[fieldCalP10], v
	}
	if v, ok := f[fieldSNaiveError]; ok {
		s.SNaive = v
	}
	return s, true
}

// key identifies a scored target of one model's forecast.
func (s scored) key() string {
	return s.LB + "|" + s.Model + "|" + strconv.FormatInt(s.Lead, 10) + "|" + strconv.FormatInt(s.Target.Unix(), 10)
}

// origin is the key of the same target and lead for another model: the
// trial compares models on the same origins.
func (s scored) origin() string {
	return s.LB + "|" + strconv.FormatInt(s.Lead, 10) + "|" + strconv.FormatInt(s.Target.Unix(), 10)
}
