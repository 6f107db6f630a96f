package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/shadowscale/shadowscale/evaluate"
	"github.com/shadowscale/shadowscale/inference"
)

func runEval(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("eval")
	trace := fs.String("trace", "", "trace CSV (timestamp,value)")
	model := fs.String("model", "", "ONNX model directory or file (default: the shipped model)")
	horizon := fs.Duration("horizon", 30*time.Minute, "forecast horizon")
	frac := fs.Float64("test-fraction", 0.2, "last share of the trace to evaluate on")
	origins := fs.Int("max-origins", 500, "at most this many forecast origins")
	allowNeg := fs.Bool("allow-negative", false, "accept negative values (non-demand series)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := loadTrace(*trace, *allowNeg)
	if err != nil {
		return err
	}
	h, err := horizonSteps(*horizon, r.Step)
	if err != nil {
		return err
	}
	fcs, closeFcs, err := evalForecasters(*model)
	if err != nil {
		return err
	}
	defer closeFcs()
	rep, err := evaluate.Run(ctx, r, fcs, evaluate.Options{HorizonSteps: h, TestFraction: *frac,
		MaxOrigins: *origins, MaxHistory: maxHistorySteps(r.Step) + inference.Auto{}.LookbackSteps(h)})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	printEval(stdout, rep)
	return nil
}

// maxHistorySteps is the history a forecaster sees at each origin: what
// Holt-Winters' refit schedule needs (a four-week fit window and one refit
// interval), at least 15 days and 2,000 steps.
func maxHistorySteps(step time.Duration) int {
	return max(int(15*24*time.Hour/step), 2000, inference.NewHoltWinters(0).HistorySteps(step))
}

// evalForecasters is every baseline, the LSTM (the shipped one unless
// --model names another) and auto over them; without the shipped model or
// the ONNX Runtime library a default run warns and goes on without it.
func evalForecasters(model string) ([]inference.Forecaster, func(), error) {
	classical, hw := classicalSet()
	out := append([]inference.Forecaster(nil), classical...)
	lstm, err := openLSTM(model, hw)
	switch {
	case errors.Is(err, errNoDefaultModel):
		warnNoModel(err)
		return append(out, newAuto(nil, classical, 0, 0)), func() {}, nil
	case err != nil:
		return nil, nil, err
	}
	return append(out, lstm, newAuto(lstm, classical, 0, 0)), func() { lstm.Close() }, nil
}

func printEval(w io.Writer, rep evaluate.Report) {
	fmt.Fprintf(w, "trace %s: step %gs, horizon %d steps, %d origins, MASE season %d steps\n",
		rep.Trace, rep.StepSeconds, rep.HorizonSteps, rep.Origins, rep.SeasonSteps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "forecaster\tMASE\tsMAPE\tpinball\tcoverage_p90\tseconds\t")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.4g\t%.3f\t%.2f\t\n", r.Forecaster, r.MASE, r.SMAPE, r.Pinball, r.CoverageP90, r.Seconds)
	}
	tw.Flush()
}
