// Package models is the registry of shipped forecasting models: each lives
// in models/<name>-<version>/ as model.onnx plus its card model.json (and
// the parity test vectors testvectors.json written by training).
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
)

// Default is the directory name of the default model under the registry root.
const Default = "lstm-2"

// Entry is one model directory and its card.
type Entry struct {
	Dir  string         `json:"dir"`
	Card onnx.ModelCard `json:"card"`
}

// List reads the card of every model directory under root, sorted by
// directory name. A directory without model.json is not a model; a broken
// card is an error naming the directory.
func List(root string) ([]Entry, error) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []Entry
	for _, d := range dirs {
		card := filepath.Join(root, d.Name(), "model.json")
		if !d.IsDir() {
			continue
		}
		if _, err := os.Stat(card); errors.Is(err, os.ErrNotExist) {
			continue
		}
		c, _, err := onnx.ReadCardFile(card)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		out = append(out, Entry{Dir: filepath.Join(root, d.Name()), Card: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// Show reads a model's card (path is a model directory or its .onnx file)
// without loading the model.
func Show(path string) (Entry, error) {
	_, card, err := onnx.ModelFiles(path)
	if err != nil {
		return Entry{}, err
	}
	c, _, err := onnx.ReadCardFile(card)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Dir: filepath.Dir(card), Card: c}, nil
}

// Report is what Validate checked.
type Report struct {
	Entry
	ParityVectors int     `json:"parity_vectors"`
	MaxDiff       float64 `json:"max_scaled_diff"` // max |Go - PyTorch| / window scale
}

// ParityTolerance bounds the ONNX Runtime vs PyTorch difference, in units
// of each vector's window scale.
const ParityTolerance = 1e-4

// Validate loads the model through ONNX Runtime (lib is the shared
// library), which checks its metadata against this build, and replays the
// PyTorch test vectors beside it, when present, within ParityTolerance.
func Validate(ctx context.Context, lib, path string) (Report, error) {
	m, err := onnx.New(lib, path, onnx.Options{})
	if err != nil {
		return Report{}, err
	}
	defer m.Close()
	onnxPath, _, _ := onnx.ModelFiles(path)
	rep := Report{Entry: Entry{Dir: filepath.Dir(onnxPath), Card: m.Card()}}
	tv, err := readVectors(filepath.Join(rep.Dir, "testvectors.json"))
	if errors.Is(err, os.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	fcs, err := m.Forecast(ctx, tv.series(), m.Card().HorizonSteps)
	if err != nil {
		return rep, fmt.Errorf("validate %s: forecast test vectors: %w", path, err)
	}
	rep.ParityVectors = len(fcs)
	for i, f := range fcs {
		v := tv.Vectors[i]
		for h, want := range v.Forecast {
			for q, got := range [3]float64{f.P10[h], f.P50[h], f.P90[h]} {
				rep.MaxDiff = math.Max(rep.MaxDiff, math.Abs(got-want[q])/v.Scale)
			}
		}
	}
	if rep.MaxDiff > ParityTolerance {
		return rep, fmt.Errorf("validate %s: ONNX Runtime differs from PyTorch by %.3g window scales (> %g)",
			path, rep.MaxDiff, ParityTolerance)
	}
	return rep, nil
}

// vectors is testvectors.json.
type vectors struct {
	Vectors []struct {
		ID          string      `json:"id"`
		Start       int64       `json:"start"`
		StepSeconds int64       `json:"step_seconds"`
		Values      []*float64  `json:"values"`
		Scale       float64     `json:"scale"`
		Forecast    [][]float64 `json:"forecast"`
	} `json:"vectors"`
}

func readVectors(path string) (vectors, error) {
	var tv vectors
	b, err := os.ReadFile(path)
	if err != nil {
		return tv, err
	}
	if err := json.Unmarshal(b, &tv); err != nil {
		return tv, fmt.Errorf("parse %s: %w", path, err)
	}
	return tv, nil
}

func (tv vectors) series() []inference.Series {
	out := make([]inference.Series, len(tv.Vectors))
	for i, v := range tv.Vectors {
		s := inference.Series{ID: v.ID, Start: time.Unix(v.Start, 0).UTC(), Step: time.Duration(v.StepSeconds) * time.Second}
		for _, x := range v.Values {
			if x == nil {
				s.Values = append(s.Values, math.NaN())
			} else {
				s.Values = append(s.Values, *x)
			}
		}
		out[i] = s
	}
	return out
}
