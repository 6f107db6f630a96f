package onnx

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"

	"github.com/shadowscale/shadowscale/inference"
)

// shippedModel is the default model committed under models/.
func shippedModel(t testing.TB) string {
	t.Helper()
	p := filepath.Join(testenv.RepoRoot(), "models", "lstm-2")
	if _, err := os.Stat(filepath.Join(p, "model.onnx")); err != nil {
		t.Fatalf("shipped model missing: %v (run `make train`)", err)
	}
	return p
}

func openModel(t testing.TB, dir string, opts Options) *Model {
	t.Helper()
	m, err := New(testenv.ONNXRuntime(t), dir, opts)
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// testVectors is testvectors.json, written by training/export.py from
// PyTorch's outputs.
type testVectors struct {
	Window       int `json:"window"`
	HorizonSteps int `json:"horizon_steps"`
	Vectors      []struct {
		ID          string      `json:"id"`
		Start       int64       `json:"start"`
		StepSeconds int64       `json:"step_seconds"`
		Values      []*float64  `json:"values"`
		Loc         float64     `json:"loc"`
		Scale       float64     `json:"scale"`
		Y           [][]float64 `json:"y"`
		Forecast    [][]float64 `json:"forecast"`
	} `json:"vectors"`
}

// checkParity runs the model directory's PyTorch test vectors through ONNX
// Runtime (features built in Go) and requires agreement within 1e-4.
func checkParity(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "testvectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tv testVectors
	if err := json.Unmarshal(b, &tv); err != nil {
		t.Fatalf("parse test vectors: %v", err)
	}
	if len(tv.Vectors) == 0 {
		t.Fatal("no test vectors")
	}
	m := openModel(t, dir, Options{})
	series := make([]inference.Series, len(tv.Vectors))
	for i, v := range tv.Vectors {
		series[i] = inference.Series{ID: v.ID, Start: time.Unix(v.Start, 0).UTC(), Step: time.Duration(v.StepSeconds) * time.Second}
		for _, x := range v.Values {
			series[i].Values = append(series[i].Values, nullable(x))
		}
	}
	raw, scales := rawOutputs(t, m, series)
	got, err := m.Forecast(context.Background(), series, m.card.HorizonSteps)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range tv.Vectors {
		if !closeRel(scales[i].loc, v.Loc, 1e-9) || !closeRel(scales[i].scale, v.Scale, 1e-9) {
			t.Errorf("%s: scaling %v/%v, PyTorch side %v/%v", v.ID, scales[i].loc, scales[i].scale, v.Loc, v.Scale)
		}
		for h, row := range v.Y {
			for q, want := range row {
				if d := math.Abs(float64(raw[i][3*h+q]) - want); d > 1e-4 {
					t.Errorf("%s step %d q%d: ONNX %v, PyTorch %v (|d| %.2g > 1e-4)", v.ID, h, q, raw[i][3*h+q], want, d)
				}
			}
			fc := [3]float64{got[i].P10[h], got[i].P50[h], got[i].P90[h]}
			for q := range fc {
				if d := math.Abs(fc[q] - v.Forecast[h][q]); d > 1e-4*v.Scale+1e-9 {
					t.Errorf("%s step %d q%d: forecast %v, PyTorch %v", v.ID, h, q, fc[q], v.Forecast[h][q])
				}
			}
		}
	}
}

// rawOutputs runs the model and returns its z-space outputs per series.
func rawOutputs(t *testing.T, m *Model, series []inference.Series) ([][]float32, []windowScale) {
	t.Helper()
	w, err := m.workspace()
	if err != nil {
		t.Fatal(err)
	}
	defer m.release(w)
	tn, err := w.tensors(len(series))
	if err != nil {
		t.Fatal(err)
	}
	W, H := m.card.Window, m.card.HorizonSteps
	ne, nh, ny := W*len(EncoderFeatures), H*len(HorizonFeatures), H*len(inference.Quantiles)
	scales := make([]windowScale, len(series))
	for k, s := range series {
		step, _ := stepSeconds(s)
		scales[k] = buildFeatures(s, step, W, H, w.enc[k*ne:(k+1)*ne], w.dec[k*nh:(k+1)*nh])
	}
	if err := m.session.Run(valuesOf(tn.x, tn.xh), valuesOf(tn.y)); err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(series))
	for k := range series {
		out[k] = append([]float32(nil), tn.y.GetData()[k*ny:(k+1)*ny]...)
	}
	return out, scales
}

// Every shipped version (the default and the ones kept for comparison or
// rollback) must agree with PyTorch.
func TestShippedModelParity(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "models", "lstm-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no shipped models: %v", err)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) { checkParity(t, d) })
	}
}

func TestShippedModelCard(t *testing.T) {
	m := openModel(t, shippedModel(t), Options{})
	c := m.Card()
	if c.HorizonSteps < 30 {
		t.Errorf("horizon_steps %d: the 30-minute horizon at 1-minute data needs >= 30", c.HorizonSteps)
	}
	if m.Name() != "lstm" {
		t.Errorf("name %q, want lstm", m.Name())
	}
}

