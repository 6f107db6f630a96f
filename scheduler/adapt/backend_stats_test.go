package adapt_test

import (
	"context"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// A server HAProxy sends nothing (weight 0, on any node of the fleet) is
// no capacity: BackendStats does not count it as serving.
func TestBackendStatsServingRealHAProxy(t *testing.T) {
	r := newFleetRig(t, 2)
	ctx := context.Background()
	d := adapt.Driver{Fleet: fleetOf(t, r.nodes[0].rt, r.nodes[1].rt), CheckInter: checkInter}
	n2 := r.nodes[1].rt
	for _, c := range []struct {
		name   string
		change func() error
		want   int
	}{
		{"both primaries up", func() error { return nil }, 2},
		{"p1 at weight 0 on n2", func() error { return n2.SetWeight(ctx, "app", "p1", 0) }, 1},
		{"p1 weighted again", func() error { return n2.SetWeight(ctx, "app", "p1", 100) }, 2},
	} {
		if err := c.change(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got int
		deadline := time.Now().Add(10 * time.Second) // the checks' first pass
		for {
			st, err := d.BackendStats(ctx, "app")
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got = st.Serving; got == c.want || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got != c.want {
			t.Errorf("%s: serving %d, want %d", c.name, got, c.want)
		}
	}
}
