package evaluate

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// constant forecasts fixed quantiles, so the scores can be computed by hand.
type constant struct{ q [3]float64 }

func (constant) Name() string { return "constant" }
func (c constant) Forecast(_ context.Context, s []inference.Series, h int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(s))
	for i := range s {
		f := inference.Forecast{ID: s[i].ID, Start: s[i].End(), Step: s[i].Step}
		for range h {
			f.P10, f.P50, f.P90 = append(f.P10, c.q[0]), append(f.P50, c.q[1]), append(f.P90, c.q[2])
		}
		out[i] = f
	}
	return out, nil
}

func TestPinballAndSMAPE(t *testing.T) {
	for _, c := range []struct{ y, q, tau, want float64 }{
		{10, 8, 0.9, 1.8}, {10, 12, 0.9, 0.2}, {10, 8, 0.1, 0.2}, {10, 12, 0.1, 1.8}, {5, 5, 0.5, 0},
	} {
		if got := Pinball(c.y, c.q, c.tau); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Pinball(%v,%v,%v) = %v, want %v", c.y, c.q, c.tau, got, c.want)
		}
	}
	if SMAPETerm(0, 0) != 0 || SMAPETerm(1, 3) != 1 || SMAPETerm(2, 0) != 2 {
		t.Error("sMAPE terms wrong")
	}
}

// Series 1..10 (10 one-minute steps, spans < 3 days so the MASE season is
// one step and the in-sample scale is 1). Test fraction 0.2 with a 1-step
// horizon gives origins 8 and 9 with actuals 9 and 10. Forecasting
// p10=8, p50=9, p90=9.5: |errors| 0 and 1 → MAE 0.5 → MASE 0.5;
// sMAPE (0 + 2/19)/2; coverage 1/2 (9 ≤ 9.5, 10 > 9.5);
// pinball per point: y=9: (0.1 + 0 + 0.05)/3, y=10: (0.2 + 0.5 + 0.45)/3.
func TestRunByHand(t *testing.T) {
	v := make([]float64, 10)
	for i := range v {
		v[i] = float64(i + 1)
	}
	r := metrics.Regular{Name: "ramp", Start: t0, Step: time.Minute, Values: v}
	rep, err := Run(context.Background(), r, []inference.Forecaster{constant{[3]float64{8, 9, 9.5}}},
		Options{HorizonSteps: 1, TestFraction: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Origins != 2 || rep.SeasonSteps != 1 || rep.StepSeconds != 60 {
		t.Fatalf("report header %+v", rep)
	}
	got := rep.Results[0]
	want := Result{Forecaster: "constant", MASE: 0.5, SMAPE: Num(1.0 / 19), CoverageP90: 0.5,
		Pinball: Num((0.15 + 1.15) / 3 / 2), Points: 2}
	for _, c := range []struct {
		name      string
		got, want Num
	}{{"mase", got.MASE, want.MASE}, {"smape", got.SMAPE, want.SMAPE}, {"coverage", got.CoverageP90, want.CoverageP90},
		{"pinball", got.Pinball, want.Pinball}} {
		if math.Abs(float64(c.got-c.want)) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.Points != 2 {
		t.Errorf("points %d, want 2", got.Points)
	}
}

// Over 3 days the MASE season is a day: the scale is the MAE of the
// one-day-ago forecast over the part before the first origin.
func TestMASESeasonAndScale(t *testing.T) {
	r := metrics.Regular{Step: time.Hour, Values: make([]float64, 72)}
	if MASESeason(r) != 24 {
		t.Errorf("3 days hourly: season %d, want 24", MASESeason(r))
	}
	r.Values = r.Values[:71]
	if MASESeason(r) != 1 {
		t.Errorf("under 3 days: season %d, want 1", MASESeason(r))
	}
	if got := SeasonalScale([]float64{1, 2, 4, math.NaN(), 3}, 2); got != 2 { // (|4-1| + |3-2|)/2; the NaN pair skipped
		t.Errorf("scale %v, want 2", got)
	}
}

func TestOrigins(t *testing.T) {
	o, err := Origins(100, Options{HorizonSteps: 5, TestFraction: 0.2, MaxOrigins: 4})
	if err != nil || len(o) != 4 || o[0] != 80 || o[3] != 95 {
		t.Errorf("origins %v %v, want 4 from 80 to 95", o, err)
	}
	for _, opt := range []Options{{HorizonSteps: 30, TestFraction: 0.2}, {HorizonSteps: 0, TestFraction: 0.2},
		{HorizonSteps: 1, TestFraction: 1}} {
		if _, err := Origins(100, opt); err == nil {
			t.Errorf("%+v accepted", opt)
		}
	}
	_, err = Origins(10, Options{HorizonSteps: 5, TestFraction: 0.2})
	if err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short series: %v", err)
	}
}

func TestNumJSON(t *testing.T) {
	for _, c := range []struct {
		n    Num
		want string
	}{{Num(math.NaN()), "null"}, {Num(math.Inf(1)), "null"}, {1.5, "1.5"}} {
		b, _ := c.n.MarshalJSON()
		if string(b) != c.want {
			t.Errorf("%v -> %s, want %s", c.n, b, c.want)
		}
	}
}
