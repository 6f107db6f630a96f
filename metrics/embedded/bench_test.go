package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// weekOfLBs is the query benchmark's data: 7 days of 1-minute request
// rates for 100 load balancers (1,008,000 points).
const (
	benchLBs     = 100
	benchMinutes = 7 * 24 * 60
)

func benchRecords(lb int, from, n int) []metrics.Record {
	recs := make([]metrics.Record, 0, n)
	for i := from; i < from+n; i++ {
		recs = append(recs, rate(fmt.Sprintf("lb%03d", lb), fmt.Sprintf("lb%03d", lb), t0.Add(time.Duration(i)*time.Minute), float64(i%1440)))
	}
	return recs
}

// BenchmarkWrite measures write throughput in batches of 1,000 points (one
// transaction, fsync'ed, per batch), 100 series.
func BenchmarkWrite(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "m.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const perOp = 100_000
	b.ResetTimer()
	start := time.Now()
	for op := 0; op < b.N; op++ {
		for i := 0; i < perOp/1000; i++ {
			batch := make([]metrics.Record, 0, 1000)
			for lb := 0; lb < 100; lb++ {
				batch = append(batch, benchRecords(lb, (op*perOp/1000+i)*10, 10)...)
			}
			if err := s.Write(ctx, batch...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*perOp)/time.Since(start).Seconds(), "points/s")
}

var (
	weekOnce sync.Once
	weekPath string
	weekErr  error
	weekDir  string
)

// BenchmarkQueryWeek100LBs reads 7 days of 1-minute history for each of
// 100 load balancers (one History call per LB) per op.
func BenchmarkQueryWeek100LBs(b *testing.B) {
	weekOnce.Do(func() { weekPath, weekErr = writeWeek(b) })
	if weekErr != nil {
		b.Fatal(weekErr)
	}
	s, err := Open(weekPath, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ResetTimer()
	for op := 0; op < b.N; op++ {
		for lb := 0; lb < benchLBs; lb++ {
			sel, field := metrics.Demand(fmt.Sprintf("lb%03d", lb))
			r, err := s.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(benchMinutes * time.Minute), Step: time.Minute})
			if err != nil || len(r.Values) != benchMinutes {
				b.Fatalf("history: %d values, %v", len(r.Values), err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100LBs")
}

func writeWeek(b *testing.B) (string, error) {
	dir, err := mkTemp()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "week.db")
	s, err := Open(path, Options{})
	if err != nil {
		return "", err
	}
	defer s.Close()
	start := time.Now()
	for lb := 0; lb < benchLBs; lb++ {
		for from := 0; from < benchMinutes; from += 5040 {
			if err := s.Write(context.Background(), benchRecords(lb, from, 5040)...); err != nil {
				return "", err
			}
		}
	}
	b.Logf("wrote %d points in %v", benchLBs*benchMinutes, time.Since(start))
	return path, nil
}
