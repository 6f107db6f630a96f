package adapt_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

const pause = 300 * time.Millisecond

// TestPeakRealHAProxy: a forecast peak at 20m (simulated) → the pool is
// provisioned and healthy before it, HAProxy sees the warm-up share, the
// cutover ends before the peak, and the pool is retired afterwards.
func TestPeakRealHAProxy(t *testing.T) {
	r := newRig(t)
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	go r.load(ctx)

	st := r.until(scheduler.Provisioning, 12, 0)
	if got := len(r.shadowServers()); got != 2 || r.instances() != 2 {
		t.Fatalf("provisioning: %d servers, %d instances, want 2 and 2", got, r.instances())
	}
	st = r.until(scheduler.WarmingUp, 20, pause)
	if share := r.liveShare(); share != st.Share || share < 1 || share > 5 {
		t.Fatalf("warm-up share in HAProxy %d, status %d", share, st.Share)
	}
	for _, s := range r.shadowServers() {
		if s.Admin != "ready" || !haproxy.Healthy(s.CheckStatus) { // "* L7OK": a check in progress, last one passed
			t.Fatalf("shadow server %s: %s %s", s.Name, s.Admin, s.CheckStatus)
		}
	}
	r.until(scheduler.Ready, 10, time.Second)
	st = r.until(scheduler.Active, 10, pause)
	if elapsed := r.now.Sub(t0); elapsed >= 20*time.Minute {
		t.Fatalf("cutover finished at %s, after the 20m peak", elapsed)
	}
	if share := r.liveShare(); share != 50 {
		t.Fatalf("active share in HAProxy %d, want 50", share)
	}
	for r.now.Sub(t0) < 40*time.Minute {
		r.tick(0)
	}
	st = r.until(scheduler.Idle, 15, pause)
	if st.Retired != 1 || st.RolledBack != 0 {
		t.Fatalf("retired %d, rolled back %d (%s), want 1 and 0", st.Retired, st.RolledBack, st.LastFailure)
	}
	if len(r.shadowServers()) != 0 || r.instances() != 0 || r.liveShare() != 0 {
		t.Fatalf("after retiring: %d servers, %d instances, share %d", len(r.shadowServers()), r.instances(), r.liveShare())
	}
	stop()
	t.Logf("clients: %d requests, %d failed", r.sent.Load(), r.fails.Load())
	if r.fails.Load() != 0 {
		t.Errorf("%d client-side failures", r.fails.Load())
	}
}

// TestRollbackRealHAProxy: the shadow app starts failing during warm-up →
// the share is 0 in HAProxy after the next tick, the pool is torn down and
// the reason is recorded.
func TestRollbackRealHAProxy(t *testing.T) {
	r := newRig(t)
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	go r.load(ctx)
	r.until(scheduler.WarmingUp, 25, pause)
	r.postFault()
	r.waitShadowErrors(3) // some requests must meet the fault before the tick judges
	st := r.tick(0)
	if st.Phase != scheduler.Idle || r.liveShare() != 0 {
		t.Fatalf("after the failing tick: phase %s, live share %d", st.Phase, r.liveShare())
	}
	if !strings.Contains(st.LastFailure, "warm-up") || st.RolledBack != 1 {
		t.Fatalf("failure %q, rollbacks %d", st.LastFailure, st.RolledBack)
	}
	if len(r.shadowServers()) != 0 || r.instances() != 0 {
		t.Fatalf("after rollback: %d servers, %d instances", len(r.shadowServers()), r.instances())
	}
	stop()
	t.Logf("reason %q; clients: %d requests, %d failed (only the warm-up share can fail)", st.LastFailure, r.sent.Load(), r.fails.Load())
	if f, n := r.fails.Load(), r.sent.Load(); f*10 > n {
		t.Errorf("%d of %d client requests failed: more than the warm-up share explains", f, n)
	}
}

// TestRestartMidCutoverRealHAProxy: a new scheduler over the same state
// file, HAProxy and provider (a restart mid-cutover) resumes the pool where
// it was: same servers, same share, then on to Active; nothing orphaned and
// no client errors.
func TestRestartMidCutoverRealHAProxy(t *testing.T) {
	r := newRig(t)
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	go r.load(ctx)
	r.until(scheduler.CuttingOver, 40, pause)
	share, servers := r.liveShare(), len(r.shadowServers())
	r.build()
	st := r.sch.Status().LBs[0]
	if st.Phase != scheduler.CuttingOver || r.liveShare() != share || len(r.shadowServers()) != servers || r.instances() != servers {
		t.Fatalf("after restart: phase %s share %d (was %d), %d servers (was %d), %d instances",
			st.Phase, r.liveShare(), share, len(r.shadowServers()), servers, r.instances())
	}
	r.until(scheduler.Active, 5, pause)
	stop()
	if r.fails.Load() != 0 {
		t.Errorf("%d of %d client requests failed", r.fails.Load(), r.sent.Load())
	}
}

// TestDryRunRealHAProxy: through the whole forecast peak, dry-run plans and
// reports the pool it would make but HAProxy and the provider never change.
func TestDryRunRealHAProxy(t *testing.T) {
	r := newRig(t)
	r.dryRun = true
	r.build()
	would := 0
	for range 40 {
		st := r.tick(0)
		if strings.Contains(st.Plan.Decision, "would") {
			would++
		}
		if n, share, inst := len(r.shadowServers()), r.liveShare(), r.instances(); n != 0 || share != 0 || inst != 0 || st.Phase != scheduler.Idle {
			t.Fatalf("dry-run changed something: %d shadow servers, share %d%%, %d instances, phase %s", n, share, inst, st.Phase)
		}
	}
	if would == 0 {
		t.Error("dry-run never reported what it would do")
	}
}

// TestEnableHealthAfterCrash: a server added without its checks started (a
// crash between the two) shows no check status; the Provisioning step sees
// that and starts them, so the resumed pool can still prove itself healthy.
func TestEnableHealthAfterCrash(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	insts, err := r.prov.Create(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(insts[0].Addr, ":")
	p, _ := strconv.Atoi(port)
	if err := r.rt.AddServer(ctx, "app_shadow", haproxy.ServerSpec{Name: "ssp-app-9-0", Addr: host, Port: p, CheckInter: checkInter}); err != nil {
		t.Fatal(err)
	}
	d := adapt.Driver{Fleet: fleetOf(r.t, r.rt), CheckInter: checkInter}
	list := func() scheduler.Server {
		s, err := d.ListServers(ctx, "app_shadow")
		if err != nil || len(s) != 1 {
			t.Fatalf("list: %v %v", s, err)
		}
		return s[0]
	}
	time.Sleep(3 * checkInter)
	if s := list(); s.Check != "" || s.Healthy {
		t.Fatalf("before EnableHealth: check %q healthy %v, want no check", s.Check, s.Healthy)
	}
	if err := d.EnableHealth(ctx, "app_shadow", "ssp-app-9-0"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !list().Healthy {
		if time.Now().After(deadline) {
			t.Fatalf("never healthy after EnableHealth: %+v", list())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.EnableHealth(ctx, "app_shadow", "nope"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("unknown server: %v, want ErrNotFound", err)
	}
}
