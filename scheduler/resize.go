package scheduler

import (
	"fmt"
	"strings"
	"time"
)

// Rec is the pool size asked at one tick (after bounds).
type Rec struct {
	At   time.Time `json:"at"`
	Size int       `json:"size"`
}

// recommend records the bounded size asked now and returns the size a pool
// may shrink to: the largest asked over the last ScaleDownAfter, ok only
// once the records cover that whole window (the scale-down hysteresis).
func (st *LBState) recommend(now time.Time, size int, window time.Duration) (int, bool) {
	st.Recs = append(st.Recs, Rec{At: now, Size: size})
	cut := 0
	for i, r := range st.Recs {
		if now.Sub(r.At) > window {
			cut = i // keep the newest record older than the window
		}
	}
	st.Recs = st.Recs[cut:]
	stable := 0
	for _, r := range st.Recs {
		if now.Sub(r.At) <= window {
			stable = max(stable, r.Size)
		}
	}
	return stable, now.Sub(st.Recs[0].At) >= window
}

// carrying is the number of servers whose capacity the pool's share
// counts: not the new ones of a grow still warming, nor those a shrink is
// retiring.
func (p *Pool) carrying() int {
	n := len(p.Servers)
	if r := p.Resize; r != nil {
		n = min(n, p.Size-r.Delta)
	}
	return max(n, 0)
}

// moving are the servers a resize adds or retires (the last Delta).
func (p *Pool) moving() []string {
	if p.Resize == nil {
		return nil
	}
	return p.Servers[min(len(p.Servers), max(p.Size-p.Resize.Delta, 0)):]
}

// proven are the servers that passed their checks and take traffic: all
// but the new ones of a grow not yet health-gated.
func (p *Pool) proven() []string {
	if r := p.Resize; r != nil && r.Grow && !r.Ready {
		return p.Servers[:p.carrying()]
	}
	return p.Servers
}

// wantState is the administrative state server i of the pool must have
// while the pool serves (reconcile re-applies it after a crash).
func (p *Pool) wantState(i int) ServerState {
	r := p.Resize
	switch {
	case p.Phase == Draining && !p.DrainedAt.IsZero():
		return ServerDrain
	case r == nil || i < p.Size-r.Delta:
		return ServerReady
	case r.Grow && !r.Ready:
		return ServerMaint
	case !r.Grow && !r.DrainedAt.IsZero():
		return ServerDrain
	}
	return ServerReady
}

func resizable(ph Phase) bool { return ph == WarmingUp || ph == Ready || ph == Active }

// resize runs after the pool's phase step: it advances a grow or shrink in
// progress, or starts one when the bounded plan asks for another size.
func (e *stepEnv) resize(p *Pool) (string, error) {
	switch {
	case e.blind || e.hold() || !(resizable(p.Phase) || p.Phase == CuttingOver):
		return "", nil
	case p.Resize != nil && p.Resize.Grow:
		return e.growing(p)
	case p.Resize != nil:
		return e.shrinking(p)
	case p.Phase == CuttingOver || e.missing:
		return "", nil
	case e.want > p.Size && !e.now.Before(e.st.CooldownUntil):
		p.Resize = &Resize{Grow: true, Delta: e.want - p.Size, Since: e.now}
		p.Size = e.want
		e.save()
		return e.growing(p)
	case e.stable && e.shrinkTo < p.Size && p.Phase != WarmingUp:
		p.Resize = &Resize{Delta: p.Size - e.shrinkTo, Since: e.now}
		e.save()
		return e.shrinking(p)
	}
	return "", nil
}

