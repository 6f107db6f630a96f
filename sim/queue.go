package sim

import "math"

// group is a set of like servers of one backend during one tick: n servers
// of the same speed, receiving rate requests/s between them.
type group struct {
	n       int
	rate    float64 // requests/s sent to the group
	cap     float64 // requests/s one server serves at saturation
	svc     float64 // mean service time, seconds
	errRate float64 // share of served requests that fail
	workers int
}

// outcome is what a group did with its requests during one tick.
type outcome struct {
	served, failed float64 // requests/s
	meanLatency    float64 // seconds, of the served requests
	saturated      bool
	// tail gives P(response time > t) for a served request.
	c, theta, mu float64 // Erlang C, queue drain rate, service rate
}

func (g group) serve(timeout float64) outcome {
	if g.rate <= 0 || g.n <= 0 {
		return outcome{}
	}
	rho := g.rate / (float64(g.n) * g.cap)
	o := outcome{mu: 1 / g.svc}
	if rho >= 1 {
		o.served = float64(g.n) * g.cap
		o.failed = g.rate - o.served + o.served*g.errRate
		o.served -= o.served * g.errRate
		o.saturated, o.meanLatency = true, timeout
		return o
	}
	c := g.n * g.workers
	o.c = erlangC(c, rho*float64(c))
	o.theta = float64(c) * (1 - rho) / g.svc
	o.served = g.rate * (1 - g.errRate)
	o.failed = g.rate * g.errRate
	o.meanLatency = math.Min(g.svc+o.c/o.theta, timeout)
	return o
}

// tail is P(R > t) for R = service + Erlang-C wait: with probability 1-C no
// wait (exponential service), else service + exponential wait at theta.
func (o outcome) tail(t float64) float64 {
	if o.saturated {
		return 1
	}
	es := math.Exp(-o.mu * t)
	var both float64
	if math.Abs(o.theta-o.mu) < 1e-9*o.mu {
		both = es * (1 + o.mu*t)
	} else {
		both = (o.theta*es - o.mu*math.Exp(-o.theta*t)) / (o.theta - o.mu)
	}
	return (1-o.c)*es + o.c*both
}

// erlangC is the probability an arrival waits in an M/M/c queue with
// offered load a = lambda/mu (< c), by the stable Erlang-B recursion.
func erlangC(c int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(c)
	return b / (1 - rho*(1-b))
}

// p99 is the 99th percentile of the served requests' response time over
// the mixture of outcomes weighted by what each served, capped at timeout.
func p99(outs []outcome, timeout float64) float64 {
	total := 0.0
	for _, o := range outs {
		total += o.served
	}
	if total <= 0 {
		return 0
	}
	over := func(t float64) float64 {
		s := 0.0
		for _, o := range outs {
			if o.served > 0 {
				if o.saturated && t >= timeout {
					continue
				}
				s += o.served / total * o.tail(t)
			}
		}
		return s
	}
	if over(timeout*(1-1e-9)) > 0.01 {
		return timeout
	}
	lo, hi := 0.0, timeout
	for range 40 {
		mid := (lo + hi) / 2
		if over(mid) > 0.01 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
