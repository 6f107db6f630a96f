package sim

import (
	"math"
	"time"
)

// SLO is what a minute must meet not to count as a violation.
type SLO struct {
	P99          time.Duration // default 250ms
	MaxErrorRate float64       // default 0.01
}

func (s SLO) withDefaults() SLO {
	if s.P99 <= 0 {
		s.P99 = 250 * time.Millisecond
	}
	if s.MaxErrorRate <= 0 {
		s.MaxErrorRate = 0.01
	}
	return s
}

// tickOut is what the cluster did during one tick.
type tickOut struct {
	demand    float64 // requests/s
	failed    float64 // requests/s
	p99       float64 // seconds, of the served requests
	ready     float64 // requests/s the serving instances could serve
	instances int     // provisioned (booting and warming included)
}

// violates reports an SLO miss: p99 over the target or too many errors.
func (o tickOut) violates(s SLO) bool {
	if o.demand <= 0 {
		return false
	}
	return o.p99 > s.P99.Seconds() || o.failed/o.demand > s.MaxErrorRate
}

// combine is one tick of an LB whose traffic several backends served.
func (c Cluster) combine(demand float64, bts ...backendTick) tickOut {
	o := tickOut{demand: demand}
	var outs []outcome
	for _, bt := range bts {
		o.failed += bt.failed
		outs = append(outs, bt.outs...)
	}
	o.p99 = p99(outs, c.QueueTimeout.Seconds())
	return o
}

// Series is one policy's run, tick by tick, for plots.
type Series struct {
	Ready     []float64 // requests/s the serving instances could serve
	Instances []int     // provisioned
	Violated  []bool
}

// tally accumulates a policy's figures over the run.
type tally struct {
	slo        SLO
	dt         time.Duration
	violations int // ticks
	under      int // ticks
	excess     float64
	instSec    float64
	actions    int
	cutovers   int
	rollbacks  int
	peak       int
	series     Series
}

func newTally(slo SLO, dt time.Duration, n int) *tally {
	return &tally{slo: slo, dt: dt, series: Series{Ready: make([]float64, 0, n), Instances: make([]int, 0, n),
		Violated: make([]bool, 0, n)}}
}

func (t *tally) add(o tickOut) {
	v := o.violates(t.slo)
	if v {
		t.violations++
	}
	if o.demand > o.ready*(1+1e-9) {
		t.under++
	}
	t.excess += o.failed * t.dt.Seconds()
	t.instSec += float64(o.instances) * t.dt.Seconds()
	t.peak = max(t.peak, o.instances)
	t.series.Ready = append(t.series.Ready, o.ready)
	t.series.Instances = append(t.series.Instances, o.instances)
	t.series.Violated = append(t.series.Violated, v)
}

func (t *tally) result(policy string, price float64) Result {
	min := t.dt.Minutes()
	return Result{
		Policy: policy, SLOViolationMinutes: float64(t.violations) * min, UnderprovisionedMinutes: float64(t.under) * min,
		ExcessRequests: math.Round(t.excess), InstanceHours: t.instSec / 3600, Cost: t.instSec / 3600 * price,
		Actions: t.actions, Cutovers: t.cutovers, Rollbacks: t.rollbacks, PeakInstances: t.peak, Series: t.series,
	}
}
