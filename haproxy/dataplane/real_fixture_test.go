package dataplane

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

// realEnv is the real Data Plane API v2.9.9 in front of a real HAProxy
// (one of the versions under test) with two demo-app primaries, and a
// driver for it.
type realEnv struct {
	t   *testing.T
	h   *haproxytest.HAProxy
	api *dpapitest.Real
	d   *DataPlane
}

// forEachHAProxy runs fn once per HAProxy version, side by side.
func forEachHAProxy(t *testing.T, fn func(t *testing.T, bin string)) {
	vers := testenv.HAProxyVersions(t)
	keys := make([]string, 0, len(vers))
	for v := range vers {
		keys = append(keys, v)
	}
	slices.Sort(keys)
	for _, v := range keys {
		t.Run("haproxy "+v, func(t *testing.T) {
			t.Parallel()
			fn(t, vers[v])
		})
	}
}

func startRealEnv(t *testing.T, bin string, client *http.Client) *realEnv {
	t.Helper()
	testenv.DataplaneAPI(t)
	var prim []haproxytest.Server
	for _, n := range []string{"p1", "p2"} {
		in := startApp(t, n)
		prim = append(prim, haproxytest.Server{Name: n, Addr: in.Addr})
	}
	dir, err := os.MkdirTemp("", "dpr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h, err := haproxytest.StartProcess(t.Context(), bin, dir, haproxytest.Config{Primary: prim, CheckInter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Error(err)
		}
	})
	api := dpapitest.StartReal(t, h)
	d, err := New(Config{Name: "real", URL: api.URL, User: dpapitest.User, Password: dpapitest.Password,
		MapName: api.MapName, Timeout: 10 * time.Second, RetryDelay: 50 * time.Millisecond, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &realEnv{t: t, h: h, api: api, d: d}
}

func startApp(t *testing.T, name string) *demoapp.Instance {
	t.Helper()
	in, err := demoapp.Start(demoapp.Config{Name: name, Delay: time.Millisecond}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Kill() })
	return in
}

func (e *realEnv) reloads() int { return dpapitest.CountReloads(e.t, e.h) }

// waitFor polls cond every 100ms, failing after timeout.
func (e *realEnv) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configured lists the server names the API's configuration holds in backend.
func (e *realEnv) configured(backend string) []string {
	e.t.Helper()
	var conf struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := e.d.call(e.t.Context(), "test", http.MethodGet, configServers, map[string][]string{"backend": {backend}}, nil, &conf); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range conf.Data {
		out = append(out, s.Name)
	}
	return out
}

// running lists the server names HAProxy itself runs in backend.
func (e *realEnv) running(backend string) []string {
	e.t.Helper()
	out, err := haproxytest.Command(e.h.StatsSocket, "show servers state "+backend)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 4 && !strings.HasPrefix(line, "#") {
			names = append(names, f[3])
		}
	}
	return names
}

// burst sends n requests and returns the fraction the shadow servers served.
func (e *realEnv) burst(n int, shadow ...string) (float64, loadgen.Result) {
	e.t.Helper()
	res, err := loadgen.Run(e.t.Context(), loadgen.Config{Target: e.h.URL(), MaxRequests: n, Concurrency: 4,
		Timeout: 10 * time.Second, CountHeader: "X-Instance"})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Share(shadow...), res
}

// background is steady load through the frontend for the whole test.
type background struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    loadgen.Result
	err    error
	once   sync.Once
}

func (e *realEnv) startLoad() *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.res, b.err = loadgen.Run(ctx, loadgen.Config{Target: e.h.URL(), Rate: 100, Duration: 3 * time.Minute,
			MaxRequests: 20000, Concurrency: 4, Timeout: 10 * time.Second, CountHeader: "X-Instance"})
	}()
	e.t.Cleanup(b.stop)
	return b
}

func (b *background) stop() {
	b.once.Do(b.cancel)
	<-b.done
}

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func shadowSpec(name string, in *demoapp.Instance) haproxy.ServerSpec {
	return haproxy.ServerSpec{Name: name, Addr: "127.0.0.1", Port: in.Port(), CheckInter: 200 * time.Millisecond}
}