// synthetic is a daily-seasonal 5-minute series of n points.
func synthetic(id string, n int, level float64) inference.Series {
	s := inference.Series{ID: id, Start: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), Step: 5 * time.Minute}
	for i := 0; i < n; i++ {
		s.Values = append(s.Values, level*(1.5+math.Sin(2*math.Pi*float64(i)/288)+0.1*math.Sin(float64(i))))
	}
	return s
}

func TestForecastContract(t *testing.T) {
	m := openModel(t, shippedModel(t), Options{MaxBatch: 3, Fallback: inference.Naive{}})
	series := []inference.Series{synthetic("a", 3000, 10), synthetic("b", 500, 1e6), synthetic("short", 5, 3), synthetic("c", 70, 0.5)}
	series[1].Values[450] = math.NaN()
	got, err := m.Forecast(context.Background(), series, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range got {
		if f.ID != series[i].ID || len(f.P50) != 6 || !f.Start.Equal(series[i].End()) {
			t.Fatalf("forecast %d: id %q len %d start %v", i, f.ID, len(f.P50), f.Start)
		}
		for h := range f.P50 {
			if !(0 <= f.P10[h] && f.P10[h] <= f.P50[h] && f.P50[h] <= f.P90[h]) {
				t.Errorf("%s step %d: quantiles %v %v %v not ordered and non-negative", f.ID, h, f.P10[h], f.P50[h], f.P90[h])
			}
		}
		short := series[i].ID == "short"
		if short != (f.Fallback != "") || (short && f.Model != "naive") || (!short && f.Model != m.Card().Label()) {
			t.Errorf("%s: model %q fallback %q", f.ID, f.Model, f.Fallback)
		}
	}
	// Batching must not change results: MaxBatch 3 vs one Run.
	one := openModel(t, shippedModel(t), Options{Fallback: inference.Naive{}})
	again, err := one.Forecast(context.Background(), series, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		for h := range got[i].P50 {
			if math.Abs(got[i].P50[h]-again[i].P50[h]) > 1e-6*math.Max(1, got[i].P50[h]) {
				t.Errorf("%s step %d: batch 3 gave %v, batch 256 %v", got[i].ID, h, got[i].P50[h], again[i].P50[h])
			}
		}
	}
}

func TestForecastErrors(t *testing.T) {
	m := openModel(t, shippedModel(t), Options{})
	ctx := context.Background()
	ok := synthetic("ok", 400, 1)
	for _, tc := range []struct {
		name    string
		series  []inference.Series
		horizon int
		is      error
	}{
		{"horizon zero", []inference.Series{ok}, 0, nil},
		{"horizon beyond model without fallback", []inference.Series{ok}, m.card.HorizonSteps + 1, nil},
		{"fractional step", []inference.Series{{ID: "f", Step: 1500 * time.Millisecond, Values: ok.Values}}, 6, nil},
		{"too short without fallback", []inference.Series{synthetic("s", 3, 1)}, 6, inference.ErrTooShort},
	} {
		_, err := m.Forecast(ctx, tc.series, tc.horizon)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Forecast(cancelled, []inference.Series{ok}, 6); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v", err)
	}
}

func TestForecastConcurrent(t *testing.T) {
	m := openModel(t, shippedModel(t), Options{MaxBatch: 4})
	series := []inference.Series{synthetic("a", 600, 5), synthetic("b", 900, 50), synthetic("c", 300, 500)}
	want, err := m.Forecast(context.Background(), series, 6)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.Forecast(context.Background(), series[g%3:], 6)
			if err != nil {
				errs <- err
				return
			}
			for i, f := range got {
				if f.P50[5] != want[g%3+i].P50[5] {
					errs <- errors.New("concurrent forecast differs from sequential")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A horizon beyond the model's head is served: the head by the model, the
// rest by the fallback, and the forecast says where each part came from.
func TestForecastBeyondHead(t *testing.T) {
	fb := inference.NewHoltWinters(0)
	m := openModel(t, shippedModel(t), Options{Fallback: fb})
	ctx := context.Background()
	s := synthetic("long", 3000, 5)
	H := m.card.HorizonSteps
	got, err := m.Forecast(ctx, []inference.Series{s}, 2*H)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := m.Forecast(ctx, []inference.Series{s}, H)
	tail, _ := fb.Forecast(ctx, []inference.Series{s}, 2*H)
	f := got[0]
	if len(f.P50) != 2*H || f.P50[0] != head[0].P50[0] || f.P50[2*H-1] != tail[0].P50[2*H-1] {
		t.Fatalf("%d steps, first %v (model %v), last %v (fallback %v)", len(f.P50), f.P50[0], head[0].P50[0], f.P50[2*H-1], tail[0].P50[2*H-1])
	}
	if f.Model != m.card.Label()+"+holt-winters" || !strings.Contains(f.Reason, "beyond its head") || f.Fallback != "" {
		t.Errorf("model %q reason %q fallback %q", f.Model, f.Reason, f.Fallback)
	}
}
