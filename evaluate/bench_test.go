package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// loadShared reads every shared trace on its native step.
func loadShared(b *testing.B) []metrics.Regular {
	dir := os.Getenv("SHADOWSCALE_TRACES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data", "traces")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		b.Skipf("no shared traces in %s", dir)
	}
	var out []metrics.Regular
	for _, f := range files {
		_, r, err := metrics.LoadRegular(f, metrics.TraceOptions{AllowNegative: true})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func horizon(step time.Duration) int { return max(1, int((30*time.Minute+step-1)/step)) }

// BenchmarkBaselines reports series-steps per second: history steps read
// plus steps forecast, for one forecast at the end of every shared trace
// (forecast) and for a 100-origin rolling evaluation of each (eval).
func BenchmarkBaselines(b *testing.B) {
	traces := loadShared(b)
	const history = 15 * 24 * time.Hour
	for _, name := range inference.BaselineNames {
		fc, _ := inference.Baseline(name)
		b.Run(name+"/forecast", func(b *testing.B) {
			steps := 0
			for b.Loop() {
				for _, r := range traces {
					n := min(len(r.Values), max(int(history/r.Step), 2000))
					s := inference.Series{ID: r.Name, Start: r.Start, Step: r.Step, Values: r.Values[len(r.Values)-n:]}
					h := horizon(r.Step)
					if _, err := fc.Forecast(context.Background(), []inference.Series{s}, h); err != nil {
						b.Fatal(err)
					}
					steps += n + h
				}
			}
			b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "series-steps/s")
		})
		b.Run(name+"/eval", func(b *testing.B) {
			steps := 0
			for b.Loop() {
				for _, r := range traces {
					opt := Options{HorizonSteps: horizon(r.Step), TestFraction: 0.2, MaxOrigins: 100,
						MaxHistory: max(int(history/r.Step), 2000)}
					rep, err := Run(context.Background(), r, []inference.Forecaster{fc}, opt)
					if err != nil {
						b.Fatal(err)
					}
					steps += rep.Origins * (min(opt.MaxHistory, len(r.Values)) + opt.HorizonSteps)
				}
			}
			b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "series-steps/s")
		})
	}
}
