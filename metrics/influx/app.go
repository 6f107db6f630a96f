package influx

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/query"
	"github.com/shadowscale/shadowscale/metrics"
)

// AppQuery is one configured application metric of a load balancer.
type AppQuery struct {
	LB   string
	Name string // e.g. "cpu"
	Flux string // see metrics.ValidateAppQuery for the placeholders
}

// App runs an application metric query over [from, to) at step (the stop
// is bounded by now, as for History) and returns one series per result
// table, named "lb/name" plus the table's tags. Flux errors come back with
// the server's message.
func (s *Store) App(ctx context.Context, q AppQuery, from, to time.Time, step time.Duration) ([]metrics.Regular, error) {
	if err := metrics.ValidateAppQuery(q.Flux); err != nil {
		return nil, fmt.Errorf("app metric %s/%s: %w", q.LB, q.Name, err)
	}
	grid := metrics.Query{Select: metrics.Selector{Measurement: "app"}, Field: q.Name, From: from, To: to, Step: step}
	start, n, err := grid.Grid()
	if err != nil {
		return nil, fmt.Errorf("app metric %s/%s: %w", q.LB, q.Name, err)
	}
	stop := to
	if limit := s.cfg.Now().Add(step); limit.Before(stop) {
		stop = limit
	}
	if !start.Before(stop) {
		return nil, nil
	}
	last := stop.Add(-time.Nanosecond) // range stop is inclusive in 1.8 (see fluxRange)
	flux := strings.NewReplacer(
		metrics.PlaceholderStart, fluxTime(start),
		metrics.PlaceholderStop, fluxTime(last),
		metrics.PlaceholderWindow, fluxDuration(step),
	).Replace(q.Flux)
	aggregate := n <= aggregateMaxWindows // see History
	if aggregate {
		flux += fmt.Sprintf("\n  |> aggregateWindow(every: %s, fn: mean, createEmpty: false, timeSrc: \"_start\")", fluxDuration(step))
	}
	rows, err := s.run(ctx, "app metric "+q.LB+"/"+q.Name, flux)
	if err != nil {
		return nil, err
	}
	return appSeries(q, rows, aggregate, start, step, n), nil
}

// appSeries makes one series per result table, from window means
// (aggregate) or from raw rows averaged here.
func appSeries(q AppQuery, rows []*query.FluxRecord, aggregate bool, start time.Time, step time.Duration, n int) []metrics.Regular {
	type table struct {
		name string
		ts   []time.Time
		vs   []float64
	}
	tables := map[int]*table{}
	var ids []int
	for _, r := range rows {
		v, ok := number(r.Value())
		if !ok {
			continue
		}
		tb := tables[r.Table()]
		if tb == nil {
			tb = &table{name: appSeriesName(q, r.Values())}
			tables[r.Table()] = tb
			ids = append(ids, r.Table())
		}
		tb.ts, tb.vs = append(tb.ts, r.Time()), append(tb.vs, v)
	}
	sort.Ints(ids)
	out := make([]metrics.Regular, 0, len(ids))
	for _, id := range ids {
		tb := tables[id]
		w := metrics.NewWindowSum(start, step, n)
		if aggregate {
			for i := range tb.ts {
				w.AddMean(tb.ts[i], tb.vs[i])
			}
		} else {
			w.AddSeries(tb.ts, tb.vs)
		}
		out = append(out, w.Regular(tb.name))
	}
	return out
}

// appSeriesName is "lb/name" plus the table's tag values, so series of
// several hosts can be told apart.
func appSeriesName(q AppQuery, cols map[string]any) string {
	tags := map[string]string{}
	for k, v := range cols {
		if s, ok := v.(string); ok && !strings.HasPrefix(k, "_") && k != "result" && k != "table" {
			tags[k] = s
		}
	}
	if f, ok := cols["_field"].(string); ok {
		tags["_field"] = f
	}
	return metrics.SeriesKey(q.LB+"/"+q.Name, tags)
}
