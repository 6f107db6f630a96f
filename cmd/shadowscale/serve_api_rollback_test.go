package main

import (
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/scheduler"
)

// TestAPIForcedRollback: a real pool (not dry-run) rolled back through the
// CLI and the API: traffic goes back to the primary, its servers leave
// HAProxy, the reason is recorded, and with the kill switch on no new pool
// opens.
func TestAPIForcedRollback(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{minPools: 1, service: "api_token = " + testToken})
	e.startServe()
	at := newAPITester(t, e.apiBase())
	e.waitFor("a pool warming or ready", lifecycle, func() bool {
		ph := e.phase()
		return ph == scheduler.WarmingUp || ph == scheduler.Ready
	})
	at.expect(at.call("PUT", "/v1/controls/kill-switch", map[string]bool{"on": true}, "ok"), 200, "kill switch on")
	out, err := e.runCLI("rollback", "app", "--config", e.cfgPath, "--reason", "operator drill")
	if err != nil || !strings.Contains(out, "rolled back: forced by operator: operator drill") {
		t.Fatalf("rollback: %v %s", err, out)
	}
	var d api.LBDetail
	at.expect(at.call("GET", "/v1/lbs/app", nil, ""), 200, "lb").json(t, &d)
	if d.Phase != "Idle" || d.Rolled != 1 || !strings.Contains(d.Last, "operator drill") {
		t.Errorf("after rollback: phase %s rolled back %d last %q", d.Phase, d.Rolled, d.Last)
	}
	if servers := ssp(e.shadowServers()); len(servers) != 0 || e.share() != 0 {
		t.Errorf("HAProxy after rollback: servers %v, share %d%%", servers, e.share())
	}
	at.expect(at.call("POST", "/v1/lbs/app/rollback", nil, "ok"), 409, "second rollback: no pool")
	st := e.waitTicks(at, e.waitTicks(at, 0).Ticks+3) // three more ticks
	if st.LBs[0].Phase != "Idle" || !strings.Contains(st.LBs[0].Decision, "kill switch") {
		t.Errorf("a pool opened under the kill switch: %+v", st.LBs[0])
	}
	if saved := e.lbState(); saved.Pool != nil || saved.RolledBack != 1 {
		t.Errorf("persisted: %s", e.stateText())
	}
}