// growing creates the new instances, adds their servers in MAINT, sets them
// ready once every check passes and counts them in the share after a full
// warm-up under a passing gate. A failure gives up the grow, not the pool.
func (e *stepEnv) growing(p *Pool) (string, error) {
	r := p.Resize
	if !r.Ready {
		return e.growHealth(p)
	}
	if bad := unhealthy(p.moving(), e.servers, true); len(bad) > 0 {
		return e.abortGrow(p, "new servers unhealthy: "+strings.Join(bad, ", "))
	}
	if e.gate == Pass || e.gate == NoData {
		r.HealthyFor += e.dt
	}
	if r.HealthyFor < e.lb.Warmup {
		return fmt.Sprintf("grow +%d: warm-up %s of %s", r.Delta, r.HealthyFor, e.lb.Warmup), nil
	}
	e.st.recordLead(r.ReadyAt.Sub(r.Since), e.now.Sub(r.ReadyAt))
	p.Resize = nil
	if p.Phase == Active { // their share at once: the grow was timed for it
		if err := e.setShare(p, e.targetShare(p)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("grow +%d done: %d servers carry the share, %d%%", r.Delta, p.carrying(), p.Share), nil
}

func (e *stepEnv) growHealth(p *Pool) (string, error) {
	r := p.Resize
	if n := p.Size - len(p.Instances); n > 0 {
		inst, err := e.prov.Create(e.ctx, n)
		if len(inst) > 0 {
			p.Instances = append(p.Instances, inst...)
			e.save()
		}
		if err != nil {
			return e.abortGrow(p, fmt.Sprintf("create %d instances: %v", n, err))
		}
	}
	if err := e.addServers(p); err != nil {
		return e.abortGrow(p, err.Error())
	}
	listed, err := e.drv.ListServers(e.ctx, e.lb.ShadowBackend)
	if err != nil {
		return "grow: wait", fmt.Errorf("list servers of %s: %w", e.lb.ShadowBackend, err)
	}
	e.servers = listed
	if err := e.restartChecks(p, listed); err != nil {
		return "grow: wait", err
	}
	bad := unhealthy(p.moving(), listed, false)
	if len(bad) > 0 {
		if timeout := e.provisionTimeout(); e.now.Sub(r.Since) > timeout {
			return e.abortGrow(p, fmt.Sprintf("not healthy after %s: %s", timeout, strings.Join(bad, ", ")))
		}
		return fmt.Sprintf("grow +%d: wait for health: %s", r.Delta, strings.Join(bad, ", ")), nil
	}
	for _, name := range p.moving() {
		if err := e.drv.SetServerState(e.ctx, e.lb.ShadowBackend, name, ServerReady); err != nil {
			return "grow: wait", fmt.Errorf("set %s/%s ready: %w", e.lb.ShadowBackend, name, err)
		}
	}
	r.Ready, r.ReadyAt = true, e.now
	return fmt.Sprintf("grow +%d: healthy, warming", r.Delta), nil
}

// abortGrow removes what the grow added; the pool goes on at its old size.
func (e *stepEnv) abortGrow(p *Pool, why string) (string, error) {
	e.log.Warn("grow given up", "lb", e.lb.Name, "pool", p.ID, "reason", why)
	if err := e.retireMoving(p); err != nil {
		return "", fmt.Errorf("give up grow of %s: %w", p.ID, err)
	}
	e.st.LastFailure, e.st.LastFailedAt = "grow: "+why, e.now
	e.st.CooldownUntil = e.now.Add(e.set.Policy.Cooldown)
	return "grow given up: " + why, nil
}

// shrinking takes the last Delta servers out of the share, drains them
// (bounded by DrainTimeout) and retires them.
func (e *stepEnv) shrinking(p *Pool) (string, error) {
	r := p.Resize
	if r.DrainedAt.IsZero() {
		if p.Phase == Active || p.Phase == CuttingOver {
			if err := e.setShare(p, e.targetShare(p)); err != nil {
				return "", err
			}
		}
		for _, name := range p.moving() {
			if err := e.drv.SetServerState(e.ctx, e.lb.ShadowBackend, name, ServerDrain); err != nil {
				return "", fmt.Errorf("drain %s/%s: %w", e.lb.ShadowBackend, name, err)
			}
		}
		r.DrainedAt = e.now
		e.save()
	}
	// The sessions seen this tick predate the drain: wait one tick at
	// least, so the count says what the drain left.
	sessions, waited := sessionsOf(p.moving(), e.servers), e.now.Sub(r.DrainedAt)
	if waited == 0 || (sessions > 0 && waited < e.set.DrainTimeout) {
		return fmt.Sprintf("shrink -%d: draining, %d sessions after %s", r.Delta, sessions, waited), nil
	}
	if err := e.retireMoving(p); err != nil {
		return "", err
	}
	return fmt.Sprintf("shrink -%d done: %d instances, share %d%%", r.Delta, p.Size, p.Share), nil
}

// retireMoving removes the resize's servers, destroys their instances and
// ends the resize, saving as it goes.
func (e *stepEnv) retireMoving(p *Pool) error {
	keep := max(p.Size-p.Resize.Delta, 0)
	for len(p.Servers) > keep {
		name := p.Servers[len(p.Servers)-1]
		if err := e.removeServer(name); err != nil {
			e.save()
			return err
		}
		p.Servers = p.Servers[:len(p.Servers)-1]
	}
	e.save()
	if len(p.Instances) > keep {
		var ids []string
		for _, in := range p.Instances[keep:] {
			ids = append(ids, in.ID)
		}
		if err := e.prov.Destroy(e.ctx, ids); err != nil {
			return fmt.Errorf("destroy instances %s: %w", strings.Join(ids, ","), err)
		}
		p.Instances = p.Instances[:keep]
	}
	p.Size, p.Resize = keep, nil
	e.save()
	return nil
}

func sessionsOf(names []string, listed []Server) int64 {
	n := int64(0)
	for _, s := range listed {
		if contains(names, s.Name) {
			n += s.Sessions
		}
	}
	return n
}

// reconcileResize runs at start-up before the consistency check: a grow
// whose new servers never took traffic is given up (what it created may be
// half-made), so the pool resumes at its old size; any other resize
// resumes.
func (s *Scheduler) reconcileResize(e *stepEnv, p *Pool) error {
	r := p.Resize
	if r == nil || !r.Grow || r.Ready {
		return nil
	}
	s.log.Warn("reconcile: giving up an interrupted grow", "lb", p.LB, "pool", p.ID, "delta", r.Delta)
	return e.retireMoving(p)
}
