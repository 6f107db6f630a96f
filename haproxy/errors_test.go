package haproxy_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

func TestBadInputAndRefusals(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	h, r := lb(t, primary)
	tests := []struct {
		name    string
		call    func() error
		want    error
		message string // HAProxy's text (or ours) expected in the error
	}{
		{"unknown backend", func() error { _, err := r.ListServers(ctx, "nope"); return err }, haproxy.ErrNotFound, "Can't find backend"},
		{"unknown server", func() error { return r.SetWeight(ctx, h.LB, "ghost", 10) }, haproxy.ErrNotFound, "No such server"},
		{"unknown backend on set", func() error { return r.SetState(ctx, "nope", "p1", haproxy.StateDrain) }, haproxy.ErrNotFound, "No such backend"},
		{"weight out of range", func() error { return r.SetWeight(ctx, h.LB, "p1", 300) }, haproxy.ErrInvalid, "not in 0..256"},
		{"bad state", func() error { return r.SetState(ctx, h.LB, "p1", "sleepy") }, haproxy.ErrInvalid, "want ready, drain or maint"},
		{"bad share", func() error { return r.SetShare(ctx, h.LB, 101) }, haproxy.ErrInvalid, "not in 0..100"},
		{"injection", func() error { return r.SetWeight(ctx, h.LB, "p1;shutdown", 1) }, haproxy.ErrInvalid, "contains"},
		{"duplicate server refused by haproxy", func() error {
			return r.AddServer(ctx, h.LB, haproxy.ServerSpec{Name: "p1", Addr: "127.0.0.1", Port: 9})
		}, haproxy.ErrRefused, "Already exists a server with the same name"},
		{"unhealthy server times out", func() error {
			must(t, r.AddServer(ctx, h.ShadowBackend(), haproxy.ServerSpec{Name: "dead", Addr: "127.0.0.1", Port: closedPort(t), CheckInter: checkInter}))
			return r.WaitHealthy(ctx, h.ShadowBackend(), "dead", 500*time.Millisecond)
		}, haproxy.ErrNotHealthy, "check status"},
		{"unknown server removal", func() error { return r.RemoveServer(ctx, h.LB, "ghost", time.Second) }, haproxy.ErrNotFound, "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error = %v; want %v with %q", err, tt.want, tt.message)
			}
		})
	}
}

func TestSocketFaults(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	h, _ := lb(t, primary)

	missing := nodeConfig(h, "gone")
	missing.StatsSocket = filepath.Join(t.TempDir(), "no.sock")
	if _, err := haproxy.NewRuntime(ctx, missing, nil); !errors.Is(err, haproxy.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing socket: %v, want ErrUnavailable naming the socket", err)
	}

	// HAProxy's own permission check: the operator-level socket refuses
	// admin commands with "Permission denied".
	op := nodeConfig(h, "operator")
	op.StatsSocket, op.ConfigFile = h.OperatorSocket, ""
	r, err := haproxy.NewRuntime(ctx, op, nil)
	must(t, err)
	if err := r.SetWeight(ctx, h.LB, "p1", 10); !errors.Is(err, haproxy.ErrPermission) || !strings.Contains(err.Error(), "Permission denied") {
		t.Errorf("operator socket: %v, want ErrPermission with HAProxy's message", err)
	}
	if err := r.AddServer(ctx, h.LB, haproxy.ServerSpec{Name: "x", Addr: "127.0.0.1", Port: 9}); !errors.Is(err, haproxy.ErrPermission) {
		t.Errorf("operator socket add server: %v, want ErrPermission", err)
	}

	// The file system's permission check (only binding for non-root).
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		must(t, os.Chmod(dir, 0))
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		locked := nodeConfig(h, "locked")
		locked.StatsSocket = filepath.Join(dir, "x.sock")
		if _, err := haproxy.NewRuntime(ctx, locked, nil); !errors.Is(err, haproxy.ErrPermission) {
			t.Errorf("unreadable socket dir: %v, want ErrPermission", err)
		}
	}
}

func TestRemoveWaitsForConnections(t *testing.T) {
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	slow := startApps(t, "s", 1, demoapp.Config{Delay: 1500 * time.Millisecond})
	h, r := lb(t, primary)
	be := h.ShadowBackend()
	must(t, r.AddServer(ctx, be, spec(slow[0])))
	must(t, r.WaitHealthy(ctx, be, "s1", 5*time.Second))
	must(t, r.SetState(ctx, be, "s1", haproxy.StateReady))
	must(t, r.SetShare(ctx, h.LB, 100))

	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(h.URL())
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for slow[0].App.Stats().InFlight == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	err := r.RemoveServer(ctx, be, "s1", 200*time.Millisecond)
	if !errors.Is(err, haproxy.ErrHasConnections) || !strings.Contains(err.Error(), "still 1 sessions") {
		t.Fatalf("remove with a request in flight: %v, want ErrHasConnections naming 1 session", err)
	}
	if code := <-done; code != 200 {
		t.Fatalf("in-flight request = %d, want 200 (maintenance must let it finish)", code)
	}
	must(t, r.RemoveServer(ctx, be, "s1", 5*time.Second))
}
