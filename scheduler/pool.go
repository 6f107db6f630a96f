package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// stepEnv is everything one pool step may use: the tick's time and
// observations, the driver and provider to act through, and save to persist
// right after an irreversible call. It never reads the wall clock.
type stepEnv struct {
	ctx     context.Context
	now     time.Time
	dt      time.Duration // since the previous tick
	set     *Settings
	lb      LBSpec
	st      *LBState
	drv     Driver
	prov    Provider
	plan    Plan
	low     bool // the forecast has stayed below primary capacity for ScaleDownAfter
	missing bool // metrics or forecast missing: never scale down
	blind   bool // the driver could not be read this tick: hold
	servers []Server
	gate    Verdict
	gateWhy string
	// primary and shadow are the tick's traffic of both backends.
	primary, shadow Rates
	// want is the bounded pool size the plan asks now; shrinkTo the
	// largest asked over the scale-down window, stable once the records
	// cover it.
	want     int
	shrinkTo int
	stable   bool
	save     func()
	log      *slog.Logger
}

// step advances the pool by one step and says what it did.
func (e *stepEnv) step(p *Pool) (string, error) {
	if e.blind && p.Phase != RollingBack && p.Phase != Retired {
		return "hold: load balancer unreadable", nil
	}
	switch p.Phase {
	case Provisioning:
		return e.provisioning(p)
	case WarmingUp:
		return e.warmingUp(p)
	case Ready:
		return e.ready(p)
	case CuttingOver:
		return e.cuttingOver(p)
	case Active:
		return e.active(p)
	case Draining:
		return e.draining(p)
	case Retired:
		return e.retire(p)
	case RollingBack:
		return e.rollback(p)
	}
	return "", fmt.Errorf("pool %s: unknown phase %q", p.ID, p.Phase)
}

func (e *stepEnv) hold() bool { return e.set.KillSwitch }

func (e *stepEnv) provisioning(p *Pool) (string, error) {
	if len(p.Instances) == 0 {
		inst, err := e.prov.Create(e.ctx, p.Size)
		if len(inst) > 0 {
			p.Instances = inst
			e.save()
		}
		if err != nil {
			return e.startRollback(p, fmt.Sprintf("create %d instances: %v", p.Size, err))
		}
	}
	if err := e.addServers(p); err != nil {
		return e.startRollback(p, err.Error())
	}
	listed, err := e.drv.ListServers(e.ctx, e.lb.ShadowBackend)
	if err != nil {
		return "wait", fmt.Errorf("list servers of %s: %w", e.lb.ShadowBackend, err)
	}
	e.servers = listed
	if err := e.restartChecks(p, listed); err != nil {
		return "wait", err
	}
	bad := unhealthy(p.Servers, listed, false)
	timeout := e.provisionTimeout()
	switch {
	case len(bad) == 0 && !e.hold():
		return e.startWarmup(p)
	case e.now.Sub(p.Since) > timeout:
		return e.startRollback(p, fmt.Sprintf("provisioning: not healthy after %s: %s", timeout, strings.Join(bad, ", ")))
	}
	return "wait for health: " + strings.Join(bad, ", "), nil
}

func (e *stepEnv) provisionTimeout() time.Duration {
	if e.set.ProvisionTimeout > 0 {
		return e.set.ProvisionTimeout
	}
	return 2*e.prov.BootTime() + 2*e.set.Tick
}

// restartChecks starts the checks of pool servers that show no check at all
// (a crash came between adding a server and starting its checks).
func (e *stepEnv) restartChecks(p *Pool, listed []Server) error {
	for _, s := range listed {
		if s.Check == "" && slices.Contains(p.Servers, s.Name) {
			if err := e.drv.EnableHealth(e.ctx, e.lb.ShadowBackend, s.Name); err != nil {
				return fmt.Errorf("enable health of %s/%s: %w", e.lb.ShadowBackend, s.Name, err)
			}
		}
	}
	return nil
}

// addServers adds one MAINT server per instance. The name is persisted
// before the call, so a crash in between leaves a name cleanup can remove
// (ErrNotFound counts as removed), never an unknown server.
func (e *stepEnv) addServers(p *Pool) error {
	for i, inst := range p.Instances {
		if i < len(p.Servers) {
			continue
		}
		name := p.nextName()
		p.Servers = append(p.Servers, name)
		e.save()
		if err := e.drv.AddServer(e.ctx, e.lb.ShadowBackend, ServerSpec{Name: name, Addr: inst.Addr}); err != nil {
			return fmt.Errorf("add server %s/%s at %s: %w", e.lb.ShadowBackend, name, inst.Addr, err)
		}
	}
	return nil
}

// startWarmup sets the servers ready and the warm-up share, and only then
// records WarmingUp: a failed call leaves the pool in Provisioning, retried
// next tick, never a persisted phase the load balancer does not have.
func (e *stepEnv) startWarmup(p *Pool) (string, error) {
	for _, name := range p.Servers {
		if err := e.drv.SetServerState(e.ctx, e.lb.ShadowBackend, name, ServerReady); err != nil {
			return "", fmt.Errorf("set %s/%s ready: %w", e.lb.ShadowBackend, name, err)
		}
	}
	// The phase is recorded only once the share is applied: the persisted
	// state never runs ahead of HAProxy.
	if err := e.setShare(p, e.set.Policy.WarmupShareInitial); err != nil {
		return "", err
	}
	p.enter(WarmingUp, e.now)
	p.HealthyFor, p.HealthyAt = 0, e.now
	return fmt.Sprintf("healthy: warm-up at %d%%", p.Share), nil
}

