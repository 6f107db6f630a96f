package sim

import (
	"context"
	"math"
	"time"
)

// needed is the fewest warm instances that serve rate within the SLO.
func (c Cluster) needed(rate float64, slo SLO) int {
	if rate <= 0 {
		return 1
	}
	n := max(1, int(math.Ceil(rate/c.Capacity)))
	for ; ; n++ {
		servers := make([]*instance, n)
		for i := range servers {
			servers[i] = &instance{warmFor: c.Warmup}
		}
		o := c.combine(rate, c.serve(servers, rate))
		if !o.violates(slo) {
			return n
		}
	}
}

// oracleTargets is, for every tick of [from, to), the largest need over
// the next lead (the instances that must already exist then), by a
// monotone deque.
func oracleTargets(need []int, lead int) []int {
	out := make([]int, len(need))
	var dq []int // indexes with decreasing need
	j := 0
	for i := range need {
		for ; j < len(need) && j <= i+lead; j++ {
			for len(dq) > 0 && need[dq[len(dq)-1]] <= need[j] {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, j)
		}
		for dq[0] < i {
			dq = dq[1:]
		}
		out[i] = need[dq[0]]
	}
	return out
}

func runOracle(ctx context.Context, e *env, t *tally) error {
	c := e.cluster
	need := make([]int, e.to-e.from)
	for k := range need {
		need[k] = c.needed(e.d.at(e.from+k), e.slo)
	}
	lead := c.Boot + c.Warmup
	target := oracleTargets(need, int(math.Ceil(float64(lead)/float64(e.d.Step))))
	var fleet []*instance
	past := e.d.Time(e.from).Add(-lead)
	for range target[0] {
		fleet = append(fleet, &instance{created: past, warmFor: c.Warmup})
	}
	for k := e.from; k < e.to; k++ {
		if err := e.tick(ctx, k); err != nil {
			return err
		}
		now, want := e.d.Time(k), target[k-e.from]
		if want != len(fleet) {
			t.actions++
		}
		for len(fleet) < want {
			fleet = append(fleet, &instance{created: now})
		}
		fleet = fleet[:want] // the newest go first
		t.add(oracleServe(c, fleet, now, e.d.at(k), lead))
	}
	return nil
}

// oracleServe serves with the instances past boot and warm-up (warmed by
// a free trickle of traffic meanwhile).
func oracleServe(c Cluster, fleet []*instance, now time.Time, rate float64, lead time.Duration) tickOut {
	var servers []*instance
	for _, in := range fleet {
		if !now.Before(in.created.Add(lead)) {
			in.warmFor = c.Warmup
			servers = append(servers, in)
		}
	}
	o := c.combine(rate, c.serve(servers, rate))
	o.ready, o.instances = c.readyCapacity(servers), len(fleet)
	return o
}
