package api

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/scheduler"
)

func openStore(t *testing.T) metrics.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStoreAccuracy: forecast_error records (as the feedback loop writes
// them) are averaged per LB, model and horizon.
func TestStoreAccuracy(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now().Truncate(time.Second)
	rec := func(model, h string, i int, abs, covered float64) metrics.Record {
		return metrics.Record{Measurement: metrics.MeasForecastError,
			Tags:   map[string]string{metrics.TagLB: "web", metrics.TagModel: model, metrics.TagHorizon: h},
			Fields: map[string]float64{metrics.FieldAbsError: abs, metrics.FieldPinball: abs / 10, metrics.FieldCovered: covered},
			Time:   now.Add(-time.Duration(i) * time.Minute)}
	}
	if err := st.Write(ctx, rec("lstm-1", "60", 1, 2, 1), rec("lstm-1", "60", 2, 4, 0), rec("naive", "60", 1, 9, 1),
		rec("lstm-1", "60", 90, 100, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := StoreAccuracy{Src: st}.Accuracy(ctx, "web", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []ModelAccuracy{{LB: "web", Model: "lstm-1", Horizon: "60", N: 2, MAE: 3, Pinball: 0.3, Coverage: 0.5},
		{LB: "web", Model: "naive", Horizon: "60", N: 1, MAE: 9, Pinball: 0.9, Coverage: 1}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		g := got[i]
		if g.LB != want[i].LB || g.Model != want[i].Model || g.N != want[i].N || math.Abs(g.MAE-want[i].MAE) > 1e-9 ||
			math.Abs(g.Pinball-want[i].Pinball) > 1e-9 || g.Coverage != want[i].Coverage {
			t.Errorf("%d: got %+v, want %+v", i, g, want[i])
		}
	}
}

type fixedSched struct {
	st  scheduler.Status
	fcs map[string]inference.Forecast
}

func (f *fixedSched) Status() scheduler.Status { return f.st }
func (f *fixedSched) Forecasts() (map[string]inference.Forecast, time.Time) {
	return f.fcs, f.st.At
}

// TestRecorderWritesEachTickOnce: one action and one forecast record per LB
// per tick, in the schema metrics.Written lists; a tick is never written
// twice.
func TestRecorderWritesEachTickOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	obs := 150.0
	plan := scheduler.Plan{LB: "web", Needed: 3, Current: 2, Pool: 2, Decision: "provision 2: wait for health",
		Reason: scheduler.Reason{Capacity: 100, Observed: &obs}}
	sch := &fixedSched{
		st: scheduler.Status{At: at, Ticks: 1, LBs: []scheduler.LBStatus{{LB: "web", Phase: scheduler.Ready, Share: 2, Plan: plan}}},
		fcs: map[string]inference.Forecast{"web": {Start: at.Add(time.Minute), Step: time.Minute, Model: "naive",
			P10: []float64{100}, P50: []float64{150}, P90: []float64{200}}},
	}
	var counted []string
	r := &Recorder{Sched: sch, Sink: st, OnDecision: func(lb, d string) { counted = append(counted, lb+" "+actionKind(d)) }}
	for range 3 {
		if err := r.RecordOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := st.Records(ctx, metrics.Selector{Measurement: metrics.MeasAction}, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Fields[metrics.FieldCapacity] != 400 || recs[0].Text[metrics.TextPhase] != "Ready" ||
		recs[0].Tags[metrics.TagKind] != metrics.KindDecision {
		t.Fatalf("action records %+v", recs)
	}
	fr, err := st.Records(ctx, metrics.Selector{Measurement: metrics.MeasForecast}, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 1 || fr[0].Fields[metrics.FieldP90] != 200 || fr[0].Tags[metrics.TagModel] != "naive" || !fr[0].Time.Equal(at.Add(time.Minute)) {
		t.Fatalf("forecast records %+v", fr)
	}
	for _, rec := range append(recs, fr...) {
		w := metrics.Written[rec.Measurement]
		for k := range rec.Tags {
			if !slices.Contains(w.Tags, k) {
				t.Errorf("%s writes tag %s the schema does not list", rec.Measurement, k)
			}
		}
		for k := range rec.Fields {
			if !slices.Contains(w.Fields, k) {
				t.Errorf("%s writes field %s the schema does not list", rec.Measurement, k)
			}
		}
		for k := range rec.Text {
			if !slices.Contains(w.Fields, k) {
				t.Errorf("%s writes text field %s the schema does not list", rec.Measurement, k)
			}
		}
	}
	if len(counted) != 1 || counted[0] != "web provision" {
		t.Errorf("decisions counted %v", counted)
	}
}
