package evaluate

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// peeker wraps a forecaster and records whether any history it was handed
// could reach past its own end (spare capacity a forecaster could reslice
// into the future).
type peeker struct {
	inference.Forecaster
	mu     sync.Mutex
	spares int
}

func (p *peeker) Forecast(ctx context.Context, in []inference.Series, h int) ([]inference.Forecast, error) {
	p.mu.Lock()
	for _, s := range in {
		p.spares += cap(s.Values) - len(s.Values)
	}
	p.mu.Unlock()
	return p.Forecaster.Forecast(ctx, in, h)
}

// auto scores as its own row in eval, walk-forward: neither auto nor the
// candidates it scores on the past are ever handed data beyond the origin.
func TestEvalAutoIsWalkForward(t *testing.T) {
	v := make([]float64, 14*288)
	for i := range v {
		v[i] = 100 + 30*math.Sin(2*math.Pi*float64(i)/288)
		if i > len(v)*9/10 {
			v[i] += 50 // a regime change inside the test part
		}
	}
	r := metrics.Regular{Name: "switch", Start: t0, Step: 5 * time.Minute, Values: v}
	cands := []*peeker{{Forecaster: inference.Naive{}}, {Forecaster: inference.SeasonalNaive{}}}
	auto := &peeker{Forecaster: inference.NewAuto(inference.Auto{Window: 20,
		Candidates: []inference.Forecaster{cands[0], cands[1]}})}
	rep, err := Run(context.Background(), r, []inference.Forecaster{auto}, Options{HorizonSteps: 6, TestFraction: 0.2, MaxOrigins: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Forecaster != "auto" || math.IsNaN(float64(rep.Results[0].MASE)) {
		t.Fatalf("results %+v, want one scored auto row", rep.Results)
	}
	for _, p := range append(cands, auto) {
		if p.spares != 0 {
			t.Errorf("%s was handed %d values' room past an origin", p.Name(), p.spares)
		}
	}
	if !strings.HasPrefix(rep.Trace, "switch") {
		t.Errorf("trace %q", rep.Trace)
	}
}
