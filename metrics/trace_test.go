package metrics

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReadTrace(t *testing.T) {
	in := "timestamp,value\n" +
		"2024-01-01T00:10:00Z,3\n" + // out of order
		"2024-01-01T00:00:00Z,1\n" +
		"1704067500,2\n" + // Unix seconds: 00:05
		"2024-01-01T00:10:00Z,4\n" + // duplicate: the last row wins
		"2024-01-01T00:15:00Z,\n" + // empty: missing
		"2024-01-01T00:20:00Z,NaN\r\n" +
		"\n" +
		"2024-01-01T00:30:00.5Z,6.5\n"
	tr, err := ReadTrace(strings.NewReader(in), "x.csv", TraceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{ts("2024-01-01T00:00:00Z"), 1}, {ts("2024-01-01T00:05:00Z"), 2}, {ts("2024-01-01T00:10:00Z"), 4},
		{ts("2024-01-01T00:15:00Z"), math.NaN()}, {ts("2024-01-01T00:20:00Z"), math.NaN()},
		{ts("2024-01-01T00:30:00Z").Add(500 * time.Millisecond), 6.5}}
	if len(tr.Points) != len(want) {
		t.Fatalf("got %d points, want %d: %v", len(tr.Points), len(want), tr.Points)
	}
	for i, p := range tr.Points {
		if !p.T.Equal(want[i].T) || !(p.V == want[i].V || math.IsNaN(p.V) && math.IsNaN(want[i].V)) {
			t.Errorf("point %d = %v, want %v", i, p, want[i])
		}
	}
	if tr.Missing != 2 || tr.Duplicates != 1 || tr.Name != "x" {
		t.Errorf("missing=%d duplicates=%d name=%q, want 2, 1, x", tr.Missing, tr.Duplicates, tr.Name)
	}
	if got := tr.MedianStep(); got != 5*time.Minute {
		t.Errorf("median step %v, want 5m", got)
	}
}

func TestReadTraceErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty file", "", "x.csv: empty file"},
		{"bad header", "time,val\n", `x.csv:1: header must be "timestamp,value"`},
		{"no rows", "timestamp,value\n", "x.csv: trace has no data rows"},
		{"too many fields", "timestamp,value\n2024-01-01T00:00:00Z,1,2\n", "x.csv:2: want 2 fields"},
		{"bad time", "timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n", `x.csv:3: timestamp "yesterday"`},
		{"bad value", "timestamp,value\n2024-01-01T00:00:00Z,abc\n", `x.csv:2: value "abc" is not a number`},
		{"negative", "timestamp,value\n2024-01-01T00:00:00Z,-1\n", "x.csv:2: value -1 is negative"},
		{"infinite", "timestamp,value\n2024-01-01T00:00:00Z,+Inf\n", "x.csv:2: value \"+Inf\" is not finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tc.in), "x.csv", TraceOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTrace(strings.NewReader("timestamp,value\n2024-01-01T00:00:00Z,-1\n"), "x.csv",
		TraceOptions{AllowNegative: true}); err != nil {
		t.Errorf("AllowNegative: %v", err)
	}
	if _, err := ReadTraceFile(filepath.Join(t.TempDir(), "none.csv"), TraceOptions{}); err == nil ||
		!strings.Contains(err.Error(), "none.csv") {
		t.Errorf("missing file error %v does not name the file", err)
	}
}

func TestResample(t *testing.T) {
	in := "timestamp,value\n" +
		"2024-01-01T00:00:00Z,1\n" +
		"2024-01-01T00:05:40Z,3\n" + // jitter: nearest slot 00:05
		"2024-01-01T00:04:50Z,5\n" + // same slot: mean 4
		"2024-01-01T00:15:00Z,7\n" + // 00:10 is a gap
		"2024-01-01T00:20:00Z,NaN\n"
	tr, err := ReadTrace(strings.NewReader(in), "x.csv", TraceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tr.Resample(5 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 4, math.NaN(), 7, math.NaN()}
	if len(r.Values) != len(want) {
		t.Fatalf("values %v, want %v", r.Values, want)
	}
	for i, v := range r.Values {
		if !(v == want[i] || math.IsNaN(v) && math.IsNaN(want[i])) {
			t.Errorf("slot %d = %v, want %v", i, v, want[i])
		}
	}
	if r.Time(3) != ts("2024-01-01T00:15:00Z") || r.Span() != 25*time.Minute {
		t.Errorf("Time(3)=%v Span=%v", r.Time(3), r.Span())
	}
	// Nearest 10-minute slot: 00:00 takes 00:00 and 00:04:50, 00:10 takes
	// 00:05:40, 00:20 takes 00:15 (a tie rounds up).
	coarse, err := tr.Resample(10 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := coarse.Values; len(got) != 3 || got[0] != 3 || got[1] != 3 || got[2] != 7 {
		t.Errorf("10m resample = %v, want [3 3 7]", got)
	}
}

// TestSharedTraces reads every shared trace: the reader must accept real data.
func TestSharedTraces(t *testing.T) {
	dir := os.Getenv("SHADOWSCALE_TRACES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data", "traces")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		if os.Getenv("SHADOWSCALE_STRICT") == "1" {
			t.Fatalf("no traces in %s", dir)
		}
		t.Skipf("no shared traces in %s", dir)
	}
	for _, f := range files {
		tr, r, err := LoadRegular(f, TraceOptions{AllowNegative: true})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(r.Values) < len(tr.Points)/2 {
			t.Errorf("%s: step %v gives %d slots for %d points", f, r.Step, len(r.Values), len(tr.Points))
		}
	}
}
