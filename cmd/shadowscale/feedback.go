package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/feedback"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// wireFeedback puts the Learn stage around the scheduler: the champion the
// scheduler forecasts with becomes hot-swappable, every tick is recorded and
// scored, forecasts are calibrated before planning, and drift or the
// schedule retrain on production traffic.
func (svc *service) wireFeedback(cfg config.Config, store metrics.Store, deps *scheduler.Deps, log *slog.Logger) error {
	fc := cfg.Feedback
	if !fc.Enabled || cfg.Policy.Mode == "reactive" {
		// A reactive policy does not forecast: nothing to learn from.
		return nil
	}
	opt := feedbackOptions(fc)
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("[feedback]: %w", err)
	}
	var fallback inference.Forecaster = deps.Fallback
	var initial inference.Forecaster
	if deps.Forecaster != nil {
		initial = deps.Forecaster
	}
	models, err := feedback.NewModels(feedback.Registry{Path: cfg.RegistryPath()}, modelLoader(cfg.Forecast, fallback),
		initial, cfg.Forecast.Model, fallback, time.Now().UTC(), log)
	if err != nil {
		return fmt.Errorf("[feedback] registry: %w", err)
	}
	d := feedback.Deps{Models: models}
	if cfg.HA.Enabled() {
		// Built after the loop (build wires the replicas last).
		d.Leading = func() bool { return svc.replicas != nil && svc.replicas.rep.Acting() }
	}
	if fc.Retrain {
		d.Retrainer = retrainer(cfg, store)
		at, daily, _ := fc.RetrainAtOffset() // checked by config.Validate
		d.Schedule = &feedback.Schedule{Daily: daily, At: at, MinInterval: fc.RetrainMinInterval}
	}
	loop := feedback.New(opt, store, d, log)
	deps.Forecaster, deps.Recorder = models.Champion, loop
	if fc.Calibrate || opt.Drift.Margin > 0 {
		deps.Adjuster = loop
	}
	svc.feedback = loop
	svc.closers = append(svc.closers, models.Close, loop.Close)
	return nil
}

func feedbackOptions(fc config.Feedback) feedback.Options {
	return feedback.Options{
		Settle: fc.Settle, MaxLateness: fc.MaxLateness, Windows: fc.Windows, Season: fc.Season,
		Calibration: feedback.Calibration{Enabled: fc.Calibrate, Scores: fc.CalibrationScores,
			MinScores: fc.CalibrationMinScores, Gamma: fc.CalibrationGamma,
			MaxWiden: fc.CalibrationMaxWiden, MaxNarrow: fc.CalibrationMaxNarrow},
		Drift: feedback.Drift{Window: fc.DriftWindow, MinSamples: fc.DriftMinSamples, MinCoverage: fc.DriftMinCoverage,
			MaxMASE: fc.DriftMaxMASE, For: fc.DriftFor, Margin: fc.DriftMargin},
		Trial: feedback.Trial{Period: fc.TrialPeriod, MinSamples: fc.TrialMinSamples, Margin: fc.TrialMargin},
	}
}

func retrainer(cfg config.Config, store metrics.Store) *feedback.Retrainer {
	fc := cfg.Feedback
	return &feedback.Retrainer{Source: store, Python: fc.RetrainPython, Script: fc.RetrainScript,
		ModelsDir: fc.ModelsDir, History: fc.RetrainHistory, Step: historyStep(cfg), Timeout: fc.RetrainTimeout,
		CPU: fc.RetrainCPU, Full: fc.RetrainMode == "full", Args: fc.RetrainArgs}
}

// modelLoader opens challengers and promoted champions as ONNX models.
func modelLoader(fc config.Forecast, fallback inference.Forecaster) feedback.Loader {
	return func(dir string) (inference.Forecaster, error) {
		lib, err := findORTLib(fc.RuntimeLib(os.Getenv))
		if err != nil {
			return nil, fmt.Errorf("[forecast] onnxruntime_lib: models need it: %w", err)
		}
		return onnx.New(lib, dir, onnx.Options{Threads: 1, Fallback: fallback})
	}
}
