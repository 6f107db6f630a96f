package feedback

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/metrics/influx"
	"github.com/shadowscale/shadowscale/metrics/influxtest"
	"github.com/shadowscale/shadowscale/scheduler"
)

var shared influxtest.Shared

func TestMain(m *testing.M) { os.Exit(influxtest.Main(m, &shared)) }

// storeKind opens (and reopens, for a restart) one kind of store.
type storeKind struct {
	name string
	open func(t *testing.T) (metrics.Store, func() metrics.Store)
}

func storeKinds() []storeKind {
	return []storeKind{
		{"embedded", func(t *testing.T) (metrics.Store, func() metrics.Store) {
			path := filepath.Join(t.TempDir(), "m.db")
			open := func() metrics.Store {
				s, err := embedded.Open(path, embedded.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(), open
		}},
		{"influxdb", func(t *testing.T) (metrics.Store, func() metrics.Store) {
			srv, db := shared.Get(t)
			open := func() metrics.Store {
				s, err := influx.New(influx.Config{URL: srv.URL, Database: db, FlushInterval: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(), open
		}},
	}
}

// writeDemand stores minute m's demand of lb as three scrapes.
func writeDemand(t *testing.T, s metrics.Store, lb string, at time.Time, v float64) {
	t.Helper()
	var recs []metrics.Record
	for _, sec := range []int{10, 30, 50} {
		recs = append(recs, metrics.Record{Measurement: metrics.MeasHAProxy, Time: at.Add(time.Duration(sec) * time.Second),
			Tags:   map[string]string{metrics.TagLB: lb, metrics.TagBackend: lb, metrics.TagServer: metrics.ServerBackend},
			Fields: map[string]float64{metrics.FieldReqRate: v}})
	}
	if err := s.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
}

func flush(t *testing.T, s metrics.Store) {
	t.Helper()
	if f, ok := s.(interface{ Flush(context.Context) error }); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// constant is a forecast from origin at: p10 90, p50 100, p90 110.
func constant(lb, model string, at time.Time, steps int) *inference.Forecast {
	f := &inference.Forecast{ID: lb, Start: at, Step: time.Minute, Model: model}
	for range steps {
		f.P10, f.P50, f.P90 = append(f.P10, 90), append(f.P50, 100), append(f.P90, 110)
	}
	return f
}

func tick(lb string, at time.Time, f *inference.Forecast) scheduler.TickRecord {
	return scheduler.TickRecord{LB: lb, At: at, Raw: f, Used: f, Forecaster: "m",
		Series: inference.Series{ID: lb, Start: at.Add(-time.Hour), Step: time.Minute, Values: make([]float64, 60)},
		Plan:   scheduler.Plan{LB: lb, At: at, Decision: "hold", Needed: 2, Current: 2}}
}

// errorsByKey reads every forecast_error record of lb.
func errorsByKey(t *testing.T, s metrics.Store, lb string, from, to time.Time) map[string][]scored {
	t.Helper()
	recs, err := s.Records(context.Background(), metrics.Selector{Measurement: metrics.MeasForecastError,
		Tags: map[string]string{metrics.TagLB: lb}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]scored{}
	for _, r := range recs {
		sc, ok := scoredFrom(r)
		if !ok {
			t.Fatalf("unreadable forecast_error record %+v", r)
		}
		out[sc.key()] = append(out[sc.key()], sc)
	}
	return out
}

type schedTick = scheduler.TickRecord

func replaceBars(s string) string {
	out := []byte(s)
	for i := range out {
		if out[i] == '|' {
			out[i] = ' '
		}
	}
	return string(out)
}
