package dataplane

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
)

// TestRealLifecycle drives a shadow pool's whole life through the real
// Data Plane API under steady load, on each HAProxy version: added checked
// at weight 0 (no traffic), proven healthy, made ready, fed 25 % then 100 %
// of requests, the API killed and restarted, drained (kept across a
// reload), removed from the API's configuration and from HAProxy. No
// client error; state changes cost no reload, the adds and the removals
// one reload each (two when the API's reload tick falls between two
// calls), and the stats counters read through the driver never go back.
func TestRealLifecycle(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		e := startRealEnv(t, bin, nil)
		c, be := t.Context(), e.h.ShadowBackend()
		names := []string{"ss-t-1", "ss-t-2"}
		apps := []string{"s1", "s2"}
		load := e.startLoad()
		r0 := e.reloads()
		var counts []int64 // the primary's request counter at each step
		count := func() {
			st, err := e.d.Stats(c)
			mustOK(t, "stats", err)
			row, _ := st.Row("backend", "app", "")
			counts = append(counts, row.Requests)
		}
		count()

		for i, n := range names {
			mustOK(t, "add "+n, e.d.AddServer(c, be, shadowSpec(n, startApp(t, apps[i]))))
		}
		for _, n := range names {
			mustOK(t, "wait healthy "+n, e.d.WaitHealthy(c, be, n, 30*time.Second))
			st, err := e.d.Server(c, be, n)
			mustOK(t, "server "+n, err)
			if st.Weight != 0 || st.Admin != haproxy.StateReady {
				t.Fatalf("added server %s: weight %d admin %s, want weight 0 (checked, no traffic)", n, st.Weight, st.Admin)
			}
		}
		// An add made while the first add's reload ran schedules one more
		// reload, even though the new worker already has that server.
		e.waitFor("the adds' reloads", 30*time.Second, func() bool {
			n, err := e.api.PendingReloads()
			return err == nil && n == 0
		})
		rAdd := e.reloads()
		count()

		for _, n := range names {
			mustOK(t, "ready "+n, e.d.SetState(c, be, n, haproxy.StateReady))
		}
		for _, pct := range []int{25, 100} {
			mustOK(t, "share", e.d.SetShare(c, "app", pct))
			got, res := e.burst(400, apps...)
			t.Logf("share %d%%: the shadow pool served %.1f%% of %d requests", pct, 100*got, res.Requests)
			if res.ErrorCount() > 0 || got*100 < float64(pct)-12 || got*100 > float64(pct)+12 {
				t.Errorf("share %d%%: shadow served %.3f, errors %v", pct, got, res.Errors)
			}
		}

		mustOK(t, "kill the api", e.api.Kill())
		if _, err := e.d.Share(c, "app"); !errors.Is(err, haproxy.ErrUnavailable) {
			t.Errorf("share with the API down: %v, want ErrUnavailable", err)
		}
		mustOK(t, "restart the api", e.api.Start())
		if pct, err := e.d.Share(c, "app"); err != nil || pct != 100 {
			t.Fatalf("share after the API restarted: %d, %v", pct, err)
		}

		mustOK(t, "share 0", e.d.SetShare(c, "app", 0))
		for _, n := range names {
			mustOK(t, "drain "+n, e.d.SetState(c, be, n, haproxy.StateDrain))
		}
		if r := e.reloads(); r != rAdd {
			t.Errorf("ready, share and drain cost %d reloads, want 0", r-rAdd)
		}
		mustOK(t, "reload", e.d.Reload(c))
		for _, n := range names {
			st, err := e.d.Server(c, be, n)
			mustOK(t, "server after reload", err)
			if st.Weight != 0 || st.Admin == haproxy.StateMaint {
				t.Errorf("drained %s after a reload: weight %d admin %s, want out of rotation", n, st.Weight, st.Admin)
			}
		}
		rDrain := e.reloads()
		count()

		for _, n := range names {
			mustOK(t, "remove "+n, e.d.RemoveServer(c, be, n, 5*time.Second))
		}
		// A reload in flight at a removal may start a worker from the
		// configuration read just before it (the server in MAINT); the
		// API's next reload drops it.
		e.waitFor("the removals' reload", 30*time.Second, func() bool { return e.reloads() > rDrain && len(e.running(be)) == 0 })
		if got := append(e.configured(be), e.running(be)...); len(got) > 0 {
			t.Errorf("servers left after removal (configuration + haproxy): %v", got)
		}
		if l, err := e.d.ListServers(c, be); err != nil || len(l) != 0 {
			t.Errorf("list after removal: %v, %v", l, err)
		}
		count()
		load.stop()
		mustOK(t, "load", load.err)
		if !slices.IsSorted(counts) {
			t.Errorf("the primary's request counter went back across reloads: %v", counts)
		}
		t.Logf("reloads: %d for the adds, 1 forced, %d for the removals; load %d requests, %d errors",
			rAdd-r0, e.reloads()-rDrain, load.res.Requests, load.res.ErrorCount())
		if n := load.res.ErrorCount(); n > 0 || load.res.Requests == 0 {
			t.Errorf("clients saw %d errors in %d requests: %v", n, load.res.Requests, load.res.Errors)
		}
		if rAdd-r0 < 1 || rAdd-r0 > len(names) {
			t.Errorf("the adds cost %d reloads, want 1..%d", rAdd-r0, len(names))
		}
	})
}

