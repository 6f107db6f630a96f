package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/shadowscale/shadowscale/sim"
)

// writeSeries writes the scored ticks as CSV for analysis outside the
// tool: the demand, the forecast band made boot + warm-up ahead, and per
// policy the instances provisioned, the ready capacity and whether the
// tick violated the SLO.
func writeSeries(f *os.File, rep sim.Report) error {
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "time,demand,band_p10,band_p90")
	for _, r := range rep.Results {
		fmt.Fprintf(w, ",%[1]s_instances,%[1]s_ready,%[1]s_violated", r.Policy)
	}
	fmt.Fprintln(w)
	step := time.Duration(rep.StepSeconds * float64(time.Second))
	for i, d := range rep.Demand {
		fmt.Fprintf(w, "%s,%s,%s,%s", rep.From.Add(time.Duration(i)*step).Format(time.RFC3339), num(d),
			num(rep.Band[i][0]), num(rep.Band[i][1]))
		for _, r := range rep.Results {
			s := r.Series
			fmt.Fprintf(w, ",%d,%s,%d", s.Instances[i], num(s.Ready[i]), b2i(s.Violated[i]))
		}
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createSeries opens --series (nil when not asked for).
func createSeries(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--series: %w", err)
	}
	return f, nil
}

// closeSeries removes a --series file the run never filled.
func closeSeries(f *os.File) {
	if f != nil {
		f.Close()
		os.Remove(f.Name())
	}
}

// num is a CSV number; a missing one (NaN) is an empty field.
func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
