package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/models"
)

func forecastConfig(forecaster, model, lib string) config.Forecast {
	return config.Forecast{Forecaster: forecaster, Model: model, ONNXRuntimeLib: lib, Fallback: "holt-winters",
		Horizon: 30 * time.Minute, Quantile: "p90", MaxFailures: 3, History: 8 * 24 * time.Hour,
		AutoWindow: 200, AutoMinOrigins: 8, Refit: 24 * time.Hour}
}

// serve's forecaster is what [forecast] forecaster names; auto mixes in the
// model when one is configured.
func TestLoadModelChoosesForecaster(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	fallback := inference.Naive{}
	for _, c := range []struct{ forecaster, model, want string }{
		{"auto", "", "auto"},
		{"auto", shippedModel, "auto(" + models.Default + ", classical)"},
		{"lstm", shippedModel, models.Default},
		{"lstm", "builtin", models.Default},
		{"seasonal-naive", shippedModel, "seasonal-naive"},
	} {
		fc, name, err := loadModel(forecastConfig(c.forecaster, c.model, lib), fallback)
		if err != nil {
			t.Fatalf("%s/%q: %v", c.forecaster, c.model, err)
		}
		if name != c.want {
			t.Errorf("%s with model %q: %q, want %q", c.forecaster, c.model, name, c.want)
		}
		if cl, ok := fc.(interface{ Close() error }); ok {
			cl.Close()
		}
	}
}

// A model whose card does not match its ONNX metadata stops serve at
// start-up with an error naming the key: a misconfiguration is not papered
// over by the fallback (which serves only runtime failures).
func TestLoadModelRefusesMismatchedMetadata(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	dir := t.TempDir()
	onnxBytes, err := os.ReadFile(filepath.Join(shippedModel, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	cardBytes, _ := os.ReadFile(filepath.Join(shippedModel, "model.json"))
	if err := json.Unmarshal(cardBytes, &card); err != nil {
		t.Fatal(err)
	}
	card["window"] = card["window"].(float64) + 1
	cardBytes, _ = json.Marshal(card)
	os.WriteFile(filepath.Join(dir, "model.onnx"), onnxBytes, 0o600)
	os.WriteFile(filepath.Join(dir, "model.json"), cardBytes, 0o600)
	for _, f := range []string{"auto", "lstm"} {
		_, _, err := loadModel(forecastConfig(f, dir, lib), inference.Naive{})
		if err == nil || !strings.Contains(err.Error(), "[forecast] model "+dir) {
			t.Errorf("forecaster %s with a mismatched card: %v, want a start-up error naming [forecast] model", f, err)
		}
	}
}

// With a 10 s tick the default 30 m horizon is 180 steps, beyond the
// LSTM's 30-step head: serve's forecaster still serves it, the head from
// the LSTM and the rest from Holt-Winters, and says so.
func TestServeForecasterLongHorizon(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	for _, f := range []string{"lstm", "auto"} {
		fc, _, err := loadModel(forecastConfig(f, "builtin", lib), inference.NewHoltWinters(0))
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, 6*360) // six hours at 10 s
		for i := range v {
			v[i] = 50 + 20*math.Sin(float64(i)/200)
		}
		s := inference.Series{ID: "web", Start: time.Unix(1_700_000_000, 0).UTC(), Step: 10 * time.Second, Values: v}
		out, err := fc.Forecast(context.Background(), []inference.Series{s}, 180)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := models.Default + "+holt-winters" // auto picks among candidates that all serve 180 steps
		if f == "auto" {
			want = "auto: "
		}
		if len(out[0].P50) != 180 || !strings.Contains(out[0].Model, want) || out[0].Fallback != "" {
			t.Errorf("%s: %d steps by %q (fallback %q), want 180 by %s", f, len(out[0].P50), out[0].Model, out[0].Fallback, want)
		}
		fc.(interface{ Close() error }).Close()
	}
}
