package dataplane

import (
	"testing"

	"github.com/shadowscale/shadowscale/haproxy"
)

// TestCountersAcrossReloads: a reset (a new worker) continues from the
// last values read; a steady counter passes through; a row that went away
// starts over when it comes back.
func TestCountersAcrossReloads(t *testing.T) {
	row := func(req, errs int64) haproxy.Stats {
		return haproxy.Stats{Backends: []haproxy.StatRow{{Type: "backend", Proxy: "app", Requests: req, SessionsTotal: req, Hrsp5xx: errs}}}
	}
	tests := []struct {
		reads          []haproxy.Stats
		wantReq, wantE int64
	}{
		{[]haproxy.Stats{row(10, 1), row(20, 2)}, 20, 2},
		{[]haproxy.Stats{row(10, 1), row(20, 2), row(3, 0)}, 23, 2},
		{[]haproxy.Stats{row(10, 1), row(20, 2), row(3, 0), row(8, 1)}, 28, 3},
		{[]haproxy.Stats{row(10, 1), row(2, 0), row(1, 0)}, 13, 1},
		{[]haproxy.Stats{row(10, 1), {}, row(4, 0)}, 4, 0},
	}
	for i, tt := range tests {
		var c counters
		var got haproxy.Stats
		for _, r := range tt.reads {
			r.Backends = append([]haproxy.StatRow(nil), r.Backends...)
			c.adjust(&r)
			got = r
		}
		if b, _ := got.Row("backend", "app", ""); b.Requests != tt.wantReq || b.Hrsp5xx != tt.wantE {
			t.Errorf("case %d: requests %d, 5xx %d; want %d, %d", i, b.Requests, b.Hrsp5xx, tt.wantReq, tt.wantE)
		}
	}
}
