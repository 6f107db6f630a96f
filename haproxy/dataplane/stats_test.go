package dataplane

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

// TestStatsGolden replays a stats answer shaped like the real API's (the
// fake checks it against the spec) and checks every mapped field.
func TestStatsGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/stats_native.json")
	if err != nil {
		t.Fatal(err)
	}
	var body any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	f, d := newFake(t)
	f.Inject(dpapitest.Fault{Method: "GET", Template: "/services/haproxy/stats/native", Status: 200, Body: body})
	s, err := d.Stats(ctx(t))
	wantErr(t, err, nil)
	if len(s.Frontends) != 1 || len(s.Backends) != 1 || len(s.Servers) != 2 || s.Node != "fake" {
		t.Fatalf("rows: %+v", s)
	}
	want := haproxy.StatRow{Type: "server", Proxy: "app", Server: "a1", Status: "UP", CheckStatus: "L7OK",
		CheckDesc: "Layer7 check passed", Weight: 100, Sessions: 5, Queue: 1, SessionsTotal: 20050, Rate: 131,
		Hrsp2xx: 20040, Hrsp5xx: 2, ConnErrors: 1, RespErrors: 1, Retries: 2, Redispatches: 1,
		ConnectTimeMs: 1, ResponseTimeMs: 6, TotalTimeMs: 8}
	if got, _ := s.Row("server", "app", "a1"); got != want {
		t.Fatalf("server row\n got %+v\nwant %+v", got, want)
	}
	if fe, _ := s.Row("frontend", "fe_app", ""); fe.ReqRate != 334 || fe.Requests != 51002 || fe.ReqErrors != 1 {
		t.Fatalf("frontend row %+v", fe)
	}
	if st, _ := s.Row("server", "app_shadow", "s1"); haproxy.Healthy(st.CheckStatus) || st.Status != "MAINT" {
		t.Fatalf("shadow row %+v", st)
	}
}
