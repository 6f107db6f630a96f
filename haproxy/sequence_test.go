package haproxy_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/loadgen"
)

const stepRate = 3000 // requests/s while measuring a share

// stepRequests is how many requests measure share p (0–1) so that ±1.5
// points is 4.5 binomial standard deviations, and at least 5,000.
func stepRequests(p float64) int {
	n := int(math.Ceil(p * (1 - p) * math.Pow(100*4.5/1.5, 2)))
	return max(n, 5000)
}

// background runs a steady low-rate load until stop is called, to catch
// any error during the changes between measured steps.
func background(t *testing.T, url string) (stop func() loadgen.Result) {
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan loadgen.Result, 1)
	go func() {
		r, err := loadgen.Run(ctx, loadgen.Config{Target: url, Rate: 300, Duration: 90 * time.Second, Concurrency: 8})
		if err != nil {
			t.Error(err)
		}
		res <- r
	}()
	return func() loadgen.Result { cancel(); return <-res }
}

func TestFullSequenceUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	ctx := context.Background()
	app := demoapp.Config{Delay: time.Millisecond, Stream: true}
	primary := startApps(t, "p", 2, app)
	shadow := startApps(t, "s", 2, app)
	h, r := lb(t, primary)
	be := h.ShadowBackend()
	stop := background(t, h.URL())

	for _, a := range shadow {
		must(t, r.AddServer(ctx, be, spec(a)))
		must(t, r.WaitHealthy(ctx, be, a.App.Stats().Name, 10*time.Second))
		must(t, r.SetState(ctx, be, a.App.Stats().Name, haproxy.StateReady))
	}
	totalErrors := 0
	for _, pct := range []int{1, 5, -1, 25, 50, 100} {
		if pct < 0 { // the reload in the middle, under load
			must(t, r.Reload(ctx))
			t.Log("reloaded")
			continue
		}
		must(t, r.SetShare(ctx, h.LB, pct))
		n := stepRequests(float64(pct) / 100)
		res, err := loadgen.Run(ctx, loadgen.Config{Target: h.URL(), Rate: stepRate, MaxRequests: n,
			Duration: 60 * time.Second, Concurrency: 32, CountHeader: "X-Instance"})
		must(t, err)
		got := 100 * res.Share("s1", "s2")
		t.Logf("share %3d%%: measured %6.2f%% over %d requests, errors %v, p50 %v p99 %v",
			pct, got, res.Requests, res.Errors, res.P50, res.P99)
		totalErrors += res.ErrorCount()
		if math.Abs(got-float64(pct)) > 1.5 {
			t.Errorf("share %d%%: measured %.2f%%, want within ±1.5 points", pct, got)
		}
		if res.Requests != n {
			t.Errorf("share %d%%: %d requests sent, want %d", pct, res.Requests, n)
		}
	}
	for _, a := range primary {
		name := a.App.Stats().Name
		must(t, r.SetState(ctx, h.LB, name, haproxy.StateDrain))
		must(t, r.RemoveServer(ctx, h.LB, name, 10*time.Second))
	}
	bg := stop()
	totalErrors += bg.ErrorCount()
	t.Logf("background: %d requests, errors %v", bg.Requests, bg.Errors)
	if totalErrors != 0 {
		t.Fatalf("client-side errors during the sequence: %d, want 0", totalErrors)
	}
	left, err := r.ListServers(ctx, h.LB)
	must(t, err)
	if len(left) != 0 {
		t.Errorf("primary still has servers: %+v", left)
	}
}

// TestNegativeControlKillWithoutDrain proves the load generator sees
// losses: killing a serving instance without draining it loses the
// requests it had in flight. The app streams (headers first), as HAProxy
// retries a request elsewhere when the server died before answering.
func TestNegativeControlKillWithoutDrain(t *testing.T) {
	primary := startApps(t, "p", 2, demoapp.Config{Delay: 20 * time.Millisecond, Stream: true})
	h, _ := lb(t, primary)
	ctx := context.Background()
	killed := make(chan int64, 1)
	go func() {
		// Kill while p0 has requests in flight (a fixed delay can fall
		// between requests on a loaded machine and prove nothing).
		deadline := time.Now().Add(5 * time.Second)
		for primary[0].App.Stats().InFlight < 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		killed <- primary[0].App.Stats().InFlight
		primary[0].Kill()
	}()
	res, err := loadgen.Run(ctx, loadgen.Config{Target: h.URL(), Rate: 500, MaxRequests: 1000, Duration: 10 * time.Second, Concurrency: 32})
	must(t, err)
	t.Logf("kill without drain (%d in flight on p0): %d requests, errors %v", <-killed, res.Requests, res.Errors)
	if res.ErrorCount() == 0 {
		t.Fatal("killing a loaded instance without draining produced no client-side errors")
	}
}
