package onnx

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"

	"github.com/shadowscale/shadowscale/inference"
)

// benchSeries is n copies of a 5-minute series with a week of history, so
// both seasonal lags are live (the same series training/bench_torch.py uses).
func benchSeries(n int) []inference.Series {
	s := synthetic("bench", 2300, 10)
	s.Start = time.Unix(0, 0).UTC()
	out := make([]inference.Series, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// BenchmarkONNXLatency reports single-forecast latency percentiles; each
// iteration times 1000 forecasts so `-benchtime 1x` (make bench) still
// yields meaningful percentiles.
func BenchmarkONNXLatency(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			m := openModel(b, shippedModel(b), Options{Threads: threads})
			one := benchSeries(1)
			h := m.Card().HorizonSteps
			warmUp(b, m, one)
			lat := make([]time.Duration, 0, 4096)
			for b.Loop() {
				for range 1000 {
					t := time.Now()
					if _, err := m.Forecast(context.Background(), one, h); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkONNXThroughput reports series-forecasts per second per batch size.
func BenchmarkONNXThroughput(b *testing.B) {
	for _, threads := range []int{1, 2} {
		for _, batch := range []int{1, 64, 256, 1024} {
			b.Run(fmt.Sprintf("threads=%d/batch=%d", threads, batch), func(b *testing.B) {
				m := openModel(b, shippedModel(b), Options{Threads: threads, MaxBatch: batch})
				series := benchSeries(batch)
				warmUp(b, m, series) // the first Run of a shape allocates: keep it out of `-benchtime 1x`
				n := 0
				for b.Loop() {
					if _, err := m.Forecast(context.Background(), series, m.Card().HorizonSteps); err != nil {
						b.Fatal(err)
					}
					n += batch
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "forecasts/s")
			})
		}
	}
}

// BenchmarkTorchEagerRatio times the same forecasts in PyTorch eager mode
// (training/bench_torch.py, one thread) and reports PyTorch time / ONNX
// Runtime time per batch size, measured in the same run.
func BenchmarkTorchEagerRatio(b *testing.B) {
	py := testenv.Python(b)
	dir := shippedModel(b)
	batches := []int{1, 64, 1024}
	cmd := exec.Command(py, filepath.Join(testenv.RepoRoot(), "training", "bench_torch.py"),
		"--model", dir, "--batches", "1,64,1024", "--threads", "1")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("bench_torch.py: %v", err)
	}
	var torch struct {
		SecondsPerCall map[string]float64 `json:"seconds_per_call"`
	}
	if err := json.Unmarshal(out, &torch); err != nil {
		b.Fatalf("bench_torch.py output %q: %v", out, err)
	}
	m := openModel(b, dir, Options{Threads: 1, MaxBatch: 1024})
	for _, batch := range batches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			series := benchSeries(batch)
			warmUp(b, m, series)
			calls := 0
			for b.Loop() {
				if _, err := m.Forecast(context.Background(), series, m.Card().HorizonSteps); err != nil {
					b.Fatal(err)
				}
				calls++
			}
			ort := b.Elapsed().Seconds() / float64(calls)
			pt := torch.SecondsPerCall[fmt.Sprint(batch)]
			b.ReportMetric(pt*1e6, "torch-µs/call")
			b.ReportMetric(pt/ort, "torch/onnx")
		})
	}
}

func warmUp(b *testing.B, m *Model, series []inference.Series) {
	b.Helper()
	for range 3 {
		if _, err := m.Forecast(context.Background(), series, m.Card().HorizonSteps); err != nil {
			b.Fatal(err)
		}
	}
}
