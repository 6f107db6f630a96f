package sim

import (
	"math"
	"slices"
	"time"
)

// Accuracy scores the forecasts the scheduler used against what came.
type Accuracy struct {
	Model     string  `json:"model"`
	Forecasts int     `json:"forecasts"` // real forecaster calls
	Points    int     `json:"points"`    // forecast steps with an actual
	MAE       float64 `json:"mae"`       // of p50, requests/s
	SMAPE     float64 `json:"smape"`     // of p50, percent
	CoverP90  float64 `json:"coverage_p90"`
	CoverBand float64 `json:"coverage_p10_p90"`
}

func (e *env) accuracy() *Accuracy {
	a := &Accuracy{Forecasts: len(e.forecasts)}
	var abs, smape float64
	var under, inBand int
	for _, f := range e.forecasts {
		a.Model = f.Model
		k0 := e.d.index(f.Start)
		for i := range f.P50 {
			k := k0 + i
			if k < e.from || k >= e.to || math.IsNaN(e.d.Values[k]) {
				continue
			}
			y := e.d.Values[k]
			a.Points++
			abs += math.Abs(y - f.P50[i])
			if den := math.Abs(y) + math.Abs(f.P50[i]); den > 0 {
				smape += 2 * math.Abs(y-f.P50[i]) / den
			}
			if y <= f.P90[i] {
				under++
				if y >= f.P10[i] {
					inBand++
				}
			}
		}
	}
	if a.Points > 0 {
		n := float64(a.Points)
		a.MAE, a.SMAPE = abs/n, 100*smape/n
		a.CoverP90, a.CoverBand = float64(under)/n, float64(inBand)/n
	}
	return a
}

// band is, for every scored tick, the p10/p90 the last real forecast made
// at least lead ticks earlier predicted for it (NaN where none).
func (e *env) band(lead int) [][2]float64 {
	out := make([][2]float64, e.to-e.from)
	for i := range out {
		out[i] = [2]float64{math.NaN(), math.NaN()}
	}
	for _, f := range e.forecasts {
		k0 := e.d.index(f.Start)
		for i := max(lead, 1) - 1; i < len(f.P50) && i < lead+e.every; i++ {
			if k := k0 + i; k >= e.from && k < e.to {
				out[k-e.from] = [2]float64{f.P10[i], f.P90[i]}
			}
		}
	}
	return out
}

// Peak is one of the largest demand peaks and what each policy had ready
// when it arrived.
type Peak struct {
	At        time.Time          `json:"at"`
	Demand    float64            `json:"demand"`
	Ready     map[string]float64 `json:"ready"`     // requests/s serving capacity by policy
	Instances map[string]int     `json:"instances"` // provisioned by policy
	Violated  map[string]bool    `json:"violated"`
}

// peakGap keeps the reported peaks apart (a daily cycle's peaks are days
// apart; one long burst is one peak).
const peakGap = 6 * time.Hour

// peaks are the n largest demand ticks at least peakGap apart.
func peaks(rep Report, n int) []Peak {
	idx := make([]int, 0, len(rep.Demand))
	for i, v := range rep.Demand {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case rep.Demand[a] > rep.Demand[b]:
			return -1
		case rep.Demand[a] < rep.Demand[b]:
			return 1
		}
		return 0
	})
	step := time.Duration(rep.StepSeconds * float64(time.Second))
	gap := int(peakGap / step)
	var out []Peak
	var taken []int
	for _, i := range idx {
		if len(out) == n {
			break
		}
		if slices.ContainsFunc(taken, func(j int) bool { return abs(i-j) < gap }) {
			continue
		}
		taken = append(taken, i)
		p := Peak{At: rep.From.Add(time.Duration(i) * step), Demand: rep.Demand[i],
			Ready: map[string]float64{}, Instances: map[string]int{}, Violated: map[string]bool{}}
		for _, r := range rep.Results {
			p.Ready[r.Policy], p.Instances[r.Policy] = r.Series.Ready[i], r.Series.Instances[i]
			p.Violated[r.Policy] = r.Series.Violated[i]
		}
		out = append(out, p)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
