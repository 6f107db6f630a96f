package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// t0 is the fixed start of every test (VPA's startTime).
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// profile is demand (req/s) of one LB at time t.
type profile func(lb string, t time.Time) float64

// fakeServer is one server of the in-memory load balancer.
type fakeServer struct {
	Server
	addedAt time.Time
}

type fakeBackend struct {
	servers  []*fakeServer
	requests float64
	errors   float64
	latency  time.Duration
	serving  int // fixed count for primaries
	// knee > 0: latency rises with requests/s per instance above it
	// (a primary at its capacity limit).
	knee float64
	rate float64 // requests/s of the last interval
}

// fakeDriver is an in-memory load balancer: the harness advances its
// counters from the demand profile and the share; servers pass their
// health check healthyAfter their addition unless sick.
type fakeDriver struct {
	mu           sync.Mutex
	now          time.Time
	healthyAfter time.Duration
	backends     map[string]*fakeBackend
	shares       map[string]int
	shadowErr    float64 // shadow error rate 0..1
	primaryErr   float64 // primary error rate 0..1
	sick         bool    // shadow checks fail
	sessions     int64   // sessions on every shadow server
	down         bool    // every call fails (HAProxy unreachable)
	calls        []string
}

var errDown = errors.New("haproxy unavailable")

func newFakeDriver() *fakeDriver {
	return &fakeDriver{backends: map[string]*fakeBackend{}, shares: map[string]int{}}
}

func (d *fakeDriver) backend(name string) *fakeBackend {
	b := d.backends[name]
	if b == nil {
		b = &fakeBackend{latency: 20 * time.Millisecond}
		d.backends[name] = b
	}
	return b
}

func (d *fakeDriver) record(format string, args ...any) error {
	if d.down {
		return errDown
	}
	d.calls = append(d.calls, fmt.Sprintf(format, args...))
	return nil
}

func (d *fakeDriver) find(backend, name string) *fakeServer {
	for _, s := range d.backend(backend).servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (d *fakeDriver) ListServers(_ context.Context, backend string) ([]Server, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, errDown
	}
	var out []Server
	for _, s := range d.backend(backend).servers {
		v := s.Server
		v.Healthy = !d.sick && d.now.Sub(s.addedAt) >= d.healthyAfter
		v.Check = map[bool]string{true: "L7OK", false: "L7STS"}[v.Healthy]
		v.Sessions = d.sessions
		out = append(out, v)
	}
	return out, nil
}

func (d *fakeDriver) AddServer(_ context.Context, backend string, s ServerSpec) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.record("add %s/%s", backend, s.Name); err != nil {
		return err
	}
	if d.find(backend, s.Name) != nil {
		return fmt.Errorf("add %s: already exists", s.Name)
	}
	b := d.backend(backend)
	b.servers = append(b.servers, &fakeServer{Server: Server{Name: s.Name, Addr: s.Addr, State: ServerMaint}, addedAt: d.now})
	return nil
}

func (d *fakeDriver) EnableHealth(_ context.Context, backend, server string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.find(backend, server) == nil {
		return fmt.Errorf("server %s/%s: %w", backend, server, ErrNotFound)
	}
	return nil
}

func (d *fakeDriver) SetServerState(_ context.Context, backend, server string, st ServerState) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.record("state %s/%s %s", backend, server, st); err != nil {
		return err
	}
	s := d.find(backend, server)
	if s == nil {
		return fmt.Errorf("server %s/%s: %w", backend, server, ErrNotFound)
	}
	s.State = st
	return nil
}

