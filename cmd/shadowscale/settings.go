package main

import (
	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/scheduler"
)

// schedulerSettings maps the service configuration onto the scheduler's
// settings. Events are not read here: the caller loads each LB's events
// file into LBSpec.Events.
func schedulerSettings(c config.Config) scheduler.Settings {
	s := scheduler.Settings{
		Tick: c.Service.Tick, Horizon: c.Forecast.Horizon, Quantile: c.Forecast.Quantile,
		MaxFailures: c.Forecast.MaxFailures, DryRun: c.Service.DryRun, KillSwitch: c.Service.KillSwitch,
		Policy: schedulerPolicy(c.Policy),
	}
	for _, name := range c.LBNames() {
		l := c.LBs[name]
		s.LBs = append(s.LBs, scheduler.LBSpec{
			Name: name, Backend: l.Backend, ShadowBackend: l.ShadowBackend, Provider: l.Provider,
			Capacity: l.CapacityPerInstance, MinInstances: l.MinInstances, MaxInstances: l.MaxInstances,
			Warmup: c.Providers[l.Provider].WarmupTime, TargetUtilisation: l.TargetUtilisation,
		})
	}
	if c.Policy.Mode == "reactive" {
		s = reactiveSettings(s)
	}
	return s
}

func schedulerPolicy(p config.Policy) scheduler.Policy {
	return scheduler.Policy{
		Headroom: p.Headroom, MaxPoolsPerLB: p.MaxPoolsPerLB, MinPoolsPerLB: p.MinPoolsPerLB,
		MaxPrewarmed: p.MaxPrewarmed, MaxCostPerHour: p.MaxCostPerHour, Cooldown: p.Cooldown,
		WarmupShareInitial: p.WarmupShareInitial, WarmupShareMin: p.WarmupShareMin, WarmupShareMax: p.WarmupShareMax,
		CutoverSteps: p.CutoverSteps, ScaleDownAfter: p.ScaleDownAfter,
	}
}
