package haproxy_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// hungSocket listens on path, accepts and never answers, like a stuck
// HAProxy worker.
func hungSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
}

// bound is far below client-native's own 30 s and far above the
// configured timeout: a call that returns within it was cut by the
// timeout, not by client-native.
const bound = 10 * time.Second

// TestTimeoutBoundsHungSocket: [haproxy] timeout (NodeConfig.Timeout)
// bounds the connect and every command on a socket that never answers;
// the error is ErrUnavailable and names the node.
func TestTimeoutBoundsHungSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "hung")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "hung.sock")
	hungSocket(t, sock)
	start := time.Now()
	_, err = haproxy.NewRuntime(context.Background(), haproxy.NodeConfig{Name: "stuck", StatsSocket: sock, Timeout: 300 * time.Millisecond}, nil)
	if took := time.Since(start); !errors.Is(err, haproxy.ErrUnavailable) || took > bound {
		t.Fatalf("connect to a hung socket: %v after %s; want ErrUnavailable within %s", err, took, bound)
	}
	t.Logf("connect: %v", err)

	// A node that answered at connect and hangs later.
	ctx := context.Background()
	primary := startApps(t, "p", 1, demoapp.Config{})
	h, _ := lb(t, primary)
	cfg := nodeConfig(h, "n1")
	cfg.Timeout = 300 * time.Millisecond
	r, err := haproxy.NewRuntime(ctx, cfg, nil)
	must(t, err)
	must(t, os.Rename(h.StatsSocket, h.StatsSocket+".real"))
	t.Cleanup(func() { os.Rename(h.StatsSocket+".real", h.StatsSocket) })
	hungSocket(t, h.StatsSocket)
	be := h.ShadowBackend()
	calls := []struct {
		name string
		call func() error
	}{
		{"list servers", func() error { _, err := r.ListServers(ctx, be); return err }},
		{"stats", func() error { _, err := r.Stats(ctx); return err }},
		{"share", func() error { _, err := r.Share(ctx, "app"); return err }},
		{"set share", func() error { return r.SetShare(ctx, "app", 3) }},
		{"add server", func() error {
			return r.AddServer(ctx, be, haproxy.ServerSpec{Name: "s9", Addr: "127.0.0.1", Port: primary[0].Port()})
		}},
		{"enable health", func() error { return r.EnableHealth(ctx, be, "s9") }},
		{"set state", func() error { return r.SetState(ctx, be, "s9", haproxy.StateReady) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := c.call()
			var he *haproxy.Error
			if took := time.Since(start); !errors.Is(err, haproxy.ErrUnavailable) || !errors.As(err, &he) || he.Node != "n1" || took > bound {
				t.Fatalf("%s on a hung socket: %v after %s; want ErrUnavailable naming n1 within %s", c.name, err, took, bound)
			}
		})
	}
}

// TestStatsOnClosedAnswer: a socket that closes without answering makes
// client-native's stats parser panic; the driver returns an error instead.
func TestStatsOnClosedAnswer(t *testing.T) {
	dir, err := os.MkdirTemp("", "closed")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "closed.sock")
	l, err := net.Listen("unix", sock)
	must(t, err)
	t.Cleanup(func() { l.Close() })
	hang := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-hang // answer nothing until told, then close: an empty answer
				c.Close()
			}()
		}
	}()
	ctx := context.Background()
	go func() { time.Sleep(200 * time.Millisecond); close(hang) }()
	r, err := haproxy.NewRuntime(ctx, haproxy.NodeConfig{Name: "closed", StatsSocket: sock, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := r.Stats(ctx); err == nil {
		t.Fatal("stats from an empty answer: no error")
	} else {
		t.Log(err)
	}
}
