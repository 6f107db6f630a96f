package inference

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday

func series(step time.Duration, v ...float64) Series {
	return Series{ID: "s", Start: t0, Step: step, Values: v}
}

func forecastOne(t *testing.T, f Forecaster, s Series, h int) Forecast {
	t.Helper()
	out, err := f.Forecast(context.Background(), []Series{s}, h)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func wantQuantiles(t *testing.T, f Forecast, want [][3]float64) {
	t.Helper()
	for h, w := range want {
		got := [3]float64{f.P10[h], f.P50[h], f.P90[h]}
		for k := range w {
			if !near(got[k], w[k], 1e-9) {
				t.Errorf("%s step %d: got %v, want %v", f.Model, h, got, w)
				break
			}
		}
	}
}

func TestQuantileSorted(t *testing.T) {
	x := []float64{-1, -1, 2, 2}
	for _, c := range []struct{ q, want float64 }{{0.1, -1}, {0.5, 0.5}, {0.9, 2}, {0, -1}, {1, 2}} {
		if got := quantileSorted(x, c.q); !near(got, c.want, 1e-12) {
			t.Errorf("q%.1f = %v, want %v", c.q, got, c.want)
		}
	}
}

// Hand-computed: last value 3 is the p50; 1-step errors {-1,2,-1,2} give
// offsets p10 -1, p90 2; 2-step errors are all 1, so p10 stays at 3.
func TestNaiveByHand(t *testing.T) {
	f := forecastOne(t, Naive{}, series(time.Minute, 1, 3, 2, 4, 3), 2)
	wantQuantiles(t, f, [][3]float64{{2, 3, 5}, {3, 3, 4}})
	if !f.Start.Equal(t0.Add(5*time.Minute)) || f.Step != time.Minute {
		t.Errorf("start %v step %v", f.Start, f.Step)
	}
}

// Hand-computed: a 12-hour step makes a day two steps; p50 is the value a
// day before, and every seasonal error y[t]-y[t-2] is 1, so p90 is it plus 1.
func TestSeasonalNaiveByHand(t *testing.T) {
	f := forecastOne(t, SeasonalNaive{}, series(12*time.Hour, 10, 20, 11, 21, 12, 22), 3)
	wantQuantiles(t, f, [][3]float64{{12, 12, 13}, {22, 22, 23}, {12, 12, 13}})
}

// Weekdays and weekends differ, so only the weekly season forecasts Monday
// right after a Sunday.
func TestSeasonalNaivePicksWeek(t *testing.T) {
	const n = 3*7*24 + 24 // three weeks and a Monday, hourly
	v := make([]float64, n)
	for i := range v {
		amp := 100.0
		if wd := t0.Add(time.Duration(i) * time.Hour).Weekday(); wd == time.Saturday || wd == time.Sunday {
			amp = 30
		}
		v[i] = 200 + amp*math.Sin(2*math.Pi*float64(i%24)/24)
	}
	f := forecastOne(t, SeasonalNaive{}, series(time.Hour, v...), 24)
	for h := range 24 {
		if want := v[n-7*24+h]; !near(f.P50[h], want, 1e-9) {
			t.Fatalf("step %d: p50 %v, want last week's %v", h, f.P50[h], want)
		}
	}
}

func TestSeasonalNaiveFallsBackWithoutSeason(t *testing.T) {
	f := forecastOne(t, SeasonalNaive{}, series(time.Hour, 1, 2, 3), 1)
	if f.Fallback == "" || f.P50[0] != 3 { // naive: the last value
		t.Errorf("got p50 %v fallback %q; want naive's 3 and a reason", f.P50[0], f.Fallback)
	}
}

// A noiseless daily cycle on a trend: the fitted model must track it.
func TestHoltWintersKnownSeason(t *testing.T) {
	const n, h = 10 * 24, 12
	truth := func(i int) float64 { return 100 + 0.5*float64(i) + 20*math.Sin(2*math.Pi*float64(i)/24) }
	v := make([]float64, n)
	for i := range v {
		v[i] = truth(i)
	}
	v[n-30] = math.NaN() // a gap must not derail it
	f := forecastOne(t, NewHoltWinters(0), series(time.Hour, v...), h)
	for i := range h {
		if want := truth(n + i); !near(f.P50[i], want, 0.02*want) {
			t.Errorf("step %d: p50 %.2f, want %.2f", i, f.P50[i], want)
		}
	}
	if f.Fallback != "" {
		t.Errorf("unexpected fallback %q", f.Fallback)
	}
}

func TestBaselineContracts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]Series, 8)
	for i := range batch {
		v := make([]float64, 300+50*i)
		for j := range v {
			v[j] = math.Max(0, 5+3*math.Sin(float64(j)/7)+rng.NormFloat64()*2)
			if rng.IntN(20) == 0 {
				v[j] = math.NaN()
			}
		}
		batch[i] = Series{ID: string(rune('a' + i)), Start: t0, Step: 10 * time.Minute, Values: v}
	}
	for _, name := range BaselineNames {
		fc, _ := Baseline(name)
		out, err := fc.Forecast(context.Background(), batch, 9)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, f := range out {
			if f.ID != batch[i].ID || len(f.P50) != 9 {
				t.Fatalf("%s: forecast %d is %q with %d steps", name, i, f.ID, len(f.P50))
			}
			for h := range f.P50 {
				if !(0 <= f.P10[h] && f.P10[h] <= f.P50[h] && f.P50[h] <= f.P90[h]) {
					t.Fatalf("%s: series %d step %d crosses or is negative: %v %v %v", name, i, h, f.P10[h], f.P50[h], f.P90[h])
				}
			}
		}
	}
}

func TestBaselineErrors(t *testing.T) {
	ctx := context.Background()
	for _, name := range BaselineNames {
		fc, _ := Baseline(name)
		if _, err := fc.Forecast(ctx, []Series{series(time.Minute, math.NaN())}, 1); !errors.Is(err, ErrTooShort) {
			t.Errorf("%s on an all-missing series: %v, want ErrTooShort", name, err)
		}
		if _, err := fc.Forecast(ctx, []Series{series(time.Minute, 1, 2, 3)}, 0); err == nil {
			t.Errorf("%s accepted horizon 0", name)
		}
	}
	if _, err := Baseline("arima"); err == nil {
		t.Error("unknown baseline accepted")
	}
}

// A series ending at 0 after growth: naive's p50 is the last value, 0, not
// 0 plus the typical (positive) change.
func TestNaiveCentresOnLastValue(t *testing.T) {
	f := forecastOne(t, Naive{}, series(time.Minute, 0, 10, 20, 30, 40, 0), 3)
	for h := range f.P50 {
		if f.P50[h] != 0 || f.P10[h] != 0 || f.P90[h] <= 0 {
			t.Errorf("step %d: %v %v %v, want p10 = p50 = 0 < p90", h, f.P10[h], f.P50[h], f.P90[h])
		}
	}
}
