package influx

import (
	"context"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// TestOutage stops influxd mid-stream and restarts it on the same data and
// port, twice: an outage within the buffer bound loses nothing; one beyond
// it drops exactly the overflow, oldest first.
func TestOutage(t *testing.T) {
	srv, db := shared.Get(t)
	const limit = 3000
	s := newStore(t, Config{URL: srv.URL, Database: db, BatchSize: 500, BufferLimit: limit,
		FlushInterval: 50 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	ctx := context.Background()
	next := 0
	write := func(n int) {
		for i := 0; i < n; i++ {
			if err := s.Write(ctx, rate("web", "web", t0.Add(time.Duration(next)*time.Second), float64(next))); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	outage := func(during int) {
		t.Helper()
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		write(during)
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		flush(t, s)
	}

	write(1000)
	flush(t, s)
	outage(2500) // within the bound
	st := s.Stats()
	t.Logf("outage within bound: %+v", st)
	if st.Written != 3500 || st.Dropped != 0 || st.Retries == 0 {
		t.Fatalf("after an outage within the bound: %+v, want 3500 written, 0 dropped, some retries", st)
	}

	write(500)
	flush(t, s)
	outage(limit + 1200) // 1200 over the bound
	st = s.Stats()
	t.Logf("outage beyond bound: %+v", st)
	if st.Dropped != 1200 || st.Written != uint64(next)-1200 {
		t.Fatalf("after an outage beyond the bound: %+v, want 1200 dropped and the rest written", st)
	}

	got, err := s.Records(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(time.Duration(next)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Stored: points 0..3999 and, of the second outage's, the newest `limit`.
	if len(got) != next-1200 {
		t.Fatalf("stored %d points, want %d", len(got), next-1200)
	}
	for i, r := range got {
		want := i
		if i >= 4000 {
			want = i + 1200
		}
		if r.Fields[metrics.FieldReqRate] != float64(want) {
			t.Fatalf("stored point %d is %v, want %d (oldest must be dropped first)", i, r.Fields[metrics.FieldReqRate], want)
		}
	}
}