// TestRealGate: a server whose app does not answer is added, checked and
// never turns healthy (the gate holds), and it took no traffic.
func TestRealGate(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		e := startRealEnv(t, bin, nil)
		c, be := t.Context(), e.h.ShadowBackend()
		dead := startApp(t, "dead")
		spec := shadowSpec("ss-dead", dead)
		mustOK(t, "kill app", dead.Kill())
		mustOK(t, "add", e.d.AddServer(c, be, spec))
		e.waitFor("the server running and checked", 30*time.Second, func() bool {
			st, err := e.d.Server(c, be, spec.Name)
			return err == nil && st.Status != PendingStatus && st.CheckStatus != "" && !haproxy.CheckPending(st.CheckStatus)
		})
		err := e.d.WaitHealthy(c, be, spec.Name, 2*time.Second)
		if !errors.Is(err, haproxy.ErrNotHealthy) {
			t.Fatalf("wait healthy of a dead server: %v, want ErrNotHealthy", err)
		}
		t.Log(err)
		mustOK(t, "enable health is a no-op on a checked server", e.d.EnableHealth(c, be, spec.Name))
		mustOK(t, "remove", e.d.RemoveServer(c, be, spec.Name, time.Second))
		if slices.Contains(e.configured(be), spec.Name) {
			t.Error("removed server still configured")
		}
	})
}

