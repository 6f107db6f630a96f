package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setAll applies "key=value" settings before the first tick.
func (sc *scenario) setAll(kvs []string) error {
	if sc.h != nil {
		return fmt.Errorf("set after the first tick")
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("setting %q: want key=value", kv)
		}
		if err := sc.setOne(k, v); err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return nil
}

func (sc *scenario) setOne(k, v string) error {
	s, l := &sc.set, &sc.set.LBs[0]
	dur := map[string]*time.Duration{"tick": &s.Tick, "horizon": &s.Horizon, "boot": &sc.boot, "warmup": &l.Warmup,
		"scale_down_after": &s.Policy.ScaleDownAfter, "cooldown": &s.Policy.Cooldown,
		"provision_timeout": &s.ProvisionTimeout, "drain_timeout": &s.DrainTimeout}
	ints := map[string]*int{"primary": &sc.prim, "max_instances": &l.MaxInstances, "min_instances": &l.MinInstances,
		"max_prewarmed": &s.Policy.MaxPrewarmed, "max_pools": &s.Policy.MaxPoolsPerLB, "min_pools": &s.Policy.MinPoolsPerLB,
		"share_initial": &s.Policy.WarmupShareInitial, "share_min": &s.Policy.WarmupShareMin,
		"share_max": &s.Policy.WarmupShareMax, "max_failures": &s.MaxFailures}
	dur["healthy_after"] = &sc.healthyAfter
	floats := map[string]*float64{"capacity": &l.Capacity, "headroom": &s.Policy.Headroom,
		"max_cost": &s.Policy.MaxCostPerHour, "price": &sc.price}
	bools := map[string]*bool{"dry_run": &s.DryRun, "kill_switch": &s.KillSwitch}
	var err error
	switch {
	case dur[k] != nil:
		*dur[k], err = time.ParseDuration(v)
	case ints[k] != nil:
		*ints[k], err = strconv.Atoi(v)
	case floats[k] != nil:
		*floats[k], err = strconv.ParseFloat(v, 64)
	case bools[k] != nil:
		*bools[k], err = strconv.ParseBool(v)
	case k == "quantile":
		s.Quantile = v
	case k == "cutover":
		s.Policy.CutoverSteps = nil
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.Atoi(p)
			if err != nil {
				return err
			}
			s.Policy.CutoverSteps = append(s.Policy.CutoverSteps, n)
		}
	default:
		return fmt.Errorf("unknown setting")
	}
	return err
}

// expect checks "key value" pairs against the status and the fakes.
func (sc *scenario) expect(w []string) error {
	if len(w)%2 != 0 {
		return fmt.Errorf("expect wants key value pairs")
	}
	h := sc.harness()
	st := h.lb()
	for i := 0; i < len(w); i += 2 {
		got, want := sc.actual(w[i], st), w[i+1]
		if got == nil {
			return fmt.Errorf("unknown expectation %q", w[i])
		}
		if ok := *got == want || (isText(w[i]) && strings.Contains(*got, want)); !ok {
			return fmt.Errorf("at %s: %s = %q, want %q\n  decision %q\n  notes %v\n  last error %v",
				h.now.Sub(t0), w[i], *got, want, st.Plan.Decision, st.Plan.Reason.Notes, h.err)
		}
	}
	return nil
}

func isText(key string) bool {
	return map[string]bool{"decision": true, "reason": true, "fallback": true, "bounds": true, "notes": true,
		"estimate": true, "lead": true, "would": true}[key]
}

func (sc *scenario) actual(key string, st LBStatus) *string {
	h := sc.harness()
	live, _ := h.prov.List(context.Background())
	v := map[string]string{
		"phase":       string(st.Phase),
		"share":       strconv.Itoa(h.drv.shares["app"]),
		"servers":     strconv.Itoa(len(h.drv.backend("app_shadow").servers)),
		"instances":   strconv.Itoa(len(live)),
		"rollbacks":   strconv.Itoa(st.RolledBack),
		"retired":     strconv.Itoa(st.Retired),
		"decision":    st.Plan.Decision,
		"reason":      st.LastFailure,
		"forecaster":  st.Forecaster,
		"fallback":    st.Fallback,
		"bounds":      strings.Join(st.Plan.Reason.Bounds, "; "),
		"capacity":    fmt.Sprintf("%g %s", st.Plan.Reason.Capacity, st.Plan.Reason.CapacitySource),
		"notes":       strings.Join(st.Plan.Reason.Notes, "; "),
		"estimate":    st.Plan.Reason.Estimate,
		"signal":      st.Plan.Reason.Signal,
		"lead":        st.Plan.Reason.Lead,
		"size":        "0",
		"carrying":    "0",
		"utilisation": "none",
		"ready":       strconv.Itoa(readyServers(h.drv.backend("app_shadow"))),
		// changes: driver changes + instances destroyed since the
		// last restart; would: what a dry-run reconcile reported.
		"changes": strconv.Itoa(len(h.drv.calls) + h.prov.destroyed),
		"saves":   strconv.Itoa(h.store.saves),
		"would":   strings.Join(h.sch.Status().Reconcile, "; "),
	}
	if u := st.Plan.Reason.Utilisation; u != nil {
		v["utilisation"] = strconv.FormatFloat(*u, 'g', -1, 64)
	}
	saved, _ := h.store.Load(context.Background())
	if p := saved.lb("app").Pool; p != nil {
		v["size"], v["carrying"] = strconv.Itoa(p.Size), strconv.Itoa(p.carrying())
		if n := len(h.drv.backend("app_shadow").servers); n != len(p.Servers) {
			v["size"] += fmt.Sprintf(" (%d servers in the load balancer, %d persisted)", n, len(p.Servers))
		}
	}
	if s, ok := v[key]; ok {
		if key == "share" && st.Share != h.drv.shares["app"] {
			s = fmt.Sprintf("%s (status says %d)", s, st.Share)
		}
		return &s
	}
	return nil
}

func readyServers(b *fakeBackend) int {
	n := 0
	for _, s := range b.servers {
		if s.State == ServerReady {
			n++
		}
	}
	return n
}
