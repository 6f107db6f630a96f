package collect

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// TestAgainstRealHAProxy drives real HAProxy (primary and shadow backends,
// demo app instances) with the load generator at a fixed rate, reloads
// HAProxy in the middle, and checks the recorded request rate: within 5 %
// of what was sent before the reload; after it, never negative and never
// above what a client catching up after the reload's stall can send.
func TestAgainstRealHAProxy(t *testing.T) {
	const rate = 200.0
	const load = 10 * time.Second
	const every = time.Second
	var servers []haproxytest.Server
	for _, name := range []string{"a", "b", "shadow"} {
		in, err := demoapp.Start(demoapp.Config{Name: name, Delay: time.Millisecond}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		servers = append(servers, haproxytest.Server{Name: name, Addr: in.Addr})
	}
	h := haproxytest.Start(t, haproxytest.Config{LB: "app", Primary: servers[:2], Shadow: servers[2:], ShadowPct: 20})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := haproxy.NewRuntime(ctx, haproxy.NodeConfig{StatsSocket: h.StatsSocket, MasterSocket: h.MasterSocket, StateFile: h.StateFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := New(store, func() []Target {
		return []Target{{LB: "app", Reader: FromHAProxy(rt), Proxies: []string{"fe_app", "app", "app_shadow"}}}
	}, time.Now, nil)
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Run(runCtx, every) }()

	time.Sleep(1500 * time.Millisecond) // a baseline before the load
	start := time.Now()
	var res loadgen.Result
	var loadErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, loadErr = loadgen.Run(ctx, loadgen.Config{Target: h.URL(), Rate: rate, Duration: load, Concurrency: 8})
	}()
	time.Sleep(6 * time.Second)
	reloadAt := time.Now()
	if err := rt.Reload(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	reloaded := time.Now()
	time.Sleep(load - time.Since(start) + 1500*time.Millisecond)
	stopRun()
	wg.Wait()
	end := start.Add(res.Elapsed)
	if loadErr != nil || res.Requests == 0 {
		t.Fatalf("load: %+v %v", res, loadErr)
	}
	sent := float64(res.Requests) / res.Elapsed.Seconds()

	sel, field := metrics.Demand("app")
	got, err := store.History(ctx, metrics.Query{Select: sel, Field: field, From: start.Add(-10 * time.Second), To: end.Add(10 * time.Second), Step: every})
	if err != nil {
		t.Fatal(err)
	}
	// A rate covers the interval before its tick: take the windows whose
	// whole interval is inside the steady load and before the reload.
	var sum float64
	n, after := 0, 0
	for i, v := range got.Values {
		at := got.Time(i)
		if math.IsNaN(v) {
			continue
		}
		// The pacing generator catches up after the reload's pause, so a
		// real burst up to about twice the rate can follow it; a reset
		// misread as a rate would be far larger (the old worker's total).
		if v < 0 || v > 2*rate {
			t.Errorf("rate at %v is %.1f: negative or spiking (load %.0f/s)", at, v, rate)
		}
		if at.After(start.Add(2*every)) && at.Before(reloadAt) {
			sum += v
			n++
		}
		if at.After(reloaded) && at.Before(end) {
			after++
		}
	}
	st := c.Status()
	t.Logf("generator sent %d requests in %v (%.1f/s, %d errors); recorded mean before the reload %.1f/s over %d windows; collector %+v",
		res.Requests, res.Elapsed, sent, res.ErrorCount(), sum/float64(n), n, st)
	t.Logf("recorded: %v", got.Values)
	if n < 3 {
		t.Fatalf("only %d windows with a rate before the reload", n)
	}
	if mean := sum / float64(n); math.Abs(mean-sent)/sent > 0.05 {
		t.Errorf("recorded mean rate %.1f/s differs from the %.1f/s sent by more than 5%%", mean, sent)
	}
	if st.Resets == 0 {
		t.Error("the reload's counter reset was not detected")
	}
	if after == 0 {
		t.Error("no rate recorded after the reload")
	}
}
