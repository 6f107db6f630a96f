package dataplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

const (
	rtServer  = "/services/haproxy/runtime/servers/{name}"
	txOne     = "/services/haproxy/transactions/{id}"
	cfgServer = "/services/haproxy/configuration/servers/{name}"
)

// TestMethods runs each driver method against the fake, with the error
// answers of the real API injected where needed.
func TestMethods(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*dpapitest.Fake)
		run   func(context.Context, *DataPlane) error
		want  error
		check func(*testing.T, *dpapitest.Fake)
	}{
		{name: "list servers", run: func(c context.Context, d *DataPlane) error {
			l, err := d.ListServers(c, "app")
			want := haproxy.ServerStatus{Backend: "app", Name: "a1", Addr: "127.0.0.1", Port: 9001, Admin: haproxy.StateReady,
				Operational: "up", Status: "UP", Weight: 100, CheckStatus: "L7OK"}
			if err == nil && (len(l) != 2 || l[0] != want) {
				return fmt.Errorf("servers %+v, want 2 with the first %+v", l, want)
			}
			return err
		}},
		{name: "list unknown backend (the API lists it empty)", run: func(c context.Context, d *DataPlane) error {
			_, err := d.ListServers(c, "nope")
			return err
		}, want: haproxy.ErrNotFound},
		{name: "list bad name, nothing sent", run: func(c context.Context, d *DataPlane) error {
			_, err := d.ListServers(c, "a b")
			return err
		}, want: haproxy.ErrInvalid, check: noCalls},
		{name: "server unknown (404)", run: func(c context.Context, d *DataPlane) error {
			_, err := d.Server(c, "app", "zz")
			return err
		}, want: haproxy.ErrNotFound},
		{name: "server configured, not running yet", setup: inject("GET", rtServer, 404, "no data for app/a1: not found"), run: func(c context.Context, d *DataPlane) error {
			st, err := d.Server(c, "app", "a1")
			if err == nil && (st.Status != PendingStatus || st.Weight != 100 || st.Port != 9001) {
				return fmt.Errorf("status %+v, want pending, weight 100, port 9001", st)
			}
			return err
		}},
		{name: "add server", run: func(c context.Context, d *DataPlane) error {
			return d.AddServer(c, "app_shadow", haproxy.ServerSpec{Name: "s1", Addr: "127.0.0.1", Port: 9101, Weight: 10, SlowStart: time.Second})
		}, check: func(t *testing.T, f *dpapitest.Fake) {
			conf, ok := f.Config("app_shadow", "s1")
			if !ok || *conf.Weight != 0 || conf.Check != "enabled" || conf.Maintenance != "" || *conf.Slowstart != 1000 || *conf.Inter != 1000 {
				t.Fatalf("config %+v, want checked, weight 0, not in maintenance", conf)
			}
			waitReload(t, f, 1)
			if live, ok := f.Server("app_shadow", "s1"); !ok || live.Admin != "ready" || live.Weight != 0 || live.Check == "" {
				t.Fatalf("after the reload %+v, want ready at weight 0 and checked", live)
			}
		}},
		{name: "add existing server elsewhere (409)", run: func(c context.Context, d *DataPlane) error {
			return d.AddServer(c, "app", spec("a1", 9009))
		}, want: haproxy.ErrConflict},
		{name: "add again after a lost answer", run: func(c context.Context, d *DataPlane) error {
			return d.AddServer(c, "app", spec("a1", 9001))
		}},
		{name: "add to unknown backend (404)", run: func(c context.Context, d *DataPlane) error {
			return d.AddServer(c, "nope", spec("s1", 9101))
		}, want: haproxy.ErrNotFound},
		{name: "add bad port, nothing sent", run: func(c context.Context, d *DataPlane) error {
			return d.AddServer(c, "app", spec("s1", 0))
		}, want: haproxy.ErrInvalid, check: noCalls},
		{name: "add: configuration fails haproxy -c (400)", setup: func(f *dpapitest.Fake) {
			f.CommitCheck = func(_, name string, _ models.Server) error {
				if name == "bad" {
					return errors.New("parsing [haproxy.cfg:30] : 'server app/bad' : unknown keyword")
				}
				return nil
			}
		}, run: func(c context.Context, d *DataPlane) error {
			err := d.AddServer(c, "app", spec("bad", 9101))
			if err != nil && !strings.Contains(err.Error(), "unknown keyword") {
				return errors.New("HAProxy's message not surfaced: " + err.Error())
			}
			return err
		}, want: haproxy.ErrRefused, check: func(t *testing.T, f *dpapitest.Fake) {
			if _, ok := f.Config("app", "bad"); ok {
				t.Fatal("refused server in the configuration")
			}
		}},
		{name: "set weight", run: func(c context.Context, d *DataPlane) error {
			return d.SetWeight(c, "app", "a1", 50)
		}, check: func(t *testing.T, f *dpapitest.Fake) {
			if conf, _ := f.Config("app", "a1"); *conf.Weight != 50 {
				t.Fatalf("weight %d", *conf.Weight)
			}
		}},
		{name: "set weight out of range", run: func(c context.Context, d *DataPlane) error {
			return d.SetWeight(c, "app", "a1", 257)
		}, want: haproxy.ErrInvalid, check: noCalls},
		{name: "set weight unknown server (404)", run: func(c context.Context, d *DataPlane) error {
			return d.SetWeight(c, "app", "zz", 5)
		}, want: haproxy.ErrNotFound},
		{name: "set state drain", run: func(c context.Context, d *DataPlane) error {
			return d.SetState(c, "app", "a2", haproxy.StateDrain)
		}, check: func(t *testing.T, f *dpapitest.Fake) {
			conf, _ := f.Config("app", "a2")
			if l, _ := f.Server("app", "a2"); l.Admin != "drain" || *conf.Weight != 0 {
				t.Fatalf("admin %q, configured weight %d: want drain, kept as weight 0", l.Admin, *conf.Weight)
			}
			if f.Reloads() != 0 {
				t.Fatal("drain reloaded")
			}
		}},
		{name: "set state maint persists", run: func(c context.Context, d *DataPlane) error {
			return d.SetState(c, "app", "a2", haproxy.StateMaint)
		}, check: func(t *testing.T, f *dpapitest.Fake) {
			if conf, _ := f.Config("app", "a2"); conf.Maintenance != "enabled" {
				t.Fatalf("maintenance %q", conf.Maintenance)
			}
		}},
		{name: "set state invalid, nothing sent", run: func(c context.Context, d *DataPlane) error {
			return d.SetState(c, "app", "a1", "sleep")
		}, want: haproxy.ErrInvalid, check: noCalls},
		{name: "set state 422", setup: inject("PUT", rtServer, 422, "admin_state in body should be one of [ready maint drain]"),
			run:  func(c context.Context, d *DataPlane) error { return d.SetState(c, "app", "a1", haproxy.StateDrain) },
			want: haproxy.ErrInvalid},
		{name: "set state unknown server (404)", run: func(c context.Context, d *DataPlane) error {
			return d.SetState(c, "app", "zz", haproxy.StateReady)
		}, want: haproxy.ErrNotFound},
		{name: "remove server with connections", setup: func(f *dpapitest.Fake) {
			f.Do(func(f *dpapitest.Fake) { f.Live("app", "a1").Sessions = 3 })
		}, run: func(c context.Context, d *DataPlane) error {
			return d.RemoveServer(c, "app", "a1", 150*time.Millisecond)
		}, want: haproxy.ErrHasConnections, check: func(t *testing.T, f *dpapitest.Fake) {
			l, ok := f.Server("app", "a1")
			if _, cok := f.Config("app", "a1"); !ok || !cok || l.Admin != "maint" {
				t.Fatalf("server should stay, in maintenance: %+v", l)
			}
		}},
		{name: "remove unknown server", run: func(c context.Context, d *DataPlane) error {
			return d.RemoveServer(c, "app", "zz", time.Second)
		}, want: haproxy.ErrNotFound},
		{name: "set share on a new key adds it", run: func(c context.Context, d *DataPlane) error {
			return d.SetShare(c, "web", 25)
		}, check: func(t *testing.T, f *dpapitest.Fake) {
			if live, file := f.MapValue("web"); live != "25" || file != "25" {
				t.Fatalf("live %q file %q", live, file)
			}
		}},
		{name: "set share out of range", run: func(c context.Context, d *DataPlane) error {
			return d.SetShare(c, "app", 101)
		}, want: haproxy.ErrInvalid, check: noCalls},
		{name: "share unknown lb (404)", run: func(c context.Context, d *DataPlane) error {
			_, err := d.Share(c, "web")
			return err
		}, want: haproxy.ErrNotFound},
		{name: "stats", run: func(c context.Context, d *DataPlane) error {
			s, err := d.Stats(c)
			if _, ok := s.Row("server", "app", "a2"); err == nil && (!ok || len(s.Backends) != 2) {
				return errors.New("rows missing")
			}
			return err
		}},
		{name: "stats transient 503 is retried", setup: inject("GET", "/services/haproxy/stats/native", 503, "try again"),
			run: func(c context.Context, d *DataPlane) error { _, err := d.Stats(c); return err }},
		{name: "stats 503 beyond retries", setup: injectN("GET", "/services/haproxy/stats/native", 503, "down", 10),
			run:  func(c context.Context, d *DataPlane) error { _, err := d.Stats(c); return err },
			want: haproxy.ErrUnavailable},
		{name: "stats 500 with a collection error is not retried", setup: func(f *dpapitest.Fake) {
			f.Inject(dpapitest.Fault{Method: "GET", Template: "/services/haproxy/stats/native", Status: 500,
				Body: models.NativeStats{{RuntimeAPI: "/run/haproxy.sock", Error: "dial unix /run/haproxy.sock: connect: connection refused"}}})
		}, run: func(c context.Context, d *DataPlane) error {
			_, err := d.Stats(c)
			if err != nil && !strings.Contains(err.Error(), "connection refused") {
				return errors.New("collection error not surfaced: " + err.Error())
			}
			return err
		}, want: haproxy.ErrUnavailable, check: calls(1)},
		{name: "reload", run: func(c context.Context, d *DataPlane) error { return d.Reload(c) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := newFake(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			wantErr(t, tt.run(ctx(t), d), tt.want)
			if tt.check != nil {
				tt.check(t, f)
			}
			if open := f.Transactions(); len(open) != 0 {
				t.Fatalf("transactions left: %v", open)
			}
		})
	}
}

