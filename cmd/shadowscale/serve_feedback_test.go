package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/models"
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
	stop1 := time.Now()
	// A restart: forecasts made before it are scored after it.
	p = e.startServe()
	e.waitFor("serve to start again", time.Minute, func() bool { return p.find("serving", nil) != nil })
	start2 := time.Now()
	e.waitFor("5 ticks", time.Minute, func() bool { return p.count("decision") >= 6 })
	// Hot swap: promote the shipped model while serve runs, then roll back.
	promoteAndWait(t, e, p, "promote")
	e.waitFor("forecasts by the promoted model", time.Minute, func() bool { return p.count("decision") >= 12 })
	promoteAndWait(t, e, p, "rollback")
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
	// The feedback loop's decisions carry their reason as JSON (the API's
	// recorder writes its own action records beside them).
	var reasoned []metrics.Record
	for _, a := range actions {
		if a.Text[metrics.TextReason] != "" {
			reasoned = append(reasoned, a)
		}
	}
	if len(reasoned) < 15 || !json.Valid([]byte(reasoned[len(reasoned)-1].Text[metrics.TextReason])) {
		t.Fatalf("%d action records with a reason (want one per tick) of %d", len(reasoned), len(actions))
	}
	// serve's default forecaster is auto; with no model it serves the
	// fallback and says so in the model tag ("auto: seasonal-naive").
	if len(forecasts) < 10*30 || !strings.HasSuffix(forecasts[0].Tags[metrics.TagModel], "seasonal-naive") {
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
	if n := scoredAcross(errs, stop1, start2); n == 0 {
		t.Errorf("no forecast made before the restart was scored after it")
	}
	byModel := map[string]int{}
	for _, r := range forecasts {
		byModel[r.Tags[metrics.TagModel]]++
	}
	if byModel[models.Default] == 0 || byModel["seasonal-naive"] == 0 {
		t.Errorf("forecast steps by model %v: want the fallback and the hot-swapped "+models.Default, byModel)
	}
	if scored < 50 {
		t.Errorf("only %d forecast steps scored against actuals", scored)
	}
	if _, err := os.Stat(filepath.Join(e.stateDir, "models.json")); err != nil {
		t.Errorf("champion record: %v", err)
	}
}

// promoteAndWait runs `model promote|rollback` on serve's registry and
// waits for serve to swap its champion.
func promoteAndWait(t *testing.T, e *serveEnv, p *serveProc, action string) {
	t.Helper()
	before := p.count("champion swapped")
	args := []string{"model", action, "--registry", filepath.Join(e.stateDir, "models.json"), "--json"}
	if action == "promote" {
		model, _ := filepath.Abs(shippedModel)
		args = append(args, "--ort-lib", testenv.ONNXRuntime(t), model)
	}
	var out bytes.Buffer
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("model %s: %v", action, err)
	}
	e.waitFor("serve to swap its champion ("+action+")", time.Minute, func() bool { return p.count("champion swapped") > before })
}

// scoredAcross counts steps forecast before stop (origin = target - lead
// + step) and scored, with an actual, after start.
func scoredAcross(errs []metrics.Record, stop, start time.Time) int {
	n := 0
	for _, r := range errs {
		lead, _ := time.ParseDuration(r.Tags[metrics.TagHorizon] + "s")
		step := time.Duration(r.Fields["step_s"] * float64(time.Second))
		origin := r.Time.Add(-lead + step)
		if r.Fields["missing"] != 1 && origin.Before(stop) && r.Time.After(start) {
			n++
		}
	}
	return n
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
