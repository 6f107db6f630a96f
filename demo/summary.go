package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// Summary is the demo's JSON document (summary.json).
type Summary struct {
	Trace     string   `json:"trace"`
	Day       string   `json:"day"`        // the trace day replayed
	DurationS float64  `json:"duration_s"` // the day compressed into this many seconds
	Compress  float64  `json:"compress"`   // trace seconds per demo second
	PeakRate  float64  `json:"peak_rate"`  // req/s at the peak
	PeakAtS   int      `json:"peak_at_s"`
	PeakFromS int      `json:"peak_from_s"` // the peak window: smoothed rate at least half the peak's
	PeakToS   int      `json:"peak_to_s"`
	Capacity  float64  `json:"capacity_per_instance"`
	Runs      []Result `json:"runs"`
	Chart     string   `json:"chart,omitempty"`
}

// Result is one policy's run.
type Result struct {
	Policy   string  `json:"policy"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Cold     int     `json:"cold_served"` // requests served by a cold instance
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	// During the peak window.
	PeakRequests int     `json:"peak_requests"`
	PeakErrors   int     `json:"peak_errors"`
	PeakCold     int     `json:"peak_cold_served"`
	PeakP99MS    float64 `json:"peak_p99_ms"`
	// Errors in seconds when the pool was cutting over.
	CutoverErrors   int     `json:"cutover_errors"`
	InstanceSeconds float64 `json:"instance_seconds"`
	InstanceMinutes float64 `json:"instance_minutes"`
	Pools           int     `json:"pools"`
	Cutovers        int     `json:"cutovers"`
	Rollbacks       int     `json:"rollbacks"`
	// ReadyAtS is the second from which the capacity taking traffic
	// covered the peak's demand without a break until the peak (-1: not
	// at the peak); Warmed says whether that capacity went through a
	// warm-up first.
	ReadyAtS        int            `json:"ready_at_s"`
	ReadyBeforePeak bool           `json:"ready_before_peak"`
	Warmed          bool           `json:"warmed"`
	Clients         loadgen.Result `json:"clients"`
	Forecast        []forecastAt   `json:"-"`
	Seconds         []Second       `json:"seconds"`
}

func (r *Result) add(s Second, inPeak bool) {
	r.Requests += s.Requests
	r.Errors += s.Errors
	r.Cold += s.Cold
	if inPeak {
		r.PeakRequests += s.Requests
		r.PeakErrors += s.Errors
		r.PeakCold += s.Cold
	}
	if s.Phase == "CuttingOver" {
		r.CutoverErrors += s.Errors
	}
}

// readyBeforePeak finds ReadyAtS: walking back from the peak second while
// the capacity taking traffic covered the day's largest demand. Capacity
// that covered it early in the day and was scaled down before the rise
// does not count.
func (r *Result) readyBeforePeak(secs []Second, peakAt int) {
	r.ReadyAtS = -1
	peak := 0.0
	for _, s := range secs {
		peak = max(peak, s.Demand)
		if s.Phase == "WarmingUp" || s.Phase == "Ready" {
			r.Warmed = true
		}
	}
	for i := min(peakAt, len(secs)-1); i >= 0 && secs[i].ReadyCap >= peak; i-- {
		r.ReadyAtS = i
	}
	r.ReadyBeforePeak = r.ReadyAtS >= 0 && r.ReadyAtS < peakAt
	r.InstanceMinutes = r.InstanceSeconds / 60
}

// fromLog counts the pools, cutovers and rollbacks serve logged.
func (r *Result) fromLog(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		switch l["msg"] {
		case "pool opened":
			r.Pools++
		case "rolling back":
			r.Rollbacks++
		case "pool step":
			if l["to"] == "CuttingOver" && l["from"] != "CuttingOver" {
				r.Cutovers++
			}
		}
	}
}

// forecastAt is serve's forecast for one second of the run.
type forecastAt struct {
	T             int
	P10, P50, P90 float64
}

// readForecasts reads the forecasts serve logged into its store (the
// feedback loop's `forecast` measurement), for the chart: at each second,
// the one made furthest ahead within the pool's lead time.
func readForecasts(path string, start time.Time, n int) []forecastAt {
	s, err := embedded.Open(path, embedded.Options{LockTimeout: time.Second})
	if err != nil {
		return nil
	}
	defer s.Close()
	sel := metrics.Selector{Measurement: metrics.MeasForecast, Tags: map[string]string{metrics.TagLB: lbName}}
	recs, err := s.Records(context.Background(), sel, start, start.Add(time.Duration(n)*time.Second))
	if err != nil {
		return nil
	}
	best := map[int]forecastAt{}
	bestH := map[int]float64{}
	for _, rec := range recs {
		h, _ := strconv.ParseFloat(rec.Tags[metrics.TagHorizon], 64)
		if v, ok := rec.Fields[metrics.FieldHorizon]; ok {
			h = v
		}
		i := int(rec.Time.Sub(start) / time.Second)
		if i < 0 || i >= n || h > 15 || h < bestH[i] {
			continue
		}
		bestH[i] = h
		best[i] = forecastAt{T: i, P10: rec.Fields[metrics.FieldP10], P50: rec.Fields[metrics.FieldP50], P90: rec.Fields[metrics.FieldP90]}
	}
	out := make([]forecastAt, 0, len(best))
	for i := range n {
		if f, ok := best[i]; ok {
			out = append(out, f)
		}
	}
	return out
}

func (s *Summary) write(dir string, rp *replay) error {
	for i := range s.Runs {
		for _, f := range s.Runs[i].Forecast {
			sec := &s.Runs[i].Seconds[f.T]
			sec.P10, sec.P50, sec.P90 = f.P10, f.P50, f.P90
		}
	}
	chart := filepath.Join(dir, "chart.png")
	if err := drawChart(s, chart); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	s.Chart = chart
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644)
}

// Print writes the side-by-side table a newcomer reads.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "\nReplayed %s, day %s (peak %.0f req/s at %ds; peak window %d–%ds), one day in %.0fs, %g req/s per instance.\n\n",
		s.Trace, s.Day, s.PeakRate, s.PeakAtS, s.PeakFromS, s.PeakToS, s.DurationS, s.Capacity)
	rows := []struct {
		name string
		f    func(r Result) string
	}{
		{"requests (errors)", func(r Result) string { return fmt.Sprintf("%d (%d)", r.Requests, r.Errors) }},
		{"p50 / p99 latency", func(r Result) string { return fmt.Sprintf("%.0f / %.0f ms", r.P50MS, r.P99MS) }},
		{"served by cold instances", func(r Result) string { return strconv.Itoa(r.Cold) }},
		{"peak window: errors, p99, cold", func(r Result) string {
			return fmt.Sprintf("%d, %.0f ms, %d", r.PeakErrors, r.PeakP99MS, r.PeakCold)
		}},
		{"errors during cutovers", func(r Result) string { return strconv.Itoa(r.CutoverErrors) }},
		{"capacity for the peak ready at", func(r Result) string { return readyText(r, s.PeakAtS) }},
		{"instance-minutes", func(r Result) string { return fmt.Sprintf("%.1f", r.InstanceMinutes) }},
		{"pools / cutovers / rollbacks", func(r Result) string { return fmt.Sprintf("%d / %d / %d", r.Pools, r.Cutovers, r.Rollbacks) }},
	}
	fmt.Fprintf(w, "  %-32s", "")
	for _, r := range s.Runs {
		fmt.Fprintf(w, "%-28s", r.Policy)
	}
	fmt.Fprintln(w)
	for _, row := range rows {
		fmt.Fprintf(w, "  %-32s", row.name)
		for _, r := range s.Runs {
			fmt.Fprintf(w, "%-28s", row.f(r))
		}
		fmt.Fprintln(w)
	}
	if s.Chart != "" {
		fmt.Fprintf(w, "\nChart: %s\n", s.Chart)
	}
}

func readyText(r Result, peakAt int) string {
	if r.ReadyAtS < 0 {
		return "not at the peak"
	}
	return fmt.Sprintf("%ds, %ds before the peak", r.ReadyAtS, peakAt-r.ReadyAtS)
}