func (d *fakeDriver) RemoveServer(_ context.Context, backend, server string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.record("remove %s/%s", backend, server); err != nil {
		return err
	}
	b := d.backend(backend)
	for i, s := range b.servers {
		if s.Name == server {
			if s.State != ServerMaint {
				return fmt.Errorf("remove %s: not in maint", server)
			}
			b.servers = append(b.servers[:i], b.servers[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("server %s/%s: %w", backend, server, ErrNotFound)
}

func (d *fakeDriver) SetShare(_ context.Context, lb string, pct int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.record("share %s %d", lb, pct); err != nil {
		return err
	}
	d.shares[lb] = pct
	return nil
}

func (d *fakeDriver) BackendStats(_ context.Context, backend string) (BackendStats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return BackendStats{}, errDown
	}
	b := d.backend(backend)
	st := BackendStats{Requests: int64(b.requests), Errors: int64(b.errors), ResponseTime: b.latency, Serving: b.serving}
	if rpi := b.rate / float64(max(b.serving, 1)); b.knee > 0 && rpi > b.knee {
		st.ResponseTime += time.Duration(float64(b.latency) * 10 * (rpi - b.knee) / b.knee)
	}
	if strings.HasSuffix(backend, "_shadow") {
		st.Serving = 0
		for _, s := range b.servers {
			if s.State == ServerReady {
				st.Serving++
			}
		}
	}
	return st, nil
}

// advance moves the clock to now and adds the traffic since the last call.
func (d *fakeDriver) advance(now time.Time, lbs []LBSpec, demand profile) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dt := now.Sub(d.now).Seconds()
	if d.now.IsZero() {
		dt = 0
	}
	d.now = now
	for _, l := range lbs {
		total := demand(l.Name, now) * dt
		shadow := total * float64(d.shares[l.Name]) / 100
		p, s := d.backend(l.Backend), d.backend(l.ShadowBackend)
		p.requests += total - shadow
		s.requests += shadow
		if dt > 0 {
			p.rate = (total - shadow) / dt
		}
		s.errors += shadow * d.shadowErr
		p.errors += (total - shadow) * d.primaryErr
	}
}

// fakeProvider hands out instance IDs and addresses from a counter.
type fakeProvider struct {
	mu        sync.Mutex
	seq       int
	live      map[string]Instance
	price     float64
	boot      time.Duration
	createErr error
	created   int
	destroyed int // instances destroyed
}

func newFakeProvider(boot time.Duration, price float64) *fakeProvider {
	return &fakeProvider{live: map[string]Instance{}, boot: boot, price: price}
}

func (p *fakeProvider) Create(_ context.Context, n int) ([]Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.createErr != nil {
		return nil, p.createErr
	}
	var out []Instance
	for range n {
		p.seq++
		in := Instance{ID: fmt.Sprintf("i-%d", p.seq), Addr: fmt.Sprintf("10.0.0.%d:80", p.seq)}
		p.live[in.ID] = in
		out = append(out, in)
	}
	p.created += n
	return out, nil
}

func (p *fakeProvider) Destroy(_ context.Context, ids []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		delete(p.live, id)
	}
	p.destroyed += len(ids)
	return nil
}

func (p *fakeProvider) List(context.Context) ([]Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Instance
	for _, in := range p.live {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (p *fakeProvider) PricePerHour() float64   { return p.price }
func (p *fakeProvider) BootTime() time.Duration { return p.boot }

// oracle forecasts the demand profile itself as p90, with p50 = 0.8 and
// p10 = 0.6 of it, so tests control the forecast exactly and the quantile
// policy changes the plan.
type oracle struct {
	name   string
	demand profile
	fail   bool
	calls  int
	scale  float64 // the forecast is the profile × scale (0: × 1)
}

func (o *oracle) Name() string { return o.name }

func (o *oracle) Forecast(_ context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	o.calls++
	if o.fail {
		return nil, errors.New("model broken")
	}
	out := make([]inference.Forecast, len(series))
	for i, s := range series {
		f := inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: o.name}
		for k := range horizon {
			v := o.demand(s.ID, s.End().Add(time.Duration(k)*s.Step))
			if o.scale > 0 {
				v *= o.scale
			}
			f.P10, f.P50, f.P90 = append(f.P10, 0.6*v), append(f.P50, 0.8*v), append(f.P90, v)
		}
		out[i] = f
	}
	return out, nil
}

// history returns the demand profile's last points at a 1m step, the last
// one at now (NaN when missing is set).
type history struct {
	demand  profile
	step    time.Duration
	points  int
	missing bool
}

func (h *history) Demand(_ context.Context, lb string, now time.Time) (inference.Series, error) {
	s := inference.Series{ID: lb, Step: h.step, Start: now.Add(-time.Duration(h.points-1) * h.step)}
	for i := range h.points {
		s.Values = append(s.Values, h.demand(lb, s.Start.Add(time.Duration(i)*h.step)))
	}
	if h.missing {
		s.Values[len(s.Values)-1] = math.NaN()
	}
	return s, nil
}

// harness wires a Scheduler to the fakes and steps it with a fixed clock.
type harness struct {
	t      testing.TB
	now    time.Time
	set    Settings
	demand profile
	drv    *fakeDriver
	prov   *fakeProvider
	model  *oracle
	fb     *oracle
	hist   *history
	store  *crashStore
	app    *fakeApp
	sch    *Scheduler
	err    error // the last RunOnce error
}

// testSettings: 1m ticks, 2 primary instances of 100 req/s, no headroom,
// boot 2m, warm-up 2m.
func testSettings() Settings {
	pol := DefaultPolicy()
	pol.Headroom, pol.ScaleDownAfter, pol.Cooldown = 0, 5*time.Minute, 5*time.Minute
	return Settings{
		Tick: time.Minute, Horizon: 30 * time.Minute, Quantile: "p90", MaxFailures: 3, Policy: pol,
		LBs: []LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local",
			Capacity: 100, MaxInstances: 10, Warmup: 2 * time.Minute}},
	}
}

