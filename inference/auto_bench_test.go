package inference

import (
	"context"
	"math"
	"testing"
	"time"
)

// BenchmarkAutoTick is serve's steady state: one LB, eight days of
// one-minute history, a 30-step horizon, every tick one step later (the
// classical fits are cached per day, as in serve).
func BenchmarkAutoTick(b *testing.B) {
	const ticks = 2000 // then wrap: still one refit a day
	v := make([]float64, 8*1440+ticks)
	for i := range v {
		v[i] = 100 + 40*math.Sin(2*math.Pi*float64(i)/1440) + 5*math.Sin(float64(i)*1.7)
	}
	a := NewAuto(Auto{Candidates: []Forecaster{NewHoltWinters(0), NewDiffAR(0), SeasonalNaive{}, Naive{}}})
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		s := Series{ID: "lb", Start: start.Add(time.Duration(i) * time.Minute), Step: time.Minute, Values: v[i : i+8*1440]}
		if _, err := a.Forecast(context.Background(), []Series{s}, 30); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % ticks
	}
}
