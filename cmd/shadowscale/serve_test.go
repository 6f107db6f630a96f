package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/models"

	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Timeline of a run (tick 1s): the event (lift 3 on a steady 100 req/s,
// 100 req/s per instance, 2 primaries) starts 14s after serve and lasts
// 10s. With boot 2s + warm-up 3s + cutover 5s + a tick, the pool opens ~3s
// after start, warms, cuts over just before the event and retires a few
// seconds after it. Every wait is bounded generously: nothing is timed.
const (
	eventIn  = 14 * time.Second
	eventFor = 10 * time.Second
	// lifecycle bounds one whole pool lifecycle on a busy machine.
	lifecycle = 120 * time.Second
)

// load runs steady traffic through the HAProxy frontend until stopped.
type load struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    loadgen.Result
	err    error
}

func startLoad(t *testing.T, e *serveEnv) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.res, l.err = loadgen.Run(ctx, loadgen.Config{Target: "http://" + e.hap.Addr + "/", Rate: 100,
			Duration: 4 * time.Minute, MaxRequests: 30000, Concurrency: 8, Timeout: 10 * time.Second, CountHeader: "X-Instance"})
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *load) stop() {
	l.cancel()
	<-l.done
}

// result stops the load and reports what the clients saw.
func (l *load) result(t *testing.T) loadgen.Result {
	t.Helper()
	l.stop()
	if l.err != nil {
		t.Fatal(l.err)
	}
	shadow := 0
	for name, n := range l.res.ByHeader {
		if name != "p1" && name != "p2" {
			shadow += n
		}
	}
	t.Logf("load: %d requests, %d errors %v, %d served by the shadow pool, p99 %s",
		l.res.Requests, l.res.ErrorCount(), l.res.Errors, shadow, l.res.P99)
	return l.res
}

// monitor samples the persisted phase and HAProxy's view every 100ms.
type monitor struct {
	mu         sync.Mutex
	phases     []scheduler.Phase // distinct consecutive phases seen
	warmShare  int               // max live share while WarmingUp
	maxShare   int
	maxServers int
	stop       chan struct{}
	done       chan struct{}
}

func watch(e *serveEnv) *monitor {
	m := &monitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			select {
			case <-m.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			m.sample(e)
		}
	}()
	e.t.Cleanup(m.close)
	return m
}

func (m *monitor) sample(e *serveEnv) {
	ph, share := e.phase(), e.share()
	names, _ := e.shadowServersErr()
	out := ssp(names)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.phases) == 0 || m.phases[len(m.phases)-1] != ph {
		m.phases = append(m.phases, ph)
	}
	if ph == scheduler.WarmingUp {
		m.warmShare = max(m.warmShare, share)
	}
	m.maxShare, m.maxServers = max(m.maxShare, share), max(m.maxServers, len(out))
}

func (m *monitor) close() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
}

func (m *monitor) seen(ph scheduler.Phase) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.phases, ph)
}

// ssp keeps the names of servers the scheduler owns.
func ssp(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, scheduler.ServerPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// TestServe runs the end-to-end scenarios side by side: each spends its
// time waiting for ticks, so running them at once keeps the package fast
// without holding the -parallel slots (t.Run may be called from several
// goroutines).
func TestServe(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		run  func(*testing.T)
	}{
		{"lifecycle", testLifecycle},
		{"crash in Provisioning", func(t *testing.T) { testCrash(t, scheduler.Provisioning, false) }},
		{"crash in WarmingUp", func(t *testing.T) { testCrash(t, scheduler.WarmingUp, false) }},
		{"crash in CuttingOver", func(t *testing.T) { testCrash(t, scheduler.CuttingOver, false) }},
		{"crash in Draining", func(t *testing.T) { testCrash(t, scheduler.Draining, false) }},
		{"sigterm in Active", func(t *testing.T) { testCrash(t, scheduler.Active, true) }},
		{"haproxy unreachable at start", testHAProxyUnreachableAtStart},
		{"haproxy down mid-run", testHAProxyDownMidRun},
		{"haproxy config_file missing", testHAProxyConfigFileMissing},
		{"provider hook fails", testProviderHookFails},
		{"data plane api", testDataplane},
	}
	binaries(t) // once, before the scenarios race for it
	var wg sync.WaitGroup
	for _, s := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(s.name, s.run)
		}()
	}
	wg.Wait()
}

// testLifecycle: under steady load, a forecast event makes serve provision
// a pool, warm it, cut over and retire it after the event, with no client
// error; SIGTERM then stops serve cleanly with the state persisted.
func testLifecycle(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	testenv.ONNXRuntime(t) // startServe passes it on: this run uses the shipped LSTM
	model, _ := filepath.Abs(shippedModel)
	e.writeConfig(iniOpts{eventIn: eventIn, eventFor: eventFor, model: model})
	ld := startLoad(t, e)
	p := e.startServe()
	m := watch(e)
	e.waitFor("serve to start", lifecycle, func() bool { return p.find("serving", nil) != nil })
	if f := p.find("serving", nil).str("forecaster"); f != "auto("+models.Default+", classical)" {
		t.Errorf("serve forecasts with %q, want auto over the shipped %s and the classical forecasters", f, models.Default)
	}

	e.waitFor("a pool warming up", lifecycle, func() bool { return m.seen(scheduler.WarmingUp) || m.seen(scheduler.Active) })
	e.waitFor("the pool active", lifecycle, func() bool { return m.seen(scheduler.Active) })
	e.waitFor("the pool retired", lifecycle, func() bool { return e.lbState().Retired >= 1 })
	m.close()
	res := ld.result(t)

	t.Logf("phases %v; max share %d%% (warm-up %d%%); max shadow servers %d", m.phases, m.maxShare, m.warmShare, m.maxServers)
	if m.warmShare < 1 || m.maxShare < 25 || m.maxServers < 1 {
		t.Errorf("HAProxy never saw the pool: warm-up share %d%%, max share %d%%, servers %d", m.warmShare, m.maxShare, m.maxServers)
	}
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	if res.Share("p1", "p2") >= 1 {
		t.Errorf("the shadow pool served no request: %v", res.ByHeader)
	}
	e.checkClean()

	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	if p.find("stopped", nil) == nil {
		t.Error("serve did not log its shutdown")
	}
	if st := e.lbState(); st.Retired != 1 || st.RolledBack != 0 || st.Pool != nil {
		t.Errorf("persisted state after shutdown: %s", e.stateText())
	}
	var status map[string]any
	if err := json.Unmarshal(p.stdout.Bytes(), &status); err != nil || status["lbs"] == nil {
		t.Errorf("serve --json did not print one status document (%v): %q", err, p.stdout.String())
	}
}

// checkClean asserts nothing is left: no scheduler servers in HAProxy, an
// empty provider record and no instance processes.
func (e *serveEnv) checkClean() {
	e.t.Helper()
	if s := ssp(e.shadowServers()); len(s) > 0 {
		e.t.Errorf("servers left in the shadow backend: %v", s)
	}
	if r := e.record(); len(r) > 0 {
		e.t.Errorf("instances left in the provider record: %v", r)
	}
	e.waitFor("instance processes to exit", 15*time.Second, func() bool { return len(e.appProcs()) == 0 })
	if sh := e.share(); sh != 0 {
		e.t.Errorf("share left at %d%%", sh)
	}
}
