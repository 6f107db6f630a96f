package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shadowscale/shadowscale/scheduler"
)

// cloud is the predictive policy's world behind the scheduler's interfaces:
// one HAProxy with a primary backend of fixed, warm instances and a shadow
// backend, and the provider that creates the shadow pool's instances.
type cloud struct {
	c       Cluster
	now     time.Time
	lb      string
	primary string
	shadow  string

	slowStart      time.Duration // the shadow servers' weight ramp once set ready
	primaryServers []*instance
	instances      map[string]*instance // provider's live instances by ID
	servers        []*server            // the shadow backend
	share          int
	seq            int
	mutations      int // state-changing calls since the last reset

	stats map[string]*scheduler.BackendStats // cumulative, by backend
	accs  map[string]*[2]float64             // requests and errors, unrounded
}

// server is one server of the shadow backend.
type server struct {
	name  string
	addr  string
	state scheduler.ServerState
	inst  *instance
	sess  int64
	since time.Time // set ready at: its slowstart began
}

func newCloud(c Cluster, l scheduler.LBSpec, primary int, slowStart time.Duration) *cloud {
	cl := &cloud{c: c, slowStart: slowStart, lb: l.Name, primary: l.Backend, shadow: l.ShadowBackend,
		instances: map[string]*instance{}, stats: map[string]*scheduler.BackendStats{}}
	for i := range primary {
		cl.primaryServers = append(cl.primaryServers, &instance{id: fmt.Sprintf("primary-%d", i), warmFor: c.Warmup})
	}
	cl.stats[l.Backend] = &scheduler.BackendStats{Serving: primary}
	cl.stats[l.ShadowBackend] = &scheduler.BackendStats{}
	return cl
}

// --- scheduler.Provider ---

func (cl *cloud) Create(ctx context.Context, n int) ([]scheduler.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cl.mutations++
	out := make([]scheduler.Instance, 0, n)
	for range n {
		cl.seq++
		id := fmt.Sprintf("sim-%d", cl.seq)
		cl.instances[id] = &instance{id: id, created: cl.now}
		out = append(out, scheduler.Instance{ID: id, Addr: addrOf(id)})
	}
	return out, nil
}

func addrOf(id string) string { return id + ":80" }

func (cl *cloud) Destroy(_ context.Context, ids []string) error {
	cl.mutations++
	for _, id := range ids {
		delete(cl.instances, id)
	}
	return nil
}

