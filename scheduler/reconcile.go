package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reconcile loads the persisted state and makes it agree with what the
// driver and the providers report, before the first tick: a pool whose
// servers and instances all exist resumes (its share and server states are
// re-applied); an inconsistent one (e.g. cut short mid-provisioning) is
// rolled back; servers with the scheduler's prefix that no pool owns are
// removed (after the LB's share is set to 0) and instances no pool owns are
// destroyed. It returns an error when any of that could not be done; it is
// safe to call again.
//
// In dry-run it changes nothing anywhere (HAProxy, providers, the state
// file): it works on a copy of the state through recorders and reports
// what a real run would do, in the log and in Status.Reconcile.
func (s *Scheduler) Reconcile(ctx context.Context, now time.Time) error {
	s.loaded = false
	if err := s.load(ctx); err != nil {
		return err
	}
	a, kept := s.actors(), s.state.clone()
	perLB := map[string][]string{}
	var errs []error
	for _, l := range append(s.set.LBs, s.unconfigured()...) {
		n := a.len()
		if err := s.reconcileLB(ctx, now, l, a); err != nil {
			errs = append(errs, fmt.Errorf("reconcile lb %s: %w", l.Name, err))
		}
		perLB[l.Name] = a.since(n)
	}
	if err := s.destroyOrphanInstances(ctx, a.provs); err != nil {
		errs = append(errs, err)
	}
	if a.would != nil {
		s.state = kept
		err := errors.Join(errs...)
		s.reportDryRun(now, perLB, a.would.since(0), err)
		return err
	}
	if err := s.save(ctx); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	s.publishState(now, err)
	return err
}

