package feedback

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics"
)

// defaultCalibrationTraces run in every test run; SHADOWSCALE_CALIBRATION_ALL=1
// walks every shared trace (the figures of the report).
var defaultCalibrationTraces = []string{"nab_nyc_taxi.csv", "nab_ec2_cpu_utilization_825cc2.csv"}

func tracesDir() string {
	if d := os.Getenv("SHADOWSCALE_TRACES"); d != "" {
		return d
	}
	return filepath.Join(testenv.RepoRoot(), "..", "shared", "data", "traces")
}

// walkResult is one trace's walk-forward p90 coverage.
type walkResult struct {
	trace     string
	n         int
	raw, cal  float64
	rawBand   float64 // mean p90 - p50, raw
	calBand   float64
	lead      int
	origins   int
	steps     string
	evaluated int
}

// walkForward forecasts the last 40 % of a trace with Holt-Winters at 600
// evenly spaced origins; at each origin the calibrator knows only the
// targets that ended before it (walk-forward), the first 150 origins only
// teach it, coverage is measured on the rest.
func walkForward(ctx context.Context, t *testing.T, path string) (walkResult, bool) {
	return walkTrace(ctx, t, path, inference.HoltWinters{}, 0.6)
}

// walkTrace is walkForward for any forecaster, from a fraction of the trace.
func walkTrace(ctx context.Context, t *testing.T, path string, fc inference.Forecaster, fromFraction float64) (walkResult, bool) {
	_, r, err := metrics.LoadRegular(path, metrics.TraceOptions{AllowNegative: true})
	if err != nil {
		t.Fatal(err)
	}
	h := max(1, min(30, int(30*time.Minute/r.Step)))
	n := len(r.Values)
	first, last := int(float64(n)*fromFraction), n-h
	const origins, warm = 600, 150
	if last-first < origins {
		return walkResult{}, false
	}
	batch := make([]inference.Series, origins)
	idx := make([]int, origins)
	for i := range batch {
		o := first + i*(last-first)/(origins-1)
		idx[i] = o
		from := max(0, o-2000)
		batch[i] = inference.Series{ID: "t", Start: r.Time(from), Step: r.Step, Values: r.Values[from:o:o]}
	}
	fcs, err := fc.Forecast(ctx, batch, h)
	if err != nil {
		t.Fatal(err)
	}
	c := newCalibrator(Calibration{Enabled: true, Scores: 300, MinScores: 50, Gamma: 0.005, MaxWiden: 3, MaxNarrow: 0.5})
	var pending []scored
	res := walkResult{trace: filepath.Base(path), lead: h, origins: origins, steps: r.Step.String()}
	for i, f := range fcs {
		f.Model = "m"
		now := r.Time(idx[i])
		pending = feedKnown(c, pending, now)
		used, _ := c.apply("t", f)
		for k := range f.P90 {
			a := r.Values[idx[i]+k]
			if math.IsNaN(a) {
				continue
			}
			s := scored{LB: "t", Model: "m", Lead: leadSeconds(f, k), Target: f.Start.Add(time.Duration(k) * f.Step),
				Step: f.Step, Actual: a, P10: f.P10[k], P50: f.P50[k], P90: f.P90[k], CalP10: used.P10[k], CalP90: used.P90[k], SNaive: math.NaN()}
			pending = append(pending, s)
			if i >= warm {
				res.n++
				res.raw += b2f(a <= f.P90[k])
				res.cal += b2f(a <= used.P90[k])
				res.rawBand += f.P90[k] - f.P50[k]
				res.calBand += used.P90[k] - used.P50[k]
			}
		}
	}
	if res.n == 0 {
		return res, false
	}
	m := float64(res.n)
	res.raw, res.cal, res.rawBand, res.calBand = res.raw/m, res.cal/m, res.rawBand/m, res.calBand/m
	return res, true
}

