package embedded

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rate(lb, backend string, at time.Time, v float64) metrics.Record {
	return metrics.Record{
		Measurement: metrics.MeasHAProxy,
		Tags:        map[string]string{metrics.TagLB: lb, metrics.TagBackend: backend, metrics.TagServer: metrics.ServerBackend},
		Fields:      map[string]float64{metrics.FieldReqRate: v},
		Time:        at,
	}
}

func TestWriteReadBackExactly(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	ctx := context.Background()
	in := []metrics.Record{
		rate("web", "web", t0, 1.0/3),
		rate("web", "web", t0.Add(time.Second+7), math.Pi),
		{Measurement: metrics.MeasEvent, Tags: map[string]string{metrics.TagLB: "*", metrics.TagKind: "campaign"},
			Fields: map[string]float64{metrics.FieldLift: 1.5, metrics.FieldEnd: float64(t0.Unix() + 3600)},
			Text:   map[string]string{metrics.TextName: "spring, sale"}, Time: t0},
	}
	if err := s.Write(ctx, in...); err != nil {
		t.Fatal(err)
	}
	got, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in[:2]) {
		t.Fatalf("records:\n got %+v\nwant %+v", got, in[:2])
	}
	ev, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasEvent, Tags: map[string]string{metrics.TagLB: "*"}}, t0, t0.Add(1))
	if err != nil || len(ev) != 1 || !reflect.DeepEqual(ev[0], in[2]) {
		t.Fatalf("event: %+v %v", ev, err)
	}
}

func TestSameTimeMergesFields(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	ctx := context.Background()
	a := rate("web", "web", t0, 1)
	b := rate("web", "web", t0, 2)
	b.Fields[metrics.FieldQueue] = 3
	if err := s.Write(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Latest(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{metrics.FieldReqRate: 2, metrics.FieldQueue: 3}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Fields, want) {
		t.Fatalf("got %+v, want fields %v", got, want)
	}
}

func TestHistoryWindows(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	ctx := context.Background()
	var recs []metrics.Record
	// primary: 10s samples 0..17 over 3 minutes; shadow: constant 100 in minute 1 only.
	for i := 0; i < 18; i++ {
		recs = append(recs, rate("web", "web", t0.Add(time.Duration(i)*10*time.Second), float64(i)))
	}
	for i := 6; i < 12; i++ {
		recs = append(recs, rate("web", "web_shadow", t0.Add(time.Duration(i)*10*time.Second), 100))
	}
	recs = append(recs, rate("other", "other", t0, 1e6))
	if err := s.Write(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	sel, field := metrics.Demand("web")
	tests := []struct {
		name     string
		from, to time.Time
		step     time.Duration
		start    time.Time
		want     []float64
	}{
		{"1m", t0, t0.Add(4 * time.Minute), time.Minute, t0, []float64{2.5, 108.5, 14.5, math.NaN()}},
		{"3m", t0, t0.Add(3 * time.Minute), 3 * time.Minute, t0, []float64{8.5 + 100}},
		{"30s unaligned from", t0.Add(40 * time.Second), t0.Add(90 * time.Second), 30 * time.Second, t0.Add(30 * time.Second), []float64{4, 107}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.History(ctx, metrics.Query{Select: sel, Field: field, From: tc.from, To: tc.to, Step: tc.step})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Start.Equal(tc.start) || got.Step != tc.step || !sameFloats(got.Values, tc.want) {
				t.Fatalf("got start %v values %v, want %v %v", got.Start, got.Values, tc.start, tc.want)
			}
		})
	}
}

// sameFloats compares with NaN equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(a[i] == b[i] || math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestRestartKeepsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, rate("web", "web", t0, 42)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, Options{})
	got, err := s.Latest(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].Fields[metrics.FieldReqRate] != 42 {
		t.Fatalf("after restart: %+v %v", got, err)
	}
}

func TestRetentionRemovesOldData(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{Retention: 24 * time.Hour})
	ctx := context.Background()
	now := t0.Add(72 * time.Hour)
	var recs []metrics.Record
	for h := 0; h <= 72; h++ {
		recs = append(recs, rate("web", "web", t0.Add(time.Duration(h)*time.Hour), float64(h)))
	}
	recs = append(recs, rate("gone", "gone", t0, 1)) // a series that only has old data
	if err := s.Write(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Prune(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 48+1 {
		t.Fatalf("removed %d points, want 49", removed)
	}
	got, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 || !got[0].Time.Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("kept %d records from %v, want 25 from %v", len(got), got[0].Time, now.Add(-24*time.Hour))
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	ctx := context.Background()
	sel, field := metrics.Demand("web")
	var wg sync.WaitGroup
	const writers, perWriter = 4, 50
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				at := t0.Add(time.Duration(w*perWriter+i) * time.Second)
				if err := s.Write(ctx, rate("web", "web", at, 1)); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(time.Hour), Step: time.Minute}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.Records(ctx, sel, t0, t0.Add(time.Hour))
	if err != nil || len(got) != writers*perWriter {
		t.Fatalf("got %d records (%v), want %d", len(got), err, writers*perWriter)
	}
}

func TestBadInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	ctx := context.Background()
	sel, field := metrics.Demand("web")
	nan := rate("web", "web", t0, math.NaN())
	nul := rate("web\x00x", "web", t0, 1)
	for name, err := range map[string]error{
		"NaN field":     s.Write(ctx, nan),
		"NUL in tag":    s.Write(ctx, nul),
		"no time":       s.Write(ctx, rate("web", "web", time.Time{}, 1)),
		"empty range":   errOnly(s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0, Step: time.Minute})),
		"zero step":     errOnly(s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(time.Hour)})),
		"too many":      errOnly(s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(1000 * time.Hour), Step: time.Millisecond})),
		"unbounded rec": errOnly(s.Records(ctx, sel, time.Time{}, t0)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func errOnly[T any](_ T, err error) error { return err }

func TestSecondOpenIsRefusedClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	open(t, path, Options{})
	// bbolt's flock is per open file description, so a second Open in the
	// same process contends like another process would.
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second open: %v, want ErrLocked naming the path", err)
	}
}