func (s *Scheduler) reconcileLB(ctx context.Context, now time.Time, l LBSpec, a actors) error {
	listed, err := a.drv.ListServers(ctx, l.ShadowBackend)
	if err != nil {
		return fmt.Errorf("list servers of %s: %w", l.ShadowBackend, err)
	}
	st := s.state.lb(l.Name)
	var errs []error
	save := s.saver(ctx, &errs)
	if a.would != nil {
		save = func() {}
	}
	env := &stepEnv{ctx: ctx, now: now, dt: s.set.Tick, set: &s.set, lb: l, st: st, drv: a.drv,
		prov: a.provs[l.Provider], servers: listed, save: save, log: s.log, gate: NoData}
	owned := map[string]bool{}
	if p := st.Pool; p != nil {
		for _, n := range p.Servers {
			owned[n] = true
		}
		if err := s.resumeOrRollback(env, p, listed); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.removeOrphanServers(env, listed, owned); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// unconfigured are LBs the state holds a pool for but the settings no longer
// name: their pools are rolled back (never orphaned), through the backend
// and provider the pool recorded.
func (s *Scheduler) unconfigured() []LBSpec {
	var out []LBSpec
	for name, st := range s.state.LBs {
		if st.Pool == nil || s.spec(name) != nil {
			continue
		}
		p := st.Pool
		if s.deps.Providers[p.Provider] == nil || p.Backend == "" {
			s.log.Error("reconcile: pool of an unconfigured LB cannot be cleaned up", "lb", name, "pool", p.ID, "provider", p.Provider)
			continue
		}
		if p.Phase != RollingBack {
			p.enter(RollingBack, p.Since)
			p.Reason = "reconcile: load balancer no longer configured"
		}
		out = append(out, LBSpec{Name: name, ShadowBackend: p.Backend, Provider: p.Provider})
	}
	return out
}

func (s *Scheduler) spec(name string) *LBSpec {
	for i := range s.set.LBs {
		if s.set.LBs[i].Name == name {
			return &s.set.LBs[i]
		}
	}
	return nil
}

// resumeOrRollback checks one pool against the live servers and instances.
func (s *Scheduler) resumeOrRollback(e *stepEnv, p *Pool, listed []Server) error {
	if p.Phase == RollingBack || p.Phase == Retired {
		_, err := e.step(p) // finish the teardown
		return err
	}
	if err := s.reconcileResize(e, p); err != nil {
		return err
	}
	why, err := s.inconsistent(e, p, listed)
	if err != nil {
		return err
	}
	if why != "" {
		s.log.Warn(s.would("reconcile: rolling back"), "lb", p.LB, "pool", p.ID, "phase", p.Phase, "why", why)
		_, err := e.startRollback(p, "reconcile: "+why)
		return err
	}
	s.log.Info(s.would("reconcile: resuming"), "lb", p.LB, "pool", p.ID, "phase", p.Phase, "share", p.Share)
	return s.reapply(e, p, listed)
}

// inconsistent says why a pool cannot resume, or "".
func (s *Scheduler) inconsistent(e *stepEnv, p *Pool, listed []Server) (string, error) {
	if p.Phase == Provisioning && (len(p.Instances) < p.Size || len(p.Servers) < len(p.Instances)) {
		return fmt.Sprintf("interrupted mid-provisioning (%d/%d instances, %d servers)", len(p.Instances), p.Size, len(p.Servers)), nil
	}
	var missing []string
	present := map[string]bool{}
	for _, sv := range listed {
		present[sv.Name] = true
	}
	leaving := map[string]bool{} // a shrink may have removed them already
	if p.Resize != nil && !p.Resize.Grow {
		for _, n := range p.moving() {
			leaving[n] = true
		}
	}
	for _, n := range p.Servers {
		if !present[n] && !leaving[n] {
			missing = append(missing, "server "+n)
		}
	}
	insts, err := e.prov.List(e.ctx)
	if err != nil {
		return "", fmt.Errorf("list instances of %s: %w", p.Provider, err)
	}
	have := map[string]bool{}
	for _, in := range insts {
		have[in.ID] = true
	}
	for i, in := range p.Instances {
		if !have[in.ID] && !(i < len(p.Servers) && leaving[p.Servers[i]]) {
			missing = append(missing, "instance "+in.ID)
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", "), nil
	}
	return "", nil
}

// reapply sets the live share and server states to what the state says:
// a crash may have landed between a change and its save.
func (s *Scheduler) reapply(e *stepEnv, p *Pool, listed []Server) error {
	if p.Phase == Provisioning {
		return nil
	}
	for _, sv := range listed {
		i := slices.Index(p.Servers, sv.Name)
		if want := p.wantState(i); i >= 0 && sv.State != want {
			if err := e.drv.SetServerState(e.ctx, e.lb.ShadowBackend, sv.Name, want); err != nil {
				return fmt.Errorf("resume %s: set %s %s: %w", p.ID, sv.Name, want, err)
			}
		}
	}
	if err := e.drv.SetShare(e.ctx, e.lb.Name, p.Share); err != nil {
		return fmt.Errorf("resume %s: share %d%%: %w", p.ID, p.Share, err)
	}
	return nil
}

// removeOrphanServers removes prefixed servers no pool owns; with no pool
// left the share goes to 0 first so no request meets a vanishing server.
func (s *Scheduler) removeOrphanServers(e *stepEnv, listed []Server, owned map[string]bool) error {
	var orphans []string
	for _, sv := range listed {
		if strings.HasPrefix(sv.Name, ServerPrefix) && !owned[sv.Name] {
			orphans = append(orphans, sv.Name)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	if e.st.Pool == nil {
		if err := e.drv.SetShare(e.ctx, e.lb.Name, 0); err != nil {
			return fmt.Errorf("orphans: share to 0: %w", err)
		}
	}
	var errs []error
	for _, n := range orphans {
		s.log.Warn(s.would("reconcile: removing orphan server"), "lb", e.lb.Name, "server", n)
		if err := e.removeServer(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// destroyOrphanInstances destroys every instance a provider reports that no
// pool owns (e.g. created just before a crash, never saved).
func (s *Scheduler) destroyOrphanInstances(ctx context.Context, provs map[string]Provider) error {
	owned := map[string]bool{}
	for _, st := range s.state.LBs {
		if st.Pool != nil {
			for _, in := range st.Pool.Instances {
				owned[in.ID] = true
			}
		}
	}
	var errs []error
	for _, name := range s.providerNames() {
		prov := provs[name]
		insts, err := prov.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list instances of %s: %w", name, err))
			continue
		}
		var ids []string
		for _, in := range insts {
			if !owned[in.ID] {
				ids = append(ids, in.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		s.log.Warn(s.would("reconcile: destroying orphan instances"), "provider", name, "ids", ids)
		if err := prov.Destroy(ctx, ids); err != nil {
			errs = append(errs, fmt.Errorf("destroy orphan instances of %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// providerNames are the providers the LBs use, each once, in LB order.
func (s *Scheduler) providerNames() []string {
	var names []string
	for _, l := range s.set.LBs {
		if !contains(names, l.Provider) {
			names = append(names, l.Provider)
		}
	}
	return names
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// would marks a log message as what a dry run only would do.
func (s *Scheduler) would(msg string) string {
	if s.set.DryRun {
		return "dry-run (would not act): " + msg
	}
	return msg
}
