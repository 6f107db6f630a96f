package dataplane

import (
	"sync"

	"github.com/shadowscale/shadowscale/haproxy"
)

// counters keeps a node's cumulative stats counters monotonic across
// reloads. Every add and removal through the API reloads HAProxy, and a
// new worker starts its counters at zero; callers that turn counters into
// rates (the scheduler's ratesBetween) would lose that tick, or, when the
// new counter has already passed the old one, see a wrong rate. A row
// whose request or session counter went down was reset: the values read
// last before the reset are added from then on. What the old worker served
// after that last read is not counted (reads are a fraction of a second
// apart while a scheduler drives the node).
type counters struct {
	mu   sync.Mutex // held by Stats across its read and adjust
	rows map[rowKey]rowCounters
}

type rowKey struct{ typ, proxy, server string }

type rowCounters struct{ last, offset haproxy.StatRow }

// adjust rewrites the counters of every row of st in place and forgets
// rows that are gone (removed servers). The caller holds c.mu.
func (c *counters) adjust(st *haproxy.Stats) {
	seen := make(map[rowKey]rowCounters, len(c.rows))
	for _, rows := range [][]haproxy.StatRow{st.Frontends, st.Backends, st.Servers} {
		for i := range rows {
			r := &rows[i]
			k := rowKey{r.Type, r.Proxy, r.Server}
			rc := c.rows[k]
			if r.Requests < rc.last.Requests || r.SessionsTotal < rc.last.SessionsTotal {
				rc.offset.AddCounters(rc.last)
			}
			rc.last = *r
			r.AddCounters(rc.offset)
			seen[k] = rc
		}
	}
	c.rows = seen
}
