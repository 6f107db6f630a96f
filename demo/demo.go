// Package demo runs the whole product on this machine, on 127.0.0.1 only:
// a real HAProxy in front of app instances with a cold start and a
// capacity limit, a load generator replaying one day of a real traffic
// trace (compressed into minutes, scaled to what the machine carries), and
// `shadowscale serve` with short ticks — twice on the same HAProxy and
// apps: once with the predictive policy (forecast, pre-warmed shadow pool)
// and once with the reactive one (target tracking on the load now, cold
// instances). It reports what the clients saw side by side, writes a JSON
// summary and a chart, and stops everything it started, also on Ctrl-C.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// Config shapes one demo. Zero values take the defaults of Defaults.
type Config struct {
	Trace    string        // trace CSV replayed
	Duration time.Duration // one trace day compressed into this long
	Peak     float64       // req/s at the day's peak
	Policies []string      // run in this order
	Serve    string        // the shadowscale binary
	AppBin   string        // the demo app binary (the local provider's instances)
	HAProxy  string        // the haproxy binary
	OutDir   string        // summary.json, chart.png and the logs
	// Capacity is what one app instance serves at healthy latency (the
	// planner's capacity_per_instance); the instances really saturate a
	// little above it.
	Capacity  float64
	Primaries int
	MaxPool   int
	// Instance behaviour: service time, concurrent requests, and the cold
	// start (slower by ColdDelay and failing at ColdErrors for its first
	// ColdFor and ColdRequests).
	Delay       time.Duration
	Concurrency int
	ColdFor     time.Duration
	ColdReqs    int
	ColdDelay   time.Duration
	ColdErrors  float64
	Boot        time.Duration // provider boot_time
	Warmup      time.Duration // provider warmup_time (predictive)
	HistoryDays int           // compressed days loaded as history before the replay
	Model       string        // [forecast] model; empty: serve's default forecaster
	Progress    io.Writer     // a progress line while it runs (nil: none)
}

// Defaults fills what c leaves zero.
func (c Config) Defaults() Config {
	def := Config{Duration: 4 * time.Minute, Peak: 280, Policies: []string{"predictive", "reactive"},
		Capacity: 60, Primaries: 2, MaxPool: 5, Delay: 25 * time.Millisecond, Concurrency: 2,
		ColdFor: 6 * time.Second, ColdReqs: 0, ColdDelay: 80 * time.Millisecond, ColdErrors: 0.1,
		Boot: 2 * time.Second, Warmup: 8 * time.Second, HistoryDays: 3, OutDir: "out/demo"}
	if c.Duration == 0 {
		c.Duration = def.Duration
	}
	if c.Peak == 0 {
		c.Peak = def.Peak
	}
	if len(c.Policies) == 0 {
		c.Policies = def.Policies
	}
	c.Capacity = orDefault(c.Capacity, def.Capacity)
	c.Primaries = orDefault(c.Primaries, def.Primaries)
	c.MaxPool = orDefault(c.MaxPool, def.MaxPool)
	c.Delay = orDefault(c.Delay, def.Delay)
	c.Concurrency = orDefault(c.Concurrency, def.Concurrency)
	c.ColdFor, c.ColdReqs = orDefault(c.ColdFor, def.ColdFor), orDefault(c.ColdReqs, def.ColdReqs)
	c.ColdDelay, c.ColdErrors = orDefault(c.ColdDelay, def.ColdDelay), orDefault(c.ColdErrors, def.ColdErrors)
	c.Boot, c.Warmup = orDefault(c.Boot, def.Boot), orDefault(c.Warmup, def.Warmup)
	c.HistoryDays = orDefault(c.HistoryDays, def.HistoryDays)
	if c.OutDir == "" {
		c.OutDir = def.OutDir
	}
	return c
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate names the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Trace == "":
		return errors.New("demo: no trace given")
	case c.Duration < 30*time.Second:
		return fmt.Errorf("demo: duration %s: a compressed day needs at least 30s", c.Duration)
	case c.Serve == "" || c.AppBin == "" || c.HAProxy == "":
		return errors.New("demo: the shadowscale, demo app and haproxy binaries are required")
	}
	for _, p := range c.Policies {
		if p != "predictive" && p != "reactive" {
			return fmt.Errorf("demo: policy %q: want predictive or reactive", p)
		}
	}
	return nil
}

// primaryApp is a warm primary instance: started long before the demo.
func (c Config) primaryApp(name string) demoapp.Config {
	return demoapp.Config{Name: name, Delay: c.Delay, Capacity: c.Concurrency, QueueLimit: 50}
}

// appArgs are the local provider's instances: the same app, cold at start.
func (c Config) appArgs() string {
	return fmt.Sprintf("--delay %s --capacity %d --queue 50 --cold-for %s --cold-requests %d --cold-delay %s --cold-error-rate %g",
		c.Delay, c.Concurrency, c.ColdFor, c.ColdReqs, c.ColdDelay, c.ColdErrors)
}

// Run runs the demo and returns its summary (also written to OutDir).
// Everything it started is stopped before it returns, ctx done or not.
func Run(ctx context.Context, c Config) (*Summary, error) {
	c = c.Defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	rp, err := loadReplay(c.Trace, c.Duration, c.Peak, c.HistoryDays)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(c.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: out dir: %w", err)
	}
	// HAProxy's unix sockets need a short path: a temp dir, removed at the end.
	dir, err := os.MkdirTemp("", "ssdemo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w, err := startWorld(ctx, c, dir)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer w.stop()
	sum := &Summary{Trace: filepath.Base(c.Trace), Day: rp.Day.Format("2006-01-02"), DurationS: c.Duration.Seconds(),
		Compress: rp.Compress, PeakRate: rp.Rate[rp.PeakAt], PeakAtS: rp.PeakAt, Capacity: c.Capacity}
	sum.PeakFromS, sum.PeakToS = rp.peakWindow()
	for _, pol := range c.Policies {
		res, err := runPolicy(ctx, c, w, rp, pol, dir)
		if res != nil {
			sum.Runs = append(sum.Runs, *res)
		}
		if err != nil {
			return sum, fmt.Errorf("demo: %s run: %w", pol, err)
		}
	}
	return sum, sum.write(c.OutDir, rp)
}
