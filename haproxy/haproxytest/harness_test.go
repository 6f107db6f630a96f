package haproxytest

import (
	"context"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

func startApp(t *testing.T, name string) *demoapp.Instance {
	t.Helper()
	in, err := demoapp.Start(demoapp.Config{Name: name}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Kill() })
	return in
}

func TestStartServesAndSplits(t *testing.T) {
	a, s := startApp(t, "a"), startApp(t, "s")
	h := Start(t, Config{
		Primary:   []Server{{Name: "a", Addr: a.Addr}},
		Shadow:    []Server{{Name: "s", Addr: s.Addr}},
		ShadowPct: 100,
	})
	res, err := loadgen.Run(context.Background(), loadgen.Config{Target: h.URL(), MaxRequests: 50, Concurrency: 2, CountHeader: "X-Instance"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ByHeader["s"] != 50 {
		t.Fatalf("at 100%% shadow: %+v", res)
	}
	out, err := Command(h.StatsSocket, "show map "+h.MapFile)
	if err != nil || !strings.Contains(out, "app 100") {
		t.Fatalf("show map = %q, %v", out, err)
	}
}

func TestRenderErrors(t *testing.T) {
	ok := []Server{{Name: "a", Addr: "127.0.0.1:1"}}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no primary", Config{Port: 1}, "at least one server"},
		{"bad lb", Config{LB: "a b", Primary: ok, Port: 1}, "LB name"},
		{"bad pct", Config{Primary: ok, ShadowPct: 101, Port: 1}, "shadow share"},
		{"bad server", Config{Primary: []Server{{Name: "x y", Addr: "a"}}, Port: 1}, "bad name"},
		{"no port", Config{Primary: ok}, "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Render(tt.cfg, "/tmp/x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStartFailsOnBadConfig(t *testing.T) {
	bin := testenv.HAProxy(t)
	dir := t.TempDir()
	// An address HAProxy cannot parse: start-up must fail with its message.
	_, err := StartProcess(context.Background(), bin, dir, Config{Primary: []Server{{Name: "a", Addr: "nowhere:xx"}}})
	if err == nil {
		t.Fatal("StartProcess with a bad server address succeeded")
	}
	t.Log(err)
}
