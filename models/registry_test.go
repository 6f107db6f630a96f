package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

func TestListAndShowShippedModels(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "models")
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range list {
		found = found || filepath.Base(e.Dir) == Default
		if want := e.Card.Label(); filepath.Base(e.Dir) != want {
			t.Errorf("%s: directory name should be name-version %q", e.Dir, want)
		}
	}
	if !found {
		t.Fatalf("default model %s not listed in %v", Default, list)
	}
	e, err := Show(filepath.Join(root, Default, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Card.TrainingData) == 0 || e.Card.Metrics == nil {
		t.Errorf("card lacks training data or metrics: %+v", e.Card)
	}
}

func TestValidateShippedModel(t *testing.T) {
	rep, err := Validate(context.Background(), testenv.ONNXRuntime(t), filepath.Join(testenv.RepoRoot(), "models", Default))
	if err != nil {
		t.Fatal(err)
	}
	if rep.ParityVectors == 0 {
		t.Error("no parity vectors replayed")
	}
}

func TestValidateRefuses(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	for _, tc := range []struct{ name, file, want string }{
		{"missing", "", "no such file"},
		{"not onnx", "hello", "not an ONNX model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "model.onnx"), []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Validate(context.Background(), lib, filepath.Join(dir, "model.onnx"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestListRefusesBrokenCard(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "x-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x-1", "model.json"), []byte(`{"name": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(root); err == nil || !strings.Contains(err.Error(), "missing field") {
		t.Fatalf("err %v", err)
	}
}