func (cl *cloud) List(context.Context) ([]scheduler.Instance, error) {
	var out []scheduler.Instance
	for id := range cl.instances {
		out = append(out, scheduler.Instance{ID: id, Addr: addrOf(id)})
	}
	slices.SortFunc(out, func(a, b scheduler.Instance) int { return compareStrings(a.ID, b.ID) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (cl *cloud) PricePerHour() float64   { return cl.c.PricePerHour }
func (cl *cloud) BootTime() time.Duration { return cl.c.Boot }

// --- scheduler.Driver ---

func (cl *cloud) ListServers(_ context.Context, backend string) ([]scheduler.Server, error) {
	if backend == cl.primary {
		out := make([]scheduler.Server, len(cl.primaryServers))
		for i, in := range cl.primaryServers {
			out[i] = scheduler.Server{Name: in.id, State: scheduler.ServerReady, Healthy: true, Check: "L7OK"}
		}
		return out, nil
	}
	if backend != cl.shadow {
		return nil, fmt.Errorf("backend %s: %w", backend, scheduler.ErrNotFound)
	}
	out := make([]scheduler.Server, 0, len(cl.servers))
	for _, s := range cl.servers {
		healthy := s.inst != nil && cl.c.up(s.inst, cl.now)
		check := "L7OK"
		if !healthy {
			check = "L4CON"
		}
		out = append(out, scheduler.Server{Name: s.name, Addr: s.addr, State: s.state, Healthy: healthy,
			Check: check, Sessions: s.sess})
	}
	return out, nil
}

func (cl *cloud) find(backend, name string) (int, error) {
	if backend != cl.shadow {
		return -1, fmt.Errorf("backend %s: the scheduler only changes the shadow backend: %w", backend, scheduler.ErrNotFound)
	}
	for i, s := range cl.servers {
		if s.name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("server %s/%s: %w", backend, name, scheduler.ErrNotFound)
}

func (cl *cloud) AddServer(_ context.Context, backend string, s scheduler.ServerSpec) error {
	if _, err := cl.find(backend, s.Name); err == nil {
		return fmt.Errorf("server %s/%s already exists", backend, s.Name)
	} else if backend != cl.shadow {
		return err
	}
	cl.mutations++
	var inst *instance
	for id, in := range cl.instances {
		if addrOf(id) == s.Addr {
			inst = in
		}
	}
	cl.servers = append(cl.servers, &server{name: s.Name, addr: s.Addr, state: scheduler.ServerMaint, inst: inst})
	return nil
}

func (cl *cloud) EnableHealth(_ context.Context, backend, name string) error {
	_, err := cl.find(backend, name)
	return err
}

func (cl *cloud) SetServerState(_ context.Context, backend, name string, st scheduler.ServerState) error {
	i, err := cl.find(backend, name)
	if err != nil {
		return err
	}
	if cl.servers[i].state != st {
		cl.mutations++
		cl.servers[i].state = st
		if st == scheduler.ServerReady {
			cl.servers[i].since = cl.now
		}
	}
	if st != scheduler.ServerReady {
		cl.servers[i].sess = 0 // sessions end within the tick
	}
	return nil
}

func (cl *cloud) RemoveServer(_ context.Context, backend, name string) error {
	i, err := cl.find(backend, name)
	if err != nil {
		return err
	}
	if s := cl.servers[i]; s.state != scheduler.ServerMaint || s.sess > 0 {
		return fmt.Errorf("remove %s/%s: not in maint or %d sessions left", backend, name, s.sess)
	}
	cl.mutations++
	cl.servers = slices.Delete(cl.servers, i, i+1)
	return nil
}

func (cl *cloud) SetShare(_ context.Context, lb string, pct int) error {
	if lb != cl.lb {
		return fmt.Errorf("lb %s: %w", lb, scheduler.ErrNotFound)
	}
	if pct < 0 || pct > 100 {
		return fmt.Errorf("share %d%% out of 0..100", pct)
	}
	if pct != cl.share {
		cl.mutations++
		cl.share = pct
	}
	return nil
}

func (cl *cloud) BackendStats(_ context.Context, backend string) (scheduler.BackendStats, error) {
	st := cl.stats[backend]
	if st == nil {
		return scheduler.BackendStats{}, fmt.Errorf("backend %s: %w", backend, scheduler.ErrNotFound)
	}
	return *st, nil
}

// serving are the shadow servers taking traffic: ready, booted, alive.
func (cl *cloud) serving() ([]*instance, []*server) {
	var ins []*instance
	var ss []*server
	for _, s := range cl.servers {
		if s.state == scheduler.ServerReady && s.inst != nil && cl.instances[s.inst.id] != nil && cl.c.up(s.inst, cl.now) {
			ins, ss = append(ins, s.inst), append(ss, s)
		}
	}
	return ins, ss
}

// weights are the serving servers' effective weights over the tick from
// now: HAProxy's slowstart ramps a server set ready from 0 to its full
// weight over slowStart (taken at the middle of the tick, so never 0).
func (cl *cloud) weights(ss []*server, dt time.Duration) []float64 {
	if cl.slowStart <= 0 {
		return nil
	}
	w := make([]float64, len(ss))
	for i, s := range ss {
		w[i] = min(1, (cl.now.Sub(s.since).Seconds()+dt.Seconds()/2)/cl.slowStart.Seconds())
	}
	return w
}
