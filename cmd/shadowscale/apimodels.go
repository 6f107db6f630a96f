package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/feedback"
)

// registryModels is the API's view of the feedback loop's champion and
// challenger. The registry holds one global model for every LB, so a
// promotion or rollback through any LB applies to all of them; the running
// serve picks the change up within a tick, as with `shadowscale model`.
type registryModels struct {
	reg       feedback.Registry
	modelsDir string // where a model named name-version lives
	lbs       []string
}

var _ api.Models = registryModels{}

// apiModels is the registry when the feedback loop runs, else none.
func apiModels(cfg config.Config) api.Models {
	if !cfg.Feedback.Enabled {
		return api.NoModels{}
	}
	return registryModels{reg: feedback.Registry{Path: cfg.RegistryPath()}, modelsDir: cfg.Feedback.ModelsDir, lbs: cfg.LBNames()}
}

func (m registryModels) Models(context.Context) (api.ModelsView, error) {
	st, err := m.reg.Load()
	if err != nil {
		return api.ModelsView{}, err
	}
	var v api.ModelsView
	for _, lb := range m.lbs {
		if st.Champion == "" && st.Challenger == nil {
			break // the forecaster serve started with: the server names it
		}
		info := api.ModelInfo{LB: lb, Current: modelName(st.Champion)}
		if st.Challenger != nil {
			info.Challenger = modelName(st.Challenger.Dir)
		}
		v.LBs = append(v.LBs, info)
	}
	prev := ""
	for _, e := range st.History {
		if e.Action == "promoted" || e.Action == "rollback" || e.Action == "initial" {
			v.History = append(v.History, api.ModelChange{At: e.At, LB: "*", From: prev, To: modelName(e.Model), Reason: e.Reason})
			prev = modelName(e.Model)
		}
	}
	return v, nil
}

// Promote makes model (name-version under models_dir, or a directory) the
// champion of every LB, after the same checks as `shadowscale model promote`.
func (m registryModels) Promote(_ context.Context, lb, model string) error {
	if err := m.known(lb); err != nil {
		return err
	}
	if !strings.ContainsRune(model, filepath.Separator) {
		model = filepath.Join(m.modelsDir, model)
	}
	var doc registryDoc
	_, err := m.reg.Update(func(st *feedback.RegistryState) error {
		return promote(st, model, "promoted through the API (lb "+lb+")", time.Now().UTC(), &doc)
	})
	return err
}

// Rollback restores the previous champion of every LB.
func (m registryModels) Rollback(_ context.Context, lb string) error {
	if err := m.known(lb); err != nil {
		return err
	}
	_, err := m.reg.Update(func(st *feedback.RegistryState) error {
		return st.Rollback(time.Now().UTC(), "rolled back through the API (lb "+lb+")")
	})
	return err
}

func (m registryModels) known(lb string) error {
	for _, l := range m.lbs {
		if l == lb {
			return nil
		}
	}
	return fmt.Errorf("lb %q: not configured", lb)
}

// modelName is a model directory's name ("" = the fallback).
func modelName(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Base(dir)
}
