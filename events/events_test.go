package events

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestLoadGoodFiles(t *testing.T) {
	tests := []struct {
		file string
		want []Event
	}{
		{"good.csv", []Event{
			{LB: "web", Kind: "campaign", Name: "Spring sale, 20% off", Start: at("2024-03-01T12:00:00Z"), End: at("2024-03-01T18:00:00Z"), Lift: 1.8},
			{LB: All, Kind: "release", Start: at("2024-03-01T13:00:00Z"), End: at("2024-03-01T14:00:00Z"), Lift: 0.9},
			{LB: All, Kind: "job", Name: "nightly batch", Start: at("2024-03-01T23:00:00Z"), End: at("2024-03-02T00:00:00Z"), Lift: 2},
		}},
		{"good.ics", []Event{
			{LB: "web", Kind: "campaign", Name: "Spring sale, 20% off", Start: at("2024-03-01T12:00:00Z"), End: at("2024-03-01T18:00:00Z"), Lift: 1.8},
			{LB: All, Kind: "release", Name: "Release 4.2", Start: at("2024-03-01T13:00:00Z"), End: at("2024-03-01T14:00:00Z"), Lift: 0.9},
			{LB: "shop", Kind: DefaultKind, Name: "Holiday", Start: at("2024-03-02T00:00:00Z"), End: at("2024-03-03T00:00:00Z"), Lift: 2},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := LoadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestBadFiles maps each bad file to the file:line and problem it must name.
func TestBadFiles(t *testing.T) {
	want := map[string]string{
		"end_before_start.bad.csv": "end_before_start.bad.csv:2: event ends (2024-03-01T12:00:00Z) before it starts",
		"lift_not_number.bad.csv":  "lift_not_number.bad.csv:3: lift \"lots\" is not a number",
		"unknown_column.bad.csv":   "unknown_column.bad.csv:1: unknown column \"begin\"",
		"bad_time.bad.csv":         "bad_time.bad.csv:2: start \"yesterday\" is not an RFC3339 time",
		"short_row.bad.csv":        "short_row.bad.csv:2: wrong number of fields",
		"no_lb.bad.csv":            "no_lb.bad.csv:2: event has no load balancer",
		"negative_lift.bad.csv":    "negative_lift.bad.csv:2: event lift -1 must be a positive number",
		"end_before_start.bad.ics": "end_before_start.bad.ics:4: event \"Backwards\": event ends",
		"rrule.bad.ics":            "rrule.bad.ics:5: RRULE is not supported",
		"bad_time.bad.ics":         "bad_time.bad.ics:4: DTEND \"2024-03-01\" is not an iCalendar date-time",
		"no_lb.bad.ics":            "no_lb.bad.ics:2: event \"Who\" has no load balancer",
		"unclosed.bad.ics":         "unclosed.bad.ics:2: VEVENT not closed",
		"bad_tzid.bad.ics":         "bad_tzid.bad.ics:3: DTSTART: unknown TZID \"Mars/Olympus\"",
		"bad_lift.bad.ics":         "bad_lift.bad.ics:6: lift \"2x\" is not a number",
	}
	files, _ := filepath.Glob("testdata/*.bad.*")
	if len(files) != len(want) {
		t.Errorf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := LoadFile(f)
			if err == nil || !strings.Contains(err.Error(), want[filepath.Base(f)]) || want[filepath.Base(f)] == "" {
				t.Fatalf("error %v, want it to contain %q", err, want[filepath.Base(f)])
			}
		})
	}
}

func TestStoreAndAffecting(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	evs, err := LoadFile("testdata/good.csv")
	if err != nil {
		t.Fatal(err)
	}
	long := Event{LB: "web", Kind: "season", Start: at("2024-01-15T00:00:00Z"), End: at("2024-04-01T00:00:00Z"), Lift: 1.1}
	other := Event{LB: "shop", Kind: "campaign", Start: at("2024-03-01T12:00:00Z"), End: at("2024-03-01T13:00:00Z"), Lift: 3}
	if err := Store(ctx, s, append(evs, long, other)); err != nil {
		t.Fatal(err)
	}
	got, err := Affecting(ctx, s, "web", at("2024-03-01T13:30:00Z"), at("2024-03-01T23:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	// The release (13:00–14:00, all), the campaign, the season and the job; not shop's.
	want := []Event{long, evs[0], evs[1], evs[2]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	lift := Lift(got, at("2024-03-01T13:00:00Z"), time.Hour, 3)
	for i, w := range []float64{1.1 * 1.8 * 0.9, 1.1 * 1.8, 1.1 * 1.8} {
		if math.Abs(lift[i]-w) > 1e-12 {
			t.Fatalf("lift %v, want %v at %d", lift, w, i)
		}
	}
	bad := Event{LB: "web", Kind: "x", Start: at("2024-03-01T13:00:00Z"), End: at("2024-03-01T12:00:00Z"), Lift: 1}
	if err := Store(ctx, s, []Event{bad}); err == nil || !strings.Contains(err.Error(), "before it starts") {
		t.Fatalf("storing an event that ends before it starts: %v", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	e := Event{LB: "web", Kind: "k", Name: "n", Start: at("2024-03-01T12:00:00Z"), End: at("2024-03-01T12:00:00Z").Add(1500 * time.Millisecond), Lift: 1.25}
	got, err := FromRecord(e.Record())
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("got %+v %v", got, err)
	}
	if _, err := FromRecord(metrics.Record{Measurement: "haproxy"}); err == nil {
		t.Fatal("a haproxy record read as an event")
	}
}

func TestImport(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if n, err := Import(ctx, s, "testdata/good.ics"); err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	if _, err := Import(ctx, s, "testdata/end_before_start.bad.csv"); err == nil {
		t.Fatal("bad file imported")
	}
	got, err := Affecting(ctx, s, "shop", at("2024-03-02T12:00:00Z"), at("2024-03-02T13:00:00Z"))
	if err != nil || len(got) != 1 || got[0].Name != "Holiday" {
		t.Fatalf("affecting shop: %+v %v", got, err)
	}
}
