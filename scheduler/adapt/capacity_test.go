package adapt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// TestCapacityConvergesRealHAProxy: two primaries of a demo app that
// serves 2 requests at once at 20 ms each (a hard limit of 100 req/s per
// instance, a bounded queue beyond it) behind real HAProxy, under a load
// stepped from 40 to 140 req/s per instance. capacity_per_instance = auto
// learns from HAProxy's stats alone: the knee where latency and errors
// rise, near the known limit, where the throughput seen is only a lower
// bound. Ticks are real time (the rates are HAProxy's real counters).
func TestCapacityConvergesRealHAProxy(t *testing.T) {
	var prim []haproxytest.Server
	for i := range 2 {
		in, err := demoapp.Start(demoapp.Config{Name: fmt.Sprintf("p%d", i), Delay: 20 * time.Millisecond,
			Capacity: 2, QueueLimit: 20}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		prim = append(prim, haproxytest.Server{Name: fmt.Sprintf("p%d", i), Addr: in.Addr})
	}
	h := haproxytest.Start(t, haproxytest.Config{LB: "app", Primary: prim, CheckInter: checkInter})
	rt, err := haproxy.NewRuntime(context.Background(), haproxy.NodeConfig{Name: "n1", StatsSocket: h.StatsSocket,
		MasterSocket: h.MasterSocket, MapFile: h.MapFile, StateFile: h.StateFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := config.DefaultProvider("local")
	pc.Kind, pc.AppBinary = "local", demoappBinary(t)
	prov, err := provision.New(pc, "local", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pol := scheduler.DefaultPolicy()
	pol.MaxPoolsPerLB = 0 // observe and learn only
	set := scheduler.Settings{Tick: 2 * time.Second, Horizon: time.Minute, Policy: pol,
		LBs: []scheduler.LBSpec{{Name: "app", Backend: "app", ShadowBackend: "app_shadow", Provider: "local", MaxInstances: 4}}}
	m := profileModel{func(string, time.Time) float64 { return 200 }}
	sch, err := scheduler.New(set, scheduler.Deps{Forecaster: m, Fallback: m, History: m,
		Driver: adapt.Driver{RT: rt, CheckInter: checkInter}, Providers: map[string]scheduler.Provider{"local": adapt.Provider{P: prov}},
		Store: scheduler.FileStore{Path: filepath.Join(t.TempDir(), "state.json")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Reconcile(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	var reason scheduler.Reason
	for _, perInstance := range []float64{40, 60, 80, 100, 120, 140} {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan loadgen.Result, 1)
		go func() {
			res, _ := loadgen.Run(ctx, loadgen.Config{Target: h.URL(), Rate: 2 * perInstance, Duration: 15 * time.Second, Concurrency: 128})
			done <- res
		}()
		time.Sleep(2 * time.Second) // let HAProxy's response-time average follow the new load
		for range 4 {
			time.Sleep(2 * time.Second)
			if err := sch.RunOnce(context.Background(), time.Now()); err != nil {
				t.Fatal(err)
			}
			reason = sch.Status().LBs[0].Plan.Reason
		}
		stop()
		<-done
		t.Logf("load %3.0f req/s per instance: capacity %.1f, %s", perInstance, reason.Capacity, reason.Estimate)
	}
	if !strings.HasPrefix(reason.Estimate, "knee") || reason.CapacitySource != "learned" {
		t.Fatalf("estimate %q (%s), want the knee", reason.Estimate, reason.CapacitySource)
	}
	// The limit is 100 req/s; latency already rises below it (queueing),
	// so the capacity at healthy latency lies somewhat under it.
	if reason.Capacity < 50 || reason.Capacity > 115 {
		t.Fatalf("learned capacity %.1f req/s per instance, want near the app's limit of 100", reason.Capacity)
	}
}
