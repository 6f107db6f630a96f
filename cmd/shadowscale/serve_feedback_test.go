package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// serve with the feedback loop on: every tick's forecast and decision are
// in the store, forecasts whose targets passed are scored against the
// demand serve itself scraped, and the champion record exists.
func TestServeFeedbackLoop(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{extra: "\n[feedback]\nsettle = 0s\nmax_lateness = 10s\nretrain = false\n"})
	ld := startLoad(t, e)
	p := e.startServe()
	e.waitFor("20 ticks", 2*time.Minute, func() bool { return p.count("decision") >= 20 })
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	ld.result(t)
	store, err := embedded.Open(filepath.Join(e.stateDir, "metrics.db"), embedded.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	read := func(m string) []metrics.Record {
		recs, err := store.Records(ctx, metrics.Selector{Measurement: m, Tags: map[string]string{metrics.TagLB: lbName}}, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	actions, forecasts, errs := read(metrics.MeasAction), read(metrics.MeasForecast), read(metrics.MeasForecastError)
	t.Logf("%d actions, %d forecast steps, %d scored or missing", len(actions), len(forecasts), len(errs))
	if len(actions) < 15 || !json.Valid([]byte(actions[len(actions)-1].Text[metrics.TextReason])) {
		t.Fatalf("%d action records (want one per tick), last %+v", len(actions), actions[len(actions)-1])
	}
	if len(forecasts) < 10*30 || forecasts[0].Tags[metrics.TagModel] != "seasonal-naive" {
		t.Fatalf("%d forecast step records (want 30 per tick), first %+v", len(forecasts), forecasts[0])
	}
	scored := 0
	for _, r := range errs {
		f := r.Fields
		if f["missing"] == 1 {
			continue
		}
		scored++
		if math.Abs(f[metrics.FieldAbsError]-math.Abs(f["actual"]-f[metrics.FieldP50])) > 1e-9 ||
			f[metrics.FieldCovered] != b2f(f["actual"] >= f[metrics.FieldP10] && f["actual"] <= f[metrics.FieldP90]) {
			t.Fatalf("inconsistent forecast_error %+v", r)
		}
	}
	if scored < 50 {
		t.Errorf("only %d forecast steps scored against actuals", scored)
	}
	if _, err := os.Stat(filepath.Join(e.stateDir, "models.json")); err != nil {
		t.Errorf("champion record: %v", err)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
