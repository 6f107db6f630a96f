package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// errDryRun is what a dry-run provider answers to Create: reconcile never
// creates, and nothing in dry-run may.
var errDryRun = errors.New("dry-run: not acting")

// wouldLog collects what a dry run would have changed, in order.
// It also remembers what it pretended to remove, so later reads in the same
// reconcile see the world as a real run would have left it.
type wouldLog struct {
	mu      sync.Mutex
	acts    []string
	gone    map[string]bool // "backend/server" and instance IDs
	shareOf map[string]int  // lb → share set
}

func newWouldLog() *wouldLog {
	return &wouldLog{gone: map[string]bool{}, shareOf: map[string]int{}}
}

func (w *wouldLog) remove(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gone[key] = true
}

func (w *wouldLog) removed(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone[key]
}

// share records lb's new share and says whether it differs from the last one.
func (w *wouldLog) share(lb string, pct int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, ok := w.shareOf[lb]
	w.shareOf[lb] = pct
	return !ok || old != pct
}

func (w *wouldLog) add(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acts = append(w.acts, "would "+fmt.Sprintf(format, args...))
}

// since returns the actions recorded after the first n.
func (w *wouldLog) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.acts[n:]...)
}

func (w *wouldLog) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acts)
}

// dryDriver reads through to the real driver and records every change
// instead of making it.
type dryDriver struct {
	Driver
	w *wouldLog
}

func (d dryDriver) ListServers(ctx context.Context, backend string) ([]Server, error) {
	all, err := d.Driver.ListServers(ctx, backend)
	var out []Server
	for _, sv := range all {
		if !d.w.removed(backend + "/" + sv.Name) {
			out = append(out, sv)
		}
	}
	return out, err
}

func (d dryDriver) AddServer(_ context.Context, backend string, s ServerSpec) error {
	d.w.add("add server %s/%s at %s", backend, s.Name, s.Addr)
	return nil
}

func (d dryDriver) EnableHealth(_ context.Context, backend, server string) error {
	d.w.add("enable health checks of %s/%s", backend, server)
	return nil
}

func (d dryDriver) SetServerState(_ context.Context, backend, server string, st ServerState) error {
	if st == ServerMaint {
		return nil // only ever the first half of a removal, recorded there
	}
	d.w.add("set %s/%s %s", backend, server, st)
	return nil
}

func (d dryDriver) RemoveServer(_ context.Context, backend, server string) error {
	if !d.w.removed(backend + "/" + server) {
		d.w.add("remove server %s/%s", backend, server)
		d.w.remove(backend + "/" + server)
	}
	return nil
}

func (d dryDriver) SetShare(_ context.Context, lb string, pct int) error {
	if d.w.share(lb, pct) {
		d.w.add("set the shadow share of %s to %d%%", lb, pct)
	}
	return nil
}

// dryProvider lists through to the real provider and records destroys.
type dryProvider struct {
	Provider
	name string
	w    *wouldLog
}

func (p dryProvider) Create(context.Context, int) ([]Instance, error) { return nil, errDryRun }

func (p dryProvider) List(ctx context.Context) ([]Instance, error) {
	all, err := p.Provider.List(ctx)
	var out []Instance
	for _, in := range all {
		if !p.w.removed(p.name + ":" + in.ID) {
			out = append(out, in)
		}
	}
	return out, err
}

func (p dryProvider) Destroy(_ context.Context, ids []string) error {
	p.w.add("destroy instances %s of provider %s", strings.Join(ids, ","), p.name)
	for _, id := range ids {
		p.w.remove(p.name + ":" + id)
	}
	return nil
}

// actors are the driver and providers reconcile acts through: the real
// ones, or in dry-run recorders in front of them.
type actors struct {
	drv   Driver
	provs map[string]Provider
	would *wouldLog // nil unless dry-run
}

func (s *Scheduler) actors() actors {
	if !s.set.DryRun {
		return actors{drv: s.deps.Driver, provs: s.deps.Providers}
	}
	w := newWouldLog()
	a := actors{drv: dryDriver{Driver: s.deps.Driver, w: w}, provs: map[string]Provider{}, would: w}
	for name, p := range s.deps.Providers {
		a.provs[name] = dryProvider{Provider: p, name: name, w: w}
	}
	return a
}

// reportDryRun logs and publishes what a real reconcile would have done;
// per LB in its decision, all of it in Status.Reconcile.
func (s *Scheduler) reportDryRun(now time.Time, perLB map[string][]string, all []string, err error) {
	obs, plans := map[string]*observation{}, map[string]*Plan{}
	for _, l := range s.set.LBs {
		obs[l.Name] = &observation{}
		d := "dry-run reconcile: nothing to change"
		if acts := perLB[l.Name]; len(acts) > 0 {
			d = "dry-run reconcile: " + strings.Join(acts, "; ")
		}
		plans[l.Name] = &Plan{LB: l.Name, At: now, Decision: d}
	}
	s.log.Info("dry-run reconcile: changed nothing", "would", all)
	s.record(now, obs, plans, nil, []error{err})
	s.updateStatus(func(st *Status) { st.Ticks--; st.Reconcile = all })
}

func (a actors) len() int {
	if a.would == nil {
		return 0
	}
	return a.would.len()
}

func (a actors) since(n int) []string {
	if a.would == nil {
		return nil
	}
	return a.would.since(n)
}