func inject(method, tmpl string, status int, msg string) func(*dpapitest.Fake) {
	return injectN(method, tmpl, status, msg, 1)
}

func injectN(method, tmpl string, status int, msg string, n int) func(*dpapitest.Fake) {
	return func(f *dpapitest.Fake) {
		f.Inject(dpapitest.Fault{Method: method, Template: tmpl, Status: status, Message: msg, Times: n})
	}
}

func noCalls(t *testing.T, f *dpapitest.Fake) { calls(0)(t, f) }

// waitReload waits until the fake ran n reloads (they follow a change by
// its ReloadDelay, as on the real API).
func waitReload(t *testing.T, f *dpapitest.Fake, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); f.Reloads() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d reloads, want %d", f.Reloads(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func calls(n int) func(*testing.T, *dpapitest.Fake) {
	return func(t *testing.T, f *dpapitest.Fake) {
		if got := f.Calls(); len(got) != n {
			t.Fatalf("%d requests %v, want %d", len(got), got, n)
		}
	}
}

// A change the configuration already holds writes nothing.
func TestNoOpChangeWritesNothing(t *testing.T) {
	f, d := newFake(t)
	before := f.Version()
	wantErr(t, d.SetState(ctx(t), "app", "a1", haproxy.StateReady), nil)
	wantErr(t, d.SetWeight(ctx(t), "app", "a1", 100), nil)
	if f.Version() != before || count(f.Calls(), "PUT /services/haproxy/configuration/servers/{name}") != 0 {
		t.Fatalf("version %d → %d, calls %v", before, f.Version(), f.Calls())
	}
	if l, _ := f.Server("app", "a1"); l.Admin != "ready" {
		t.Fatalf("live admin %q, want ready", l.Admin)
	}
	if open := f.Transactions(); len(open) != 0 {
		t.Fatalf("transactions left: %v", open)
	}
}

