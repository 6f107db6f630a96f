package scheduler

import (
	"fmt"
	"slices"
	"time"
)

// Lead is one measured lead time of this LB's instances: Boot from the
// provider's create to the health checks passing, Warmup from then to
// carrying a full share.
type Lead struct {
	Boot   time.Duration `json:"boot"`
	Warmup time.Duration `json:"warmup"`
}

const (
	keepLeads = 20 // measurements kept per LB
	minLeads  = 3  // before they replace the configured times
)

func (st *LBState) recordLead(boot, warmup time.Duration) {
	if boot < 0 || warmup < 0 {
		return
	}
	st.Leads = append(st.Leads, Lead{Boot: boot, Warmup: warmup})
	if len(st.Leads) > keepLeads {
		st.Leads = st.Leads[len(st.Leads)-keepLeads:]
	}
}

// learnedLead is a high percentile (p90) of the measured boot and warm-up
// times, ok once there are minLeads of them: a slow boot is what the look-
// ahead must cover, not the typical one.
func learnedLead(leads []Lead) (boot, warmup time.Duration, ok bool) {
	if len(leads) < minLeads {
		return 0, 0, false
	}
	b, w := make([]time.Duration, len(leads)), make([]time.Duration, len(leads))
	for i, l := range leads {
		b[i], w[i] = l.Boot, l.Warmup
	}
	slices.Sort(b)
	slices.Sort(w)
	p90 := func(xs []time.Duration) time.Duration {
		return xs[min(len(xs)-1, (9*len(xs)+9)/10-1)]
	}
	return p90(b), p90(w), true
}

// provisionLead is how far ahead a new pool is planned: boot + warm-up +
// the cutover, plus one tick because health is only seen at a tick. Boot
// and warm-up are the measured ones once there are enough measurements.
func (s *Scheduler) provisionLead(l LBSpec, st *LBState) (time.Duration, string) {
	boot, warm := time.Duration(0), l.Warmup
	if p := s.deps.Providers[l.Provider]; p != nil {
		boot = p.BootTime()
	}
	src := fmt.Sprintf("configured: boot %s, warm-up %s", boot, warm)
	if b, w, ok := learnedLead(st.Leads); ok {
		boot, warm = b, w
		src = fmt.Sprintf("learned: boot %s, warm-up %s (p90 of %d)", b, w, len(st.Leads))
	}
	return boot + warm + s.cutoverLead() + s.set.Tick, src
}
