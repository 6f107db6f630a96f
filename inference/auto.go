package inference

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Auto forecasts each series with the candidate (or a mix of the best two
// or three) that did best on that series' own recent past: the forecasts
// each would have made at the last Window origins whose whole horizon is
// already observed (walk-forward: nothing at or after the forecast origin
// is used). The origins sit on a fixed grid (every horizon
// steps since the Unix epoch), so the ranking changes only when a new grid
// origin completes, not every tick. With fewer than MinOrigins scored
// origins the first candidate serves alone and Fallback says so.
type Auto struct {
	Candidates []Forecaster
	memo       *pastMemo // nil: past forecasts are recomputed every call
	Window     int       // scored origins (0: 400)
	MinOrigins int       // origins needed before trusting the ranking (0: 8)
	// HalfLife (in scored origins) discounts older past errors: origin k
	// back weighs 0.5^(k/HalfLife) (0: every origin weighs the same).
	HalfLife float64
}

// NewAuto is an Auto that remembers its candidates' past forecasts (by
// series ID and origin), so a tick only forecasts the grid origins that
// completed since the last one.
func NewAuto(a Auto) Auto {
	a.memo = &pastMemo{m: map[memoKey][]float64{}}
	return a
}

// Name implements Forecaster.
func (Auto) Name() string { return "auto" }

type memoKey struct {
	cand    int
	id      string
	end     time.Time
	step    time.Duration
	horizon int
}

// pastMemo holds past p50 forecasts; it is cleared when it outgrows
// memoSize (many LBs or a changed series set).
type pastMemo struct {
	mu sync.Mutex
	m  map[memoKey][]float64
}

const memoSize = 200_000

// pastP50 is candidate c's p50 at every past origin, from the memo where
// it has them.
func (a Auto) pastP50(ctx context.Context, c int, past []Series, horizon int) ([][]float64, error) {
	out := make([][]float64, len(past))
	key := func(s Series) memoKey { return memoKey{c, s.ID, s.End(), s.Step, horizon} }
	var todo []Series
	var at []int
	if a.memo != nil {
		a.memo.mu.Lock()
		for j, s := range past {
			out[j] = a.memo.m[key(s)]
		}
		a.memo.mu.Unlock()
	}
	for j, s := range past {
		if out[j] == nil {
			todo, at = append(todo, s), append(at, j)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	fs, err := a.Candidates[c].Forecast(ctx, todo, horizon)
	if err != nil {
		return nil, err
	}
	for k, j := range at {
		out[j] = fs[k].P50
	}
	if a.memo != nil {
		a.memo.mu.Lock()
		if len(a.memo.m)+len(todo) > memoSize {
			clear(a.memo.m)
		}
		for k, s := range todo {
			a.memo.m[key(s)] = fs[k].P50
		}
		a.memo.mu.Unlock()
	}
	return out, nil
}

func (a Auto) window() int     { return cmp0(a.Window, 400) }
func (a Auto) minOrigins() int { return cmp0(a.MinOrigins, 8) }

// originWeights are the weights of n scored origins, newest first.
func (a Auto) originWeights(n int) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = 1
		if a.HalfLife > 0 {
			w[k] = math.Exp2(-float64(k) / a.HalfLife)
		}
	}
	return w
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// LookbackSteps is how far before the origin the scored origins reach.
func (a Auto) LookbackSteps(horizon int) int { return (a.window() + 2) * horizon }

// Forecast implements Forecaster.
func (a Auto) Forecast(ctx context.Context, series []Series, horizon int) ([]Forecast, error) {
	if len(a.Candidates) == 0 {
		return nil, fmt.Errorf("auto: no candidate forecasters")
	}
	if horizon < 1 {
		return nil, fmt.Errorf("forecast: horizon must be at least 1 step, got %d", horizon)
	}
	past, use := a.pastOrigins(series, horizon)
	now := make([][]Forecast, len(a.Candidates))
	then := make([][][]float64, len(a.Candidates))
	var errs []string
	for c, fc := range a.Candidates {
		var err error
		if now[c], err = fc.Forecast(ctx, series, horizon); err == nil && len(past) > 0 {
			then[c], err = a.pastP50(ctx, c, past, horizon)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			now[c], then[c] = nil, nil
			errs = append(errs, fmt.Sprintf("%s: %v", fc.Name(), err))
		}
	}
	out := make([]Forecast, len(series))
	for i, s := range series {
		f, err := a.mix(i, s, horizon, now, then, use[i], past)
		if err != nil {
			return nil, fmt.Errorf("auto: series %q: %w (%s)", s.ID, err, strings.Join(errs, "; "))
		}
		out[i] = f
	}
	return out, nil
}

// pastOrigins is the deduplicated batch of past histories to score, and for
// each series the indexes into it of its scored origins. A past history
// is the prefix of the longest series with that ID that reaches it.
func (a Auto) pastOrigins(series []Series, horizon int) ([]Series, [][]int) {
	type key struct {
		id  string
		end time.Time
	}
	idx := map[key]int{}
	var past []Series
	use := make([][]int, len(series))
	order := make([]int, len(series)) // longest history first: it owns a shared prefix
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return series[x].Start.Compare(series[y].Start) })
	for _, i := range order {
		s := series[i]
		for _, n := range gridEnds(s, horizon, a.window()) {
			k := key{s.ID, s.Start.Add(time.Duration(n) * s.Step)}
			j, ok := idx[k]
			if !ok {
				j = len(past)
				idx[k] = j
				past = append(past, Series{ID: s.ID, Start: s.Start, Step: s.Step, Values: s.Values[:n:n]})
			}
			use[i] = append(use[i], j)
		}
	}
	return past, use
}

