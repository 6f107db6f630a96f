package inference

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// truthModel forecasts a known function of the absolute step number; it
// ignores the data, so its error says only which regime the data is in.
type truthModel struct {
	name string
	f    func(t int64) float64
}

func (m truthModel) Name() string { return m.name }

func (m truthModel) Forecast(_ context.Context, in []Series, h int) ([]Forecast, error) {
	out := make([]Forecast, len(in))
	for i, s := range in {
		t0 := s.End().UnixNano() / int64(s.Step)
		f := Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: m.name}
		for k := range h {
			y := m.f(t0 + int64(k))
			f.P10, f.P50, f.P90 = append(f.P10, y-1), append(f.P50, y), append(f.P90, y+1)
		}
		out[i] = f
	}
	return out, nil
}

func regime(t int64, late bool) float64 {
	ph := 0.0
	if late {
		ph = math.Pi
	}
	return 100 + 10*math.Sin(2*math.Pi*float64(t)/24+ph)
}

// switchSeries is one regime until change, the other after; the slice's
// spare capacity holds the future (a look-ahead would see it).
func switchSeries(n, change, origin int) Series {
	start := time.Unix(0, 0).UTC()
	full := make([]float64, n)
	for i := range full {
		full[i] = regime(int64(i), i >= change)
	}
	return Series{ID: "lb", Start: start, Step: time.Minute, Values: full[:origin]}
}

// The best model changes half-way: auto keeps the early one while the
// change is unobservable, follows within the window, and never flaps.
func TestAutoFollowsChangeWithoutLookAhead(t *testing.T) {
	plain := Auto{Window: 10, MinOrigins: 4, Candidates: []Forecaster{
		truthModel{"early", func(t int64) float64 { return regime(t, false) }},
		truthModel{"late", func(t int64) float64 { return regime(t, true) }},
	}}
	tuned := plain
	tuned.HalfLife = 5
	for _, a := range []Auto{plain, NewAuto(plain), tuned, NewAuto(tuned)} { // remembering past forecasts changes nothing
		checkFollowsChange(t, a)
	}
}

func checkFollowsChange(t *testing.T, a Auto) {
	const n, change, h, window = 400, 200, 3, 10
	dominant := func(o int) string {
		out, err := a.Forecast(context.Background(), []Series{switchSeries(n, change, o)}, h)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Fallback != "" || out[0].Reason == "" {
			t.Fatalf("origin %d: fallback %q reason %q", o, out[0].Fallback, out[0].Reason)
		}
		return out[0].Model
	}
	for o := change - 20; o <= change+h; o++ { // no scored horizon reaches past the change
		if got := dominant(o); got != "auto: early 100%" {
			t.Fatalf("origin %d (change at %d): %q, want the early model alone", o, change, got)
		}
	}
	if got := dominant(change + (window+2)*h); got != "auto: late 100%" {
		t.Errorf("a window after the change: %q, want the late model alone", got)
	}
	switches, last := 0, dominant(change-1)
	for o := change; o < change+(window+4)*h; o++ {
		if m := dominant(o); m != last && !strings.Contains(m, "+") {
			switches++
			last = m
		}
	}
	if switches != 1 {
		t.Errorf("the sole model changed %d times, want once", switches)
	}
}

// Until MinOrigins scored origins exist the first candidate serves alone,
// and the forecast says so.
func TestAutoMinimumHistory(t *testing.T) {
	a := Auto{MinOrigins: 8, Candidates: []Forecaster{Naive{}, SeasonalNaive{}}}
	out, err := a.Forecast(context.Background(), []Series{series(time.Minute, 1, 2, 3, 4, 5, 6, 7, 8)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if f := out[0]; f.Model != "auto: naive" || !strings.Contains(f.Fallback, "naive serves alone") || f.P50[0] != 8 {
		t.Errorf("model %q fallback %q p50 %v", f.Model, f.Fallback, f.P50)
	}
}

// Two candidates biased in opposite directions: their past errors say the
// mix in tenths that cancels the biases serves; one exact candidate serves
// alone, however the others are weighted.
func TestAutoMixWeightsFromThePast(t *testing.T) {
	truth := func(t int64) float64 { return 50 + float64(t%7) }
	biased := func(name string, d float64) truthModel {
		return truthModel{name, func(t int64) float64 { return truth(t) + d }}
	}
	values := make([]float64, 300)
	for i := range values {
		values[i] = truth(int64(i))
	}
	s := Series{ID: "lb", Start: time.Unix(0, 0).UTC(), Step: time.Minute, Values: values}
	for _, c := range []struct {
		cands []Forecaster
		want  string
	}{
		{[]Forecaster{biased("high", 3), biased("low", -2)}, "auto: low 60% + high 40%"},
		{[]Forecaster{biased("high", 3), biased("low", -2), biased("exact", 0)}, "auto: exact 100%"},
		{[]Forecaster{biased("a", 1), biased("b", -1), biased("c", 5)}, "auto: a 50% + b 50%"},
	} {
		out, err := Auto{Window: 20, MinOrigins: 4, Candidates: c.cands}.Forecast(context.Background(), []Series{s}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Model != c.want {
			t.Errorf("model %q, want %q (%s)", out[0].Model, c.want, out[0].Reason)
		}
	}
}

func TestWeightGrid(t *testing.T) {
	for k, want := range map[int]int{1: 1, 2: 11, 3: 66} {
		g := weightGrid(k)
		if len(g) != want || g[0][0] != 1 {
			t.Errorf("k=%d: %d weightings starting %v, want %d starting with the best alone", k, len(g), g[0], want)
		}
		for _, w := range g {
			sum := 0.0
			for _, x := range w {
				sum += x
			}
			if len(w) != k || math.Abs(sum-1) > 1e-9 {
				t.Errorf("k=%d: weights %v", k, w)
			}
		}
	}
}

// A half-life makes the recent past count more: the model that was right
// on the newest few origins serves although it was wrong on most of the
// window.
func TestAutoHalfLife(t *testing.T) {
	const change, h = 200, 3
	s := switchSeries(400, change, change+7*h) // 6 scored origins after the change, 14 before
	for _, c := range []struct {
		halfLife float64
		want     string
	}{
		{0, "auto: early 100%"},
		{2, "auto: late 100%"},
	} {
		a := Auto{Window: 20, MinOrigins: 4, HalfLife: c.halfLife, Candidates: []Forecaster{
			truthModel{"early", func(t int64) float64 { return regime(t, false) }},
			truthModel{"late", func(t int64) float64 { return regime(t, true) }},
		}}
		out, err := a.Forecast(context.Background(), []Series{s}, h)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Model != c.want {
			t.Errorf("half-life %g: model %q, want %q (%s)", c.halfLife, out[0].Model, c.want, out[0].Reason)
		}
	}
}
