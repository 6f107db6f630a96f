package main

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/influx"
	"github.com/shadowscale/shadowscale/metrics/influxtest"
	"github.com/shadowscale/shadowscale/metrics/stores"
)

// TestAppUtilisationFromInfluxDB: [lb.*] app_query is read through the
// store serve opens; the scheduler gets the mean of the hosts' latest
// utilisation (its scenarios show it reaching the plan's reason).
func TestAppUtilisationFromInfluxDB(t *testing.T) {
	srv := influxtest.Start(t)
	ctx := context.Background()
	if err := srv.CreateDatabase(ctx, "apps"); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Metrics.Store, cfg.InfluxDB.URL, cfg.InfluxDB.Database = "influxdb", srv.URL, "apps"
	web, api := config.DefaultLB("web"), config.DefaultLB("api")
	web.AppQuery = `from(bucket: "apps") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r._measurement == "busy" and r._field == "ratio")`
	cfg.LBs = map[string]config.LB{"web": web, "api": api}
	store, err := stores.Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	var recs []metrics.Record
	for i, host := range []string{"a", "b"} {
		for k := range 3 { // older points first: the latest counts
			recs = append(recs, metrics.Record{Measurement: "busy", Tags: map[string]string{"host": host},
				Fields: map[string]float64{"ratio": 0.1*float64(k) + 0.2*float64(i) + 0.2}, Time: now.Add(-time.Duration(3-k) * time.Minute)})
		}
	}
	if err := store.Write(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := store.(*influx.Store).Flush(fctx); err != nil {
		t.Fatal(err)
	}
	cfg.Service.StateDir = t.TempDir()
	deps, _, err := schedulerDeps(cfg, store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	app := deps.App
	if app == nil {
		t.Fatal("an LB with app_query and an InfluxDB store: serve wires no app metrics")
	}
	got, err := app.Utilisation(ctx, "web", now)
	if err != nil || math.Abs(got-0.5) > 1e-9 { // hosts' latest: 0.4 and 0.6
		t.Fatalf("utilisation %v, %v; want 0.5", got, err)
	}
	if got, err := app.Utilisation(ctx, "api", now); err != nil || !math.IsNaN(got) {
		t.Fatalf("api has no app_query: %v, %v; want NaN", got, err)
	}
}