func TestWaitHealthyTimesOut(t *testing.T) {
	f, d := newFake(t)
	f.HealthyAfter = 1 << 20
	c := ctx(t)
	wantErr(t, d.AddServer(c, "app_shadow", spec("s1", 9101)), nil)
	err := d.WaitHealthy(c, "app_shadow", "s1", 200*time.Millisecond)
	wantErr(t, err, haproxy.ErrNotHealthy)
	if !strings.Contains(err.Error(), `"INI"`) && !strings.Contains(err.Error(), PendingStatus) {
		t.Fatalf("error %q does not name the last check status", err)
	}
	wantErr(t, d.WaitHealthy(c, "app_shadow", "nope", time.Second), haproxy.ErrNotFound)
}

// A reload the API reports done but that started no new worker is an
// error, not a success.
func TestReloadWithoutNewWorker(t *testing.T) {
	f, d := newFake(t)
	d.cfg.ReloadTimeout = 200 * time.Millisecond
	f.NoNewWorker = true
	err := d.Reload(ctx(t))
	wantErr(t, err, haproxy.ErrUnavailable)
	if !strings.Contains(err.Error(), "no new worker") {
		t.Fatalf("error %q", err)
	}
}

// EnableHealth of a server HAProxy runs unchecked and the configuration
// lacks (added through the runtime endpoint, which the real API v2.9
// starts in MAINT and never checks) writes it to the configuration
// checked at weight 0; the reload that follows runs it checked. On a
// checked server it only reads.
func TestEnableHealth(t *testing.T) {
	f, d := newFake(t)
	c := ctx(t)
	port := int64(9201)
	add := &models.RuntimeAddServer{Name: "r1", Address: "127.0.0.1", Port: &port, Check: "enabled"}
	wantErr(t, d.call(c, "test", "POST", runtimeServers, map[string][]string{"backend": {"app_shadow"}}, add, nil), nil)
	if l, _ := f.Server("app_shadow", "r1"); l.Admin != "maint" || l.Check != "" {
		t.Fatalf("runtime-added server %+v, want MAINT and unchecked like the real API", l)
	}
	wantErr(t, d.EnableHealth(c, "app_shadow", "r1"), nil)
	if conf, ok := f.Config("app_shadow", "r1"); !ok || conf.Check != "enabled" || *conf.Weight != 0 || *conf.Port != port {
		t.Fatalf("configuration %+v, want r1 checked at weight 0", conf)
	}
	waitReload(t, f, 1)
	wantErr(t, d.WaitHealthy(c, "app_shadow", "r1", 5*time.Second), nil)
	before := len(f.Calls())
	wantErr(t, d.EnableHealth(c, "app", "a1"), nil)
	if n := len(f.Calls()) - before; n != 1 || f.Reloads() != 1 {
		t.Fatalf("enable health of a checked server: %d requests, %d reloads", n, f.Reloads())
	}
	wantErr(t, d.EnableHealth(c, "app_shadow", "zz"), haproxy.ErrNotFound)
}

// A server this driver removed that a worker runs again (a reload in
// flight at the removal read the configuration just before it) is deleted
// from the running HAProxy at the next stats read; one it did not remove
// is left alone.
func TestSweepRemoved(t *testing.T) {
	f, d := newFake(t)
	c := ctx(t)
	wantErr(t, d.RemoveServer(c, "app", "a2", time.Second), nil)
	f.Do(func(f *dpapitest.Fake) {
		f.SetLive("app", "a2", dpapitest.Live{Addr: "127.0.0.1", Port: 9002, Admin: "maint", Op: "down"})
		f.SetLive("app", "x9", dpapitest.Live{Addr: "127.0.0.1", Port: 9009, Admin: "maint", Op: "down"})
	})
	if _, err := d.Stats(c); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Server("app", "a2"); ok {
		t.Error("removed server running again was not deleted")
	}
	if _, ok := f.Server("app", "x9"); !ok {
		t.Error("a server this driver never removed was deleted")
	}
}
