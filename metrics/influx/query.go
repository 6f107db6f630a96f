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

// aggregateMaxWindows is the most windows History asks Flux to aggregate:
// Flux 0.65's aggregateWindow costs about 0.16 ms per window here (7 days at
// 1 minute: 1.7 s), while reading raw rows costs about 9 µs each, so past
// this many windows the raw rows are read and averaged here instead.
const aggregateMaxWindows = 500

// History runs one bounded query; each series is averaged per window (by
// Flux's aggregateWindow for few windows, here otherwise) and the series are
// summed (metrics.Query). The range stops at the query's end or one step past
// now, whichever is earlier: later windows are NaN without asking the server.
func (s *Store) History(ctx context.Context, q metrics.Query) (metrics.Regular, error) {
	start, n, err := q.Grid()
	if err != nil {
		return metrics.Regular{}, err
	}
	sum := metrics.NewWindowSum(start, q.Step, n)
	name := q.Select.String() + ":" + q.Field
	stop := q.To
	if limit := s.cfg.Now().Add(q.Step); limit.Before(stop) {
		stop = limit
	}
	if !start.Before(stop) {
		return sum.Regular(name), nil
	}
	flux := fmt.Sprintf(`from(bucket: %s)
  |> range(%s)
  |> filter(fn: (r) => %s and r._field == %s)`,
		fluxString(s.cfg.bucket()), fluxRange(start, stop), selectorPredicate(q.Select), fluxString(q.Field))
	aggregate := n <= aggregateMaxWindows
	if aggregate {
		flux += fmt.Sprintf("\n  |> aggregateWindow(every: %s, fn: mean, createEmpty: false, timeSrc: \"_start\")", fluxDuration(q.Step))
	}
	rows, err := s.run(ctx, "history of "+name, flux)
	if err != nil {
		return metrics.Regular{}, err
	}
	if aggregate {
		for _, r := range rows {
			if v, ok := number(r.Value()); ok {
				sum.AddMean(r.Time(), v)
			}
		}
	} else {
		addRawSeries(sum, rows)
	}
	return sum.Regular(name), nil
}

// addRawSeries averages raw rows per window, table by table (one table per
// series, rows in time order).
func addRawSeries(sum *metrics.WindowSum, rows []*query.FluxRecord) {
	var ts []time.Time
	var vs []float64
	table := -1
	for _, r := range rows {
		if r.Table() != table {
			sum.AddSeries(ts, vs)
			ts, vs, table = ts[:0], vs[:0], r.Table()
		}
		if v, ok := number(r.Value()); ok {
			ts = append(ts, r.Time())
			vs = append(vs, v)
		}
	}
	sum.AddSeries(ts, vs)
}

// Records returns the selected raw records in [from, to), rebuilt from
// Flux's one-row-per-field answer.
func (s *Store) Records(ctx context.Context, sel metrics.Selector, from, to time.Time) ([]metrics.Record, error) {
	return s.records(ctx, sel, from, to, false)
}

// Latest returns each selected series' last record in [from, to).
func (s *Store) Latest(ctx context.Context, sel metrics.Selector, from, to time.Time) ([]metrics.Record, error) {
	return s.records(ctx, sel, from, to, true)
}

func (s *Store) records(ctx context.Context, sel metrics.Selector, from, to time.Time, last bool) ([]metrics.Record, error) {
	if sel.Measurement == "" || from.IsZero() || to.IsZero() || !from.Before(to) {
		return nil, fmt.Errorf("select %s: range [%v, %v) is empty or unbounded, or no measurement", sel, from, to)
	}
	flux := fmt.Sprintf("from(bucket: %s)\n  |> range(%s)\n  |> filter(fn: (r) => %s)",
		fluxString(s.cfg.bucket()), fluxRange(from, to), selectorPredicate(sel))
	if last {
		flux += "\n  |> last()"
	}
	rows, err := s.run(ctx, "records of "+sel.String(), flux)
	if err != nil {
		return nil, err
	}
	recs := assemble(rows)
	if last {
		recs = latestPerSeries(recs)
	}
	metrics.SortRecords(recs)
	return recs, nil
}

// assemble groups field rows into records by series and time.
func assemble(rows []*query.FluxRecord) []metrics.Record {
	index := map[string]int{}
	var out []metrics.Record
	for _, row := range rows {
		tags := tagsOf(row)
		key := metrics.SeriesKey(row.Measurement(), tags) + "@" + row.Time().String()
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, metrics.Record{Measurement: row.Measurement(), Tags: tags, Fields: map[string]float64{}, Time: row.Time().UTC()})
		}
		if v, ok := number(row.Value()); ok {
			out[i].Fields[row.Field()] = v
		} else if str, ok := row.Value().(string); ok {
			if out[i].Text == nil {
				out[i].Text = map[string]string{}
			}
			out[i].Text[row.Field()] = str
		}
	}
	return out
}

// latestPerSeries keeps each series' record with the greatest time (fields
// whose last values are older belong to earlier records and are dropped).
func latestPerSeries(recs []metrics.Record) []metrics.Record {
	best := map[string]int{}
	for i, r := range recs {
		k := r.SeriesKey()
		if j, ok := best[k]; !ok || r.Time.After(recs[j].Time) {
			best[k] = i
		}
	}
	out := make([]metrics.Record, 0, len(best))
	for _, i := range best {
		out = append(out, recs[i])
	}
	return out
}

// tagsOf returns a row's tag columns: those not starting with "_" and not
// the result/table bookkeeping columns.
func tagsOf(row *query.FluxRecord) map[string]string {
	tags := map[string]string{}
	for k, v := range row.Values() {
		if strings.HasPrefix(k, "_") || k == "result" || k == "table" {
			continue
		}
		if s, ok := v.(string); ok && s != "" {
			tags[k] = s
		}
	}
	return tags
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// run executes a Flux query and returns all its rows; errors carry the
// server's Flux message and say what was being read.
func (s *Store) run(ctx context.Context, what, flux string) ([]*query.FluxRecord, error) {
	res, err := s.query.Query(ctx, flux)
	if err != nil {
		return nil, fmt.Errorf("influxdb query (%s): %w", what, err)
	}
	defer res.Close()
	var rows []*query.FluxRecord
	for res.Next() {
		rows = append(rows, res.Record())
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("influxdb query (%s): %w", what, err)
	}
	return rows, nil
}

func selectorPredicate(sel metrics.Selector) string {
	parts := []string{"r._measurement == " + fluxString(sel.Measurement)}
	for _, k := range sortedKeys(sel.Tags) {
		parts = append(parts, fmt.Sprintf("r[%s] == %s", fluxString(k), fluxString(sel.Tags[k])))
	}
	return strings.Join(parts, " and ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var fluxEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", `\${`)

// fluxString quotes s as a Flux string literal.
func fluxString(s string) string { return `"` + fluxEscaper.Replace(s) + `"` }

func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fluxRange is range()'s arguments for [start, stop). InfluxDB 1.8's
// storage reads treat stop as inclusive (a point exactly at stop is returned,
// and aggregateWindow then misplaces it), so stop 1 ns earlier.
func fluxRange(start, stop time.Time) string {
	if last := stop.Add(-time.Nanosecond); last.After(start) {
		stop = last
	}
	return fmt.Sprintf("start: %s, stop: %s", fluxTime(start), fluxTime(stop))
}

func fluxDuration(d time.Duration) string { return fmt.Sprintf("%dns", d.Nanoseconds()) }