// gridEnds are the prefix lengths n (origins) on the horizon grid whose
// whole horizon lies inside s, newest first, at most window of them, each
// leaving a few observed values to forecast from.
func gridEnds(s Series, horizon, window int) []int {
	if s.Step <= 0 {
		return nil
	}
	abs0 := s.Start.UnixNano() / int64(s.Step)
	last := len(s.Values) - horizon
	n := last - int(((abs0+int64(last))%int64(horizon)+int64(horizon))%int64(horizon))
	var out []int
	for ; n > 0 && len(out) < window; n -= horizon {
		if validCount(s.Values[max(0, n-horizon):n]) == 0 || validCount(s.Values[:n]) < 3 {
			break
		}
		out = append(out, n)
	}
	return out
}

// mix weights the candidates' current forecasts of series i by their
// scores on its past origins.
func (a Auto) mix(i int, s Series, horizon int, now [][]Forecast, then [][][]float64, use []int, past []Series) (Forecast, error) {
	p := pastScore{s: s, then: then, use: use, wt: a.originWeights(len(use)), past: past}
	maes := p.maes(now, horizon)
	first := slices.IndexFunc(now, func(f []Forecast) bool { return f != nil })
	if first < 0 {
		return Forecast{}, fmt.Errorf("no candidate could forecast")
	}
	if len(use) < a.minOrigins() {
		f := now[first][i]
		f.Model = "auto: " + f.Model
		f.Fallback = fmt.Sprintf("%d scored origins of the %d needed to rank the candidates: %s serves alone",
			len(use), a.minOrigins(), a.Candidates[first].Name())
		return f, nil
	}
	return a.blend(i, p, horizon, now, maes), nil
}

// pastScore holds what scoring one series' past origins needs: the
// candidates' p50 there (then), the origins (use, into past, newest first)
// and their weights.
type pastScore struct {
	s    Series
	then [][][]float64
	use  []int
	wt   []float64
	past []Series
}

// maes is every candidate's past p50 MAE (+Inf for one that failed).
func (p pastScore) maes(now [][]Forecast, horizon int) []float64 {
	out := make([]float64, len(now))
	for c := range now {
		out[c] = math.Inf(1)
		if now[c] != nil && p.then[c] != nil {
			out[c] = p.mae([]int{c}, []float64{1}, horizon)
		}
	}
	return out
}

