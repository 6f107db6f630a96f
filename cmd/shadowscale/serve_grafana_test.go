package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/influx"
	"github.com/shadowscale/shadowscale/metrics/influxtest"
)

// dashboardQuery is one Flux query of the Grafana dashboard.
type dashboardQuery struct{ where, flux string }

func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "grafana", "shadowscale.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ RefID, Query string }
		}
		Templating struct {
			List []struct{ Name, Query, Type string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("shadowscale.json: %v", err)
	}
	var out []dashboardQuery
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, dashboardQuery{fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Query})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out = append(out, dashboardQuery{"variable " + v.Name, v.Query})
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d queries in the dashboard", len(out))
	}
	return out
}

var (
	reMeas  = regexp.MustCompile(`r\._measurement == "([^"]+)"`)
	reField = regexp.MustCompile(`r\._field == "([^"]+)"`)
	reTag   = regexp.MustCompile(`r\.([a-z][a-z0-9_]*) == "`)
)

// TestGrafanaDashboardSchema: every query names one measurement the
// service writes, and only fields and tags the schema writes for it; every
// range is bounded by the dashboard's time range.
func TestGrafanaDashboardSchema(t *testing.T) {
	for _, q := range dashboardQueries(t) {
		ms := reMeas.FindAllStringSubmatch(q.flux, -1)
		if len(ms) != 1 {
			t.Errorf("%s: %d measurements, want one", q.where, len(ms))
			continue
		}
		schema, ok := metrics.Written[ms[0][1]]
		if !ok {
			t.Errorf("%s: measurement %q is not written by the service", q.where, ms[0][1])
			continue
		}
		for _, f := range reField.FindAllStringSubmatch(q.flux, -1) {
			if !slices.Contains(schema.Fields, f[1]) {
				t.Errorf("%s: field %q is not written to %s (%v)", q.where, f[1], ms[0][1], schema.Fields)
			}
		}
		for _, tg := range reTag.FindAllStringSubmatch(q.flux, -1) {
			if !slices.Contains(schema.Tags, tg[1]) {
				t.Errorf("%s: tag %q is not written to %s (%v)", q.where, tg[1], ms[0][1], schema.Tags)
			}
		}
		if !strings.Contains(q.flux, "range(start: v.timeRangeStart, stop: v.timeRangeStop)") && !strings.HasPrefix(q.where, "variable") {
			t.Errorf("%s: range not bounded by the dashboard's time range", q.where)
		}
	}
}

// TestGrafanaDashboard runs every query of the dashboard against a real
// InfluxDB holding a short serve run's data (serve writing to InfluxDB,
// dry-run, traffic through a real HAProxy); each must answer rows.
func TestGrafanaDashboard(t *testing.T) {
	srv := influxtest.Start(t)
	const db = "shadowscale"
	if err := srv.CreateDatabase(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{service: "dry_run = true", eventIn: -time.Minute, eventFor: time.Hour,
		metrics: "store = influxdb\nscrape_interval = 1s",
		extra:   fmt.Sprintf("\n[influxdb]\nurl = %s\ndatabase = %s\ntimeout = 5s\n", srv.URL, db)})
	l := startLoad(t, e)
	from := time.Now().Add(-2 * time.Minute)
	e.startServe()
	at := newAPITester(t, e.apiBase())
	e.waitTicks(at, 8)
	l.stop()
	if code := e.proc.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	writeForecastErrors(t, srv.URL, db, from)
	client := influxdb2.NewClient(srv.URL, "")
	defer client.Close()
	qapi := client.QueryAPI("")
	to := time.Now().Add(time.Minute)
	for _, q := range dashboardQueries(t) {
		flux := strings.NewReplacer("${bucket}", db, "${lb}", lbName, "v.timeRangeStart", from.UTC().Format(time.RFC3339),
			"v.timeRangeStop", to.UTC().Format(time.RFC3339), "v.windowPeriod", "2s").Replace(q.flux)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := qapi.Query(ctx, flux)
		rows := 0
		if err == nil {
			for res.Next() {
				rows++
			}
			err = res.Err()
		}
		cancel()
		if err != nil || rows == 0 {
			t.Errorf("%s: %d rows, err %v\n%s", q.where, rows, err, flux)
		}
	}
}

// writeForecastErrors stands in for the feedback loop, which writes
// forecast_error; the rest comes from serve itself.
func writeForecastErrors(t *testing.T, url, db string, from time.Time) {
	t.Helper()
	st, err := influx.New(influx.Config{URL: url, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	var recs []metrics.Record
	for i := range 10 {
		recs = append(recs, metrics.Record{Measurement: metrics.MeasForecastError,
			Tags:   map[string]string{metrics.TagLB: lbName, metrics.TagModel: "seasonal-naive", metrics.TagHorizon: "60"},
			Fields: map[string]float64{metrics.FieldAbsError: float64(i), metrics.FieldPinball: float64(i) / 2, metrics.FieldCovered: float64(i % 2)},
			Time:   from.Add(time.Duration(i) * 5 * time.Second)})
	}
	if err := st.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
