package feedback

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

var t0 = time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)

// underCovering forecasts N(100, 10) demand with a band that is too
// narrow: p90 at the 75th percentile, p10 at the 25th.
func underCovering(at time.Time) inference.Forecast {
	z75 := 0.6745 * 10
	return inference.Forecast{ID: "web", Start: at, Step: time.Minute, Model: "m-1",
		P10: []float64{100 - z75}, P50: []float64{100}, P90: []float64{100 + z75}}
}

// walk feeds n targets through the calibrator the way the loop does
// (calibrate, then observe the outcome with the band that was used) and
// returns the raw and calibrated p90 coverage.
func walk(c *calibrator, rng *rand.Rand, n int, actual func(int) float64) (raw, cal float64) {
	for i := range n {
		f := underCovering(t0.Add(time.Duration(i) * time.Minute))
		used, _ := c.apply("web", f)
		a := actual(i)
		raw += b2f(a <= f.P90[0])
		cal += b2f(a <= used.P90[0])
		c.observe(scored{LB: "web", Model: "m-1", Lead: 60, Target: f.Start, Actual: a,
			P10: f.P10[0], P50: f.P50[0], P90: f.P90[0], CalP10: used.P10[0], CalP90: used.P90[0], SNaive: math.NaN()})
	}
	return raw / float64(n), cal / float64(n)
}

func TestCalibrationRestoresCoverage(t *testing.T) {
	for _, gamma := range []float64{0, 0.005} {
		rng := rand.New(rand.NewPCG(1, 2))
		c := newCalibrator(Calibration{Enabled: true, Scores: 500, MinScores: 50, Gamma: gamma, MaxWiden: 3, MaxNarrow: 0.5})
		normal := func(int) float64 { return 100 + 10*rng.NormFloat64() }
		walk(c, rng, 1000, normal) // learn
		raw, cal := walk(c, rng, 6000, normal)
		t.Logf("gamma %g: raw p90 coverage %.3f, calibrated %.3f", gamma, raw, cal)
		if math.Abs(raw-0.75) > 0.03 {
			t.Fatalf("the raw model covers %.3f, the test wants about 0.75", raw)
		}
		if math.Abs(cal-0.9) > 0.03 {
			t.Errorf("gamma %g: calibrated p90 coverage %.3f, want 0.90 ± 0.03", gamma, cal)
		}
	}
}

func TestCalibrationBoundedAgainstOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := newCalibrator(Calibration{Enabled: true, Scores: 200, MinScores: 50, Gamma: 0, MaxWiden: 3, MaxNarrow: 0.5})
	walk(c, rng, 300, func(int) float64 { return 100 + 10*rng.NormFloat64() })
	before, _, _ := c.correction("web", "m-1", 60)
	walk(c, rng, 1, func(int) float64 { return 1e9 }) // one absurd spike
	after, _, _ := c.correction("web", "m-1", 60)
	if math.Abs(after-before) > 0.1 { // at most one rank of 200 scores
		t.Errorf("one outlier moved the p90 correction from %.3f to %.3f band widths", before, after)
	}
	// A run of outliers widens, but never past MaxWiden.
	walk(c, rng, 300, func(int) float64 { return 1e9 })
	if hi, _, _ := c.correction("web", "m-1", 60); hi != 3 {
		t.Errorf("correction under constant outliers %.3f, want the bound 3", hi)
	}
}

func TestCalibrationWaitsForScores(t *testing.T) {
	c := newCalibrator(DefaultOptions().Calibration)
	f := underCovering(t0)
	got, note := c.apply("web", f)
	if note != "" || got.P90[0] != f.P90[0] {
		t.Errorf("calibrated without scores: %v %q", got.P90, note)
	}
}
