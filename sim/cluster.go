package sim

import (
	"errors"
	"fmt"
	"time"
)

// Cluster is the simulated instances' behaviour (see the package doc).
type Cluster struct {
	Capacity      float64       // requests/s one warm instance serves at saturation
	Boot          time.Duration // from create to serving
	Warmup        time.Duration // serving time before an instance is warm
	ColdFactor    float64       // service-time multiplier of a cold instance (default 2)
	ColdErrorRate float64       // failing share of a cold instance's requests (default 0.02)
	ServiceTime   time.Duration // mean service time of a warm instance (default 25ms)
	Workers       int           // concurrent requests per instance (default 16)
	QueueTimeout  time.Duration // longest queueing before a request fails (default 5s)
	PricePerHour  float64       // per instance (default 1, so cost = instance-hours)
}

// WithDefaults fills the zero fields.
func (c Cluster) WithDefaults() Cluster {
	if c.ColdFactor == 0 {
		c.ColdFactor = 2
	}
	if c.ColdErrorRate == 0 {
		c.ColdErrorRate = 0.02
	}
	if c.ServiceTime == 0 {
		c.ServiceTime = 25 * time.Millisecond
	}
	if c.Workers == 0 {
		c.Workers = 16
	}
	if c.QueueTimeout == 0 {
		c.QueueTimeout = 5 * time.Second
	}
	if c.PricePerHour == 0 {
		c.PricePerHour = 1
	}
	return c
}

// Validate names the first bad field.
func (c Cluster) Validate() error {
	switch {
	case !(c.Capacity > 0):
		return fmt.Errorf("capacity per instance must be positive, got %g", c.Capacity)
	case c.Boot < 0 || c.Warmup < 0:
		return fmt.Errorf("boot %s and warm-up %s must not be negative", c.Boot, c.Warmup)
	case c.ColdFactor < 1:
		return fmt.Errorf("cold factor must be at least 1, got %g", c.ColdFactor)
	case c.ColdErrorRate < 0 || c.ColdErrorRate >= 1:
		return fmt.Errorf("cold error rate must be in [0,1), got %g", c.ColdErrorRate)
	case c.ServiceTime <= 0 || c.Workers <= 0 || c.QueueTimeout <= c.ServiceTime:
		return errors.New("service time, workers and a queue timeout above the service time must be positive")
	}
	return nil
}

// instance is one simulated instance.
type instance struct {
	id      string
	created time.Time
	warmFor time.Duration // time it served traffic
	destroy bool
}

func (c Cluster) up(in *instance, now time.Time) bool { return !now.Before(in.created.Add(c.Boot)) }
func (c Cluster) cold(in *instance) bool              { return in.warmFor < c.Warmup }

// capacityOf is what the instance serves now (cold ones are slower).
func (c Cluster) capacityOf(in *instance) float64 {
	if c.cold(in) {
		return c.Capacity / c.ColdFactor
	}
	return c.Capacity
}

// backendTick is one backend's traffic over one tick.
type backendTick struct {
	outs           []outcome
	served, failed float64 // requests/s
	busy           []float64
}

// serve splits rate round-robin over the serving instances (equal
// weights, so every server gets the same rate) and queues each like group.
func (c Cluster) serve(servers []*instance, rate float64) backendTick {
	return c.serveWeighted(servers, nil, rate)
}

// serveWeighted splits rate over the serving instances in proportion to
// their weights in (0, 1] (nil: all 1), as HAProxy's weighted round-robin
// does, and queues each group of like servers (same speed and weight).
func (c Cluster) serveWeighted(servers []*instance, weights []float64, rate float64) backendTick {
	var bt backendTick
	if rate <= 0 {
		bt.busy = make([]float64, len(servers))
		return bt
	}
	if len(servers) == 0 {
		bt.failed = rate
		return bt
	}
	weight := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	total := 0.0
	for i := range servers {
		total += weight(i)
	}
	type key struct {
		cold bool
		w    float64
	}
	var order []key
	groups := map[key]*group{}
	svc := c.ServiceTime.Seconds()
	for i, in := range servers {
		per := rate * weight(i) / total
		bt.busy = append(bt.busy, min(1, per/c.capacityOf(in)))
		k := key{c.cold(in), weight(i)}
		g := groups[k]
		if g == nil {
			g = &group{cap: c.Capacity, svc: svc, workers: c.Workers}
			if k.cold {
				g.cap, g.svc, g.errRate = c.Capacity/c.ColdFactor, svc*c.ColdFactor, c.ColdErrorRate
			}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
		g.rate += per
	}
	for _, k := range order {
		o := groups[k].serve(c.QueueTimeout.Seconds())
		bt.outs = append(bt.outs, o)
		bt.served += o.served
		bt.failed += o.failed
	}
	return bt
}

// meanLatency is the served-weighted mean response time, seconds.
func (bt backendTick) meanLatency() float64 {
	s, w := 0.0, 0.0
	for _, o := range bt.outs {
		s += o.served * o.meanLatency
		w += o.served
	}
	if w == 0 {
		return 0
	}
	return s / w
}

// warmUp credits the tick to every instance that served traffic.
func warmUp(servers []*instance, rate float64, dt time.Duration) {
	if rate <= 0 {
		return
	}
	for _, in := range servers {
		in.warmFor += dt
	}
}

// readyCapacity is what the serving instances could serve now.
func (c Cluster) readyCapacity(servers []*instance) float64 {
	s := 0.0
	for _, in := range servers {
		s += c.capacityOf(in)
	}
	return s
}
