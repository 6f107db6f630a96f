package provision

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
)

// listenAddrs opens k loopback listeners (the kernel completes the TCP
// handshake without Accept) and returns their addresses.
func listenAddrs(t *testing.T, k int) []string {
	t.Helper()
	var out []string
	for range k {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		out = append(out, ln.Addr().String())
	}
	return out
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func staticConfig(addrs ...string) config.Provider {
	c := config.DefaultProvider("standby")
	c.Kind, c.Addresses, c.Timeout = "static", addrs, 2*time.Second
	c.PricePerHour = 0.5
	return c
}

func mustNew(t *testing.T, cfg config.Provider, dir string) Provider {
	t.Helper()
	p, err := New(cfg, cfg.Name, dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func addrsOf(in []Instance) []string {
	var out []string
	for _, x := range in {
		out = append(out, x.Addr)
	}
	return out
}

func TestStaticLifecycle(t *testing.T) {
	ctx := context.Background()
	live := listenAddrs(t, 3)
	dead := closedAddr(t)
	dir := t.TempDir()
	cfg := staticConfig(live[0], dead, live[1], live[2])
	p := mustNew(t, cfg, dir)
	if p.Name() != "standby" || p.PricePerHour() != 0.5 || p.BootTime() != 3*time.Minute {
		t.Fatalf("Name/Price/Boot = %q %g %s", p.Name(), p.PricePerHour(), p.BootTime())
	}

	// Allocate: config order, skipping the address that does not answer.
	got, err := p.Create(ctx, 2)
	if err != nil {
		t.Fatalf("Create(2): %v", err)
	}
	if want := []string{live[0], live[1]}; strings.Join(addrsOf(got), " ") != strings.Join(want, " ") {
		t.Fatalf("Create(2) addrs = %v, want %v", addrsOf(got), want)
	}
	if got[0].Provider != "standby" || got[0].ID == "" || strings.Contains(got[0].ID, ":") || got[0].Created.IsZero() {
		t.Errorf("instance = %+v, want provider, a colon-free ID and a creation time", got[0])
	}

	// Exhaust: no partial allocation, the error names the provider and the dead address.
	_, err = p.Create(ctx, 2)
	if !errors.Is(err, ErrExhausted) || !strings.Contains(err.Error(), `"standby"`) || !strings.Contains(err.Error(), dead) {
		t.Fatalf("Create(2) on 1 free = %v, want ErrExhausted naming the provider and %s", err, dead)
	}
	assertList(t, p, live[0], live[1])

	// Persist across a reload.
	p2 := mustNew(t, cfg, dir)
	assertList(t, p2, live[0], live[1])

	// Release is idempotent, and the address can be handed out again.
	for range 2 {
		if err := p2.Destroy(ctx, got[0]); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
	}
	assertList(t, p2, live[1])
	again, err := p2.Create(ctx, 2)
	if err != nil {
		t.Fatalf("Create(2) after release: %v", err)
	}
	if strings.Join(addrsOf(again), " ") != live[0]+" "+live[2] {
		t.Errorf("Create after release = %v, want %s %s", addrsOf(again), live[0], live[2])
	}
	assertList(t, mustNew(t, cfg, dir), live[0], live[1], live[2])
}

func assertList(t *testing.T, p Provider, want ...string) {
	t.Helper()
	got, err := p.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	have := map[string]bool{}
	for _, a := range addrsOf(got) {
		have[a] = true
	}
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", addrsOf(got), want)
	}
	for _, a := range want {
		if !have[a] {
			t.Fatalf("List = %v, want %v", addrsOf(got), want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	if err := os.MkdirAll(corrupt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile(corrupt, "standby"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     config.Provider
		pname   string
		dir     string
		wantErr string
	}{
		{"unknown kind", config.Provider{Kind: "cloud"}, "x", dir, `unknown kind "cloud"`},
		{"bad name", staticConfig("127.0.0.1:1"), "a/b", dir, "path separators"},
		{"no state dir", staticConfig("127.0.0.1:1"), "standby", "", "state dir is required"},
		{"static without addresses", staticConfig(), "standby", dir, "no addresses"},
		{"corrupt state file", staticConfig("127.0.0.1:1"), "standby", corrupt, "provider-standby.json"},
		{"exec without destroy", config.Provider{Kind: "exec", CreateCmd: "true", Timeout: time.Second}, "x", dir, "destroy_cmd"},
		{"local without binary", config.Provider{Kind: "local"}, "x", dir, "app_binary"},
		{"local binary missing", config.Provider{Kind: "local", AppBinary: "./no-such-binary"}, "x", dir, "no-such-binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.pname, tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestStaticConcurrentCreate(t *testing.T) {
	live := listenAddrs(t, 4)
	p := mustNew(t, staticConfig(live...), t.TempDir())
	var wg sync.WaitGroup
	results := make(chan []Instance, 4)
	for range 4 {
		wg.Go(func() {
			got, err := p.Create(context.Background(), 1)
			if err != nil {
				t.Errorf("Create: %v", err)
			}
			results <- got
		})
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for got := range results {
		for _, in := range got {
			if seen[in.Addr] {
				t.Errorf("address %s handed out twice", in.Addr)
			}
			seen[in.Addr] = true
		}
	}
	assertList(t, p, live...)
}
