package scheduler

import (
	"math"
	"sort"
)

// The statistics the health gate judges with.

func rate(e, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(e) / float64(n)
}

// wilsonLower is the lower Wilson score bound of e successes in n trials
// at z standard deviations (0 with no trials).
func wilsonLower(e, n int64, z float64) float64 {
	if n <= 0 {
		return 0
	}
	N, p := float64(n), float64(e)/float64(n)
	z2 := z * z
	centre := p + z2/(2*N)
	margin := z * math.Sqrt(p*(1-p)/N+z2/(4*N*N))
	return math.Max(0, (centre-margin)/(1+z2/N))
}

// mannWhitneyGreater is the one-sided p-value that x tends to be larger
// than y (normal approximation with tie and continuity corrections).
func mannWhitneyGreater(x, y []float64) float64 {
	type obs struct {
		v float64
		x bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n1, n2, N := float64(len(x)), float64(len(y)), float64(len(all))
	rx, ties := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r, t := float64(i+j+1)/2, float64(j-i) // mean rank of the tie group
		for k := i; k < j; k++ {
			if all[k].x {
				rx += r
			}
		}
		ties += t*t*t - t
		i = j
	}
	u := rx - n1*(n1+1)/2
	sd := math.Sqrt(n1 * n2 / 12 * ((N + 1) - ties/(N*(N-1))))
	if sd == 0 {
		return 1
	}
	z := (u - n1*n2/2 - 0.5) / sd
	return 0.5 * math.Erfc(z/math.Sqrt2)
}
