package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/models"
)

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "no subcommand"},
		{"unknown subcommand", []string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{"unknown flag", []string{"eval", "--trace", "x.csv", "--bogus"}, "flag provided but not defined: -bogus"},
		{"missing trace flag", []string{"eval"}, "--trace is required"},
		{"missing file", []string{"eval", "--trace", "testdata/none.csv"}, "testdata/none.csv: no such file"},
		{"bad header", []string{"forecast", "--trace", "testdata/bad_header.csv"}, "testdata/bad_header.csv:1: header must be"},
		{"malformed row", []string{"eval", "--trace", "testdata/bad_row.csv"}, `testdata/bad_row.csv:3: value "oops" is not a number`},
		{"no rows", []string{"forecast", "--trace", "testdata/header_only.csv"}, "testdata/header_only.csv: trace has no data rows"},
		{"too short", []string{"eval", "--trace", "testdata/short.csv"}, "too short for a 6-step horizon"},
		{"bad horizon", []string{"forecast", "--trace", "testdata/short.csv", "--horizon", "-5m"}, "--horizon must be positive"},
		{"bad at", []string{"forecast", "--trace", "testdata/short.csv", "--at", "noon"}, `--at "noon": not RFC3339`},
		{"at outside", []string{"forecast", "--trace", "testdata/short.csv", "--at", "2030-01-01T00:00:00Z"}, "outside the trace"},
		{"unknown baseline", []string{"forecast", "--trace", "testdata/short.csv", "--baseline", "arima"}, `unknown baseline "arima"`},
		{"stray argument", []string{"eval", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestForecastJSON(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"forecast", "--trace", "testdata/daily_cycle.csv", "--baseline", "seasonal-naive",
		"--at", "2024-01-04T00:00:00Z", "--horizon", "15m", "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var doc forecastDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.StepSeconds != 300 || doc.Model != "seasonal-naive" || len(doc.Points) != 3 ||
		doc.Points[0].T != "2024-01-04T00:00:00Z" || doc.Points[2].T != "2024-01-04T00:10:00Z" {
		t.Fatalf("unexpected document %+v", doc)
	}
}

// TestEvalJSONGolden scores the three baselines and the shipped LSTM.
func TestEvalJSONGolden(t *testing.T) {
	t.Setenv("ONNXRUNTIME_LIB", testenv.ONNXRuntime(t))
	var out bytes.Buffer
	args := []string{"eval", "--trace", "testdata/daily_cycle.csv", "--model", shippedModel, "--json"}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	results := doc["results"].([]any)
	for _, r := range results {
		m := r.(map[string]any)
		m["seconds"] = 0.0 // timings vary; the scores do not
		for k, v := range m {
			if f, ok := v.(float64); ok { // 6 digits: SIMD paths may differ in the last bits
				m[k], _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
			}
		}
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	golden := filepath.Join("testdata", "eval_daily_cycle.golden.json")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
		t.Errorf("eval output differs from %s (UPDATE_GOLDEN=1 rewrites it):\n%s", golden, got)
	}
}

// shippedModel is the default model, seen from this package's directory.
var shippedModel = filepath.Join("..", "..", "models", models.Default)

func TestForecastLSTM(t *testing.T) {
	t.Setenv("ONNXRUNTIME_LIB", testenv.ONNXRuntime(t))
	var out bytes.Buffer
	err := run(context.Background(), []string{"forecast", "--trace", "testdata/daily_cycle.csv", "--model", shippedModel, "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var doc forecastDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Model != models.Default || doc.Fallback != "" || len(doc.Points) != 6 {
		t.Fatalf("model %q fallback %q with %d points, want %s, none and 6", doc.Model, doc.Fallback, len(doc.Points), models.Default)
	}
	for _, p := range doc.Points {
		if !(0 <= p.P10 && p.P10 <= p.P50 && p.P50 <= p.P90) {
			t.Fatalf("point %+v crosses", p)
		}
	}
}

func TestModelErrors(t *testing.T) {
	t.Setenv("ONNXRUNTIME_LIB", testenv.ONNXRuntime(t))
	err := run(context.Background(), []string{"eval", "--trace", "testdata/daily_cycle.csv", "--model", "testdata/bad_row.csv"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "testdata/bad_row.csv") {
		t.Errorf("bad model file: %v", err)
	}
	t.Setenv("ONNXRUNTIME_LIB", "")
	err = run(context.Background(), []string{"forecast", "--trace", "testdata/daily_cycle.csv", "--model", shippedModel}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "ONNX Runtime library not found") {
		t.Errorf("explicit model without the library: %v", err)
	}
}

// TestBinaryExitStatus runs the real binary: bad input exits non-zero with
// exactly one line on stderr and nothing on stdout.
func TestBinaryExitStatus(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "shadowscale")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "eval", "--json", "--trace", "testdata/bad_row.csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit %v, want non-zero", err)
	}
	if stdout.Len() != 0 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 ||
		!strings.Contains(stderr.String(), "bad_row.csv:3") {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// The binary carries its default model: run from a directory with no
// models/ (and no repository beside it), it still forecasts with the default model.
func TestBuiltInModelFromAnyDirectory(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "shadowscale")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	trace, _ := filepath.Abs(filepath.Join("testdata", "daily_cycle.csv"))
	cmd := exec.Command(bin, "forecast", "--trace", trace, "--forecaster", "lstm", "--json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+lib)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("forecast from %s: %v", dir, err)
	}
	var doc forecastDoc
	if err := json.Unmarshal(out, &doc); err != nil || doc.Model != models.Default {
		t.Fatalf("model %q (%v), want the built-in %s", doc.Model, err, models.Default)
	}
}
