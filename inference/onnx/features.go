package onnx

import (
	"fmt"
	"math"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// The model's input definition. It mirrors training/features.py; both are
// checked against training/testdata/features_golden.json, so change them
// together and bump FeatureVersion.
const (
	FeatureVersion = "features-v1"
	Scaling        = "window-mean-std-v1"
	featureClip    = 10.0
	stepLogDiv     = 10.0
	featDay        = 86400
	featWeek       = 7 * featDay
)

// EncoderFeatures are the columns of each window row, in order.
var EncoderFeatures = []string{
	"value_z", "value_missing",
	"lag_day_z", "lag_day_missing",
	"lag_week_z", "lag_week_missing",
	"tod_sin", "tod_cos", "dow_sin", "dow_cos",
	"log_step",
}

// HorizonFeatures are the columns of each horizon row, in order.
var HorizonFeatures = []string{
	"lag_day_z", "lag_day_missing",
	"lag_week_z", "lag_week_missing",
	"tod_sin", "tod_cos", "dow_sin", "dow_cos",
	"log_lead",
}

// windowScale is the per-window scaling: z = (x - loc) / scale.
type windowScale struct {
	loc, scale float64
	count      int // finite values in the window
}

// stepSeconds is the series' step in whole seconds, as training uses it.
func stepSeconds(s inference.Series) (int64, error) {
	if s.Step < time.Second || s.Step%time.Second != 0 {
		return 0, fmt.Errorf("series %q: step %v is not a positive whole number of seconds", s.ID, s.Step)
	}
	return int64(s.Step / time.Second), nil
}

// lagSteps is the number of whole steps in a seasonal period; 0 disables
// the lag (the step is longer than about twice the period).
func lagSteps(period, step int64) int64 {
	return int64(math.Floor(float64(period)/float64(step) + 0.5))
}

// buildFeatures fills enc (window x len(EncoderFeatures)) and dec
// (horizon x len(HorizonFeatures)) for a forecast at the end of s, using
// only its history, and returns the window's scaling.
func buildFeatures(s inference.Series, step int64, window, horizon int, enc, dec []float32) windowScale {
	vals := s.Values
	n := int64(len(vals))
	t0 := s.Start.Unix()
	at := func(i int64) float64 { // history value or NaN
		if i < 0 || i >= n {
			return math.NaN()
		}
		return vals[i]
	}
	ws := scaleOf(vals, n-int64(window), n)
	ld, lw := lagSteps(featDay, step), lagSteps(featWeek, step)
	lag := func(i, k int64) float64 {
		if k < 1 {
			return math.NaN()
		}
		return at(i - k)
	}
	nf := len(EncoderFeatures)
	logStep := math.Log(float64(step)) / stepLogDiv
	cal := newCalendar(t0+(n-int64(window))*step, step)
	for j := 0; j < window; j++ {
		i := n - int64(window) + int64(j)
		row := enc[j*nf : (j+1)*nf]
		ws.put(row[0:2], at(i))
		ws.put(row[2:4], lag(i, ld))
		ws.put(row[4:6], lag(i, lw))
		cal.put(row[6:10])
		row[10] = float32(logStep)
	}
	nh := len(HorizonFeatures)
	for h := 0; h < horizon; h++ {
		i := n + int64(h)
		row := dec[h*nh : (h+1)*nh]
		ws.put(row[0:2], lag(i, ld))
		ws.put(row[2:4], lag(i, lw))
		cal.put(row[4:8])
		row[8] = float32(math.Log(float64(int64(h+1)*step)) / stepLogDiv)
	}
	return ws
}

// scaleOf computes loc = mean and scale = std + 0.01|mean| + 1e-8 over the
// finite values of vals[lo:hi] (indices below 0 count as missing).
func scaleOf(vals []float64, lo, hi int64) windowScale {
	lo = max(lo, 0)
	var sum float64
	cnt := 0
	for _, v := range vals[lo:hi] {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum += v
			cnt++
		}
	}
	loc := sum / float64(max(cnt, 1))
	var ss float64
	for _, v := range vals[lo:hi] {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			ss += (v - loc) * (v - loc)
		}
	}
	std := math.Sqrt(ss / float64(max(cnt, 1)))
	return windowScale{loc: loc, scale: std + 0.01*math.Abs(loc) + 1e-8, count: cnt}
}

// put writes a value's (z, missing) pair: missing values are (0, 1).
func (w windowScale) put(dst []float32, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		dst[0], dst[1] = 0, 1
		return
	}
	z := (v - w.loc) / w.scale
	dst[0], dst[1] = float32(math.Max(-featureClip, math.Min(featureClip, z))), 0
}

// unscale maps a model output back to a non-negative value.
func (w windowScale) unscale(z float32) float64 {
	return math.Max(0, float64(z)*w.scale+w.loc)
}

// calendar yields sin/cos of time of day and day of week (Monday = 0) for
// consecutive steps from unix time t (seconds, UTC). Time of day advances
// by rotation and day of week is recomputed only when the day changes:
// trigonometry was a tenth of the forecaster's CPU time.
type calendar struct {
	t, step       int64
	sin, cos      float64 // time of day
	rotS, rotC    float64 // rotation by one step
	day           int64
	dowSin, dowCo float64
}

func newCalendar(t, step int64) *calendar {
	a := 2 * math.Pi * float64(featMod(t, featDay)) / featDay
	r := 2 * math.Pi * float64(featMod(step, featDay)) / featDay
	c := &calendar{t: t, step: step, sin: math.Sin(a), cos: math.Cos(a), rotS: math.Sin(r), rotC: math.Cos(r), day: math.MinInt64}
	return c
}

// put writes the current step's four values and advances one step.
func (c *calendar) put(dst []float32) {
	if d := featFloorDiv(c.t, featDay); d != c.day {
		b := 2 * math.Pi * float64(featMod(d+3, 7)) / 7 // 1970-01-01 was a Thursday
		c.day, c.dowSin, c.dowCo = d, math.Sin(b), math.Cos(b)
	}
	dst[0], dst[1], dst[2], dst[3] = float32(c.sin), float32(c.cos), float32(c.dowSin), float32(c.dowCo)
	c.sin, c.cos = c.sin*c.rotC+c.cos*c.rotS, c.cos*c.rotC-c.sin*c.rotS
	c.t += c.step
}

func featMod(a, b int64) int64 { return ((a % b) + b) % b }

func featFloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
