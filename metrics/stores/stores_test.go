package stores

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/metrics/influx"
)

func TestOpen(t *testing.T) {
	cfg := config.Default()
	cfg.Metrics.Path = filepath.Join(t.TempDir(), "m.db")
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*embedded.Store); !ok {
		t.Fatalf("default store is %T, want the embedded store", s)
	}
	s.Close()

	cfg.Metrics.Store = "influxdb"
	cfg.Service.StateDir = t.TempDir()
	cfg.InfluxDB.URL, cfg.InfluxDB.Database = "http://127.0.0.1:1", "db"
	cfg.InfluxDB.Username, cfg.InfluxDB.Password = "u", "p:w"
	ic := InfluxConfig(cfg, nil)
	if ic.Token != "u:p:w" || ic.BufferLimit != cfg.Metrics.BufferPoints || ic.BatchSize != cfg.InfluxDB.BatchSize ||
		ic.SpoolDir != filepath.Join(cfg.Service.StateDir, "influx-spool") {
		t.Fatalf("influx config %+v", ic)
	}
	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatalf("an unreachable InfluxDB must not fail Open: %v", err)
	}
	if _, ok := s.(*influx.Store); !ok {
		t.Fatalf("store is %T", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.(*influx.Store).CloseContext(ctx)

	cfg.Metrics.Store = "sqlite"
	if _, err := Open(cfg, nil); err == nil {
		t.Fatal("unknown store accepted")
	}
	var _ metrics.Store = s
}
