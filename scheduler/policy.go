package scheduler

import (
	"errors"
	"fmt"
	"math"
)

// bound applies every policy limit to the pool size the plan asks for and
// records each limit that clipped it in the plan's reason.
func (s *Scheduler) bound(l LBSpec, p *Plan) int { return s.boundSize(l, p, p.Deficit) }

// boundSize bounds a pool size asked (want) by every limit.
func (s *Scheduler) boundSize(l LBSpec, p *Plan, want int) int {
	pol := s.set.Policy
	clip := func(name string, limit int) {
		if want > limit {
			p.Reason.Bounds = append(p.Reason.Bounds, fmt.Sprintf("%s: %d -> %d", name, want, max(limit, 0)))
			want = max(limit, 0)
		}
	}
	if want == 0 && pol.MinPoolsPerLB > 0 {
		want = max(1, l.MinInstances)
		p.Reason.Bounds = append(p.Reason.Bounds, fmt.Sprintf("min_pools_per_lb %d: 0 -> %d", pol.MinPoolsPerLB, want))
	}
	if want > 0 && want < l.MinInstances {
		p.Reason.Bounds = append(p.Reason.Bounds, fmt.Sprintf("min_instances: %d -> %d", want, l.MinInstances))
		want = l.MinInstances
	}
	p.Reason.Want = want
	if pol.MaxPoolsPerLB < 1 {
		clip("max_pools_per_lb 0", 0)
	}
	clip("max_instances", l.MaxInstances)
	// The bounds cap the whole pool (it may be growing): room is what
	// the other load balancers' pools leave.
	live, cost := s.liveInstances(l.Name)
	clip(fmt.Sprintf("max_prewarmed %d (other pools %d)", pol.MaxPrewarmed, live), pol.MaxPrewarmed-live)
	if price := s.price(l); pol.MaxCostPerHour > 0 && price > 0 {
		room := int(math.Floor((pol.MaxCostPerHour - cost + 1e-9) / price))
		clip(fmt.Sprintf("max_cost_per_hour %.2f (other pools %.2f, %.2f each)", pol.MaxCostPerHour, cost, price), room)
	}
	return want
}

// liveInstances counts the instances of every pool but except's (asked
// for, so a pool still provisioning counts) and their cost per hour.
func (s *Scheduler) liveInstances(except string) (n int, cost float64) {
	for _, l := range s.set.LBs {
		st := s.state.LBs[l.Name]
		if st == nil || st.Pool == nil || l.Name == except {
			continue
		}
		size := max(st.Pool.Size, len(st.Pool.Instances))
		n += size
		cost += float64(size) * s.price(l)
	}
	return n, cost
}

func (s *Scheduler) price(l LBSpec) float64 {
	if p := s.deps.Providers[l.Provider]; p != nil {
		return p.PricePerHour()
	}
	return 0
}

func joinErrs(errs []error) error { return errors.Join(errs...) }
