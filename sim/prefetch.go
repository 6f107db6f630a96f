package sim

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// prefetch computes the forecasts a cadence will ask for ahead of the
// scheduler, on every core: the history at an origin is the trace before
// it, whatever the policy did, so each origin's forecast can be made as
// soon as anyone likes — from the same walk-forward history, seeing only
// the past. Results are used only when the request matches exactly.
type prefetch struct {
	origins map[time.Time]int
	horizon int
	results []chan prefetched
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type prefetched struct {
	series inference.Series
	out    []inference.Forecast
	err    error
}

func startPrefetch(ctx context.Context, fc scheduler.Forecaster, h scheduler.History, lb string, origins []time.Time, horizon int) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetch{origins: make(map[time.Time]int, len(origins)), horizon: horizon,
		results: make([]chan prefetched, len(origins)), cancel: cancel}
	for i, o := range origins {
		p.origins[o] = i
		p.results[i] = make(chan prefetched, 1)
	}
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		p.wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(origins) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				var r prefetched
				r.series, r.err = h.Demand(ctx, lb, origins[i])
				if r.err == nil {
					r.out, r.err = fc.Forecast(ctx, []inference.Series{r.series}, horizon)
				}
				p.results[i] <- r
			}
		})
	}
	return p
}

// take is the prefetched forecast for s, if one was made for exactly it.
func (p *prefetch) take(ctx context.Context, s inference.Series, horizon int) (prefetched, bool) {
	if p == nil {
		return prefetched{}, false
	}
	i, ok := p.origins[s.End()]
	if !ok || horizon != p.horizon {
		return prefetched{}, false
	}
	var r prefetched
	select {
	case r = <-p.results[i]:
	case <-ctx.Done():
		return prefetched{err: ctx.Err()}, true
	}
	if r.err == nil && !sameSeries(r.series, s) {
		return prefetched{}, false
	}
	return r, true
}

func sameSeries(a, b inference.Series) bool {
	if !a.Start.Equal(b.Start) || a.Step != b.Step || len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] && !(a.Values[i] != a.Values[i] && b.Values[i] != b.Values[i]) {
			return false
		}
	}
	return true
}

func (p *prefetch) stop() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
}
