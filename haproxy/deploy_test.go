package haproxy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/freeport"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

// exampleConfig is deploy/haproxy.cfg with its machine paths and addresses
// moved into dir; every one must be found, so the file and this test move
// together.
func exampleConfig(t *testing.T, dir, frontend string, primaries []*demoapp.Instance) (string, haproxytest.Paths) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "haproxy.cfg"))
	must(t, err)
	p := haproxytest.Paths{Dir: dir, Config: dir + "/haproxy.cfg", StatsSocket: dir + "/admin.sock",
		MasterSocket: dir + "/master.sock", MapFile: dir + "/shadow.map", StateFile: dir + "/server-state", PIDFile: dir + "/haproxy.pid"}
	conf := string(raw)
	for _, r := range [][2]string{
		{"/run/haproxy/admin.sock", p.StatsSocket}, {"/etc/haproxy/shadow.map", p.MapFile},
		{"/var/lib/haproxy/server-state", p.StateFile}, {"127.0.0.1:8080", frontend},
		{"127.0.0.1:8081", primaries[0].Addr}, {"127.0.0.1:8082", primaries[1].Addr},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("deploy/haproxy.cfg no longer has %q", r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	must(t, os.WriteFile(p.Config, []byte(conf), 0o600))
	must(t, os.WriteFile(p.MapFile, nil, 0o600)) // a new LB: no key yet
	return conf, p
}

// TestDeployExampleConfig starts HAProxy with the shipped example and
// drives it the way shadowscale does: a share for an LB the map does not
// know yet (with no shadow server nothing leaves the primary), a shadow
// server added in MAINT, checked, then ready, the share moved, a reload
// and a restart that keep all of it (config, state and map files), and
// the way back to nothing. Once shadowscale has connected, HAProxy no
// longer warns about a missing server-state file at start.
func TestDeployExampleConfig(t *testing.T) {
	ctx := context.Background()
	bin := testenv.HAProxy(t)
	dir, err := os.MkdirTemp("", "hapdeploy")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	primaries := startApps(t, "p", 2, demoapp.Config{})
	port, err := freeport.Get()
	must(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	_, paths := exampleConfig(t, dir, addr, primaries)
	h, err := haproxytest.StartConfig(ctx, bin, paths, "app", addr)
	must(t, err)
	t.Cleanup(func() { h.Stop() })

	r, err := haproxy.NewRuntime(ctx, haproxy.NodeConfig{Name: "example", StatsSocket: paths.StatsSocket,
		MasterSocket: paths.MasterSocket, ConfigFile: paths.Config, MapFile: paths.MapFile,
		StateFile: paths.StateFile, HAProxyBin: bin}, nil)
	must(t, err)
	f, err := haproxy.NewFleet(nil, r)
	must(t, err)
	send := func(n int) loadgen.Result {
		res, err := loadgen.Run(ctx, loadgen.Config{Target: h.URL(), MaxRequests: n, Concurrency: 2, CountHeader: "X-Instance"})
		must(t, err)
		if res.OK != n {
			t.Fatalf("%d of %d requests failed: %+v", n-res.OK, n, res.Errors)
		}
		return res
	}

	must(t, f.SetShare(ctx, "app", 100))
	if res := send(40); res.ByHeader["p1"]+res.ByHeader["p2"] != 40 {
		t.Fatalf("share 100%% with an empty shadow backend: %+v, want every request on the primaries", res.ByHeader)
	}
	shadow := startApps(t, "s", 1, demoapp.Config{})
	must(t, f.AddServer(ctx, "app_shadow", spec(shadow[0])))
	must(t, f.EnableHealth(ctx, "app_shadow", "s1"))
	must(t, f.WaitHealthy(ctx, "app_shadow", "s1", 10*time.Second))
	must(t, f.SetState(ctx, "app_shadow", "s1", haproxy.StateReady))
	if res := send(40); res.ByHeader["s1"] != 40 {
		t.Fatalf("share 100%% with a ready shadow server: %+v", res.ByHeader)
	}
	must(t, f.SetShare(ctx, "app", 50))
	if state := readFile(t, paths.StateFile); !strings.Contains(state, "app_shadow") {
		t.Fatalf("state file after the changes:\n%s", state)
	}

	must(t, f.Reload(ctx))
	st, err := f.Server(ctx, "app_shadow", "s1")
	must(t, err)
	if share, err := f.Share(ctx, "app"); err != nil || share != 50 || st.Admin != haproxy.StateReady {
		t.Fatalf("after reload: share %d (%v), s1 %s; want 50 and ready", share, err, st.Admin)
	}
	res := send(200)
	if res.ByHeader["s1"] == 0 || res.ByHeader["s1"] == 200 {
		t.Fatalf("share 50%% after reload: %+v", res.ByHeader)
	}

	// A full restart (not a reload) from the files shadowscale keeps: the
	// server persisted in the config, its state from the state file, the
	// share from the map; and no complaint about the state file.
	must(t, h.Stop())
	h, err = haproxytest.StartConfig(ctx, bin, paths, "app", addr)
	must(t, err)
	t.Cleanup(func() { h.Stop() })
	if err := f.WaitHealthy(ctx, "app_shadow", "s1", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err = f.Server(ctx, "app_shadow", "s1")
	must(t, err)
	if share, err := f.Share(ctx, "app"); err != nil || share != 50 || st.Admin != haproxy.StateReady {
		t.Fatalf("after restart: share %d (%v), s1 %s; want 50 and ready", share, err, st.Admin)
	}
	if out := h.Output(); strings.Contains(out, "server state") || strings.Contains(out, "[ALERT]") {
		t.Errorf("HAProxy complained at start:\n%s", out)
	}

	must(t, f.SetShare(ctx, "app", 0))
	must(t, f.SetState(ctx, "app_shadow", "s1", haproxy.StateMaint))
	must(t, f.RemoveServer(ctx, "app_shadow", "s1", time.Second))
	if cfg := readFile(t, paths.Config); strings.Contains(cfg, "server s1 ") {
		t.Fatal("removed server still in the config file")
	}
	t.Logf("HAProxy output after the restart:\n%s", h.Output())
}
