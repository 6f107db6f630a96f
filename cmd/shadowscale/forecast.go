package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

type forecastPoint struct {
	T   string  `json:"t"`
	P10 float64 `json:"p10"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
}

type forecastDoc struct {
	StepSeconds float64         `json:"step_seconds"`
	Model       string          `json:"model"`
	Fallback    string          `json:"fallback,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	Points      []forecastPoint `json:"points"`
}

func runForecast(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("forecast")
	trace := fs.String("trace", "", "trace CSV (timestamp,value)")
	at := fs.String("at", "", "forecast origin, RFC3339 (default: the end of the trace); uses data strictly before it")
	horizon := fs.Duration("horizon", 30*time.Minute, "forecast horizon")
	model := fs.String("model", "", "ONNX model directory or file (default: the shipped model)")
	name := fs.String("forecaster", "", "one of "+strings.Join(forecasterNames, ", ")+" (default auto; with --model alone: lstm)")
	baseline := fs.String("baseline", "", "use this classical forecaster: "+fmt.Sprint(inference.BaselineNames))
	allowNeg := fs.Bool("allow-negative", false, "accept negative values (non-demand series)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model != "" && *baseline != "" {
		return fmt.Errorf("--model and --baseline are exclusive")
	}
	if *baseline != "" {
		if _, err := inference.Baseline(*baseline); err != nil {
			return err
		}
		*name = *baseline
	}
	if *name == "" && *model != "" {
		*name = "lstm"
	}
	r, err := loadTrace(*trace, *allowNeg)
	if err != nil {
		return err
	}
	h, err := horizonSteps(*horizon, r.Step)
	if err != nil {
		return err
	}
	series, err := historyBefore(r, *at)
	if err != nil {
		return err
	}
	fc, closeFc, note, err := cliForecaster(*name, *model)
	if err != nil {
		return err
	}
	defer closeFc()
	out, err := fc.Forecast(ctx, []inference.Series{series}, h)
	if err != nil {
		return err
	}
	doc := toDoc(out[0])
	if doc.Fallback == "" {
		doc.Fallback = note
	}
	if *asJSON {
		return writeJSON(stdout, doc)
	}
	printForecast(stdout, r.Name, doc)
	return nil
}

// historyBefore is the part of r strictly before at (all of it when at is "").
func historyBefore(r metrics.Regular, at string) (inference.Series, error) {
	n := len(r.Values)
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return inference.Series{}, fmt.Errorf("--at %q: not RFC3339", at)
		}
		n = int(math.Ceil(float64(t.Sub(r.Start)) / float64(r.Step)))
		if n < 1 || n > len(r.Values) {
			return inference.Series{}, fmt.Errorf("--at %s is outside the trace (%s to %s)", at,
				r.Start.Format(time.RFC3339), r.Time(len(r.Values)).Format(time.RFC3339))
		}
	}
	return inference.Series{ID: r.Name, Start: r.Start, Step: r.Step, Values: r.Values[:n:n]}, nil
}

func toDoc(f inference.Forecast) forecastDoc {
	d := forecastDoc{StepSeconds: f.Step.Seconds(), Model: f.Model, Fallback: f.Fallback, Reason: f.Reason}
	for i := range f.P50 {
		d.Points = append(d.Points, forecastPoint{T: f.Start.Add(time.Duration(i) * f.Step).Format(time.RFC3339),
			P10: f.P10[i], P50: f.P50[i], P90: f.P90[i]})
	}
	return d
}

func printForecast(w io.Writer, name string, d forecastDoc) {
	fmt.Fprintf(w, "forecast of %s by %s (step %gs)\n", name, d.Model, d.StepSeconds)
	if d.Fallback != "" {
		fmt.Fprintf(w, "fallback: %s\n", d.Fallback)
	}
	if d.Reason != "" {
		fmt.Fprintf(w, "why: %s\n", d.Reason)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "time\tp10\tp50\tp90\t")
	for _, p := range d.Points {
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%.4g\t\n", p.T, p.P10, p.P50, p.P90)
	}
	tw.Flush()
}
