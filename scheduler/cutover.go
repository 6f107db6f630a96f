package scheduler

import (
	"errors"
	"fmt"
	"strings"
)

// cuttingOver moves the share one configured step toward the target; any
// failing or worse gate rolls back.
func (e *stepEnv) cuttingOver(p *Pool) (string, error) {
	if why := e.failing(p); why != "" {
		return e.startRollback(p, "cutover: "+why)
	}
	if e.gate == Worse {
		return e.startRollback(p, "cutover: health gate worse: "+e.gateWhy)
	}
	if e.hold() {
		return "hold (kill switch)", nil
	}
	if p.warmingGrow() { // as in Ready: no larger share while some servers are cold
		return fmt.Sprintf("cutover step %d %s", p.Step+1, e.growWait(p)), nil
	}
	steps := e.set.Policy.CutoverSteps
	share := p.From + (p.Target-p.From)*steps[p.Step]/100
	if err := e.setShare(p, share); err != nil {
		return "", err
	}
	p.Step++
	msg := fmt.Sprintf("cutover step %d/%d: share %d%% (target %d%%)", p.Step, len(steps), p.Share, p.Target)
	if p.Step >= len(steps) {
		p.enter(Active, e.now)
	}
	return msg, nil
}

// active serves the capacity-proportional share until the peak is over.
func (e *stepEnv) active(p *Pool) (string, error) {
	if why := e.failing(p); why != "" {
		return e.startRollback(p, "active: "+why)
	}
	if e.hold() {
		return "hold (kill switch)", nil
	}
	if e.low {
		p.enter(Draining, e.now)
		p.From, p.Target = p.Share, 0
		if !e.poolsAboveMin() {
			p.Target = e.set.Policy.WarmupShareMin
		}
		return e.draining(p)
	}
	if err := e.setShare(p, e.targetShare(p)); err != nil {
		return "", err
	}
	return fmt.Sprintf("active at %d%%", p.Share), nil
}

// draining steps the share down (the cutover steps in reverse), then sets
// the servers to drain and waits, bounded, for their sessions to end.
func (e *stepEnv) draining(p *Pool) (string, error) {
	switch {
	case e.missing:
		return "hold: metrics or forecast missing", nil
	case e.hold():
		return "hold (kill switch)", nil
	case p.Share > 0 && e.plan.NeedsCutover():
		p.enter(CuttingOver, e.now)
		p.From, p.Target = p.Share, e.targetShare(p)
		return e.cuttingOver(p)
	}
	if p.Share > p.Target {
		steps := e.set.Policy.CutoverSteps
		share := p.From - (p.From-p.Target)*steps[min(p.Step, len(steps)-1)]/100
		if err := e.setShare(p, share); err != nil {
			return "", err
		}
		p.Step++
		return fmt.Sprintf("drain step %d/%d: share %d%%", p.Step, len(steps), p.Share), nil
	}
	if p.Target > 0 {
		p.enter(Ready, e.now)
		return fmt.Sprintf("back to keep-warm at %d%%", p.Share), nil
	}
	return e.waitSessions(p)
}

func (e *stepEnv) waitSessions(p *Pool) (string, error) {
	if p.DrainedAt.IsZero() {
		for _, name := range p.Servers {
			if err := e.drv.SetServerState(e.ctx, e.lb.ShadowBackend, name, ServerDrain); err != nil && !errors.Is(err, ErrNotFound) {
				return "", fmt.Errorf("drain %s/%s: %w", e.lb.ShadowBackend, name, err)
			}
		}
		p.DrainedAt = e.now
		e.save()
	}
	sessions := int64(0)
	owned := map[string]bool{}
	for _, n := range p.Servers {
		owned[n] = true
	}
	for _, s := range e.servers {
		if owned[s.Name] {
			sessions += s.Sessions
		}
	}
	waited := e.now.Sub(p.DrainedAt)
	if sessions > 0 && waited < e.set.DrainTimeout {
		return fmt.Sprintf("draining: %d sessions left after %s", sessions, waited), nil
	}
	p.enter(Retired, e.now)
	p.Reason = fmt.Sprintf("peak over; %d sessions left after %s", sessions, waited)
	return e.retire(p)
}

// retire removes the servers, destroys the instances and closes the pool.
func (e *stepEnv) retire(p *Pool) (string, error) {
	if err := e.teardown(p); err != nil {
		return "", err
	}
	e.st.Pool = nil
	e.st.Retired++
	e.st.CooldownUntil = e.now.Add(e.set.Policy.Cooldown)
	return "retired: " + p.Reason, nil
}

// startRollback enters RollingBack and takes its first step in the same
// tick, so traffic is back on the primary within one tick of the failure.
func (e *stepEnv) startRollback(p *Pool, reason string) (string, error) {
	p.enter(RollingBack, e.now)
	p.Reason = reason
	e.log.Warn("rolling back", "lb", e.lb.Name, "pool", p.ID, "reason", reason)
	e.save()
	return e.rollback(p)
}

// rollback in Flagger's order: traffic back to the primary first, then the
// pool torn down, then the failure recorded, then a cooldown. A failed
// step stays in RollingBack and is retried next tick.
func (e *stepEnv) rollback(p *Pool) (string, error) {
	if p.Share != 0 || len(p.Servers) > 0 {
		// The share is set even when the state says 0: after a crash
		// the live map may hold a value the state never saw.
		if err := e.drv.SetShare(e.ctx, e.lb.Name, 0); err != nil {
			return "", fmt.Errorf("rollback %s: share to 0: %w", p.ID, err)
		}
		p.Share = 0
		e.save()
	}
	if err := e.teardown(p); err != nil {
		return "", fmt.Errorf("rollback %s: %w", p.ID, err)
	}
	e.st.Pool = nil
	e.st.RolledBack++
	e.st.LastFailure, e.st.LastFailedAt = p.Reason, e.now
	e.st.CooldownUntil = e.now.Add(e.set.Policy.Cooldown)
	return "rolled back: " + p.Reason, nil
}

// teardown puts each server in MAINT and removes it, then destroys the
// instances. Already-gone servers count as removed; progress is saved as
// it goes so a crash never forgets what still exists.
func (e *stepEnv) teardown(p *Pool) error {
	var left []string
	var errs []error
	for _, name := range p.Servers {
		if err := e.removeServer(name); err != nil {
			left = append(left, name)
			errs = append(errs, err)
		}
	}
	p.Servers = left
	e.save()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(p.Instances) == 0 {
		return nil
	}
	ids := make([]string, len(p.Instances))
	for i, in := range p.Instances {
		ids[i] = in.ID
	}
	if err := e.prov.Destroy(e.ctx, ids); err != nil {
		return fmt.Errorf("destroy instances %s: %w", strings.Join(ids, ","), err)
	}
	p.Instances = nil
	e.save()
	return nil
}

func (e *stepEnv) removeServer(name string) error {
	be := e.lb.ShadowBackend
	err := e.drv.SetServerState(e.ctx, be, name, ServerMaint)
	if err == nil {
		err = e.drv.RemoveServer(e.ctx, be, name)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("remove %s/%s: %w", be, name, err)
	}
	return nil
}
