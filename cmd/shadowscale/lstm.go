package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/models"
)

// errNoDefaultModel means the shipped model or the ONNX Runtime library is
// not where a default run looks; callers then go on with the baselines.
var errNoDefaultModel = errors.New("default LSTM model unavailable")

// defaultModelPath finds the shipped model in the repository, or "".
func defaultModelPath() string {
	onnx := repoFile(filepath.Join("models", models.Default, "model.onnx"))
	if onnx == "" {
		return ""
	}
	return filepath.Dir(onnx)
}

// repoFile finds rel in the repository: under the working directory (the
// repository root), else beside the binary's folder (bin/shadowscale → ..);
// it returns an absolute path, or "" when neither has it.
func repoFile(rel string) string {
	candidates := []string{rel}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", rel))
	}
	for _, c := range candidates {
		if modelFileExists(c) {
			if abs, err := filepath.Abs(c); err == nil {
				return abs
			}
			return c
		}
	}
	return ""
}

// openLSTM loads the LSTM at path ("" = the shipped default: from the
// repository when it is there, else the copy built into the binary). Series
// too short for its window go to fallback, and the forecast says so. With
// no path given, a missing ONNX Runtime library is errNoDefaultModel.
func openLSTM(path string, fallback inference.Forecaster) (*onnx.Model, error) {
	explicit := path != ""
	if !explicit {
		path = defaultModelPath()
	}
	lib := modelORTLib()
	if lib == "" {
		err := errors.New("ONNX Runtime library not found: set ONNXRUNTIME_LIB or run `make setup` (it unpacks the library from the npm package onnxruntime-node)")
		if !explicit {
			err = fmt.Errorf("%w: %w", errNoDefaultModel, err)
		}
		return nil, err
	}
	opts := onnx.Options{Threads: 1, Fallback: fallback}
	if path == "" {
		m, err := onnx.NewFromData(lib, "built-in "+models.Default, models.DefaultONNX, models.DefaultCard, opts)
		if err != nil {
			return nil, fmt.Errorf("built-in model %s: %w", models.Default, err)
		}
		return m, nil
	}
	m, err := onnx.New(lib, path, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// warnNoModel tells a default run that it goes on without the LSTM.
func warnNoModel(err error) {
	slog.Warn("going on without the LSTM", "reason", err.Error())
}
