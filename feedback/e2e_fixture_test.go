package feedback

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics"
)

// e2eStart is where the live part begins; three days of history precede it.
var e2eStart = time.Date(2026, 5, 7, 6, 0, 0, 0, time.UTC)

// prodDemand is production traffic: a daily cycle, a two-hour morning
// bump and fast ripples, at a 1-minute step.
func prodDemand(at time.Time) float64 {
	i := at.Unix() / 60
	tod := float64(i%1440) / 1440
	v := 100 + 60*math.Sin(2*math.Pi*tod) + 5*math.Sin(float64(i)*0.7)
	if h := (i % 1440) / 60; h == 9 || h == 10 {
		v += 40
	}
	return v
}

// tinyArgs make training runs of a few seconds.
var tinyArgs = []string{"--window", "16", "--hidden", "8", "--mlp", "8", "--coarsen", ""}

// fineTuneArgs train hard enough in seconds to beat the untrained champion.
var fineTuneArgs = []string{"--epochs", "8", "--samples", "1024", "--lr", "1e-2", "--coarsen", ""}

type e2e struct {
	t         *testing.T
	lib, py   string
	script    string
	dir       string
	modelsDir string
	store     metrics.Store
	naive     inference.Forecaster
}

func newE2E(t *testing.T) *e2e {
	e := &e2e{t: t, lib: testenv.ONNXRuntime(t), py: testenv.Python(t),
		script: filepath.Join(testenv.RepoRoot(), "training", "train.py"), dir: t.TempDir(), naive: inference.Naive{}}
	e.modelsDir = filepath.Join(e.dir, "models")
	e.store, _ = storeKinds()[0].open(t)
	var recs []metrics.Record
	for at := e2eStart.Add(-72 * time.Hour); at.Before(e2eStart); at = at.Add(time.Minute) {
		recs = append(recs, demandRecord("web", at, prodDemand(at)))
	}
	if err := e.store.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	return e
}

func demandRecord(lb string, at time.Time, v float64) metrics.Record {
	return metrics.Record{Measurement: metrics.MeasHAProxy, Time: at.Add(30 * time.Second),
		Tags:   map[string]string{metrics.TagLB: lb, metrics.TagBackend: lb, metrics.TagServer: metrics.ServerBackend},
		Fields: map[string]float64{metrics.FieldReqRate: v}}
}

// trainChampion trains a deliberately weak champion (one epoch at a tiny
// learning rate, its p10/p90 not calibrated: close to untrained) on the
// history.
func (e *e2e) trainChampion() string {
	e.t.Helper()
	csv := filepath.Join(e.dir, "history.csv")
	f, err := os.Create(csv)
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintln(f, "timestamp,value")
	for at := e2eStart.Add(-72 * time.Hour); at.Before(e2eStart); at = at.Add(time.Minute) {
		fmt.Fprintf(f, "%d,%.3f\n", at.Unix(), prodDemand(at))
	}
	f.Close()
	out := filepath.Join(e.modelsDir, "lstm-0")
	args := append([]string{e.script, "--traces", csv, "--out", out, "--name", "lstm", "--version", "0", "--quiet",
		"--epochs", "1", "--samples", "16", "--lr", "1e-6", "--calibrate", "0"}, tinyArgs...)
	if b, err := exec.Command(e.py, args...).CombinedOutput(); err != nil {
		e.t.Fatalf("train the champion: %v\n%s", err, b)
	}
	return out
}

// championModels trains the weak champion and serves it from a new
// registry; the models are closed when the test ends.
func (e *e2e) championModels() (string, Registry, *Models) {
	e.t.Helper()
	champDir := e.trainChampion()
	champ, err := e.loader(champDir)
	if err != nil {
		e.t.Fatal(err)
	}
	reg := Registry{Path: filepath.Join(e.dir, "models.json")}
	ms, err := NewModels(reg, e.loader, champ, champDir, e.naive, e2eStart, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ms.Close() })
	return champDir, reg, ms
}

func (e *e2e) loader(dir string) (inference.Forecaster, error) {
	return onnx.New(e.lib, dir, onnx.Options{Threads: 1, Fallback: e.naive})
}

func (e *e2e) retrainer() *Retrainer {
	return &Retrainer{Source: e.store, Python: e.py, Script: e.script, ModelsDir: e.modelsDir,
		History: 72 * time.Hour, Step: time.Minute, Timeout: 5 * time.Minute, CPU: 5 * time.Minute, Args: fineTuneArgs}
}

// tick runs one minute of the service: the minute that just ended is
// scraped, the champion forecasts 30 steps from 26 hours of history, the
// loop adjusts it and records the tick.
func (e *e2e) tick(loop *Loop, models *Models, now time.Time) {
	e.t.Helper()
	ctx := context.Background()
	prev := now.Add(-time.Minute)
	if err := e.store.Write(ctx, demandRecord("web", prev, prodDemand(prev))); err != nil {
		e.t.Fatal(err)
	}
	sel, field := metrics.Demand("web")
	h, err := e.store.History(ctx, metrics.Query{Select: sel, Field: field, From: now.Add(-26 * time.Hour), To: now, Step: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	s := inference.Series{ID: "web", Start: h.Start, Step: h.Step, Values: h.Values}
	fc, err := models.Champion.Forecast(ctx, []inference.Series{s}, 30)
	if err != nil {
		e.t.Fatal(err)
	}
	raw := fc[0]
	used, notes := loop.Adjust("web", raw)
	tr := tick("web", now, &raw)
	tr.Series, tr.Used, tr.Forecaster, tr.Plan.Reason.Notes = s, &used, models.Champion.Name(), notes
	loop.RecordTick(ctx, now, []schedTick{tr})
}

// waitRetrain waits for a running retraining to end.
func waitRetrain(t *testing.T, loop *Loop) RetrainStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for loop.RetrainStatus().Running {
		if time.Now().After(deadline) {
			t.Fatal("retraining still running after 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return loop.RetrainStatus()
}
