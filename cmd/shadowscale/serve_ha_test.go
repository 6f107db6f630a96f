package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shadowscale/shadowscale/ha/etcdtest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/metrics/influxtest"
	"github.com/shadowscale/shadowscale/scheduler"
)

// The HA scenarios: two serve replicas with the same configuration (each
// its own state_dir, as on two machines) over one real HAProxy, a real
// etcd and a real InfluxDB, a static standby pool of demo apps, under load.
const (
	haTTL    = 4 * time.Second
	haMargin = time.Second
	haPrefix = "/shadowscale/"
)

var sharedInflux struct {
	once sync.Once
	srv  *influxtest.Server
	err  error
}

// influxFor gives each scenario its own database on one shared influxd
// (stopped by TestMain).
func influxFor(t *testing.T, db string) string {
	t.Helper()
	sharedInflux.once.Do(func() {
		bin := influxtest.Binary()
		if bin == "" {
			return
		}
		dir := filepath.Join(bins.dir, "influx")
		if sharedInflux.err = os.MkdirAll(dir, 0o700); sharedInflux.err == nil {
			sharedInflux.srv, sharedInflux.err = influxtest.New(context.Background(), bin, dir)
		}
	})
	if sharedInflux.srv == nil && sharedInflux.err == nil {
		t.Fatal("influxd missing: run `make setup`")
	}
	if sharedInflux.err != nil {
		t.Fatalf("influxd: %v", sharedInflux.err)
	}
	if err := sharedInflux.srv.CreateDatabase(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return sharedInflux.srv.URL
}

func stopSharedInflux() {
	if sharedInflux.srv != nil {
		sharedInflux.srv.Stop()
	}
}

type haEnv struct {
	*serveEnv
	etcd     *etcdtest.Server
	cli      *clientv3.Client
	replicas map[string]*serveProc
	influx   string // InfluxDB URL
	standby  string // the static provider's addresses
}

// newHAEnv starts HAProxy, etcd, two standby instances and load; etcdURL
// maps a replica to the etcd URL it is given (a proxy, for partitions).
func newHAEnv(t *testing.T, db string) *haEnv {
	e := &haEnv{serveEnv: newServeEnv(t), etcd: etcdtest.Start(t), replicas: map[string]*serveProc{}}
	e.cli = e.etcd.NewClient(t, e.etcd.Client)
	e.startHAProxy()
	influx := influxFor(t, db)
	var standby []string
	for _, name := range []string{"s1", "s2"} {
		in, err := demoapp.Start(demoapp.Config{Name: name, Delay: 2 * time.Millisecond}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		standby = append(standby, in.Addr)
	}
	e.influx, e.standby = influx, strings.Join(standby, ",")
	return e
}

// writeReplicaConfig writes replica id's INI (its own state dir).
func (e *haEnv) writeReplicaConfig(id, etcdURL, db string) string {
	e.cfgPath = filepath.Join(e.dir, id+".ini")
	e.stateDir = filepath.Join(e.dir, "state-"+id)
	// naive: its band is the spread of past h-step changes, so the pool's
	// timeline (open for the event, drain after it) does not hang on how
	// wide a fitted model's band grows on a loaded machine's noisy rates;
	// the forecasters have tests of their own.
	e.writeConfig(iniOpts{eventIn: eventIn, eventFor: eventFor, forecaster: "naive",
		provider: "kind = static\naddresses = " + e.standby + "\nboot_time = 1s\nwarmup_time = 3s\ntimeout = 10s",
		metrics:  fmt.Sprintf("store = influxdb\nscrape_interval = 1s\n\n[influxdb]\nurl = %s\ndatabase = %s", e.influx, db),
		extra: fmt.Sprintf("\n[ha]\netcd_endpoints = %s\nreplica_id = %s\nlease_ttl = %s\nacting_margin = %s\nelection_prefix = %s\n",
			etcdURL, id, haTTL, haMargin, haPrefix)})
	return e.cfgPath
}

func (e *haEnv) startReplica(id, etcdURL, db string) *serveProc {
	e.writeReplicaConfig(id, etcdURL, db)
	p := e.startServe()
	e.replicas[id] = p
	return p
}

// etcdState reads the scheduler's state from etcd.
func (e *haEnv) etcdState() scheduler.State {
	var st scheduler.State
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := e.cli.Get(ctx, haPrefix+"state")
	if err == nil && len(resp.Kvs) == 1 {
		_ = json.Unmarshal(resp.Kvs[0].Value, &st)
	}
	return st
}

func (e *haEnv) haLB() scheduler.LBState {
	if l := e.etcdState().LBs[lbName]; l != nil {
		return *l
	}
	return scheduler.LBState{}
}

func (e *haEnv) haPhase() scheduler.Phase {
	if l := e.haLB(); l.Pool != nil {
		return l.Pool.Phase
	}
	return scheduler.Idle
}

// providerRecord is the static provider's allocation as kept in etcd.
func (e *haEnv) providerRecord() int {
	var rec struct {
		Allocated map[string]any `json:"allocated"`
	}
	resp, err := e.cli.Get(context.Background(), haPrefix+"provider/pool")
	if err == nil && len(resp.Kvs) == 1 {
		_ = json.Unmarshal(resp.Kvs[0].Value, &rec)
	}
	return len(rec.Allocated)
}

func (e *haEnv) leading(p *serveProc) logLine { return p.find("ha: leading", nil) }

// change is one HAProxy change a replica logged.
type change struct {
	replica string
	at      time.Time
	op      string
}

// changes collects every replica's HAProxy changes in time order.
func (e *haEnv) changes() []change {
	var out []change
	for id, p := range e.replicas {
		for _, l := range p.lines() {
			if l.str("msg") != "haproxy change" {
				continue
			}
			at, _ := time.Parse(time.RFC3339Nano, l.str("time"))
			out = append(out, change{replica: id, at: at, op: l.str("op")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// checkNoOverlap fails when the replicas' changes interleave: each replica's
// changes must form one run, the acting terms one after the other.
func (e *haEnv) checkNoOverlap() {
	e.t.Helper()
	cs := e.changes()
	runs := map[string]int{}
	for i, c := range cs {
		if i == 0 || cs[i-1].replica != c.replica {
			runs[c.replica]++
		}
	}
	for id, n := range runs {
		if n > 1 {
			e.t.Errorf("replica %s acted in %d separate runs interleaved with the other's: %v", id, n, cs)
		}
	}
	e.t.Logf("HAProxy changes by replica: %v", runsText(cs))
}

func runsText(cs []change) string {
	var b strings.Builder
	for i, c := range cs {
		if i == 0 || cs[i-1].replica != c.replica {
			fmt.Fprintf(&b, "[%s from %s] ", c.replica, c.at.Format("15:04:05.000"))
		}
	}
	return b.String()
}

// checkClosedClean waits for the pool to close and asserts nothing is left.
func (e *haEnv) checkClosedClean(ld *load) {
	e.t.Helper()
	e.waitFor("the pool closed", lifecycle, func() bool {
		l := e.haLB()
		return l.Pool == nil && l.Retired+l.RolledBack >= 1
	})
	res := ld.result(e.t)
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		e.t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	if s := ssp(e.shadowServers()); len(s) > 0 {
		e.t.Errorf("servers left in the shadow backend: %v", s)
	}
	if n := e.providerRecord(); n != 0 {
		e.t.Errorf("%d instances left in the provider record in etcd", n)
	}
	if sh := e.share(); sh != 0 {
		e.t.Errorf("share left at %d%%", sh)
	}
	l := e.haLB()
	e.t.Logf("pool closed: retired %d, rolled back %d (%s)", l.Retired, l.RolledBack, l.LastFailure)
}

// testHAFailover kills the leader with SIGKILL in phase at: the follower
// takes over within the lease TTL and a tick, resumes (or rolls back) the
// pool and closes it, with no client error and nothing orphaned.
func testHAFailover(t *testing.T, at scheduler.Phase) {
	db := "ha_" + strings.ToLower(string(at))
	e := newHAEnv(t, db)
	ld := startLoad(t, e.serveEnv)
	a := e.startReplica("a", e.etcd.Client, db)
	e.waitFor("a leads", lifecycle, func() bool { return e.leading(a) != nil })
	b := e.startReplica("b", e.etcd.Client, db)
	e.waitFor("b follows", lifecycle, func() bool { return b.find("ha: following", nil) != nil })
	e.waitFor("phase "+string(at), lifecycle, func() bool { return e.haPhase() == at })
	a.kill()
	killed := time.Now()
	e.waitFor("b leads", lifecycle, func() bool { return e.leading(b) != nil })
	took := time.Since(killed)
	t.Logf("leader killed in %s; b took over after %s (lease ttl %s, tick 1s)", at, took.Round(10*time.Millisecond), haTTL)
	if took > 3*haTTL+5*time.Second {
		t.Errorf("takeover took %s, far beyond the lease ttl %s plus a tick", took, haTTL)
	}
	how := "neither resumed nor rolled back"
	if b.find("reconcile: resuming", nil) != nil {
		how = "resumed"
	} else if b.find("reconcile: rolling back", nil) != nil {
		how = "rolled back"
	}
	t.Logf("the new leader %s the pool", how)
	e.checkClosedClean(ld)
	e.checkNoOverlap()
}

// testHAPartition cuts the leader off etcd: it stops acting within its
// margin, the other replica takes over and closes the pool; the two never
// act at once; once healed, the old leader only follows.
func testHAPartition(t *testing.T) {
	const db = "ha_partition"
	e := newHAEnv(t, db)
	proxy := e.etcd.NewProxy(t)
	ld := startLoad(t, e.serveEnv)
	a := e.startReplica("a", proxy.URL, db)
	e.waitFor("a leads", lifecycle, func() bool { return e.leading(a) != nil })
	b := e.startReplica("b", e.etcd.Client, db)
	e.waitFor("b follows", lifecycle, func() bool { return b.find("ha: following", nil) != nil })
	e.waitFor("a pool warming", lifecycle, func() bool { return e.haPhase() == scheduler.WarmingUp })
	proxy.Cut()
	e.waitFor("b leads", lifecycle, func() bool { return e.leading(b) != nil })
	proxy.Heal()
	e.checkClosedClean(ld)
	if a.find("leadership ended", nil) == nil {
		t.Error("the partitioned leader never noticed its term ended")
	}
	e.checkNoOverlap()
}

// testHAEtcdUnreachable: a replica started before etcd retries, says so,
// and starts once etcd answers.
func testHAEtcdUnreachable(t *testing.T) {
	const db = "ha_unreachable"
	e := newHAEnv(t, db)
	e.etcd.Stop()
	a := e.startReplica("a", e.etcd.Client, db)
	e.waitFor("a reports etcd unreachable", lifecycle, func() bool { return a.find("etcd unreachable; retrying", nil) != nil })
	e.etcd.Restart()
	e.waitFor("a leads once etcd is back", lifecycle, func() bool { return e.leading(a) != nil })
}

// testHAPrefixForbidden: credentials whose role may not touch the prefix
// make serve exit at start with an error naming [ha] and the prefix,
// rather than retry forever.
func testHAPrefixForbidden(t *testing.T) {
	const db = "ha_forbidden"
	e := newHAEnv(t, db)
	ctx := t.Context()
	c := e.cli
	steps := []func() error{
		func() error { _, err := c.RoleAdd(ctx, "root"); return err },
		func() error { _, err := c.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := c.RoleAdd(ctx, "other"); return err },
		func() error {
			_, err := c.RoleGrantPermission(ctx, "other", "/other/", clientv3.GetPrefixRangeEnd("/other/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := c.UserAdd(ctx, "ss", "sspw"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "ss", "other"); return err },
		func() error { _, err := c.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("etcd auth set-up step %d: %v", i, err)
		}
	}
	e.writeReplicaConfig("a", e.etcd.Client, db)
	e.writeFile(e.cfgPath, readFile(t, e.cfgPath)+"username = ss\npassword = sspw\n")
	p := e.startServe()
	p.stopped = true // it is meant to exit
	e.waitFor("serve to exit", lifecycle, p.exited)
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatal("serve exited 0 with a forbidden prefix")
	}
	log := readFile(t, p.log)
	if !strings.Contains(log, "[ha] etcd at") || !strings.Contains(log, "refused access to "+haPrefix) || strings.Contains(log, "sspw") {
		t.Errorf("start-up error does not name [ha] and the prefix (or leaks the password):\n%s", log)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHA(t *testing.T) {
	t.Parallel()
	binaries(t)
	scenarios := map[string]func(*testing.T){
		"kill leader in WarmingUp":   func(t *testing.T) { testHAFailover(t, scheduler.WarmingUp) },
		"kill leader in CuttingOver": func(t *testing.T) { testHAFailover(t, scheduler.CuttingOver) },
		"kill leader in Draining":    func(t *testing.T) { testHAFailover(t, scheduler.Draining) },
		"partitioned leader":         testHAPartition,
		"etcd unreachable at start":  testHAEtcdUnreachable,
		"prefix forbidden":           testHAPrefixForbidden,
	}
	var wg sync.WaitGroup
	for name, run := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(name, run)
		}()
	}
	wg.Wait()
}
