package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

// testDataplane: serve drives HAProxy through the Data Plane API (the
// spec-validating fake: any request outside the API's specification fails
// the test). The fake carries no traffic, so min_pools_per_lb = 1 asks for
// a pool: it is provisioned, added in maintenance, checked and warmed.
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
	for _, want := range []string{"POST /services/haproxy/runtime/servers", "maps_entries"} {
		if !strings.Contains(calls, want) {
			t.Errorf("serve never called %s; calls:\n%s", want, calls)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
}
