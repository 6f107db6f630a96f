package inference

import "sort"

// nelderMead minimises f from x0 with the standard simplex method (reflection
// 1, expansion 2, contraction 0.5, shrink 0.5) within maxEval evaluations.
// Small and dependency-free: the baselines fit 3–4 parameters per series.
func nelderMead(f func([]float64) float64, x0 []float64, maxEval int) []float64 {
	n := len(x0)
	type vertex struct {
		x []float64
		f float64
	}
	simplex := make([]vertex, n+1)
	for i := range simplex {
		x := append([]float64(nil), x0...)
		if i > 0 {
			x[i-1] += 1 // a unit step in logit space is a sizeable move
		}
		simplex[i] = vertex{x, f(x)}
	}
	evals := n + 1
	point := func(c []float64, worst []float64, t float64) []float64 {
		x := make([]float64, n)
		for j := range x {
			x[j] = c[j] + t*(worst[j]-c[j])
		}
		return x
	}
	for evals < maxEval {
		sort.Slice(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
		if simplex[n].f-simplex[0].f <= 1e-10*(1+abs(simplex[0].f)) {
			break
		}
		c := make([]float64, n)
		for _, v := range simplex[:n] {
			for j := range c {
				c[j] += v.x[j] / float64(n)
			}
		}
		worst := simplex[n]
		xr := point(c, worst.x, -1)
		fr := f(xr)
		evals++
		switch {
		case fr < simplex[0].f:
			xe := point(c, worst.x, -2)
			if fe := f(xe); fe < fr {
				simplex[n] = vertex{xe, fe}
			} else {
				simplex[n] = vertex{xr, fr}
			}
			evals++
		case fr < simplex[n-1].f:
			simplex[n] = vertex{xr, fr}
		default:
			xc := point(c, worst.x, 0.5)
			fc := f(xc)
			evals++
			if fc < worst.f {
				simplex[n] = vertex{xc, fc}
				continue
			}
			for i := 1; i <= n; i++ {
				simplex[i].x = point(simplex[0].x, simplex[i].x, 0.5)
				simplex[i].f = f(simplex[i].x)
				evals++
			}
		}
	}
	sort.Slice(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
	return simplex[0].x
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
