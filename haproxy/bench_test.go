package haproxy_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// reportLatency runs op samples times per b.N and reports p50/p99.
func reportLatency(b *testing.B, benchSamples int, op func(i int) error) {
	var d []time.Duration
	for n := 0; n < b.N; n++ {
		for i := range benchSamples {
			t0 := time.Now()
			if err := op(n*benchSamples + i); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
}

func benchNode(b *testing.B, persist bool) (*haproxytest.HAProxy, *haproxy.Runtime, []*demoapp.Instance) {
	primary := startApps(b, "p", 1, demoapp.Config{})
	shadow := startApps(b, "s", 10, demoapp.Config{})
	h := haproxytest.Start(b, haproxytest.Config{Primary: servers(primary), CheckInter: checkInter})
	nc := nodeConfig(h, "bench")
	if !persist {
		nc.ConfigFile = ""
	}
	r, err := haproxy.NewRuntime(context.Background(), nc, nil)
	if err != nil {
		b.Fatal(err)
	}
	return h, r, shadow
}

// BenchmarkRuntimeOps measures each runtime operation, with persistence
// into haproxy.cfg (a validated configuration transaction per change) and
// runtime-only.
func BenchmarkRuntimeOps(b *testing.B) {
	ctx := context.Background()
	for _, persist := range []bool{false, true} {
		mode := map[bool]string{false: "runtime-only", true: "persisted"}[persist]
		h, r, shadow := benchNode(b, persist)
		be := h.ShadowBackend()
		if err := r.AddServer(ctx, be, spec(shadow[0])); err != nil {
			b.Fatal(err)
		}
		ops := []struct {
			name string
			op   func(i int) error
		}{
			{"SetWeight", func(i int) error { return r.SetWeight(ctx, be, "s1", 1+i%200) }},
			{"SetState", func(i int) error {
				return r.SetState(ctx, be, "s1", []haproxy.State{haproxy.StateDrain, haproxy.StateMaint}[i%2])
			}},
			{"SetShare", func(i int) error { return r.SetShare(ctx, h.LB, i%100) }},
			{"ListServers", func(int) error { _, err := r.ListServers(ctx, be); return err }},
			{"Stats", func(int) error { _, err := r.Stats(ctx); return err }},
			{"AddRemoveServer", func(i int) error {
				s := spec(shadow[1])
				s.Name = fmt.Sprintf("x%d", i)
				if err := r.AddServer(ctx, be, s); err != nil {
					return err
				}
				return r.RemoveServer(ctx, be, s.Name, time.Second)
			}},
		}
		for _, o := range ops {
			// Persisted changes validate the whole config with haproxy -c:
			// fewer samples keep `make bench` short.
			samples := map[bool]int{false: 40, true: 12}[persist]
			b.Run(mode+"/"+o.name, func(b *testing.B) { reportLatency(b, samples, o.op) })
		}
	}
}

// BenchmarkWarmupCutover10 is the whole sequence for 10 shadow servers
// (add in maint, ready, share 1→5→25→50→100 %, drain and remove), with
// persistence, excluding the health-check waits.
func BenchmarkWarmupCutover10(b *testing.B) {
	ctx := context.Background()
	h, r, shadow := benchNode(b, true)
	be := h.ShadowBackend()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for _, a := range shadow {
			s := spec(a)
			s.Name = fmt.Sprintf("%s-%d", s.Name, n)
			if err := r.AddServer(ctx, be, s); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := r.WaitHealthy(ctx, be, s.Name, 10*time.Second); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := r.SetState(ctx, be, s.Name, haproxy.StateReady); err != nil {
				b.Fatal(err)
			}
		}
		for _, pct := range []int{1, 5, 25, 50, 100, 0} {
			if err := r.SetShare(ctx, h.LB, pct); err != nil {
				b.Fatal(err)
			}
		}
		for _, a := range shadow {
			name := fmt.Sprintf("%s-%d", a.App.Stats().Name, n)
			if err := r.SetState(ctx, be, name, haproxy.StateDrain); err != nil {
				b.Fatal(err)
			}
			if err := r.RemoveServer(ctx, be, name, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	}
}
