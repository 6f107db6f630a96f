package haproxy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// TestFleetRollsBackOnSocketFailure: two nodes as one fleet; the second
// node's socket disappears mid-change, so the first is rolled back and the
// error names the second.
func TestFleetRollsBackOnSocketFailure(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	shadow := startApps(t, "s", 1, demoapp.Config{})
	var nodes []*haproxy.Runtime
	var hs []*haproxytest.HAProxy
	for _, name := range []string{"n1", "n2"} {
		h := haproxytest.Start(t, haproxytest.Config{Primary: servers(primary), CheckInter: checkInter})
		r, err := haproxy.NewRuntime(ctx, nodeConfig(h, name), nil)
		must(t, err)
		nodes, hs = append(nodes, r), append(hs, h)
	}
	f, err := haproxy.NewFleet(nil, nodes[0], nodes[1])
	must(t, err)
	be := hs[0].ShadowBackend()
	must(t, f.AddServer(ctx, be, spec(shadow[0])))
	must(t, f.WaitHealthy(ctx, be, "s1", 5*time.Second))
	must(t, f.SetState(ctx, be, "s1", haproxy.StateReady))
	must(t, f.SetShare(ctx, "app", 5))

	// Break node 2's socket: every change from now on fails there.
	hidden := hs[1].StatsSocket + ".hidden"
	must(t, os.Rename(hs[1].StatsSocket, hidden))
	t.Cleanup(func() { os.Rename(hidden, hs[1].StatsSocket) })

	tests := []struct {
		name   string
		change func() error
		check  func(r *haproxy.Runtime) string // "" when node 1 is back as before
	}{
		{"share", func() error { return f.SetShare(ctx, "app", 50) }, func(r *haproxy.Runtime) string {
			if pct, err := r.Share(ctx, "app"); err != nil || pct != 5 {
				return "share not restored to 5"
			}
			if m := readFile(t, hs[0].MapFile); m != "app 5\n" {
				return "map file " + m
			}
			return ""
		}},
		{"weight", func() error { return f.SetWeight(ctx, be, "s1", 7) }, func(r *haproxy.Runtime) string {
			if st, err := r.Server(ctx, be, "s1"); err != nil || st.Weight != 100 {
				return "weight not restored to 100"
			}
			return ""
		}},
		{"state", func() error { return f.SetState(ctx, be, "s1", haproxy.StateDrain) }, func(r *haproxy.Runtime) string {
			if st, err := r.Server(ctx, be, "s1"); err != nil || st.Admin != haproxy.StateReady {
				return "state not restored to ready"
			}
			return ""
		}},
		{"add", func() error {
			return f.AddServer(ctx, be, haproxy.ServerSpec{Name: "s9", Addr: "127.0.0.1", Port: shadow[0].Port(), CheckInter: checkInter})
		}, func(r *haproxy.Runtime) string {
			if _, err := r.Server(ctx, be, "s9"); !errors.Is(err, haproxy.ErrNotFound) {
				return "added server not removed"
			}
			if strings.Contains(readFile(t, hs[0].Config), "server s9 ") {
				return "added server left in config"
			}
			return ""
		}},
		{"remove", func() error { return f.RemoveServer(ctx, be, "s1", time.Second) }, func(r *haproxy.Runtime) string {
			if st, err := r.Server(ctx, be, "s1"); err != nil || st.Admin != haproxy.StateReady {
				return "removed server not restored as ready"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.change()
			var fe *haproxy.FleetError
			if !errors.As(err, &fe) || fe.Node != "n2" || !errors.Is(err, haproxy.ErrUnavailable) {
				t.Fatalf("error = %v; want a FleetError naming n2 with ErrUnavailable", err)
			}
			if len(fe.RolledBack) != 1 || fe.RolledBack[0] != "n1" || fe.RollbackErr != nil {
				t.Fatalf("rolled back %v (err %v), want [n1]", fe.RolledBack, fe.RollbackErr)
			}
			if msg := tt.check(nodes[0]); msg != "" {
				t.Fatalf("node n1 after rollback: %s", msg)
			}
		})
	}
}
