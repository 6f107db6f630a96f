package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/metrics/stores"
)

type exportDoc struct {
	LB          string        `json:"lb"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	StepSeconds float64       `json:"step_seconds"`
	Windows     int           `json:"windows"`
	Rows        int           `json:"rows"`
	Missing     int           `json:"missing"`
	Out         string        `json:"out,omitempty"`
	Points      []exportPoint `json:"points,omitempty"`
}

type exportPoint struct {
	T     string  `json:"t"`
	Value float64 `json:"value"`
}

// runExport writes an LB's request rate from the metrics store as a trace
// CSV, so training sees what production saw.
func runExport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("export")
	lb := fs.String("lb", "", "load balancer name")
	from := fs.String("from", "", "start, RFC3339")
	to := fs.String("to", "", "end (exclusive), RFC3339")
	step := fs.Duration("step", time.Minute, "step of the trace (windows are averaged)")
	cfgPath := fs.String("config", "", "service INI file naming the metrics store")
	storePath := fs.String("store", "", "embedded store file (instead of --config)")
	out := fs.String("out", "", "write the CSV to this file (default stdout)")
	asJSON := fs.Bool("json", false, "print one JSON document (with the points unless --out is given)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q, err := exportQuery(*lb, *from, *to, *step)
	if err != nil {
		return err
	}
	store, lbs, err := openExportStore(*cfgPath, *storePath)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkExportLB(ctx, store, *lb, lbs); err != nil {
		return err
	}
	series, err := store.History(ctx, q)
	if err != nil {
		return err
	}
	doc := exportDoc{LB: *lb, From: q.From.Format(time.RFC3339), To: q.To.Format(time.RFC3339),
		StepSeconds: step.Seconds(), Windows: len(series.Values), Out: *out}
	for i, v := range series.Values {
		if math.IsNaN(v) {
			doc.Missing++
		} else if *asJSON && *out == "" {
			doc.Points = append(doc.Points, exportPoint{series.Time(i).Format(time.RFC3339), v})
		}
	}
	doc.Rows = doc.Windows - doc.Missing
	if *out != "" || !*asJSON {
		if err := writeExport(series, *out, stdout); err != nil {
			return err
		}
	}
	switch {
	case *asJSON:
		return writeJSON(stdout, doc)
	case *out != "":
		fmt.Fprintf(stdout, "wrote %d rows of %s (%d of %d windows without data) to %s\n", doc.Rows, *lb, doc.Missing, doc.Windows, *out)
	}
	return nil
}

func exportQuery(lb, from, to string, step time.Duration) (metrics.Query, error) {
	if lb == "" {
		return metrics.Query{}, errors.New("--lb is required")
	}
	f, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return metrics.Query{}, fmt.Errorf("--from %q: not an RFC3339 time", from)
	}
	t, err := time.Parse(time.RFC3339, to)
	if err != nil {
		return metrics.Query{}, fmt.Errorf("--to %q: not an RFC3339 time", to)
	}
	if !f.Before(t) {
		return metrics.Query{}, fmt.Errorf("--from %s is not before --to %s", from, to)
	}
	if step <= 0 {
		return metrics.Query{}, fmt.Errorf("--step %v must be positive", step)
	}
	sel, field := metrics.Demand(lb)
	q := metrics.Query{Select: sel, Field: field, From: f.UTC(), To: t.UTC(), Step: step}
	if _, _, err := q.Grid(); err != nil {
		return metrics.Query{}, err
	}
	return q, nil
}

// openExportStore opens the store and, with --config, names its LBs.
func openExportStore(cfgPath, storePath string) (metrics.Store, []string, error) {
	switch {
	case (cfgPath == "") == (storePath == ""):
		return nil, nil, errors.New("give exactly one of --config FILE.ini and --store FILE")
	case storePath != "":
		if _, err := os.Stat(storePath); err != nil {
			return nil, nil, fmt.Errorf("--store: %w", err)
		}
		s, err := embedded.Open(storePath, embedded.Options{LockTimeout: 2 * time.Second})
		return s, nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	s, err := stores.Open(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return s, cfg.LBNames(), err
}

// checkExportLB refuses a load balancer the store has never seen (a typo
// would otherwise give a header-only CSV); an LB with data elsewhere in
// time is fine, its empty windows are reported as missing.
func checkExportLB(ctx context.Context, store metrics.Source, lb string, configured []string) error {
	sel, _ := metrics.Demand(lb)
	recs, err := store.Latest(ctx, sel, time.Unix(0, 0), time.Now().Add(24*time.Hour))
	if err != nil {
		return fmt.Errorf("--lb %s: %w", lb, err)
	}
	if len(recs) > 0 {
		return nil
	}
	known := ""
	if len(configured) > 0 {
		known = " (the configuration names " + strings.Join(configured, ", ") + ")"
	}
	return fmt.Errorf("--lb %s: unknown load balancer: the metrics store has no data for it%s", lb, known)
}

func writeExport(series metrics.Regular, out string, stdout io.Writer) error {
	if out == "" {
		_, err := metrics.WriteTraceCSV(stdout, series)
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if _, err := metrics.WriteTraceCSV(f, series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
