package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/scheduler"
)

// testDataplane: serve drives HAProxy through the Data Plane API (the
// spec-validating fake: any request outside the API's specification fails
// the test; TestServeDataplaneReal runs the real one). The fake carries no
// traffic, so min_pools_per_lb = 1 asks for a pool: it is provisioned,
// added checked at weight 0, proven healthy and warmed.
func testDataplane(t *testing.T) {
	e := newServeEnv(t)
	api := dpapitest.New(t)
	e.writeConfig(iniOpts{minPools: 1,
		haproxy: fmt.Sprintf("driver = dataplane\ndataplane_urls = %s\ndataplane_user = %s\ndataplane_password = %s\nmap_file = %s",
			api.URL, dpapitest.User, dpapitest.Password, dpapitest.MapName)})
	p := e.startServe()
	e.waitFor("a pool warming up through the Data Plane API", lifecycle, func() bool {
		ph := e.phase()
		return ph == "WarmingUp" || ph == "Ready"
	})
	calls := strings.Join(api.Calls(), "\n")
	for _, want := range []string{"POST /services/haproxy/configuration/servers", "maps_entries"} {
		if !strings.Contains(calls, want) {
			t.Errorf("serve never called %s; calls:\n%s", want, calls)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
}

// TestServeDataplaneReal runs serve with driver = dataplane against the
// real Data Plane API v2.9.9 in front of real HAProxy 2.6 and 3.2, under
// load: a whole pool lifecycle, a kill -9 of serve mid-cutover, and (on
// 3.2) the API killed and restarted mid-run. Not parallel with TestServe:
// running both sets at once overloads a 2-core machine into client errors.
func TestServeDataplaneReal(t *testing.T) {
	testenv.DataplaneAPI(t)
	vers := testenv.HAProxyVersions(t)
	binaries(t)
	keys := make([]string, 0, len(vers))
	for v := range vers {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	var wg sync.WaitGroup
	for _, v := range keys {
		for _, s := range []struct {
			name string
			run  func(*testing.T, string)
		}{{"lifecycle", testDataplaneLifecycle}, {"kill -9 in CuttingOver", testDataplaneCrash},
			{"api restarted mid-run", testDataplaneAPIRestart}, {"outside changes", testDataplaneOutside}} {
			if (s.name == "api restarted mid-run" && v != "3.2") || (s.name == "outside changes" && v != "2.6") {
				continue // one version is enough for what the API does; keeps the package's time down
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run("haproxy "+v+"/"+s.name, func(t *testing.T) { s.run(t, vers[v]) })
			}()
		}
	}
	wg.Wait()
}

// dataplaneEnv is a serve env whose HAProxy (bin) is driven through the
// real API.
func dataplaneEnv(t *testing.T, bin string) (*serveEnv, *dpapitest.Real) {
	e := newServeEnv(t)
	e.hapBin = bin
	e.startHAProxy()
	api := dpapitest.StartReal(t, e.hap)
	e.writeConfig(iniOpts{eventIn: eventIn, eventFor: eventFor,
		haproxy: fmt.Sprintf("driver = dataplane\ndataplane_urls = %s\ndataplane_user = %s\ndataplane_password = %s\nmap_file = %s",
			api.URL, dpapitest.User, dpapitest.Password, e.paths.mapFile)})
	return e, api
}

// testDataplaneLifecycle: provision → health-gated warm-up → cutover →
// drain → retire through the real API, with no client error and nothing
// left in HAProxy or in the API's configuration; the reloads it cost are
// counted.
func testDataplaneLifecycle(t *testing.T, bin string) {
	e, api := dataplaneEnv(t, bin)
	r0 := e.reloads()
	ld := startLoad(t, e)
	p := e.startServe()
	m := watch(e)
	e.waitFor("a pool warming up", lifecycle, func() bool { return m.seen(scheduler.WarmingUp) || m.seen(scheduler.Active) })
	e.waitFor("the pool active", lifecycle, func() bool { return m.seen(scheduler.Active) })
	e.waitFor("the pool retired", lifecycle, func() bool { return e.lbState().Retired >= 1 })
	m.close()
	res := ld.result(t)
	// The removals' reload runs after the API's reload delay.
	e.waitFor("the removals' reload", 30*time.Second, func() bool { return e.reloads()-r0 >= 2 })
	reloads := e.reloads() - r0
	t.Logf("phases %v; max share %d%% (warm-up %d%%); max shadow servers %d; %d reloads for the lifecycle",
		m.phases, m.maxShare, m.warmShare, m.maxServers, reloads)
	if m.warmShare < 1 || m.maxShare < 25 || m.maxServers < 1 {
		t.Errorf("HAProxy never saw the pool: warm-up share %d%%, max share %d%%, servers %d", m.warmShare, m.maxShare, m.maxServers)
	}
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	if res.Share("p1", "p2") >= 1 {
		t.Errorf("the shadow pool served no request: %v", res.ByHeader)
	}
	if st := e.lbState(); st.RolledBack != 0 {
		t.Errorf("a pool was rolled back: %s", st.LastFailure)
	}
	e.checkLeftNothing(api)
	if reloads > 4 {
		t.Errorf("one lifecycle cost %d reloads, want at most 4 (adds and removals, each one reload, two at worst)", reloads)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
}

// testDataplaneCrash: serve killed with SIGKILL mid-cutover under load,
// restarted on the same state: the pool resumes (or is rolled back), no
// client error, and no server of the scheduler is left, neither in
// HAProxy nor in the API's configuration, at the crash or at the end.
func testDataplaneCrash(t *testing.T, bin string) {
	e, api := dataplaneEnv(t, bin)
	ld := startLoad(t, e)
	first := e.startServe()
	e.waitFor("phase CuttingOver", lifecycle, func() bool { return e.phase() == scheduler.CuttingOver })
	first.kill()
	snap := e.snapshot()
	t.Logf("after kill -9 in CuttingOver: %s", snap)
	snap.checkOwned(t)
	e.checkConfigured(api, snap.pool.Servers)

	second := e.startServe()
	e.waitFor("the pool closed", lifecycle, func() bool {
		st := e.lbState()
		return st.Pool == nil && st.Retired+st.RolledBack >= 1
	})
	how := "resumed"
	if second.find("reconcile: rolling back", nil) != nil {
		how = "rolled back"
	}
	st := e.lbState()
	t.Logf("restart: pool %s %s; retired %d, rolled back %d (%s)", snap.pool.ID, how, st.Retired, st.RolledBack, st.LastFailure)
	res := ld.result(t)
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	e.checkLeftNothing(api)
	second.stopClean(t)
}

func (e *serveEnv) reloads() int { return dpapitest.CountReloads(e.t, e.hap) }

// checkConfigured asserts that the scheduler's servers in the API's
// configuration of the shadow backend are exactly within owned.
func (e *serveEnv) checkConfigured(api *dpapitest.Real, owned []string) {
	e.t.Helper()
	var conf struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if _, err := apiDo(api, http.MethodGet, "/services/haproxy/configuration/servers?backend="+lbName+"_shadow", "", &conf); err != nil {
		e.t.Fatal(err)
	}
	for _, s := range conf.Data {
		if strings.HasPrefix(s.Name, scheduler.ServerPrefix) && !slices.Contains(owned, s.Name) {
			e.t.Errorf("server %s in the API's configuration, not owned by a pool (%v)", s.Name, owned)
		}
	}
}

// testDataplaneAPIRestart: the API dies (kill -9) while a pool warms up
// and comes back; serve holds while it cannot read the load balancer and
// then finishes the lifecycle, with no client error and nothing left.
func testDataplaneAPIRestart(t *testing.T, bin string) {
	e, api := dataplaneEnv(t, bin)
	ld := startLoad(t, e)
	p := e.startServe()
	e.waitFor("phase WarmingUp", lifecycle, func() bool { return e.phase() == scheduler.WarmingUp })
	if err := api.Kill(); err != nil {
		t.Fatal(err)
	}
	refused := func(l logLine) bool { return strings.Contains(fmt.Sprint(l), "connection refused") }
	e.waitFor("serve to notice the API is gone", lifecycle, func() bool {
		for _, l := range p.lines() {
			if refused(l) {
				return true
			}
		}
		return false
	})
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the pool closed", lifecycle, func() bool {
		st := e.lbState()
		return st.Pool == nil && st.Retired+st.RolledBack >= 1
	})
	st := e.lbState()
	t.Logf("after the API restart: retired %d, rolled back %d (%s)", st.Retired, st.RolledBack, st.LastFailure)
	res := ld.result(t)
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	e.checkLeftNothing(api)
	p.stopClean(t)
}

// checkLeftNothing: once HAProxy dropped the removed servers, nothing of
// the scheduler's is left in HAProxy, the provider or the API's
// configuration.
func (e *serveEnv) checkLeftNothing(api *dpapitest.Real) {
	e.t.Helper()
	e.waitDropped()
	e.checkClean()
	e.checkConfigured(api, nil)
}

// waitDropped waits, bounded, until HAProxy runs none of the scheduler's
// servers. A removal deletes the server from the configuration and from
// the running worker at once, but a reload in flight at that moment may
// start a worker from the configuration read just before (with the server
// in MAINT): the API's next reload, one reload delay later, drops it.
func (e *serveEnv) waitDropped() {
	e.t.Helper()
	e.waitFor("HAProxy to drop the removed servers", 30*time.Second, func() bool {
		names, err := e.shadowServersErr()
		return err == nil && len(ssp(names)) == 0
	})
}

// testDataplaneOutside: another client of the API commits a change of its
// own every few seconds during a whole lifecycle (each commit also reloads
// HAProxy): serve's writes that meet a newer version are retried, the
// lifecycle completes with no client error, and every change of the other
// client is still in the configuration.
func testDataplaneOutside(t *testing.T, bin string) {
	e, api := dataplaneEnv(t, bin)
	ld := startLoad(t, e)
	stop, done := make(chan struct{}), make(chan []string)
	go func() {
		var made []string
		for i := 1; ; i++ {
			select {
			case <-stop:
				done <- made
				return
			case <-time.After(3 * time.Second):
			}
			name := fmt.Sprintf("outside_%d", i)
			if err := outsideCommit(api, name); err != nil {
				t.Errorf("outside commit: %v", err)
				continue
			}
			made = append(made, name)
		}
	}()
	p := e.startServe()
	e.waitFor("the pool retired", lifecycle, func() bool { return e.lbState().Retired >= 1 })
	close(stop)
	made := <-done
	res := ld.result(t)
	t.Logf("%d outside commits; %d of serve's writes met a newer version and were retried; reloads %d",
		len(made), p.count("configuration changed underneath, retrying"), e.reloads())
	if n := res.ErrorCount(); n != 0 || res.Requests == 0 {
		t.Errorf("clients saw %d errors in %d requests: %v", n, res.Requests, res.Errors)
	}
	if st := e.lbState(); st.RolledBack != 0 {
		t.Errorf("a pool was rolled back: %s", st.LastFailure)
	}
	for _, name := range made {
		if _, err := apiDo(api, http.MethodGet, "/services/haproxy/configuration/backends/"+name, "", nil); err != nil {
			t.Errorf("the other client's change was lost: %v", err)
		}
	}
	e.checkLeftNothing(api)
	p.stopClean(t)
}

// outsideCommit adds a backend in a transaction, as another client would,
// starting over when a write of serve's outdated it (409 or 406).
func outsideCommit(api *dpapitest.Real, name string) error {
	var err error
	for range 5 {
		if err = outsideTry(api, name); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func outsideTry(api *dpapitest.Real, name string) error {
	var version int64
	if _, err := apiDo(api, http.MethodGet, "/services/haproxy/configuration/version", "", &version); err != nil {
		return err
	}
	var tx struct {
		ID string `json:"id"`
	}
	if _, err := apiDo(api, http.MethodPost, fmt.Sprintf("/services/haproxy/transactions?version=%d", version), "", &tx); err != nil {
		return err
	}
	body := fmt.Sprintf(`{"name":%q,"mode":"http","balance":{"algorithm":"roundrobin"}}`, name)
	_, err := apiDo(api, http.MethodPost, "/services/haproxy/configuration/backends?transaction_id="+tx.ID, body, nil)
	if err == nil {
		_, err = apiDo(api, http.MethodPut, "/services/haproxy/transactions/"+tx.ID, "", nil)
	}
	if err != nil {
		apiDo(api, http.MethodDelete, "/services/haproxy/transactions/"+tx.ID, "", nil)
	}
	return err
}

// apiDo is one request to the API; an answer of 300 or more is an error
// carrying the status.
func apiDo(api *dpapitest.Real, method, path, body string, out any) (int, error) {
	req, err := http.NewRequest(method, api.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(dpapitest.User, dpapitest.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}
