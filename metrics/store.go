package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Record is one stored observation: a measurement, its tags, its fields and
// a time, as in InfluxDB's data model. Fields are numbers; Text holds the few
// string fields (an event's name, an action's reason) that are stored but
// never aggregated.
type Record struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]float64
	Text        map[string]string
	Time        time.Time
}

// Validate reports a record no store can keep, naming the problem.
func (r Record) Validate() error {
	switch {
	case r.Measurement == "":
		return errors.New("record has no measurement")
	case len(r.Fields)+len(r.Text) == 0:
		return fmt.Errorf("record %s has no fields", r.Measurement)
	case r.Time.IsZero():
		return fmt.Errorf("record %s has no time", r.Measurement)
	}
	for k, v := range r.Fields {
		if k == "" || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("record %s: field %q=%v is not storable (empty name, NaN or Inf)", r.Measurement, k, v)
		}
	}
	for k, v := range r.Tags {
		if k == "" || v == "" {
			return fmt.Errorf("record %s: tag %q=%q is empty", r.Measurement, k, v)
		}
	}
	return nil
}

// SeriesKey identifies the series a record belongs to: the measurement and
// its tags in sorted order ("haproxy,backend=web,lb=web,server=BACKEND").
func (r Record) SeriesKey() string { return SeriesKey(r.Measurement, r.Tags) }

// SeriesKey builds the key of a measurement and tag set.
func SeriesKey(measurement string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(measurement)
	for _, k := range keys {
		b.WriteString("," + k + "=" + tags[k])
	}
	return b.String()
}

// Selector picks series: those of Measurement whose tags include every
// key=value of Tags (other tags may have any value).
type Selector struct {
	Measurement string
	Tags        map[string]string
}

// Matches reports whether a series with these tags is selected.
func (s Selector) Matches(measurement string, tags map[string]string) bool {
	if measurement != s.Measurement {
		return false
	}
	for k, v := range s.Tags {
		if tags[k] != v {
			return false
		}
	}
	return true
}

func (s Selector) String() string { return SeriesKey(s.Measurement, s.Tags) }

// Query asks for the history of one field of the selected series over
// [From, To) at Step. Windows are aligned to the Unix epoch (as Flux's
// aggregateWindow does); each series is averaged per window and, when several
// series match (an LB's primary and shadow backends), their window means are
// summed: rates of parallel backends add up.
type Query struct {
	Select   Selector
	Field    string
	From, To time.Time
	Step     time.Duration
}

// MaxWindows bounds the windows of one query: a runaway range (a stop far in
// the future, a tiny step) is refused instead of exhausting memory.
const MaxWindows = 2_000_000

// Grid returns the epoch-aligned windows covering the query: the first
// window's start and the number of windows.
func (q Query) Grid() (time.Time, int, error) {
	switch {
	case q.Select.Measurement == "" || q.Field == "":
		return time.Time{}, 0, fmt.Errorf("query %s: measurement and field are required", q.Select)
	case q.Step <= 0:
		return time.Time{}, 0, fmt.Errorf("query %s: step %v must be positive", q.Select, q.Step)
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return time.Time{}, 0, fmt.Errorf("query %s: range [%v, %v) is empty or unbounded", q.Select, q.From, q.To)
	}
	start := AlignDown(q.From, q.Step)
	n := q.To.Sub(start) / q.Step
	if start.Add(n * q.Step).Before(q.To) {
		n++
	}
	if n > MaxWindows {
		return time.Time{}, 0, fmt.Errorf("query %s: %d windows of %v exceed the limit of %d", q.Select, n, q.Step, MaxWindows)
	}
	return start, int(n), nil
}

// AlignDown truncates t to a multiple of step since the Unix epoch.
func AlignDown(t time.Time, step time.Duration) time.Time {
	ns := t.UnixNano()
	r := ns % int64(step)
	if r < 0 {
		r += int64(step)
	}
	return time.Unix(0, ns-r).UTC()
}

// Sink receives records. Implementations must be safe for concurrent use;
// Write may buffer (see each implementation's durability contract) and must
// return when ctx is done.
type Sink interface {
	Write(ctx context.Context, records ...Record) error
}

// Source reads history. Every read is bounded in time: implementations must
// refuse a zero or inverted range rather than scan everything. Methods must
// return when ctx is done.
type Source interface {
	// History returns the field's windowed means over the query's range
	// (NaN where no data): Start is the first window, Name the selector.
	History(ctx context.Context, q Query) (Regular, error)
	// Records returns the raw selected records with from <= Time < to,
	// sorted by time then series key.
	Records(ctx context.Context, sel Selector, from, to time.Time) ([]Record, error)
	// Latest returns the most recent record of each selected series with
	// from <= Time < to.
	Latest(ctx context.Context, sel Selector, from, to time.Time) ([]Record, error)
}

// Store is both ends, as the embedded and InfluxDB implementations are.
type Store interface {
	Sink
	Source
	Close() error
}

// SortRecords orders records by time then series key, the order Records
// promises.
func SortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].Time.Equal(rs[j].Time) {
			return rs[i].Time.Before(rs[j].Time)
		}
		return rs[i].SeriesKey() < rs[j].SeriesKey()
	})
}