// feedKnown observes the pending targets whose window ended by now.
func feedKnown(c *calibrator, pending []scored, now time.Time) []scored {
	sort.Slice(pending, func(i, j int) bool { return pending[i].Target.Before(pending[j].Target) })
	k := 0
	for k < len(pending) && !pending[k].Target.Add(pending[k].Step).After(now) {
		c.observe(pending[k])
		k++
	}
	return pending[k:]
}

// On the shared traces, calibrated Holt-Winters p90 coverage is closer to
// the nominal 90 % than the raw one, on average over the traces walked.
func TestCalibrationOnSharedTraces(t *testing.T) {
	names := defaultCalibrationTraces
	if os.Getenv("SHADOWSCALE_CALIBRATION_ALL") == "1" {
		all, _ := filepath.Glob(filepath.Join(tracesDir(), "*.csv"))
		names = names[:0]
		for _, p := range all {
			names = append(names, filepath.Base(p))
		}
	}
	var rawErr, calErr float64
	walked := 0
	for _, name := range names {
		path := filepath.Join(tracesDir(), name)
		if _, err := os.Stat(path); err != nil {
			testenv.Missing(t, "the shared traces ("+path+")", "set SHADOWSCALE_TRACES")
			return
		}
		res, ok := walkForward(context.Background(), t, path)
		if !ok {
			t.Logf("%s: too short for the walk", name)
			continue
		}
		walked++
		rawErr += math.Abs(res.raw - 0.9)
		calErr += math.Abs(res.cal - 0.9)
		t.Logf("%-48s step %-6s lead %2d  p90 coverage raw %.3f → calibrated %.3f  (mean p90-p50 %.4g → %.4g, %d targets)",
			strings.TrimSuffix(name, ".csv"), res.steps, res.lead, res.raw, res.cal, res.rawBand, res.calBand, res.n)
	}
	if walked == 0 {
		t.Fatal("no trace walked")
	}
	t.Logf("mean |coverage - 0.90| over %d traces: raw %.3f, calibrated %.3f", walked, rawErr/float64(walked), calErr/float64(walked))
	if calErr >= rawErr {
		t.Errorf("calibration did not bring p90 coverage closer to 90 %%: mean error raw %.3f, calibrated %.3f", rawErr/float64(walked), calErr/float64(walked))
	}
}

// The shipped LSTM on the part of each trace it never saw in training (the
// last 20 %), for the report: SHADOWSCALE_CALIBRATION_ALL=1.
func TestCalibrationOnSharedTracesLSTM(t *testing.T) {
	if os.Getenv("SHADOWSCALE_CALIBRATION_ALL") != "1" {
		t.Skip("a report: set SHADOWSCALE_CALIBRATION_ALL=1")
	}
	m, err := onnx.New(testenv.ONNXRuntime(t), filepath.Join(testenv.RepoRoot(), "models", "lstm-1"),
		onnx.Options{Threads: 1, Fallback: inference.Naive{}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	all, _ := filepath.Glob(filepath.Join(tracesDir(), "*.csv"))
	var rawErr, calErr float64
	walked := 0
	for _, p := range all {
		res, ok := walkTrace(context.Background(), t, p, m, 0.8)
		if !ok {
			continue
		}
		walked++
		rawErr, calErr = rawErr+math.Abs(res.raw-0.9), calErr+math.Abs(res.cal-0.9)
		t.Logf("%-48s lead %2d  p90 coverage raw %.3f → calibrated %.3f (%d targets)",
			strings.TrimSuffix(filepath.Base(p), ".csv"), res.lead, res.raw, res.cal, res.n)
	}
	t.Logf("lstm-1: mean |coverage - 0.90| over %d traces: raw %.3f, calibrated %.3f", walked, rawErr/float64(walked), calErr/float64(walked))
	if walked == 0 || calErr >= rawErr {
		t.Errorf("calibration did not help the LSTM: raw %.3f, calibrated %.3f over %d traces", rawErr, calErr, walked)
	}
}
