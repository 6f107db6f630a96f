package influx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/shadowscale/shadowscale/metrics"
)

// Stats counts what the writer did, for the service's own metrics.
type Stats struct {
	Buffered  int    // points waiting to be sent
	Written   uint64 // points InfluxDB accepted
	Dropped   uint64 // oldest points dropped because the buffer was full
	Rejected  uint64 // points InfluxDB refused (4xx: bad data, wrong database)
	Retries   uint64 // failed write attempts that will be retried
	LastError string
	LastErrAt time.Time
}

type counters struct {
	mu        sync.Mutex
	written   uint64
	rejected  uint64
	retries   uint64
	lastErr   string
	lastErrAt time.Time
	lastDrop  time.Time
	// lastSpoolErr rate-limits spool error logs.
	lastSpoolErr time.Time
}

// Stats returns a snapshot of the writer's counters.
func (s *Store) Stats() Stats {
	c := &s.counters
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Buffered: s.buf.len(), Written: c.written, Dropped: s.buf.droppedTotal(),
		Rejected: c.rejected, Retries: c.retries, LastError: c.lastErr, LastErrAt: c.lastErrAt,
	}
}

// Write validates and buffers records; they are sent in the background.
// It fails only for invalid records (none of the call's records are kept).
func (s *Store) Write(ctx context.Context, records ...metrics.Record) error {
	lines := make([]string, 0, len(records))
	for _, r := range records {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
		lines = append(lines, write.PointToLineProtocol(toPoint(r), time.Nanosecond))
	}
	dropped, err := s.buf.push(lines, true)
	if dropped > 0 {
		s.noteDrop(dropped)
	}
	if err != nil { // the points are still buffered in memory
		s.spoolFailed(err)
	}
	return nil
}

// spoolFailed logs a spool write error (at most every 10 s): the points
// stay buffered in memory but would not survive a crash.
func (s *Store) spoolFailed(err error) {
	c := &s.counters
	c.mu.Lock()
	logIt := time.Since(c.lastSpoolErr) > 10*time.Second
	if logIt {
		c.lastSpoolErr = time.Now()
	}
	c.mu.Unlock()
	if logIt {
		s.log.Error("metrics buffer spool failed: buffered points would not survive a crash", "err", err)
	}
}

func toPoint(r metrics.Record) *write.Point {
	fields := make(map[string]any, len(r.Fields)+len(r.Text))
	for k, v := range r.Fields {
		fields[k] = v
	}
	for k, v := range r.Text {
		fields[k] = v
	}
	return write.NewPoint(r.Measurement, r.Tags, fields, r.Time)
}

func (s *Store) noteDrop(n int) {
	c := &s.counters
	c.mu.Lock()
	logIt := time.Since(c.lastDrop) > 10*time.Second
	if logIt {
		c.lastDrop = time.Now()
	}
	c.mu.Unlock()
	if logIt { // at most every 10 s: an outage drops on every write
		s.log.Warn("metrics buffer full: dropped oldest points", "dropped_now", n,
			"dropped_total", s.buf.droppedTotal(), "limit", s.cfg.BufferLimit)
	}
}

// Flush waits until everything buffered was sent (or refused) or ctx ends.
func (s *Store) Flush(ctx context.Context) error {
	select {
	case s.flushNow <- struct{}{}:
	default:
	}
	for s.buf.len() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush influxdb: %d points still buffered: %w", s.buf.len(), ctx.Err())
		case <-s.done:
			return fmt.Errorf("flush influxdb: writer stopped with %d points buffered", s.buf.len())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

func (s *Store) writeLoop(ctx context.Context) {
	defer close(s.done)
	backoff := s.cfg.MinBackoff
	failing := false
	for s.waitBatch(ctx) {
		pts, seq := s.buf.peek(s.cfg.BatchSize)
		if len(pts) == 0 {
			continue
		}
		err := s.write.WriteRecord(ctx, pts...)
		switch {
		case err == nil:
			s.removeSent(seq + uint64(len(pts)))
			s.count(func(c *counters) { c.written += uint64(len(pts)) })
			if failing {
				s.log.Info("influxdb writes recovered", "buffered", s.buf.len())
			}
			failing, backoff = false, s.cfg.MinBackoff
		case permanent(err):
			s.removeSent(seq + uint64(len(pts)))
			s.count(func(c *counters) { c.rejected += uint64(len(pts)); c.lastErr, c.lastErrAt = err.Error(), time.Now() })
			s.log.Error("influxdb refused points; dropped them", "points", len(pts), "err", err)
		default:
			s.count(func(c *counters) { c.retries++; c.lastErr, c.lastErrAt = err.Error(), time.Now() })
			if !failing {
				s.log.Warn("influxdb write failed; buffering and retrying", "err", err, "buffered", s.buf.len())
			}
			failing = true
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, s.cfg.MaxBackoff)
		}
	}
}

// waitBatch waits until a full batch is buffered, or some points have
// waited FlushInterval; it returns false when the store is closing.
func (s *Store) waitBatch(ctx context.Context) bool {
	var deadline <-chan time.Time
	for {
		n := s.buf.len()
		if n >= s.cfg.BatchSize {
			return ctx.Err() == nil
		}
		if n > 0 && deadline == nil {
			t := time.NewTimer(s.cfg.FlushInterval)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-ctx.Done():
			return false
		case <-s.buf.ready:
		case <-s.flushNow:
			if n > 0 {
				return true
			}
		case <-deadline:
			return true
		}
	}
}

func (s *Store) removeSent(upTo uint64) {
	if err := s.buf.remove(upTo); err != nil {
		s.spoolFailed(err)
	}
}

func (s *Store) count(f func(*counters)) {
	s.counters.mu.Lock()
	f(&s.counters)
	s.counters.mu.Unlock()
}

// permanent reports a refusal that retrying cannot fix: a 4xx other than
// timeout and rate limit (bad line protocol, field type conflict, database
// not found, auth).
func permanent(err error) bool {
	var he *http2.Error
	if !errors.As(err, &he) || he.StatusCode == 0 {
		return false
	}
	c := he.StatusCode
	return c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
