package scheduler

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// fixedHistory serves a precomputed daily-cycle history of points at step
// ending at now, the same shape for every LB (scaled by its index).
type fixedHistory struct {
	step   time.Duration
	values []float64
}

func (f fixedHistory) Demand(_ context.Context, lb string, now time.Time) (inference.Series, error) {
	return inference.Series{ID: lb, Step: f.step, Start: now.Add(-time.Duration(len(f.values)-1) * f.step), Values: f.values}, nil
}

func dailyCycle(step time.Duration, days int) []float64 {
	n := int(time.Duration(days) * 24 * time.Hour / step)
	v := make([]float64, n)
	for i := range v {
		phase := 2 * math.Pi * float64(time.Duration(i)*step) / float64(24*time.Hour)
		v[i] = 150 + 100*math.Sin(phase) + 5*math.Sin(float64(i)*1.7)
	}
	return v
}

// BenchmarkTick1000 is one tick for 1,000 load balancers: observe (in-memory
// driver), one batched forecast, plan and act, HAProxy I/O excluded.
func BenchmarkTick1000(b *testing.B) {
	for _, name := range []string{"seasonal-naive", "holt-winters"} {
		b.Run(name, func(b *testing.B) {
			fc, err := inference.Baseline(name)
			if err != nil {
				b.Fatal(err)
			}
			set := testSettings()
			set.Tick, set.Horizon = 5*time.Minute, 30*time.Minute
			set.LBs = nil
			drv := newFakeDriver()
			for i := range 1000 {
				n := fmt.Sprintf("lb%04d", i)
				set.LBs = append(set.LBs, LBSpec{Name: n, Backend: n, ShadowBackend: n + "_shadow", Provider: "local",
					Capacity: 100, MaxInstances: 10, Warmup: 2 * time.Minute})
				drv.backend(n).serving = 2
			}
			set.Policy.MaxPrewarmed = 100000
			sch, err := New(set, Deps{Forecaster: fc, Fallback: fc,
				History: fixedHistory{step: 5 * time.Minute, values: dailyCycle(5*time.Minute, 3)},
				Driver:  drv, Providers: map[string]Provider{"local": newFakeProvider(time.Minute, 0.1)}, Store: &MemStore{}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, now := context.Background(), t0
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(set.Tick)
				drv.now = now
				if err := sch.RunOnce(ctx, now); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			for _, st := range sch.Status().Steps {
				b.ReportMetric(float64(st.Duration.Nanoseconds()), st.Step+"-ns/last")
			}
		})
	}
}
