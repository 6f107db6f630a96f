package influx

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/metrics/influxtest"
)

var shared influxtest.Shared

func TestMain(m *testing.M) {
	if os.Getenv(spoolChildEnv) != "" { // a writer child of TestSpoolSurvivesKill
		os.Exit(spoolChild())
	}
	os.Exit(influxtest.Main(m, &shared))
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.CloseContext(ctx)
	})
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func rate(lb, backend string, at time.Time, v float64) metrics.Record {
	return metrics.Record{
		Measurement: metrics.MeasHAProxy,
		Tags:        map[string]string{metrics.TagLB: lb, metrics.TagBackend: backend, metrics.TagServer: metrics.ServerBackend},
		Fields:      map[string]float64{metrics.FieldReqRate: v},
		Time:        at,
	}
}

func flush(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Rejected > 0 {
		t.Fatalf("points rejected: %+v", st)
	}
}

func TestWriteReadBackExactly(t *testing.T) {
	srv, db := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: db})
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	in := []metrics.Record{
		rate("web", "web", t0, 1.0/3),
		rate("web", "web", t0.Add(time.Second+7), math.Pi),
		rate(`we"ird ${x}`, "b,=e", t0.Add(2*time.Second), 1e-300),
	}
	ev := metrics.Record{Measurement: metrics.MeasEvent, Tags: map[string]string{metrics.TagLB: "*", metrics.TagKind: "campaign"},
		Fields: map[string]float64{metrics.FieldLift: 1.5, metrics.FieldEnd: float64(t0.Unix() + 3600)},
		Text:   map[string]string{metrics.TextName: `spring, "sale"`}, Time: t0}
	if err := s.Write(ctx, append(in, ev)...); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	got, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]metrics.Record(nil), in...)
	metrics.SortRecords(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n got %+v\nwant %+v", got, want)
	}
	evs, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasEvent, Tags: map[string]string{metrics.TagLB: "*"}}, t0, t0.Add(1))
	if err != nil || len(evs) != 1 || !reflect.DeepEqual(evs[0], ev) {
		t.Fatalf("event: %+v %v", evs, err)
	}
	latest, err := s.Latest(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy, Tags: map[string]string{metrics.TagLB: "web"}}, t0, t0.Add(time.Hour))
	if err != nil || len(latest) != 1 || !reflect.DeepEqual(latest[0], in[1]) {
		t.Fatalf("latest: %+v %v", latest, err)
	}
}

// TestHistoryMatchesEmbedded checks aggregateWindow at several steps
// against the embedded store's answer for the same data.
func TestHistoryMatchesEmbedded(t *testing.T) {
	srv, db := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: db})
	e, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	var recs []metrics.Record
	for i := 0; i < 360; i++ { // one hour of 10 s samples; a shadow backend for 10 minutes
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		recs = append(recs, rate("web", "web", at, float64(i%37)*1.25))
		if i >= 100 && i < 160 {
			recs = append(recs, rate("web", "web_shadow", at, 7))
		}
	}
	recs = append(recs, rate("other", "other", t0, 1e6))
	for _, st := range []metrics.Sink{s, e} {
		if err := st.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, s)
	sel, field := metrics.Demand("web")
	for _, tc := range []struct {
		from, to time.Time
		step     time.Duration
	}{
		{t0, t0.Add(time.Hour), 10 * time.Second},
		{t0, t0.Add(time.Hour), time.Minute},
		{t0.Add(7 * time.Minute), t0.Add(50 * time.Minute), 5 * time.Minute},
		{t0.Add(-time.Hour), t0.Add(2 * time.Hour), 7 * time.Minute},
		{t0, t0.Add(time.Hour), time.Hour},
		{t0.Add(-time.Hour), t0.Add(2 * time.Hour), 5 * time.Second}, // raw rows averaged here
		{t0.Add(3 * time.Second), t0.Add(time.Hour), 3 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.step, "/", tc.to.Sub(tc.from)), func(t *testing.T) {
			q := metrics.Query{Select: sel, Field: field, From: tc.from, To: tc.to, Step: tc.step}
			got, err := s.History(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := e.History(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Start.Equal(want.Start) || !closeFloats(got.Values, want.Values) {
				t.Fatalf("influx %v %v\nembedded %v %v", got.Start, got.Values, want.Start, want.Values)
			}
		})
	}
}

func closeFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) || math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestQueryErrorCarriesFluxMessage(t *testing.T) {
	srv, db := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: db})
	_, err := s.run(context.Background(), "bad query", `from(bucket: "`+db+`") |> range(start: -1m) |> nosuchfunction()`)
	if err == nil || !strings.Contains(err.Error(), "nosuchfunction") || !strings.Contains(err.Error(), "bad query") {
		t.Fatalf("error %v should name the query and carry the Flux message", err)
	}
}

func TestWrongDatabase(t *testing.T) {
	srv, _ := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: "no_such_db", MinBackoff: 50 * time.Millisecond})
	ctx := context.Background()
	err := s.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "no_such_db") {
		t.Fatalf("check: %v, want an error naming the database", err)
	}
	t.Logf("check: %v", err)
	if err := s.Write(ctx, rate("web", "web", t0, 1)); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s.Flush(fctx)
	st := s.Stats()
	if st.Rejected != 1 || !strings.Contains(st.LastError, "no_such_db") {
		t.Fatalf("stats %+v: want the point rejected with a message naming the database", st)
	}
	sel, field := metrics.Demand("web")
	if _, err := s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(time.Hour), Step: time.Minute}); err == nil {
		t.Fatal("history from a missing database: no error")
	}
}

func TestUnreachableAtStart(t *testing.T) {
	s := newStore(t, Config{URL: "http://127.0.0.1:1", Database: "db", MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, FlushInterval: 10 * time.Millisecond})
	ctx := context.Background()
	err := s.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("check: %v, want a clear unreachable error", err)
	}
	if err := s.Write(ctx, rate("web", "web", t0, 1)); err != nil {
		t.Fatalf("write while unreachable must buffer, got %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Retries < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.Retries < 2 || st.Buffered != 1 {
		t.Fatalf("stats %+v: want retries and the point still buffered", st)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Database: "db"},
		{URL: "127.0.0.1:8086", Database: "db"},
		{URL: "http://127.0.0.1:8086"},
		{URL: "http://127.0.0.1:8086", Database: "db", BatchSize: 10, BufferLimit: 5},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}
