package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"

	"github.com/shadowscale/shadowscale/scheduler"
)

// TestServeBadConfig: each bad input exits non-zero with one line on stderr
// naming the file, the section and key, and the problem, before anything is
// started. testdata/serve/*.bad.ini each map to their error.
func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	bin, _ := binaries(t)
	lib := testenv.ONNXRuntime(t)
	for _, c := range []struct{ name, args, want string }{
		{"no config", "", "serve: --config is required"},
		{"missing file", "--config none.ini", "load config: open none.ini: no such file or directory"},
		{"tick zero", "--config tick_zero.bad.ini", "tick_zero.bad.ini: [service] tick: must be positive, got 0s"},
		{"unknown key", "--config unknown_key.bad.ini", "unknown_key.bad.ini: [policy] cooldwn: unknown key (did you mean cooldown?)"},
		{"bad events file", "--config events_file.bad.ini", `[lb.app] events_file: events.bad.csv:2:`},
		{"missing app binary", "--config app_binary.bad.ini", `provider pool: provider "pool": app_binary: exec: "no-such-app-binary"`},
		{"not a model", "--config model.bad.ini", "[forecast] model events.bad.csv: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "serve"))); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, append([]string{"serve"}, strings.Fields(c.args)...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+lib)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
				t.Fatalf("exit %v, want non-zero; stderr %q", err, stderr.String())
			}
			line := strings.TrimSpace(stderr.String())
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "shadowscale: serve: ") || !strings.Contains(line, c.want) {
				t.Errorf("stderr %q, want one line containing %q", stderr.String(), c.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// testHAProxyUnreachableAtStart: serve waits for HAProxy, logging why,
// stops cleanly when told to while waiting, and proceeds once it answers.
func testHAProxyUnreachableAtStart(t *testing.T) {
	e := newServeEnv(t)
	e.writeConfig(iniOpts{})
	retrying := func(p *serveProc) bool {
		return p.find("haproxy unreachable; retrying", func(l logLine) bool {
			return strings.Contains(l.str("err"), e.paths.stats) && strings.Contains(l.str("err"), "does not exist")
		}) != nil
	}

	p := e.startServe()
	e.waitFor("serve to report HAProxy unreachable", time.Minute, func() bool { return retrying(p) })
	if code := p.stop(t); code != 0 {
		t.Errorf("SIGTERM while waiting for HAProxy: exit %d, want 0", code)
	}

	p = e.startServe()
	e.waitFor("serve to report HAProxy unreachable", time.Minute, func() bool { return retrying(p) })
	e.startHAProxy()
	e.waitFor("serve to start once HAProxy answers", time.Minute, func() bool { return p.find("decision", nil) != nil })
	t.Logf("serve retried %d times before HAProxy answered", p.count("haproxy unreachable; retrying"))
	p.stopClean(t)
}

// testHAProxyDownMidRun: with a pool kept warm (min_pools_per_lb = 1),
// HAProxy stops; serve logs the errors, keeps running and holds the pool
// (no blind teardown); HAProxy restarts from the config serve persisted the
// servers into, and serve carries on.
func testHAProxyDownMidRun(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{minPools: 1})
	p := e.startServe()
	e.waitFor("a pool kept warm", lifecycle, func() bool { return e.phase() == scheduler.Ready })
	pool := e.lbState().Pool
	t.Logf("pool %s ready with servers %v", pool.ID, pool.Servers)

	if err := e.hap.Stop(); err != nil {
		t.Fatal(err)
	}
	mark := len(p.lines())
	blind := func() int { return countAfter(p, mark, "decision", "backend stats") }
	e.waitFor("three ticks without HAProxy", time.Minute, func() bool { return blind() >= 3 })
	if st := e.lbState(); st.Pool == nil || st.Pool.ID != pool.ID || st.Pool.Phase != scheduler.Ready ||
		len(st.Pool.Servers) != len(pool.Servers) || st.RolledBack != 0 {
		t.Fatalf("pool changed while HAProxy was down: %s", e.stateText())
	}
	failed := countAfter(p, mark, "scrape failed", "")
	if failed == 0 {
		t.Error("no failed scrape logged while HAProxy was down")
	}
	t.Logf("HAProxy down: %d blind ticks, %d failed scrapes, pool held", blind(), failed)

	e.restartHAProxy()
	mark = len(p.lines())
	e.waitFor("three clean ticks after HAProxy restarts", time.Minute, func() bool {
		return countAfter(p, mark, "decision", "") >= 3+countAfter(p, mark, "decision", "backend stats")
	})
	st := e.lbState()
	servers := ssp(e.shadowServers())
	switch {
	case st.Pool != nil && st.Pool.ID == pool.ID:
		t.Logf("after HAProxy restart: pool %s %s, servers %v, live share %d%%", st.Pool.ID, st.Pool.Phase, servers, e.share())
		if !slices.Equal(servers, st.Pool.Servers) || e.share() != st.Pool.Share {
			t.Errorf("HAProxy lost the pool on restart: servers %v, share %d%%; state %s", servers, e.share(), e.stateText())
		}
	case st.RolledBack == 1 && (st.Pool == nil && len(servers) == 0 || st.Pool != nil && slices.Equal(servers, st.Pool.Servers)):
		// min_pools_per_lb = 1 may already have opened the next pool
		t.Logf("the pool was rolled back cleanly: %s; servers now %v", st.LastFailure, servers)
	default:
		t.Errorf("neither resumed nor rolled back cleanly: servers %v, %s", servers, e.stateText())
	}
	p.stopClean(t)
}

// countAfter counts log lines from index from on with msg whose JSON text
// contains sub.
func countAfter(p *serveProc, from int, msg, sub string) int {
	n := 0
	lines := p.lines()
	for _, l := range lines[min(from, len(lines)):] {
		if l.str("msg") == msg && strings.Contains(l.text(), sub) {
			n++
		}
	}
	return n
}

// testProviderHookFails: an exec provider whose create hook fails; the
// failure is recorded with the hook's message, no server is added and serve
// keeps running.
func testProviderHookFails(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	hook, err := filepath.Abs(filepath.Join("testdata", "serve", "create-fails.sh"))
	if err != nil {
		t.Fatal(err)
	}
	e.writeConfig(iniOpts{minPools: 1, provider: "kind = exec\ncreate_cmd = " + hook + "\ndestroy_cmd = true\ntimeout = 10s\nboot_time = 2s\nwarmup_time = 3s"})
	p := e.startServe()
	e.waitFor("the failure recorded", lifecycle, func() bool { return e.lbState().RolledBack >= 1 })
	st := e.lbState()
	if !strings.Contains(st.LastFailure, "quota exceeded in zone z1") {
		t.Errorf("last failure %q does not carry the hook's message", st.LastFailure)
	}
	if s := ssp(e.shadowServers()); len(s) > 0 || e.share() != 0 {
		t.Errorf("servers %v or share %d%% after a failed create", s, e.share())
	}
	if p.find("rolling back", nil) == nil {
		t.Error("no rollback logged")
	}
	t.Logf("recorded failure: %s", st.LastFailure)
	p.stopClean(t)
}

// testHAProxyConfigFileMissing: HAProxy answers but config_file names no
// file: waiting would not help, so serve exits at once with one line naming
// the section and the file.
func testHAProxyConfigFileMissing(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	missing := filepath.Join(e.dir, "no-such-haproxy.cfg")
	e.writeConfig(iniOpts{configFile: missing})
	p := e.startServe()
	p.stopped = true // the exit is the point
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatal("serve still running a minute after start with a missing config_file")
	}
	last := ""
	if ls := p.lines(); len(ls) > 0 {
		last = ls[len(ls)-1].str("msg")
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 || !strings.HasPrefix(last, "shadowscale: serve: [haproxy] connect:") ||
		!strings.Contains(last, missing) {
		t.Errorf("exit %d, last stderr line %q: want non-zero and the [haproxy] error naming %s", code, last, missing)
	}
	t.Logf("missing config_file: %s", last)
}
