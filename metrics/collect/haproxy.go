package collect

import (
	"context"

	"github.com/shadowscale/shadowscale/haproxy"
)

// HAProxyStatser is what the HAProxy driver offers (haproxy.Runtime).
type HAProxyStatser interface {
	Stats(ctx context.Context) (haproxy.Stats, error)
}

// FromHAProxy reads stats through the HAProxy driver.
func FromHAProxy(s HAProxyStatser) StatsReader { return haproxyReader{s} }

type haproxyReader struct{ s HAProxyStatser }

func (h haproxyReader) ReadStats(ctx context.Context) ([]Row, error) {
	st, err := h.s.Stats(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(st.Frontends)+len(st.Backends)+len(st.Servers))
	for _, group := range [][]haproxy.StatRow{st.Frontends, st.Backends, st.Servers} {
		for _, r := range group {
			rows = append(rows, Row{
				Type: r.Type, Proxy: r.Proxy, Server: r.Server,
				Total:    Counters{Requests: nonNeg(r.Requests), Sessions: nonNeg(r.SessionsTotal), Errors: nonNeg(r.Errors())},
				Sessions: float64(r.Sessions), Queue: float64(r.Queue), ResponseTimeMs: float64(r.ResponseTimeMs),
			})
		}
	}
	return rows, nil
}

func nonNeg(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}