func newHarness(t testing.TB, set Settings, demand profile) *harness {
	h := &harness{t: t, now: t0, set: set, demand: demand, drv: newFakeDriver(),
		prov: newFakeProvider(2*time.Minute, 0.1), store: &crashStore{left: -1}, app: &fakeApp{util: math.NaN()}}
	h.drv.healthyAfter = h.prov.boot
	h.model = &oracle{name: "model", demand: demand}
	h.fb = &oracle{name: "fallback", demand: demand}
	h.hist = &history{demand: demand, step: time.Minute, points: 30}
	for _, l := range set.LBs {
		h.drv.backend(l.Backend).serving = 2
	}
	h.build()
	return h
}

// build makes a fresh Scheduler over the same fakes (a restart).
func (h *harness) build() {
	sch, err := New(h.set, Deps{Forecaster: h.model, Fallback: h.fb, History: h.hist, Driver: h.drv, App: h.app,
		Providers: map[string]Provider{"local": h.prov}, Store: h.store})
	if err != nil {
		h.t.Fatal(err)
	}
	h.sch = sch
}

// tick advances the clock by one tick and runs RunOnce.
func (h *harness) tick() {
	h.t.Helper()
	h.now = h.now.Add(h.set.Tick)
	h.drv.advance(h.now, h.set.LBs, h.demand)
	h.err = h.sch.RunOnce(context.Background(), h.now)
}

// lb is the status of the first LB.
func (h *harness) lb() LBStatus { return h.sch.Status().LBs[0] }

func (h *harness) expect(phase Phase, share int) {
	h.t.Helper()
	got := h.lb()
	if got.Phase != phase || got.Share != share || h.drv.shares["app"] != got.Share {
		h.t.Fatalf("at %s: phase %s share %d (driver %d), want %s %d; decision %q, notes %v, err %v",
			h.now.Sub(t0), got.Phase, got.Share, h.drv.shares["app"], phase, share, got.Plan.Decision, got.Plan.Reason.Notes, h.err)
	}
}

// step returns a profile of base req/s with peak req/s in [from, to).
func step(base, peak float64, from, to time.Duration) profile {
	return func(_ string, t time.Time) float64 {
		if d := t.Sub(t0); d >= from && d < to {
			return peak
		}
		return base
	}
}

// crashStore is a MemStore that can "die": after left more saves, saves are
// silently dropped, as if the process was killed (-1: never).
type crashStore struct {
	MemStore
	left  int
	saves int // attempted
}

func (c *crashStore) Save(ctx context.Context, s State) error {
	c.saves++
	if c.left == 0 {
		return nil
	}
	if c.left > 0 {
		c.left--
	}
	return c.MemStore.Save(ctx, s)
}

// fakeApp is an app metric: a utilisation set by the test (NaN: none), or
// busy × the primary's requests per instance when perReq is set.
type fakeApp struct {
	mu     sync.Mutex
	util   float64
	perReq float64 // utilisation per req/s of one instance
	drv    *fakeDriver
}

func (a *fakeApp) Utilisation(context.Context, string, time.Time) (float64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perReq > 0 && a.drv != nil {
		b := a.drv.backend("app")
		return math.Min(1, a.perReq*b.rate/float64(max(b.serving, 1))), nil
	}
	return a.util, nil
}
