package inference

import (
	"context"
	"math"
	"runtime"
	"sort"
	"sync"
)

// maxResiduals bounds how many in-sample errors per horizon step feed the
// empirical quantiles: enough for stable p10/p90, cheap at every origin.
const maxResiduals = 1000

// bands are the empirical p10/p50/p90 of in-sample errors per horizon step.
type bands [][3]float64

// bandsFrom turns per-horizon-step residuals into quantile offsets. A step
// with no residuals borrows the nearest earlier step's (wider later steps
// are unknown, so reuse is the honest fallback), or zero.
func bandsFrom(res [][]float64) bands {
	b := make(bands, len(res))
	for h, r := range res {
		if len(r) == 0 {
			if h > 0 {
				b[h] = b[h-1]
			}
			continue
		}
		sort.Float64s(r)
		for k, q := range Quantiles {
			b[h][k] = quantileSorted(r, q)
		}
	}
	return b
}

// quantileSorted is the linear-interpolation quantile (R type 7) of sorted x.
func quantileSorted(x []float64, q float64) float64 {
	if len(x) == 1 {
		return x[0]
	}
	pos := q * float64(len(x)-1)
	i := int(pos)
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	f := pos - float64(i)
	return x[i]*(1-f) + x[i+1]*f
}

// newForecast builds the quantile forecast from point predictions and the
// residual bands, clamping at zero when the history never went negative.
func newForecast(s Series, model string, point []float64, b bands) Forecast {
	f := Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: model,
		P10: make([]float64, len(point)), P50: make([]float64, len(point)), P90: make([]float64, len(point))}
	floor := math.Inf(-1)
	if nonNegative(s.Values) {
		floor = 0
	}
	for h, p := range point {
		off := [3]float64{}
		if h < len(b) {
			off = b[h]
		}
		f.P10[h] = math.Max(floor, p+off[0])
		f.P50[h] = math.Max(f.P10[h], math.Max(floor, p+off[1]))
		f.P90[h] = math.Max(f.P50[h], math.Max(floor, p+off[2]))
	}
	return f
}

// centred makes the bands put p50 on the point forecast itself (the last
// value, the value a season ago), with p10 at or below it and p90 at or
// above: for naive forecasters the point is the forecast the name promises.
func (b bands) centred() bands {
	for h := range b {
		b[h][0], b[h][1], b[h][2] = math.Min(b[h][0], 0), 0, math.Max(b[h][2], 0)
	}
	return b
}

func nonNegative(v []float64) bool {
	for _, x := range v {
		if x < 0 {
			return false
		}
	}
	return true
}

// lastValid returns the index of the last non-NaN value, or -1.
func lastValid(v []float64) int {
	for i := len(v) - 1; i >= 0; i-- {
		if !math.IsNaN(v[i]) {
			return i
		}
	}
	return -1
}

// forEach runs fn for i in [0,n) on up to GOMAXPROCS goroutines: a batch of
// independent series is embarrassingly parallel.
func forEach(ctx context.Context, n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	next := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[w] == nil {
					errs[w] = fn(i)
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		case next <- i:
		}
	}
	close(next)
	wg.Wait()
	for _, e := range errs {
		if e != nil && err == nil {
			err = e
		}
	}
	return err
}