// blend serves the convex mix of the (up to) three candidates with the
// lowest past p50 MAE whose weights, in tenths, had the lowest p50 MAE over
// the same past origins. The best candidate alone is one of those mixes
// and wins ties, so a mix serves only when the series' own past says it
// did better (mixing helps smooth series and hurts spiky ones); Model and
// Reason say what served.
func (a Auto) blend(i int, p pastScore, horizon int, now [][]Forecast, maes []float64) Forecast {
	top := topThree(now, maes)
	w, bestErr := bestWeights(p, top, maes[top[0]], horizon)
	f := Forecast{ID: p.s.ID, Start: p.s.End(), Step: p.s.Step,
		P10: make([]float64, horizon), P50: make([]float64, horizon), P90: make([]float64, horizon)}
	var parts, scores []string
	for k, c := range top {
		if w[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", now[c][i].Model, 100*w[k]))
			addScaled(&f, now[c][i], w[k])
		}
	}
	for c, fc := range a.Candidates {
		if now[c] != nil {
			scores = append(scores, fmt.Sprintf("%s %.4g", fc.Name(), maes[c]))
		}
	}
	how := fmt.Sprintf("the last %d origins", len(p.use))
	if a.HalfLife > 0 {
		how += fmt.Sprintf(" (weight halving every %g back)", a.HalfLife)
	}
	f.Model = "auto: " + strings.Join(parts, " + ")
	f.Reason = fmt.Sprintf("lowest p50 MAE over %s among the best three and their mixes in tenths (%s; served %.4g)",
		how, strings.Join(scores, ", "), bestErr)
	return f
}

// topThree are the (up to) three candidates with the lowest past MAE,
// best first.
func topThree(now [][]Forecast, maes []float64) []int {
	var order []int
	for c, m := range maes {
		if now[c] != nil && !math.IsInf(m, 1) {
			order = append(order, c)
		}
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(maes[x], maes[y]) })
	return order[:min(3, len(order))]
}

// mixSteps is the weight grid: weights are multiples of 1/mixSteps.
const mixSteps = 10

// bestWeights tries every weighting of top in multiples of 1/mixSteps and
// keeps the one with the lowest past p50 MAE; the best candidate alone
// (past MAE bestErr) stands unless a mix did strictly better.
func bestWeights(p pastScore, top []int, bestErr float64, horizon int) ([]float64, float64) {
	best := make([]float64, len(top))
	best[0] = 1
	for _, w := range weightGrid(len(top)) {
		if w[0] == 1 {
			continue
		}
		if e := p.mae(top, w, horizon); e < bestErr {
			best, bestErr = w, e
		}
	}
	return best, bestErr
}

// weightGrid lists the weight vectors of k (1..3) parts, multiples of
// 1/mixSteps that sum to 1.
func weightGrid(k int) [][]float64 {
	var out [][]float64
	for a := mixSteps; a >= 0; a-- {
		for b := mixSteps - a; b >= 0; b-- {
			c := mixSteps - a - b
			if (k < 2 && b > 0) || (k < 3 && c > 0) {
				continue
			}
			w := []float64{float64(a) / mixSteps, float64(b) / mixSteps, float64(c) / mixSteps}
			out = append(out, w[:k])
		}
	}
	return out
}

// mae is the past p50 MAE of the mix of cands with weights w, each origin
// weighing p.wt.
func (p pastScore) mae(cands []int, w []float64, horizon int) float64 {
	sum, n := 0.0, 0.0
	for k, j := range p.use {
		o := int(p.past[j].End().Sub(p.s.Start) / p.s.Step)
		for h := range horizon {
			y := p.s.Values[o+h]
			if math.IsNaN(y) {
				continue
			}
			f := 0.0
			for q, c := range cands {
				f += w[q] * p.then[c][j][h]
			}
			sum += p.wt[k] * math.Abs(y-f)
			n += p.wt[k]
		}
	}
	if n == 0 {
		return math.Inf(1)
	}
	return sum / n
}

// addScaled adds w × g's quantiles to f's.
func addScaled(f *Forecast, g Forecast, w float64) {
	for h := range g.P50 {
		f.P10[h] += w * g.P10[h]
		f.P50[h] += w * g.P50[h]
		f.P90[h] += w * g.P90[h]
	}
}
