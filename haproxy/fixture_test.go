package haproxy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/freeport"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

const checkInter = 100 * time.Millisecond

// startApps starts n in-process app instances named prefix1..prefixN.
func startApps(t testing.TB, prefix string, n int, cfg demoapp.Config) []*demoapp.Instance {
	t.Helper()
	out := make([]*demoapp.Instance, n)
	for i := range out {
		c := cfg
		c.Name = fmt.Sprintf("%s%d", prefix, i+1)
		in, err := demoapp.Start(c, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		out[i] = in
	}
	return out
}

func servers(apps []*demoapp.Instance) []haproxytest.Server {
	out := make([]haproxytest.Server, len(apps))
	for i, a := range apps {
		out[i] = haproxytest.Server{Name: a.App.Stats().Name, Addr: a.Addr}
	}
	return out
}

func nodeConfig(h *haproxytest.HAProxy, name string) haproxy.NodeConfig {
	return haproxy.NodeConfig{
		Name: name, StatsSocket: h.StatsSocket, MasterSocket: h.MasterSocket,
		ConfigFile: h.Config, MapFile: h.MapFile, StateFile: h.StateFile, HAProxyBin: h.Bin,
	}
}

// lb starts HAProxy in front of the primary apps and returns a driver.
func lb(t testing.TB, primary []*demoapp.Instance) (*haproxytest.HAProxy, *haproxy.Runtime) {
	t.Helper()
	h := haproxytest.Start(t, haproxytest.Config{Primary: servers(primary), CheckInter: checkInter})
	r, err := haproxy.NewRuntime(context.Background(), nodeConfig(h, "n1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h, r
}

func spec(a *demoapp.Instance) haproxy.ServerSpec {
	return haproxy.ServerSpec{Name: a.App.Stats().Name, Addr: "127.0.0.1", Port: a.Port(), CheckInter: checkInter}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func closedPort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Get()
	must(t, err)
	return p
}
