package haproxy_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// errorCounter counts ERROR records.
type errorCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (h errorCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}

func (h errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }

// twoNodes starts two HAProxy nodes (own sockets, maps, configs) in front
// of the same primary and groups them as a fleet.
func twoNodes(t *testing.T, log *slog.Logger) (*haproxy.Fleet, []*haproxy.Runtime, []*haproxytest.HAProxy) {
	t.Helper()
	primary := startApps(t, "p", 1, demoapp.Config{})
	var rs []*haproxy.Runtime
	var hs []*haproxytest.HAProxy
	for _, name := range []string{"n1", "n2"} {
		h := haproxytest.Start(t, haproxytest.Config{Primary: servers(primary), CheckInter: checkInter})
		r, err := haproxy.NewRuntime(context.Background(), nodeConfig(h, name), nil)
		must(t, err)
		rs, hs = append(rs, r), append(hs, h)
	}
	f, err := haproxy.NewFleet(log, rs[0], rs[1])
	must(t, err)
	return f, rs, hs
}

// TestFleetNewLBShare: maps without a key for the LB (a new load
// balancer): the first share change adds it on every node and in every
// node's own map file.
func TestFleetNewLBShare(t *testing.T) {
	ctx := context.Background()
	f, rs, hs := twoNodes(t, nil)
	for _, h := range hs {
		_, err := haproxytest.Command(h.StatsSocket, "del map "+h.MapFile+" app")
		must(t, err)
	}
	if _, err := f.Share(ctx, "app"); !errors.Is(err, haproxy.ErrNotFound) {
		t.Fatalf("share before any change: %v, want ErrNotFound", err)
	}
	must(t, f.SetShare(ctx, "app", 3))
	for i, r := range rs {
		if pct, err := r.Share(ctx, "app"); err != nil || pct != 3 {
			t.Fatalf("node %s: share %d, %v", r.Name(), pct, err)
		}
		if m := readFile(t, hs[i].MapFile); m != "app 3\n" {
			t.Fatalf("node %s map file %q", r.Name(), m)
		}
	}
	if pct, err := f.Share(ctx, "app"); err != nil || pct != 3 {
		t.Fatalf("fleet share %d, %v", pct, err)
	}
	must(t, rs[1].SetShare(ctx, "app", 7))
	if _, err := f.Share(ctx, "app"); !errors.Is(err, haproxy.ErrDegraded) || !strings.Contains(err.Error(), "n2=7") {
		t.Fatalf("nodes disagreeing: %v, want ErrDegraded naming n2=7", err)
	}
}

// TestFleetMergedServers: a server is healthy only when healthy on every
// node, its sessions are summed, a copy that is failing names its node;
// removal skips a node where it is already gone and goes on with the
// others (no orphan); an expected "not healthy" is never logged as ERROR.
func TestFleetMergedServers(t *testing.T) {
	ctx := context.Background()
	var errs atomic.Int64
	f, rs, hs := twoNodes(t, slog.New(errorCounter{slog.DiscardHandler, &errs}))
	shadow := startApps(t, "s", 1, demoapp.Config{})
	be := hs[0].ShadowBackend()
	must(t, f.AddServer(ctx, be, spec(shadow[0])))
	must(t, f.EnableHealth(ctx, be, "s1"))
	must(t, f.WaitHealthy(ctx, be, "s1", 10*time.Second))
	st, err := f.Server(ctx, be, "s1")
	if err != nil || !haproxy.Healthy(st.CheckStatus) || st.Admin != haproxy.StateMaint {
		t.Fatalf("healthy on both: %+v, %v", st, err)
	}

	// Same name, dead address on n2 only: not healthy as a fleet.
	dead := haproxy.ServerSpec{Name: "s2", Addr: "127.0.0.1", Port: closedPort(t), CheckInter: checkInter}
	must(t, f.AddServer(ctx, be, haproxy.ServerSpec{Name: "s2", Addr: "127.0.0.1", Port: shadow[0].Port(), CheckInter: checkInter}))
	must(t, f.EnableHealth(ctx, be, "s2"))
	must(t, rs[1].RemoveServer(ctx, be, "s2", time.Second))
	must(t, rs[1].AddServer(ctx, be, dead))
	must(t, rs[1].EnableHealth(ctx, be, "s2"))
	must(t, rs[0].WaitHealthy(ctx, be, "s2", 10*time.Second))
	if err := rs[1].WaitHealthy(ctx, be, "s2", 500*time.Millisecond); !errors.Is(err, haproxy.ErrNotHealthy) {
		t.Fatalf("dead copy on n2: %v", err)
	}
	st, err = f.Server(ctx, be, "s2")
	if err != nil || haproxy.Healthy(st.CheckStatus) || !strings.Contains(st.CheckDesc, "node n2") {
		t.Fatalf("healthy on n1 only: %+v, %v; want unhealthy naming n2", st, err)
	}
	if err := f.WaitHealthy(ctx, be, "s2", 300*time.Millisecond); !errors.Is(err, haproxy.ErrNotHealthy) {
		t.Fatalf("fleet wait: %v, want ErrNotHealthy", err)
	}

	// Sessions and stats summed over the nodes.
	for _, h := range hs {
		for range 5 {
			resp, err := http.Get(h.URL())
			must(t, err)
			resp.Body.Close()
		}
	}
	fs, err := f.Stats(ctx)
	must(t, err)
	row, _ := fs.Row("backend", "app", "")
	var sum int64
	for _, r := range rs {
		s, err := r.Stats(ctx)
		must(t, err)
		one, _ := s.Row("backend", "app", "")
		sum += one.Requests
	}
	if row.Requests != sum || sum < 10 {
		t.Fatalf("fleet requests %d, nodes' sum %d (want ≥ 10)", row.Requests, sum)
	}

	// Already gone on n1: removal still clears n2; gone everywhere is
	// ErrNotFound.
	must(t, rs[0].RemoveServer(ctx, be, "s1", time.Second))
	must(t, f.RemoveServer(ctx, be, "s1", time.Second))
	if _, err := rs[1].Server(ctx, be, "s1"); !errors.Is(err, haproxy.ErrNotFound) {
		t.Fatalf("s1 left on n2 (an orphan): %v", err)
	}
	if err := f.RemoveServer(ctx, be, "s1", time.Second); !errors.Is(err, haproxy.ErrNotFound) {
		t.Fatalf("second removal: %v, want ErrNotFound", err)
	}
	if n := errs.Load(); n != 0 {
		t.Errorf("%d ERROR records for expected outcomes (not healthy yet, already gone)", n)
	}
}
