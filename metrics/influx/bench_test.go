package influx

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

const (
	benchLBs     = 100
	benchMinutes = 7 * 24 * 60
)

func benchRecords(lb int, from, n int) []metrics.Record {
	recs := make([]metrics.Record, 0, n)
	for i := from; i < from+n; i++ {
		name := fmt.Sprintf("lb%03d", lb)
		recs = append(recs, rate(name, name, t0.Add(time.Duration(i)*time.Minute), float64(i%1440)))
	}
	return recs
}

func benchStore(b *testing.B, db string) *Store {
	srv, _ := shared.GetBench(b, db)
	s, err := New(Config{URL: srv.URL, Database: db, BatchSize: 5000, BufferLimit: 200_000, FlushInterval: 10 * time.Millisecond,
		Now: func() time.Time { return t0.Add(30 * 24 * time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// writeAll writes records through the buffer in chunks the buffer holds,
// flushing after each, and fails on any dropped or refused point.
func writeAll(b *testing.B, s *Store, recs []metrics.Record) {
	ctx := context.Background()
	for i := 0; i < len(recs); i += 100_000 {
		if err := s.Write(ctx, recs[i:min(i+100_000, len(recs))]...); err != nil {
			b.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if st := s.Stats(); st.Dropped+st.Rejected > 0 {
		b.Fatalf("points lost: %+v", st)
	}
}

// BenchmarkWrite measures end-to-end write throughput (buffer, batches of
// 5,000, HTTP, influxd) for 100,000 points over 100 series per op.
func BenchmarkWrite(b *testing.B) {
	s := benchStore(b, "bench_write")
	const perOp = 100_000
	var recs []metrics.Record
	for lb := 0; lb < benchLBs; lb++ {
		recs = append(recs, benchRecords(lb, 0, perOp/benchLBs)...)
	}
	b.ResetTimer()
	for op := 0; op < b.N; op++ {
		writeAll(b, s, recs)
	}
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "points/s")
}

var weekOnce sync.Once

// BenchmarkQueryWeek100LBs reads 7 days of 1-minute history for each of
// 100 load balancers (one bounded aggregateWindow query per LB) per op.
func BenchmarkQueryWeek100LBs(b *testing.B) {
	s := benchStore(b, "bench_week")
	weekOnce.Do(func() {
		start := time.Now()
		for lb := 0; lb < benchLBs; lb++ {
			writeAll(b, s, benchRecords(lb, 0, benchMinutes))
		}
		b.Logf("wrote %d points in %v", benchLBs*benchMinutes, time.Since(start))
	})
	ctx := context.Background()
	b.ResetTimer()
	for op := 0; op < b.N; op++ {
		for lb := 0; lb < benchLBs; lb++ {
			sel, field := metrics.Demand(fmt.Sprintf("lb%03d", lb))
			r, err := s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(benchMinutes * time.Minute), Step: time.Minute})
			if err != nil || len(r.Values) != benchMinutes || r.Values[benchMinutes-1] != float64((benchMinutes-1)%1440) {
				b.Fatalf("history: %d values, %v", len(r.Values), err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100LBs")
}
