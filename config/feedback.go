package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Feedback is the [feedback] section: the Learn stage (forecast and error
// log, calibration, drift, retraining, champion/challenger).
type Feedback struct {
	Enabled     bool
	Registry    string // champion/challenger record; empty = <state_dir>/models.json
	ModelsDir   string // where retrained versions are written
	Settle      time.Duration
	MaxLateness time.Duration
	Windows     []time.Duration // rolling accuracy windows
	Season      time.Duration

	Calibrate            bool
	CalibrationScores    int
	CalibrationMinScores int
	CalibrationGamma     float64
	CalibrationMaxWiden  float64
	CalibrationMaxNarrow float64

	DriftWindow      time.Duration
	DriftMinSamples  int
	DriftMinCoverage float64
	DriftMaxMASE     float64
	DriftFor         time.Duration
	DriftMargin      float64

	TrialPeriod     time.Duration
	TrialMinSamples int
	TrialMargin     float64

	Retrain            bool          // drift triggers a retraining
	RetrainAt          string        // HH:MM UTC daily; empty = no schedule
	RetrainMinInterval time.Duration // between two retrainings
	RetrainMode        string        // finetune | full
	RetrainHistory     time.Duration
	RetrainTimeout     time.Duration
	RetrainCPU         time.Duration // 0 = no CPU-time limit
	RetrainPython      string
	RetrainScript      string
	RetrainArgs        []string
}

// DefaultFeedback is the [feedback] section with no keys set.
func DefaultFeedback() Feedback {
	return Feedback{
		Enabled: true, ModelsDir: "models", Settle: 30 * time.Second, MaxLateness: time.Hour,
		Windows: []time.Duration{time.Hour, day}, Season: day,
		Calibrate: true, CalibrationScores: 500, CalibrationMinScores: 50, CalibrationGamma: 0.005,
		CalibrationMaxWiden: 3, CalibrationMaxNarrow: 0.5,
		DriftWindow: 2 * time.Hour, DriftMinSamples: 60, DriftMinCoverage: 0.7, DriftMaxMASE: 2,
		DriftFor: 30 * time.Minute, DriftMargin: 0.25,
		TrialPeriod: 6 * time.Hour, TrialMinSamples: 200, TrialMargin: 0.02,
		Retrain: true, RetrainAt: "03:00", RetrainMinInterval: 6 * time.Hour, RetrainMode: "finetune",
		RetrainHistory: 14 * day, RetrainTimeout: 30 * time.Minute, RetrainCPU: 30 * time.Minute,
		RetrainPython: "/usr/bin/python3", RetrainScript: "training/train.py",
	}
}

func feedbackFields(f *Feedback) []field {
	return []field{
		{"enabled", boolean(&f.Enabled)},
		{"registry", str(&f.Registry)},
		{"models_dir", str(&f.ModelsDir)},
		{"settle", duration(&f.Settle)},
		{"max_lateness", duration(&f.MaxLateness)},
		{"accuracy_windows", durationList(&f.Windows)},
		{"season", duration(&f.Season)},
		{"calibrate", boolean(&f.Calibrate)},
		{"calibration_scores", integer(&f.CalibrationScores)},
		{"calibration_min_scores", integer(&f.CalibrationMinScores)},
		{"calibration_gamma", number(&f.CalibrationGamma)},
		{"calibration_max_widen", number(&f.CalibrationMaxWiden)},
		{"calibration_max_narrow", number(&f.CalibrationMaxNarrow)},
		{"drift_window", duration(&f.DriftWindow)},
		{"drift_min_samples", integer(&f.DriftMinSamples)},
		{"drift_min_coverage", number(&f.DriftMinCoverage)},
		{"drift_max_mase", number(&f.DriftMaxMASE)},
		{"drift_for", duration(&f.DriftFor)},
		{"drift_margin", number(&f.DriftMargin)},
		{"trial_period", duration(&f.TrialPeriod)},
		{"trial_min_samples", integer(&f.TrialMinSamples)},
		{"trial_margin", number(&f.TrialMargin)},
		{"retrain", boolean(&f.Retrain)},
		{"retrain_at", str(&f.RetrainAt)},
		{"retrain_min_interval", duration(&f.RetrainMinInterval)},
		{"retrain_mode", str(&f.RetrainMode)},
		{"retrain_history", duration(&f.RetrainHistory)},
		{"retrain_timeout", duration(&f.RetrainTimeout)},
		{"retrain_cpu", duration(&f.RetrainCPU)},
		{"retrain_python", str(&f.RetrainPython)},
		{"retrain_script", str(&f.RetrainScript)},
		{"retrain_args", argList(&f.RetrainArgs)},
	}
}

// argList splits on whitespace; an empty value is no arguments (nil).
func argList(p *[]string) func(string) error {
	return func(v string) error {
		*p = nil
		if f := strings.Fields(v); len(f) > 0 {
			*p = f
		}
		return nil
	}
}

func durationList(p *[]time.Duration) func(string) error {
	return func(v string) error {
		items, err := splitList(v)
		if err != nil {
			return err
		}
		out := make([]time.Duration, len(items))
		for i, it := range items {
			if err := duration(&out[i])(it); err != nil {
				return err
			}
		}
		*p = out
		return nil
	}
}

// RetrainAtOffset parses retrain_at (HH:MM, UTC) as the time past midnight.
func (f Feedback) RetrainAtOffset() (time.Duration, bool, error) {
	if f.RetrainAt == "" {
		return 0, false, nil
	}
	h, m, ok := strings.Cut(f.RetrainAt, ":")
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	if !ok || herr != nil || merr != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, false, fmt.Errorf("want HH:MM (UTC) or empty, got %q", f.RetrainAt)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true, nil
}

func (f Feedback) validate() error {
	const sec = "feedback"
	positive := []struct {
		key string
		v   time.Duration
	}{{"max_lateness", f.MaxLateness}, {"season", f.Season}, {"drift_window", f.DriftWindow},
		{"trial_period", f.TrialPeriod}, {"retrain_history", f.RetrainHistory}, {"retrain_timeout", f.RetrainTimeout}}
	for _, p := range positive {
		if p.v <= 0 {
			return bad(sec, p.key, "must be positive, got %s", p.v)
		}
	}
	for _, p := range []struct {
		key string
		v   time.Duration
	}{{"settle", f.Settle}, {"drift_for", f.DriftFor}, {"retrain_min_interval", f.RetrainMinInterval}, {"retrain_cpu", f.RetrainCPU}} {
		if p.v < 0 {
			return bad(sec, p.key, "must not be negative, got %s", p.v)
		}
	}
	for _, w := range f.Windows {
		if w <= 0 {
			return bad(sec, "accuracy_windows", "every window must be positive, got %s", w)
		}
	}
	if _, _, err := f.RetrainAtOffset(); err != nil {
		return bad(sec, "retrain_at", "%v", err)
	}
	return f.validateNumbers()
}

func (f Feedback) validateNumbers() error {
	const sec = "feedback"
	switch {
	case f.CalibrationScores < 10:
		return bad(sec, "calibration_scores", "must be at least 10, got %d", f.CalibrationScores)
	case f.CalibrationMinScores < 1 || f.CalibrationMinScores > f.CalibrationScores:
		return bad(sec, "calibration_min_scores", "must be 1..calibration_scores (%d), got %d", f.CalibrationScores, f.CalibrationMinScores)
	case f.CalibrationGamma < 0 || f.CalibrationGamma >= 0.1:
		return bad(sec, "calibration_gamma", "must be in [0, 0.1), got %g", f.CalibrationGamma)
	case f.CalibrationMaxWiden <= 0:
		return bad(sec, "calibration_max_widen", "must be positive, got %g", f.CalibrationMaxWiden)
	case f.CalibrationMaxNarrow < 0 || f.CalibrationMaxNarrow >= 1:
		return bad(sec, "calibration_max_narrow", "must be in [0, 1), got %g", f.CalibrationMaxNarrow)
	case f.DriftMinSamples < 1:
		return bad(sec, "drift_min_samples", "must be at least 1, got %d", f.DriftMinSamples)
	case f.DriftMinCoverage < 0 || f.DriftMinCoverage > 1:
		return bad(sec, "drift_min_coverage", "must be in [0, 1], got %g", f.DriftMinCoverage)
	case f.DriftMaxMASE < 0:
		return bad(sec, "drift_max_mase", "must not be negative, got %g", f.DriftMaxMASE)
	case f.DriftMargin < 0:
		return bad(sec, "drift_margin", "must not be negative, got %g", f.DriftMargin)
	case f.TrialMinSamples < 1:
		return bad(sec, "trial_min_samples", "must be at least 1, got %d", f.TrialMinSamples)
	case f.TrialMargin < 0 || f.TrialMargin >= 1:
		return bad(sec, "trial_margin", "must be in [0, 1), got %g", f.TrialMargin)
	case !slices.Contains([]string{"finetune", "full"}, f.RetrainMode):
		return bad(sec, "retrain_mode", "must be finetune or full, got %q", f.RetrainMode)
	case f.Enabled && f.Retrain && (f.RetrainPython == "" || f.RetrainScript == "" || f.ModelsDir == ""):
		return bad(sec, "retrain_script", "retrain_python, retrain_script and models_dir are required when retrain is on")
	}
	return nil
}

// RegistryPath is the champion/challenger record's file.
func (c Config) RegistryPath() string {
	if c.Feedback.Registry != "" {
		return c.Feedback.Registry
	}
	return c.Service.StateDir + "/models.json"
}
