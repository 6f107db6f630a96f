// Package stores opens the metrics store a configuration names: the
// embedded file by default, InfluxDB when [metrics] store = influxdb.
package stores

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/metrics/influx"
)

// Open opens the configured store. An unreachable InfluxDB is not an error
// here (writes are buffered and retried); call Check on it to report one.
func Open(cfg config.Config, log *slog.Logger) (metrics.Store, error) {
	switch cfg.Metrics.Store {
	case "embedded":
		return embedded.Open(cfg.Metrics.Path, embedded.Options{Retention: cfg.Metrics.Retention})
	case "influxdb":
		return influx.New(InfluxConfig(cfg, log))
	}
	return nil, fmt.Errorf("metrics store %q: must be embedded or influxdb", cfg.Metrics.Store)
}

// InfluxConfig maps the [influxdb] and [metrics] sections to the store's
// settings.
func InfluxConfig(cfg config.Config, log *slog.Logger) influx.Config {
	i := cfg.InfluxDB
	token := ""
	if i.Username != "" || i.Password != "" {
		token = i.Username + ":" + i.Password
	}
	return influx.Config{
		URL: i.URL, Database: i.Database, RetentionPolicy: i.RetentionPolicy, Token: token,
		BatchSize: i.BatchSize, BufferLimit: cfg.Metrics.BufferPoints, Timeout: i.Timeout, Logger: log,
		// The buffer survives a crash during an outage (replayed at start).
		SpoolDir: filepath.Join(cfg.Service.StateDir, "influx-spool"),
	}
}