// TestRealErrors maps what the real API answers onto the sentinels: an
// unknown backend is refused although the API lists it as empty (200 []),
// unknown servers answer 404 or 500 "no data", a duplicate 409, a
// missing map key 404 (the share is then added), bad credentials 401, an
// invalid admin state 422.
func TestRealErrors(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		e := startRealEnv(t, bin, nil)
		c := t.Context()
		tests := []struct {
			name string
			run  func() error
			want error
		}{
			{"list unknown backend", func() error { _, err := e.d.ListServers(c, "nope"); return err }, haproxy.ErrNotFound},
			{"server unknown", func() error { _, err := e.d.Server(c, "app", "zz"); return err }, haproxy.ErrNotFound},
			{"drain unknown", func() error { return e.d.SetState(c, "app", "zz", haproxy.StateDrain) }, haproxy.ErrNotFound},
			{"weight unknown", func() error { return e.d.SetWeight(c, "app", "zz", 3) }, haproxy.ErrNotFound},
			{"enable health unknown", func() error { return e.d.EnableHealth(c, "app", "zz") }, haproxy.ErrNotFound},
			{"remove unknown", func() error { return e.d.RemoveServer(c, "app", "zz", time.Second) }, haproxy.ErrNotFound},
			{"add to unknown backend", func() error { return e.d.AddServer(c, "nope", spec("ss-x", 1)) }, haproxy.ErrNotFound},
			{"add a name taken at another address", func() error { return e.d.AddServer(c, "app", spec("p1", 1)) }, haproxy.ErrConflict},
			{"share of an unknown key", func() error { _, err := e.d.Share(c, "web"); return err }, haproxy.ErrNotFound},
			{"share set on a new key", func() error { return e.d.SetShare(c, "web", 5) }, nil},
			{"invalid admin state (422)", func() error {
				return e.d.call(c, "test", "PUT", runtimeServers+"/p1", map[string][]string{"backend": {"app"}}, map[string]string{"admin_state": "sleep"}, nil)
			}, haproxy.ErrInvalid},
			{"wrong password", func() error {
				d, _ := New(Config{URL: e.api.URL, User: "admin", Password: "nope"}, nil)
				_, err := d.Stats(c)
				return err
			}, haproxy.ErrPermission},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.run(), tt.want) })
		}
		if pct, err := e.d.Share(c, "web"); err != nil || pct != 5 {
			t.Errorf("share of the added key: %d, %v", pct, err)
		}
		if got := e.configured("app"); len(got) != 2 {
			t.Errorf("primary configuration changed by refused calls: %v", got)
		}
	})
}

// TestRealStatsConcurrent: reads from several goroutines under load never
// look like a reset (no reload happens, so the driver's counter is never
// above HAProxy's own).
func TestRealStatsConcurrent(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		e := startRealEnv(t, bin, nil)
		load := e.startLoad()
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 15 {
					if _, err := e.d.Stats(t.Context()); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		st, err := e.d.Stats(t.Context())
		mustOK(t, "stats", err)
		ours, _ := st.Row("backend", "app", "")
		load.stop()
		out, err := haproxytest.Command(e.h.StatsSocket, "show stat")
		mustOK(t, "show stat", err)
		theirs := int64(-1)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Split(line, ","); len(f) > 48 && f[0] == "app" && f[1] == "BACKEND" {
				theirs, _ = strconv.ParseInt(f[48], 10, 64) // req_tot
			}
		}
		if ours.Requests <= 0 || ours.Requests > theirs {
			t.Errorf("driver counts %d requests, HAProxy %d: a read looked like a reset", ours.Requests, theirs)
		}
	})
}

// TestRealEnableHealth: a server added through the runtime endpoint (which
// the real API starts in MAINT, unchecked, without any option but
// "check") is unchecked; EnableHealth persists it checked at weight 0 and
// after the API's reload its check passes.
func TestRealEnableHealth(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		e := startRealEnv(t, bin, nil)
		c, be := t.Context(), e.h.ShadowBackend()
		in := startApp(t, "r1")
		port := int64(in.Port())
		add := &models.RuntimeAddServer{Name: "ss-r-1", Address: "127.0.0.1", Port: &port, Check: "enabled"}
		mustOK(t, "runtime add", e.d.call(c, "test", "POST", runtimeServers, map[string][]string{"backend": {be}}, add, nil))
		st, err := e.d.Server(c, be, "ss-r-1")
		mustOK(t, "server", err)
		t.Logf("runtime-added: admin %s, status %q, check %q", st.Admin, st.Status, st.CheckStatus)
		if st.Admin != haproxy.StateMaint || haproxy.Healthy(st.CheckStatus) {
			t.Fatalf("runtime-added server %+v, want MAINT and unchecked", st)
		}
		mustOK(t, "enable health", e.d.EnableHealth(c, be, "ss-r-1"))
		mustOK(t, "wait healthy", e.d.WaitHealthy(c, be, "ss-r-1", 30*time.Second))
		if st, _ := e.d.Server(c, be, "ss-r-1"); st.Weight != 0 {
			t.Errorf("checked server at weight %d, want 0 until ready", st.Weight)
		}
	})
}
