package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shadowscale/shadowscale/scheduler"
)

// testCrash kills serve with SIGKILL (or stops it with SIGTERM) in phase at
// of a pool's lifecycle, under load, and restarts it on the same config and
// state: the clients see no error, nothing is orphaned at any point, and the
// pool resumes to Active and retires, or is rolled back cleanly.
func testCrash(t *testing.T, at scheduler.Phase, term bool) {
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{eventIn: eventIn, eventFor: eventFor})
	ld := startLoad(t, e)
	first := e.startServe()
	e.waitFor("phase "+string(at), lifecycle, func() bool { return e.phase() == at })
	how := "kill -9"
	if term {
		how = "SIGTERM"
		first.stopClean(t)
	} else {
		first.kill()
	}
	snap := e.snapshot()
	t.Logf("after %s in %s: %s", how, at, snap)
	snap.checkOwned(t)

	second := e.startServe()
	how = ""
	e.waitFor("reconcile after restart", lifecycle, func() bool {
		if second.find("reconcile: resuming", nil) != nil {
			how = "resumed"
		} else if second.find("reconcile: rolling back", nil) != nil {
			how = "rolled back"
		}
		return how != ""
	})
	t.Logf("after restart (%s): %d servers in HAProxy, %d instances recorded, %d processes",
		how, len(ssp(e.shadowServers())), len(e.record()), len(e.appProcs()))
	e.waitFor("the pool closed", lifecycle, func() bool {
		st := e.lbState()
		return st.Pool == nil && st.Retired+st.RolledBack >= 1
	})
	st := e.lbState()
	toActive := func(l logLine) bool { return l.str("to") == string(scheduler.Active) }
	active := second.find("pool step", toActive) != nil
	t.Logf("restart: pool %s %s; Active after restart: %v; retired %d, rolled back %d (%s)",
		snap.pool.ID, how, active, st.Retired, st.RolledBack, st.LastFailure)
	switch {
	case how == "resumed" && (!(active || first.find("pool step", toActive) != nil) || st.Retired != 1):
		t.Errorf("resumed pool did not reach Active and retire: %s", e.stateText())
	case how == "rolled back" && (st.RolledBack != 1 || st.LastFailure == ""):
		t.Errorf("rollback not recorded: %s", e.stateText())
	}
	res := ld.result(t)
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	e.checkClean()
	second.stopClean(t)
}

// snapshot is what exists while serve is down.
type snapshot struct {
	pool    *scheduler.Pool
	servers []string       // the scheduler's servers in HAProxy
	record  map[string]int // the provider's record: instance ID → PID
	procs   map[int]bool   // live instance processes
	share   int
}

func (e *serveEnv) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{pool: e.lbState().Pool, servers: ssp(e.shadowServers()), record: e.record(), procs: e.appProcs(), share: e.share()}
	if s.pool == nil {
		e.t.Fatalf("no pool persisted at the crash: %s", e.stateText())
	}
	return s
}

func (s snapshot) String() string {
	return fmt.Sprintf("pool %s in %s (share %d%%, live %d%%): servers %v in HAProxy, %v persisted; %d instances persisted, %d recorded by the provider, %d processes",
		s.pool.ID, s.pool.Phase, s.pool.Share, s.share, s.servers, s.pool.Servers, len(s.pool.Instances), len(s.record), len(s.procs))
}

// checkOwned: every server in HAProxy belongs to the persisted pool, every
// instance process is in the provider's record (and alive), and every
// instance of the pool is recorded.
func (s snapshot) checkOwned(t *testing.T) {
	t.Helper()
	for _, n := range s.servers {
		if !slices.Contains(s.pool.Servers, n) {
			t.Errorf("orphan server %s: not in the persisted pool %v", n, s.pool.Servers)
		}
	}
	pending := 0 // recorded, killed before the PID was saved: adopted by argv on restart
	for id, pid := range s.record {
		if pid == 0 {
			pending++
		} else if !s.procs[pid] {
			t.Errorf("recorded instance %s (pid %d) is not running", id, pid)
		}
	}
	if pids := s.unrecorded(); len(pids) > pending {
		t.Errorf("orphan instance processes %v: not in the provider's record %v", pids, s.record)
	}
	for _, in := range s.pool.Instances {
		if _, ok := s.record[in.ID]; !ok {
			t.Errorf("pool instance %s is not in the provider's record", in.ID)
		}
	}
}

// unrecorded are the live instance processes the provider has no record of.
func (s snapshot) unrecorded() []int {
	recorded := map[int]bool{}
	for _, pid := range s.record {
		recorded[pid] = true
	}
	var out []int
	for pid := range s.procs {
		if !recorded[pid] {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}
