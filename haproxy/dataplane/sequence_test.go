package dataplane

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
)

// TestSequence walks a whole warm-up and cutover against the fake: add two
// shadow servers (checked, weight 0: one reload for both), wait until
// healthy, ready them, share 1 → 5 → 100 %, drain and remove the old
// servers, reload, and checks the live state and the persisted
// configuration after each step and the reloads it cost.
func TestSequence(t *testing.T) {
	f, d := newFake(t)
	c := ctx(t)
	names := []string{"s1", "s2"}
	for i, name := range names {
		wantErr(t, d.AddServer(c, "app_shadow", spec(name, 9101+i)), nil)
		if conf, ok := f.Config("app_shadow", name); !ok || conf.Maintenance != "" || conf.Check != "enabled" || *conf.Weight != 0 {
			t.Fatalf("added %s not configured checked at weight 0: %+v", name, conf)
		}
	}
	waitReload(t, f, 1)
	for i, name := range names {
		wantErr(t, d.WaitHealthy(c, "app_shadow", name, 5*time.Second), nil)
		st, err := d.Server(c, "app_shadow", name)
		wantErr(t, err, nil)
		if st.Admin != haproxy.StateReady || st.Weight != 0 || st.Port != 9101+i {
			t.Fatalf("added %s: %+v, want ready at weight 0", name, st)
		}
		wantErr(t, d.SetState(c, "app_shadow", name, haproxy.StateReady), nil)
		if conf, _ := f.Config("app_shadow", name); *conf.Weight != 100 {
			t.Fatalf("ready %s: configured weight %d", name, *conf.Weight)
		}
	}
	for _, pct := range []int{1, 5, 100} {
		wantErr(t, d.SetShare(c, "app", pct), nil)
		got, err := d.Share(c, "app")
		wantErr(t, err, nil)
		live, file := f.MapValue("app")
		if got != pct || file != live {
			t.Fatalf("share %d: read %d, live %q, map file %q", pct, got, live, file)
		}
	}
	for _, old := range []string{"a1", "a2"} {
		wantErr(t, d.SetState(c, "app", old, haproxy.StateDrain), nil)
		if st, _ := d.Server(c, "app", old); st.Admin != haproxy.StateDrain {
			t.Fatalf("drained %s: %+v", old, st)
		}
		wantErr(t, d.RemoveServer(c, "app", old, time.Second), nil)
		if _, ok := f.Config("app", old); ok {
			t.Fatalf("removed %s still in the configuration", old)
		}
	}
	waitReload(t, f, 2)
	if n := f.Reloads(); n != 2 {
		t.Fatalf("%d reloads, want 2 (the adds, the removals)", n)
	}
	wantErr(t, d.Reload(c), nil)
	shadow, err := d.ListServers(c, "app_shadow")
	wantErr(t, err, nil)
	if len(shadow) != 2 || shadow[0].Admin != haproxy.StateReady || shadow[1].Admin != haproxy.StateReady || shadow[0].Weight != 100 {
		t.Fatalf("after reload shadow servers %+v, want s1, s2 ready at weight 100", shadow)
	}
	if old, _ := d.ListServers(c, "app"); len(old) != 0 {
		t.Fatalf("after reload old servers %+v, want none", old)
	}
	if got, _ := d.Share(c, "app"); got != 100 {
		t.Fatalf("after reload share %d, want 100", got)
	}
	if open := f.Transactions(); len(open) != 0 {
		t.Fatalf("transactions left open: %v", open)
	}
	golden(t, "testdata/sequence.calls", strings.Join(f.Calls(), "\n")+"\n")
}

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with a file under testdata (rewritten with -update):
// here the exact API calls of the sequence, so a change in how the driver
// talks to the API shows up in review.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file (run with -update to create): %v", err)
	}
	if string(want) != got {
		t.Fatalf("calls differ from %s (run with -update after checking):\n%s", path, got)
	}
}
