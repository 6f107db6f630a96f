package influx

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

func TestAppMetrics(t *testing.T) {
	srv, db := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: db})
	ctx := context.Background()
	var recs []metrics.Record
	for i := 0; i < 12; i++ { // two hosts, 10 s samples over 2 minutes
		for h, host := range []string{"a", "b"} {
			recs = append(recs, metrics.Record{Measurement: "cpu", Tags: map[string]string{"host": host},
				Fields: map[string]float64{"usage": float64(10*h + i)}, Time: t0.Add(time.Duration(i) * 10 * time.Second)})
		}
	}
	if err := s.Write(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	q := AppQuery{LB: "web", Name: "cpu", Flux: `from(bucket: "` + db + `")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")`}
	got, err := s.App(ctx, q, t0, t0.Add(3*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Past aggregateMaxWindows the raw rows are averaged here: same answer.
	fine, err := s.App(ctx, q, t0, t0.Add(time.Hour), 5*time.Second)
	if err != nil || len(fine) != 2 || fine[1].Values[0] != 10 || fine[1].Values[2] != 11 || !math.IsNaN(fine[1].Values[1]) {
		t.Fatalf("fine-step app series: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d series, want one per host: %+v", len(got), got)
	}
	for h, want := range [][]float64{{2.5, 8.5, math.NaN()}, {12.5, 18.5, math.NaN()}} {
		if !closeFloats(got[h].Values, want) || !strings.Contains(got[h].Name, "host=") {
			t.Errorf("series %d %q = %v, want %v", h, got[h].Name, got[h].Values, want)
		}
	}
}

func TestAppMetricErrors(t *testing.T) {
	srv, db := shared.Get(t)
	s := newStore(t, Config{URL: srv.URL, Database: db})
	ctx := context.Background()
	for _, tc := range []struct{ flux, want string }{
		{`from(bucket: "` + db + `") |> range(start: -1y)`, "v.timeRangeStart"},
		{`from(bucket: "` + db + `") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r.x ==)`, "app metric web/bad"},
		{`from(bucket: "` + db + `") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> nosuch()`, "undefined identifier"},
	} {
		_, err := s.App(ctx, AppQuery{LB: "web", Name: "bad", Flux: tc.flux}, t0, t0.Add(time.Hour), time.Minute)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("query %q: error %v, want it to contain %q", tc.flux, err, tc.want)
		} else {
			t.Logf("%v", err)
		}
	}
}
