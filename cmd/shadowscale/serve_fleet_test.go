package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/scheduler"
)

// nodeView is what one HAProxy node shows: its share and the scheduler's
// servers in its shadow backend.
func nodeView(h *haproxytest.HAProxy) (share int, servers []string) {
	out, _ := haproxytest.Command(h.StatsSocket, "show map "+h.MapFile)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == lbName {
			share, _ = strconv.Atoi(f[2])
		}
	}
	out, _ = haproxytest.Command(h.StatsSocket, "show servers state "+h.ShadowBackend())
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[3], scheduler.ServerPrefix) {
			servers = append(servers, f[3])
		}
	}
	return share, servers
}

// TestServeTwoNodes: serve over a fleet of two HAProxy nodes configured
// as a user would ([haproxy] sockets, config_file, map_file and
// state_file as per-node lists), load through both: both nodes see the
// pool's servers and shares, the lifecycle completes, nothing is left on
// either node, and no client request fails on either.
// Not parallel: it runs before the TestServe scenarios rather than
// competing with them for the CPU.
func TestServeTwoNodes(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	cfg2 := e.hapCfg
	cfg2.Port = 0
	h2 := haproxytest.Start(t, cfg2)
	nodes := []*haproxytest.HAProxy{e.hap, h2}
	e.writeConfig(iniOpts{eventIn: eventIn, eventFor: eventFor, haproxy: fmt.Sprintf(
		"sockets = %s, %s\nconfig_file = %s, %s\nmap_file = %s, %s\nstate_file = %s, %s",
		e.hap.StatsSocket, h2.StatsSocket, e.hap.Config, h2.Config, e.hap.MapFile, h2.MapFile,
		filepath.Join(e.dir, "server-state"), h2.StateFile)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make([]loadgen.Result, len(nodes))
	var wg sync.WaitGroup
	for i, h := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = loadgen.Run(ctx, loadgen.Config{Target: h.URL(), Rate: 50, Duration: 4 * time.Minute,
				MaxRequests: 15000, Concurrency: 4, Timeout: 10 * time.Second, CountHeader: "X-Instance"})
		}()
	}
	p := e.startServe()
	maxShare, maxServers := make([]int, len(nodes)), make([]int, len(nodes))
	e.waitFor("the pool retired", lifecycle, func() bool {
		for i, h := range nodes {
			share, servers := nodeView(h)
			maxShare[i], maxServers[i] = max(maxShare[i], share), max(maxServers[i], len(servers))
		}
		return e.lbState().Retired >= 1
	})
	cancel()
	wg.Wait()
	for i, h := range nodes {
		res := results[i]
		share, servers := nodeView(h)
		t.Logf("node %d: max share %d%%, max servers %d; clients %d requests, %d errors %v, by instance %v",
			i+1, maxShare[i], maxServers[i], res.Requests, res.ErrorCount(), res.Errors, res.ByHeader)
		if maxShare[i] < 25 || maxServers[i] < 1 {
			t.Errorf("node %d never saw the pool: max share %d%%, servers %d", i+1, maxShare[i], maxServers[i])
		}
		if share != 0 || len(servers) != 0 {
			t.Errorf("node %d left with share %d%%, servers %v", i+1, share, servers)
		}
		if res.ErrorCount() != 0 || res.Requests == 0 {
			t.Errorf("node %d: clients saw %d errors in %d requests", i+1, res.ErrorCount(), res.Requests)
		}
	}
	if st := e.lbState(); st.RolledBack != 0 {
		t.Errorf("rolled back: %s", st.LastFailure)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
}

// TestNodeConfig: node i takes the i-th entry of every per-node list.
func TestNodeConfig(t *testing.T) {
	hc := configHAProxy([]string{"a.sock", "b.sock"}, []string{"a.cfg", "b.cfg"}, []string{"a.map", "b.map"}, nil)
	for i, want := range [][3]string{{"a.sock", "a.cfg", "a.map"}, {"b.sock", "b.cfg", "b.map"}} {
		nc := nodeConfig(hc, i)
		if got := [3]string{nc.StatsSocket, nc.ConfigFile, nc.MapFile}; got != want || nc.StateFile != "" || nc.Timeout != hc.Timeout {
			t.Errorf("node %d: %+v, want %v, no state file, timeout %s", i, nc, want, hc.Timeout)
		}
	}
	if got := nth([]string{"only"}, 3); got != "only" {
		t.Errorf("one entry for every node: %q", got)
	}
}

func configHAProxy(sockets, cfgs, maps, states []string) config.HAProxy {
	return config.HAProxy{Driver: "runtime", Sockets: sockets, ConfigFiles: cfgs, MapFiles: maps, StateFiles: states, Timeout: 3 * time.Second}
}
