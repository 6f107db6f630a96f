package haproxy

import (
	"context"
	"strings"
)

// Stats reads every node's stats and sums the same rows over the nodes:
// counters and current values add up, times are averaged, and a status
// other than UP on any node is the row's status.
func (f *Fleet) Stats(ctx context.Context) (Stats, error) {
	reads, err := readAll(ctx, f, "read stats", func(n Node) (Stats, error) { return n.Stats(ctx) })
	if err != nil {
		return Stats{}, err
	}
	if len(reads) == 1 {
		return reads[0].v, nil
	}
	all := make([]Stats, len(reads))
	for i, r := range reads {
		all[i] = r.v
	}
	return MergeStats("fleet", all), nil
}

// MergeStats sums rows of the same type, proxy and server over snapshots.
func MergeStats(node string, all []Stats) Stats {
	out := Stats{Node: node}
	out.Frontends = mergeRows(all, func(s Stats) []StatRow { return s.Frontends })
	out.Backends = mergeRows(all, func(s Stats) []StatRow { return s.Backends })
	out.Servers = mergeRows(all, func(s Stats) []StatRow { return s.Servers })
	return out
}

func mergeRows(all []Stats, rows func(Stats) []StatRow) []StatRow {
	type key struct{ proxy, server string }
	idx := map[key]int{}
	count := map[key]int64{}
	var out []StatRow
	for _, s := range all {
		for _, r := range rows(s) {
			k := key{r.Proxy, r.Server}
			i, ok := idx[k]
			if !ok {
				idx[k] = len(out)
				out = append(out, r)
				count[k] = 1
				continue
			}
			out[i].add(r)
			count[k]++
		}
	}
	for i := range out {
		n := count[key{out[i].Proxy, out[i].Server}]
		out[i].QueueTimeMs /= n
		out[i].ConnectTimeMs /= n
		out[i].ResponseTimeMs /= n
		out[i].TotalTimeMs /= n
	}
	return out
}

// AddCounters adds b's cumulative counters to a (across nodes, or across
// a reload that reset them).
func (a *StatRow) AddCounters(b StatRow) {
	a.SessionsTotal += b.SessionsTotal
	a.Requests += b.Requests
	a.Hrsp2xx += b.Hrsp2xx
	a.Hrsp4xx += b.Hrsp4xx
	a.Hrsp5xx += b.Hrsp5xx
	a.ConnErrors += b.ConnErrors
	a.RespErrors += b.RespErrors
	a.ReqErrors += b.ReqErrors
	a.Retries += b.Retries
	a.Redispatches += b.Redispatches
}

// add sums b into a; a status that is not UP on some node wins, so a
// server counts as up only when it is up on every node, and the lowest
// weight wins, so a server weighted 0 on some node reads as taking no
// traffic.
func (a *StatRow) add(b StatRow) {
	if strings.HasPrefix(a.Status, "UP") && !strings.HasPrefix(b.Status, "UP") {
		a.Status, a.CheckStatus, a.CheckDesc = b.Status, b.CheckStatus, b.CheckDesc
	}
	a.Weight = min(a.Weight, b.Weight)
	a.Sessions += b.Sessions
	a.Queue += b.Queue
	a.Rate += b.Rate
	a.ReqRate += b.ReqRate
	a.AddCounters(b)
	a.QueueTimeMs += b.QueueTimeMs
	a.ConnectTimeMs += b.ConnectTimeMs
	a.ResponseTimeMs += b.ResponseTimeMs
	a.TotalTimeMs += b.TotalTimeMs
}
