package metrics

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestQueryGrid(t *testing.T) {
	sel, field := Demand("web")
	tests := []struct {
		name     string
		from, to time.Time
		step     time.Duration
		start    time.Time
		n        int
		err      string
	}{
		{"aligned", t0, t0.Add(time.Hour), time.Minute, t0, 60, ""},
		{"unaligned both ends", t0.Add(90 * time.Second), t0.Add(5*time.Minute + time.Second), time.Minute, t0.Add(time.Minute), 5, ""},
		{"epoch aligned 7m", t0, t0.Add(7 * time.Minute), 7 * time.Minute, AlignDown(t0, 7*time.Minute), 2, ""},
		{"empty", t0, t0, time.Minute, time.Time{}, 0, "empty or unbounded"},
		{"unbounded", time.Time{}, t0, time.Minute, time.Time{}, 0, "empty or unbounded"},
		{"zero step", t0, t0.Add(time.Hour), 0, time.Time{}, 0, "step 0s must be positive"},
		{"runaway", t0, t0.Add(24 * 365 * time.Hour), time.Second, time.Time{}, 0, "exceed the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, n, err := Query{Select: sel, Field: field, From: tc.from, To: tc.to, Step: tc.step}.Grid()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !start.Equal(tc.start) || n != tc.n {
				t.Fatalf("got %v %d %v, want %v %d", start, n, err, tc.start, tc.n)
			}
		})
	}
}

func TestAlignDownBeforeEpoch(t *testing.T) {
	got := AlignDown(time.Unix(-90, 0), time.Minute)
	if !got.Equal(time.Unix(-120, 0)) {
		t.Fatalf("got %v", got)
	}
}

func TestRecordValidate(t *testing.T) {
	ok := Record{Measurement: "m", Tags: map[string]string{"a": "b"}, Fields: map[string]float64{"f": 1}, Time: t0}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Record{
		"no measurement": {Fields: ok.Fields, Time: t0},
		"no fields":      {Measurement: "m", Time: t0},
		"no time":        {Measurement: "m", Fields: ok.Fields},
		"NaN":            {Measurement: "m", Fields: map[string]float64{"f": math.NaN()}, Time: t0},
		"Inf":            {Measurement: "m", Fields: map[string]float64{"f": math.Inf(1)}, Time: t0},
		"empty tag":      {Measurement: "m", Tags: map[string]string{"a": ""}, Fields: ok.Fields, Time: t0},
	} {
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSelectorAndSeriesKey(t *testing.T) {
	tags := map[string]string{TagServer: ServerBackend, TagLB: "web", TagBackend: "web_shadow"}
	if k := SeriesKey(MeasHAProxy, tags); k != "haproxy,backend=web_shadow,lb=web,server=BACKEND" {
		t.Fatalf("key %q", k)
	}
	sel, _ := Demand("web")
	if !sel.Matches(MeasHAProxy, tags) || sel.Matches(MeasApp, tags) || sel.Matches(MeasHAProxy, map[string]string{TagLB: "web"}) {
		t.Fatal("selector matching is wrong")
	}
}

func TestWindowSum(t *testing.T) {
	w := NewWindowSum(t0, time.Minute, 3)
	w.AddSeries([]time.Time{t0, t0.Add(30 * time.Second), t0.Add(2 * time.Minute), t0.Add(5 * time.Minute)}, []float64{1, 3, math.NaN(), 100})
	w.AddMean(t0.Add(10*time.Second), 10)
	w.AddMean(t0.Add(-time.Second), 1000) // outside: ignored
	got := w.Regular("x").Values
	if got[0] != 12 || !math.IsNaN(got[1]) || !math.IsNaN(got[2]) {
		t.Fatalf("got %v", got)
	}
}

func TestWriteTraceCSV(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteTraceCSV(&buf, Regular{Start: t0, Step: time.Minute, Values: []float64{1.5, math.NaN(), 1e-7}})
	want := "timestamp,value\n2024-03-01T12:00:00Z,1.5\n2024-03-01T12:02:00Z,1e-07\n"
	if err != nil || n != 2 || buf.String() != want {
		t.Fatalf("got %d %v %q", n, err, buf.String())
	}
	back, err := ReadTrace(&buf, "x.csv", TraceOptions{})
	if err != nil || len(back.Points) != 2 || back.Points[1].V != 1e-7 {
		t.Fatalf("read back: %+v %v", back, err)
	}
}

func TestValidateAppQuery(t *testing.T) {
	good := `from(bucket: "telegraf") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r._measurement == "cpu")`
	if err := ValidateAppQuery(good); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", `from(bucket: "x")`, `from(bucket: "x") |> range(start: -1h)`, `from(bucket: "x") |> range(start: v.timeRangeStart)`} {
		if err := ValidateAppQuery(q); err == nil {
			t.Errorf("%q accepted", q)
		}
	}
}
