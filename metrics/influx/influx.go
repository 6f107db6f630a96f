// Package influx is the metrics store on InfluxDB 1.8 through its /api/v2
// compatibility endpoints and Flux (DESIGN.md 4.2).
//
// Writes go to a bounded in-memory buffer that one goroutine drains in
// batches with retry and exponential backoff: an outage loses no point while
// the buffer holds them; past its bound the oldest points are dropped,
// counted and logged. With SpoolDir set the buffer is also spooled to disk
// (fsync'd per write and per sent batch) and replayed by the next New, so a
// crash during an outage loses no point and sends none twice (a batch sent
// just before a crash, unacknowledged, is sent again; InfluxDB keeps one
// copy of identical points). Every Flux query has an explicit start and stop, and windowed
// queries stop no later than one step past now with createEmpty: false,
// because Flux in 1.8 has no memory limit.
package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/shadowscale/shadowscale/metrics"
)

// Config says where the database is and how to write to it.
type Config struct {
	URL             string // http://host:8086
	Database        string
	RetentionPolicy string // optional; the database's default otherwise
	// Token is "" or "user:password" when InfluxDB has auth enabled.
	Token string

	BatchSize     int           // points per write request (default 1000)
	FlushInterval time.Duration // longest a point waits for a batch (default 1s)
	BufferLimit   int           // points held while InfluxDB is unreachable (default 100,000)
	MinBackoff    time.Duration // first retry delay (default 500ms)
	MaxBackoff    time.Duration // retry delay cap (default 30s)
	Timeout       time.Duration // one HTTP request (default 30s)
	// SpoolDir holds the buffer's copy on disk; "" keeps it in memory.
	SpoolDir string

	Now    func() time.Time // clock for bounding queries (default time.Now)
	Logger *slog.Logger     // default slog.Default()
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.BufferLimit <= 0 {
		c.BufferLimit = 100_000
	}
	def(&c.FlushInterval, time.Second)
	def(&c.MinBackoff, 500*time.Millisecond)
	def(&c.MaxBackoff, 30*time.Second)
	def(&c.Timeout, 30*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("influxdb url is empty")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("influxdb url %q is not an http(s)://host:port address", c.URL)
	case c.Database == "":
		return errors.New("influxdb database is empty")
	case c.BufferLimit > 0 && c.BatchSize > c.BufferLimit:
		return fmt.Errorf("influxdb batch size %d exceeds the buffer limit %d", c.BatchSize, c.BufferLimit)
	}
	return nil
}

// bucket is the 1.8 compatibility name: "db" or "db/rp".
func (c Config) bucket() string {
	if c.RetentionPolicy == "" {
		return c.Database
	}
	return c.Database + "/" + c.RetentionPolicy
}

// Store writes to and reads from one InfluxDB database.
type Store struct {
	cfg    Config
	log    *slog.Logger
	client influxdb2.Client
	write  api.WriteAPIBlocking
	query  api.QueryAPI
	buf    *buffer
	counters
	flushNow chan struct{}
	stop     context.CancelFunc
	done     chan struct{}
}

var _ metrics.Store = (*Store)(nil)

// New makes a store and starts its writer. It does not contact InfluxDB:
// a server that is down now is retried in the background; call Check to
// report it.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	opts := influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(uint((cfg.Timeout + time.Second - 1) / time.Second)).
		SetLogLevel(0)
	buf := newBuffer(cfg.BufferLimit)
	if cfg.SpoolDir != "" {
		var err error
		if buf, err = newSpooledBuffer(cfg.BufferLimit, cfg.SpoolDir); err != nil {
			return nil, err
		}
	}
	client := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "influx", "url", cfg.URL, "db", cfg.Database),
		client:   client,
		write:    client.WriteAPIBlocking("", cfg.bucket()),
		query:    client.QueryAPI(""),
		buf:      buf,
		flushNow: make(chan struct{}, 1),
		stop:     cancel,
		done:     make(chan struct{}),
	}
	go s.writeLoop(ctx)
	return s, nil
}

// Check reports whether InfluxDB answers and the database exists, with an
// error a person can act on.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.Ping(ctx)
	if err != nil || !ok {
		return fmt.Errorf("influxdb at %s is unreachable (writes are buffered and retried): %v", s.cfg.URL, err)
	}
	now := s.cfg.Now()
	flux := fmt.Sprintf("from(bucket: %s) |> range(%s) |> limit(n: 1)",
		fluxString(s.cfg.bucket()), fluxRange(now.Add(-time.Minute), now))
	if _, err := s.run(ctx, "check database", flux); err != nil {
		return fmt.Errorf("influxdb database %q: %w", s.cfg.Database, err)
	}
	return nil
}

// Close tries for up to 10 s to send what is buffered (InfluxDB may be the
// thing that is down), then stops the writer; it returns an error naming
// how many points were not sent.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.CloseContext(ctx)
}

// CloseContext is Close with the caller's deadline for the final flush.
func (s *Store) CloseContext(ctx context.Context) error {
	flushErr := s.Flush(ctx)
	s.stop()
	<-s.done
	s.client.Close()
	spoolErr := s.buf.close()
	if n := s.buf.len(); n > 0 {
		where := "lost"
		if s.cfg.SpoolDir != "" && spoolErr == nil {
			where = "kept in the spool for the next start"
		}
		return fmt.Errorf("close influxdb store: %d buffered points not written (%s): %w", n, where, flushErr)
	}
	return spoolErr
}
