// Package collect scrapes HAProxy stats for every managed load balancer on
// each interval, turns cumulative counters into rates (surviving reloads and
// servers that come and go) and writes them to a metrics sink in the schema
// of DESIGN.md 3.4.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// Row is one stats line as the collector needs it.
type Row struct {
	Type           string   // frontend | backend | server
	Proxy          string   // frontend or backend name
	Server         string   // server name; "" for frontend and backend rows
	Total          Counters // cumulative since the HAProxy worker started
	Sessions       float64  // current
	Queue          float64  // current
	ResponseTimeMs float64  // HAProxy's average over the last 1024 requests
}

// StatsReader reads the stats of one HAProxy (a node of the fleet).
// Implementations must return when ctx is done.
type StatsReader interface {
	ReadStats(ctx context.Context) ([]Row, error)
}

// Target is one managed load balancer: the frontends and backends (primary
// and shadow) that carry its traffic, on the HAProxy its reader reads.
type Target struct {
	LB      string
	Reader  StatsReader
	Proxies []string
}

// Status is the collector's own health, for the API and /metrics.
type Status struct {
	Scrapes   uint64
	Errors    uint64 // failed reads and writes
	Resets    uint64 // rows whose counters went down (reloads)
	LastTick  time.Time
	LastLag   time.Duration // from the tick to the write finishing
	LastError string
}

// Collector scrapes targets. RunOnce must not be called concurrently.
type Collector struct {
	sink    metrics.Sink
	targets func() []Target
	clock   func() time.Time
	log     *slog.Logger
	rates   *Rates

	mu     sync.Mutex
	status Status
}

// New makes a collector. targets is called on every tick, so the set of
// load balancers can change; clock times the reads (rates use the time a
// read finished, not the tick).
func New(sink metrics.Sink, targets func() []Target, clock func() time.Time, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.Default()
	}
	return &Collector{sink: sink, targets: targets, clock: clock, log: log.With("component", "collector"), rates: NewRates()}
}

// Status returns a snapshot of the collector's health.
func (c *Collector) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// RunOnce scrapes every target once and writes one record per matching row,
// stamped with the tick time now. A failing target does not stop the others;
// the errors are returned joined.
func (c *Collector) RunOnce(ctx context.Context, now time.Time) error {
	var recs []metrics.Record
	var errs []error
	resets := 0
	for _, t := range c.targets() {
		rows, err := t.Reader.ReadStats(ctx)
		readAt := c.clock()
		if err != nil {
			errs = append(errs, fmt.Errorf("read stats of %s: %w", t.LB, err))
			continue
		}
		r, n := c.records(t, rows, now, readAt)
		recs = append(recs, r...)
		resets += n
	}
	c.rates.Sweep()
	if len(recs) > 0 {
		if err := c.sink.Write(ctx, recs...); err != nil {
			errs = append(errs, fmt.Errorf("write %d stats records: %w", len(recs), err))
		}
	}
	err := errors.Join(errs...)
	c.finish(now, resets, len(errs), err)
	return err
}

func (c *Collector) finish(now time.Time, resets, nerr int, err error) {
	lag := c.clock().Sub(now)
	c.mu.Lock()
	c.status.Scrapes++
	c.status.Errors += uint64(nerr)
	c.status.Resets += uint64(resets)
	c.status.LastTick, c.status.LastLag = now, lag
	if err != nil {
		c.status.LastError = err.Error()
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("scrape failed", "tick", now, "lag", lag, "err", err)
	} else {
		c.log.Debug("scraped", "tick", now, "lag", lag)
	}
}

// records builds the target's records from its rows and reports resets.
func (c *Collector) records(t Target, rows []Row, now, readAt time.Time) ([]metrics.Record, int) {
	want := map[string]bool{}
	for _, p := range t.Proxies {
		want[p] = true
	}
	var out []metrics.Record
	resets := 0
	for _, row := range rows {
		if !want[row.Proxy] {
			continue
		}
		server := row.Server
		switch row.Type {
		case "backend":
			server = metrics.ServerBackend
		case "frontend":
			server = metrics.ServerFrontend
		}
		fields := map[string]float64{
			metrics.FieldSessions: row.Sessions, metrics.FieldQueue: row.Queue, metrics.FieldRespTimeMS: row.ResponseTimeMs,
		}
		key := t.LB + "\x00" + row.Type + "\x00" + row.Proxy + "\x00" + server
		rate, outcome := c.rates.Update(key, readAt, row.Total)
		switch outcome {
		case RateOK:
			fields[metrics.FieldReqRate], fields[metrics.FieldSessRate], fields[metrics.FieldErrRate] = rate.Requests, rate.Sessions, rate.Errors
		case Reset:
			resets++
			c.log.Info("counters went down (reload?): new baseline, no rate this interval", "lb", t.LB, "proxy", row.Proxy, "server", server)
		}
		out = append(out, metrics.Record{
			Measurement: metrics.MeasHAProxy,
			Tags:        map[string]string{metrics.TagLB: t.LB, metrics.TagBackend: row.Proxy, metrics.TagServer: server},
			Fields:      fields,
			Time:        now,
		})
	}
	return out, resets
}

// Run scrapes on ticks aligned to multiples of every (so all series share
// one grid) until ctx is done. A tick missed because a scrape overran is
// skipped, not queued.
func (c *Collector) Run(ctx context.Context, every time.Duration) {
	for {
		next := metrics.AlignDown(c.clock(), every).Add(every)
		select {
		case <-ctx.Done():
			return
		case <-time.After(next.Sub(c.clock())):
		}
		c.RunOnce(ctx, next)
	}
}
