// Package events handles external events that move demand (marketing
// campaigns, scheduled jobs, releases): loading them from CSV or iCalendar
// files, storing them in the metrics store and answering "which events
// affect this load balancer in this range", so the forecaster and the
// planner can use them as known future covariates.
package events

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// All is the load balancer of an event that affects every one.
const All = metrics.AllLoadBalancers

// MaxDuration bounds an event's length, which bounds the look-back of
// Affecting (an event is stored at its start).
const MaxDuration = 90 * 24 * time.Hour

// DefaultKind is the kind of an event whose file does not give one.
const DefaultKind = "event"

// Event is one external event. In the store it is identified by its load
// balancer, kind and start: writing another with the same three replaces it.
type Event struct {
	LB    string    `json:"lb"` // a load balancer name, or All
	Kind  string    `json:"kind"`
	Name  string    `json:"name,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Lift is the expected demand multiplier while the event runs (2 means
	// twice the usual traffic, 0.5 half).
	Lift float64 `json:"lift"`
}

// Validate names the first problem of an event.
func (e Event) Validate() error {
	switch {
	case e.LB == "":
		return errors.New("event has no load balancer (use * for all)")
	case e.Kind == "":
		return errors.New("event has no kind")
	case e.Start.IsZero() || e.End.IsZero():
		return errors.New("event needs a start and an end")
	case !e.End.After(e.Start):
		return fmt.Errorf("event ends (%s) before it starts (%s)", e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339))
	case e.End.Sub(e.Start) > MaxDuration:
		return fmt.Errorf("event lasts %v, longer than the limit of %v", e.End.Sub(e.Start), MaxDuration)
	case !(e.Lift > 0) || math.IsInf(e.Lift, 0):
		return fmt.Errorf("event lift %v must be a positive number", e.Lift)
	}
	return nil
}

// Record is the event in the schema of DESIGN.md 3.4.
func (e Event) Record() metrics.Record {
	r := metrics.Record{
		Measurement: metrics.MeasEvent,
		Tags:        map[string]string{metrics.TagLB: e.LB, metrics.TagKind: e.Kind},
		Fields:      map[string]float64{metrics.FieldLift: e.Lift, metrics.FieldEnd: float64(e.End.UnixNano()) / 1e9},
		Time:        e.Start,
	}
	if e.Name != "" {
		r.Text = map[string]string{metrics.TextName: e.Name}
	}
	return r
}

// FromRecord reads an event back from the store.
func FromRecord(r metrics.Record) (Event, error) {
	end, ok := r.Fields[metrics.FieldEnd]
	lift, ok2 := r.Fields[metrics.FieldLift]
	if r.Measurement != metrics.MeasEvent || !ok || !ok2 {
		return Event{}, fmt.Errorf("record %s at %v is not an event", r.SeriesKey(), r.Time)
	}
	sec, frac := math.Modf(end)
	return Event{
		LB: r.Tags[metrics.TagLB], Kind: r.Tags[metrics.TagKind], Name: r.Text[metrics.TextName],
		Start: r.Time.UTC(), End: time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), Lift: lift,
	}, nil
}

// Store validates every event and writes them all.
func Store(ctx context.Context, sink metrics.Sink, evs []Event) error {
	recs := make([]metrics.Record, len(evs))
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("store event %d (%s %s): %w", i+1, e.LB, e.Kind, err)
		}
		recs[i] = e.Record()
	}
	if err := sink.Write(ctx, recs...); err != nil {
		return fmt.Errorf("store events: %w", err)
	}
	return nil
}

// Affecting returns the events for lb (its own and those for All) that
// overlap [from, to), sorted by start.
func Affecting(ctx context.Context, src metrics.Source, lb string, from, to time.Time) ([]Event, error) {
	var out []Event
	for _, tag := range []string{lb, All} {
		sel := metrics.Selector{Measurement: metrics.MeasEvent, Tags: map[string]string{metrics.TagLB: tag}}
		recs, err := src.Records(ctx, sel, from.Add(-MaxDuration), to)
		if err != nil {
			return nil, fmt.Errorf("events affecting %s: %w", lb, err)
		}
		for _, r := range recs {
			e, err := FromRecord(r)
			if err != nil {
				return nil, fmt.Errorf("events affecting %s: %w", lb, err)
			}
			if e.End.After(from) {
				out = append(out, e)
			}
		}
		if lb == All {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// Lift is the known-future covariate: for n windows of step from start, the
// product of the lifts of the events overlapping each window (1 where none).
func Lift(evs []Event, start time.Time, step time.Duration, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
		ws, we := start.Add(time.Duration(i)*step), start.Add(time.Duration(i+1)*step)
		for _, e := range evs {
			if e.Start.Before(we) && e.End.After(ws) {
				out[i] *= e.Lift
			}
		}
	}
	return out
}

// normLB maps the spellings of "every load balancer" to All.
func normLB(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "all") {
		return All
	}
	return s
}

// Import loads an events file (.csv or .ics) and stores its events; it
// stores nothing when any event is bad. It returns how many it stored.
func Import(ctx context.Context, sink metrics.Sink, path string) (int, error) {
	evs, err := LoadFile(path)
	if err != nil {
		return 0, err
	}
	if err := Store(ctx, sink, evs); err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	return len(evs), nil
}
