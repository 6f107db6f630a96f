package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shadowscale/shadowscale/sim"
)

// printBacktest is the human report: the table, one line per policy of
// what it would have done, then the largest peaks.
func printBacktest(w io.Writer, rep sim.Report) {
	fmt.Fprintf(w, "backtest of %s: %s to %s (%.0f min scored, step %gs), capacity %.4g req/s per instance, boot %s, warm-up %s, SLO p99 %s\n",
		rep.Trace, rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Minutes, rep.StepSeconds,
		rep.Capacity, rep.Boot, rep.Warmup, rep.SLOP99)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tviolation min\tunder-prov. min\texcess req\tinstance-h\tvs oracle\tactions\tcutovers\trollbacks\t")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.1f\t%.2f\t%d\t%d\t%d\t\n", r.Policy, r.SLOViolationMinutes,
			r.UnderprovisionedMinutes, r.ExcessRequests, r.InstanceHours, r.CostVsOracle, r.Actions, r.Cutovers, r.Rollbacks)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nwhat each policy would have done:")
	for _, r := range rep.Results {
		fmt.Fprintln(w, "  "+summaryLine(rep, r))
	}
	if len(rep.Peaks) > 0 {
		fmt.Fprintln(w, "\nlargest peaks, and what each policy had ready when they arrived:")
	}
	for _, p := range rep.Peaks {
		var parts []string
		for _, r := range rep.Results {
			mark := ""
			if p.Violated[r.Policy] {
				mark = " VIOLATED"
			}
			parts = append(parts, fmt.Sprintf("%s %.4g (%d inst)%s", r.Policy, p.Ready[r.Policy], p.Instances[r.Policy], mark))
		}
		fmt.Fprintf(w, "  %s  demand %.4g req/s: %s\n", p.At.Format(time.RFC3339), p.Demand, strings.Join(parts, ", "))
	}
}

func summaryLine(rep sim.Report, r sim.Result) string {
	pct := 0.0
	if rep.Minutes > 0 {
		pct = 100 * r.SLOViolationMinutes / rep.Minutes
	}
	s := fmt.Sprintf("%-10s missed the SLO in %.0f of %.0f minutes (%.2f %%), failed %.0f requests, ran %.1f instance-hours (%.2f × oracle, peak %d instances) with %d actions",
		r.Policy, r.SLOViolationMinutes, rep.Minutes, pct, r.ExcessRequests, r.InstanceHours, r.CostVsOracle, r.PeakInstances, r.Actions)
	if r.Policy == "predictive" {
		s += fmt.Sprintf(", %d cutovers, %d rollbacks, primary %d instances", r.Cutovers, r.Rollbacks, rep.Primary)
		if f := r.Forecast; f != nil && f.Points > 0 {
			s += fmt.Sprintf("; %s forecasts every %s: sMAPE %.1f %%, p90 coverage %.0f %%", f.Model, rep.ForecastEvery, f.SMAPE, 100*f.CoverP90)
		}
	}
	return s
}

// progress draws a bar on stderr once a run has taken a few seconds.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	shown bool
}

func newProgress(w io.Writer, start time.Time) *progress { return &progress{w: w, start: start} }

// update draws done/total; done < 0 ends the bar.
func (p *progress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < 0 {
		if p.shown {
			fmt.Fprintln(p.w)
		}
		return
	}
	if time.Since(p.start) < 2*time.Second || total <= 0 {
		return
	}
	p.shown = true
	frac := min(1, float64(done)/float64(total))
	n := int(frac * 30)
	fmt.Fprintf(p.w, "\rbacktest [%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(".", 30-n), 100*frac,
		time.Since(p.start).Truncate(time.Second))
}