// setShare changes the LB's shadow share (only when it differs).
func (e *stepEnv) setShare(p *Pool, pct int) error {
	if pct == p.Share {
		return nil
	}
	if err := e.drv.SetShare(e.ctx, e.lb.Name, pct); err != nil {
		return fmt.Errorf("set share of %s to %d%%: %w", e.lb.Name, pct, err)
	}
	p.Share = pct
	return nil
}

// failing is the reason to roll back a serving pool, or "".
func (e *stepEnv) failing(p *Pool) string {
	if bad := unhealthy(p.proven(), e.servers, true); len(bad) > 0 {
		return "servers unhealthy: " + strings.Join(bad, ", ")
	}
	if e.gate == Fail && !e.overloaded(p) {
		return "health gate failed: " + e.gateWhy
	}
	return ""
}

// overloaded: a pool carrying its capacity share fails no more than the
// primary does: the whole load balancer is short of capacity, and rolling
// the pool back would only send its traffic to an already failing primary.
func (e *stepEnv) overloaded(p *Pool) bool {
	if p.Phase != Active && p.Phase != CuttingOver || !e.primary.Valid {
		return false
	}
	return e.shadow.ErrRate <= e.primary.ErrRate+e.set.Gate.withDefaults().ErrRateSlack
}

func (e *stepEnv) warmingUp(p *Pool) (string, error) {
	if why := e.failing(p); why != "" {
		return e.startRollback(p, "warm-up: "+why)
	}
	pol, share := e.set.Policy, p.Share
	switch e.gate {
	case Worse:
		p.GateFailures++
		if p.GateFailures >= e.set.MaxGateFailures {
			return e.startRollback(p, fmt.Sprintf("warm-up: gate worse %d times: %s", p.GateFailures, e.gateWhy))
		}
		share = max(share-1, pol.WarmupShareMin)
	case Pass, NoData:
		// Too little traffic to judge still counts as healthy warm-up
		// (the checks pass), so a quiet LB can finish warming.
		p.GateFailures = 0
		p.HealthyFor += e.dt
		if e.gate == Pass && !e.hold() {
			share = min(share+1, pol.WarmupShareMax)
		}
	}
	warm := p.HealthyFor >= e.lb.Warmup && !e.hold()
	if warm {
		share = pol.WarmupShareMin
	}
	if err := e.setShare(p, share); err != nil {
		return "", err
	}
	if warm { // recorded only once its share is applied
		if !p.HealthyAt.IsZero() {
			e.st.recordLead(p.HealthyAt.Sub(p.Created), e.now.Sub(p.HealthyAt))
		}
		p.enter(Ready, e.now)
	}
	return fmt.Sprintf("warm-up %s: share %d%%, healthy %s of %s", e.gate, p.Share, p.HealthyFor, e.lb.Warmup), nil
}

func (e *stepEnv) ready(p *Pool) (string, error) {
	if why := e.failing(p); why != "" {
		return e.startRollback(p, "ready: "+why)
	}
	switch {
	case e.hold():
		return "hold (kill switch)", nil
	case e.plan.NeedsCutover() && p.warmingGrow():
		// The grow's servers take part of the shadow share while still
		// cold: cutting over now would send them a growing share.
		if err := e.setShare(p, e.set.Policy.WarmupShareMin); err != nil {
			return "", err
		}
		return "cutover " + e.growWait(p), nil
	case e.plan.NeedsCutover():
		p.enter(CuttingOver, e.now)
		p.From, p.Target = p.Share, e.targetShare(p)
		return e.cuttingOver(p)
	case e.low && e.poolsAboveMin():
		p.enter(Draining, e.now)
		p.From, p.Target = p.Share, 0
		return e.draining(p)
	}
	if err := e.setShare(p, e.set.Policy.WarmupShareMin); err != nil {
		return "", err
	}
	return fmt.Sprintf("keep warm at %d%%", p.Share), nil
}

// warmingGrow: a grow's new servers are in rotation but not yet warm.
func (p *Pool) warmingGrow() bool { return p.Resize != nil && p.Resize.Grow && p.Resize.Ready }

// growWait says what a cutover waits for while warmingGrow.
func (e *stepEnv) growWait(p *Pool) string {
	return fmt.Sprintf("waits for grow +%d to warm (%s of %s)", p.Resize.Delta, p.Resize.HealthyFor, e.lb.Warmup)
}

// targetShare is the pool's capacity-proportional share:
// shadow / (primary + shadow), all instances of equal capacity, counting
// only the shadow servers that carry a share (not those a resize moves).
func (e *stepEnv) targetShare(p *Pool) int {
	shadow, primary := p.carrying(), e.plan.Current
	if shadow+primary == 0 {
		return 0
	}
	return (100*shadow + (shadow+primary)/2) / (shadow + primary)
}

func (e *stepEnv) poolsAboveMin() bool { return e.set.Policy.MinPoolsPerLB < 1 }
