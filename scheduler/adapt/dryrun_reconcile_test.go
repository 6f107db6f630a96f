package adapt_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/scheduler"
)

// hapSnapshot is everything about HAProxy and the provider a reconcile
// could change: shadow servers (name, address, admin state), the live share,
// the map and config files, and the provider's instances.
type hapSnapshot struct {
	servers   []string
	share     int
	mapFile   string
	config    string
	instances []string
}

func (r *rig) snapshot() hapSnapshot {
	r.t.Helper()
	var s hapSnapshot
	for _, sv := range r.shadowServers() {
		s.servers = append(s.servers, fmt.Sprintf("%s %s:%d %s", sv.Name, sv.Addr, sv.Port, sv.Admin))
	}
	s.share = r.liveShare()
	for path, dst := range map[string]*string{r.h.MapFile: &s.mapFile, r.h.Config: &s.config} {
		b, err := os.ReadFile(path)
		if err != nil {
			r.t.Fatal(err)
		}
		*dst = string(b)
	}
	insts, err := r.prov.List(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, in := range insts {
		s.instances = append(s.instances, in.ID+" "+in.Addr)
	}
	return s
}

// TestDryRunReconcileRealHAProxy: a non-dry run leaves a warming pool, one
// of its instances dies, and an orphan server and an orphan instance are
// left from an earlier crash. Restarted in dry-run, the scheduler reconciles
// and ticks through the peak: HAProxy and the provider do not change at all,
// and the status says what a real run would do.
func TestDryRunReconcileRealHAProxy(t *testing.T) {
	r := newRig(t)
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	go r.load(ctx)
	r.until(scheduler.WarmingUp, 30, pause)

	insts, err := r.prov.List(ctx)
	if err != nil || len(insts) != 2 {
		t.Fatalf("pool instances: %v %v", insts, err)
	}
	if err := r.prov.Destroy(ctx, insts[1]); err != nil { // the pool is now inconsistent
		t.Fatal(err)
	}
	orphan, err := r.prov.Create(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(orphan[0].Addr, ":")
	var p int
	fmt.Sscan(port, &p)
	if err := r.rt.AddServer(ctx, "app_shadow", haproxy.ServerSpec{Name: "ssp-app-99-0", Addr: host, Port: p, CheckInter: checkInter}); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(r.statePath)
	if err != nil {
		t.Fatal(err)
	}
	before := r.snapshot()

	r.dryRun = true
	r.build()
	check := func(when string) {
		t.Helper()
		if after := r.snapshot(); !reflect.DeepEqual(before, after) {
			t.Fatalf("dry-run changed HAProxy or the provider %s:\nbefore %+v\nafter  %+v", when, before, after)
		}
	}
	check("in reconcile")
	report := strings.Join(r.sch.Status().Reconcile, "\n")
	for _, want := range []string{
		"would set the shadow share of app to 0%",
		"would remove server app_shadow/ssp-app-99-0",
		"would remove server app_shadow/ssp-app-1-0",
		"would remove server app_shadow/ssp-app-1-1",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("dry-run report lacks %q:\n%s", want, report)
		}
	}
	var destroys []string
	for _, line := range r.sch.Status().Reconcile {
		if strings.HasPrefix(line, "would destroy instances ") {
			destroys = append(destroys, line)
		}
	}
	for _, id := range []string{insts[0].ID, orphan[0].ID} { // the pool's live one, the orphan
		if !strings.Contains(strings.Join(destroys, "\n"), id) {
			t.Errorf("dry-run report does not destroy %s: %v", id, destroys)
		}
	}
	if st := r.sch.Status().LBs[0]; !strings.Contains(st.Plan.Decision, "would") {
		t.Errorf("reconcile decision %q does not say what it would do", st.Plan.Decision)
	}
	if after, _ := os.ReadFile(r.statePath); string(after) != string(state) {
		t.Errorf("dry-run reconcile rewrote the state file")
	}
	for r.now.Sub(t0) < 45*time.Minute {
		r.tick(0)
	}
	check("while ticking")
	stop()
}
