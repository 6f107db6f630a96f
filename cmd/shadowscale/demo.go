package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/shadowscale/shadowscale/demo"
)

// runDemo is `shadowscale demo`: the whole product on this machine,
// predictive against reactive (package demo).
func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("demo")
	trace := fs.String("trace", defaultDemoTrace(), "trace CSV to replay (one day of it)")
	dur := fs.Duration("duration", envDuration("DEMO_DURATION", 4*time.Minute), "one trace day compressed into this long (env DEMO_DURATION)")
	peak := fs.Float64("peak", 280, "requests/s at the replayed day's peak")
	out := fs.String("out", "out/demo", "directory for summary.json, chart.png and serve's logs")
	model := fs.String("model", "", "[forecast] model of the predictive run (empty: serve's default forecaster)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bins, err := demoBinaries()
	if err != nil {
		return err
	}
	c := demo.Config{Trace: *trace, Duration: *dur, Peak: *peak, OutDir: *out, Model: *model,
		Serve: bins[0], AppBin: bins[1], HAProxy: bins[2]}
	if !*asJSON {
		c.Progress = os.Stderr
	}
	sum, err := demo.Run(ctx, c)
	if c.Progress != nil {
		fmt.Fprintln(c.Progress)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, sum)
	}
	sum.Print(stdout)
	return nil
}

// demoBinaries finds shadowscale (this binary), the demo app beside it
// (bin/demo-app, which `make build` makes) and haproxy.
func demoBinaries() ([3]string, error) {
	self, err := os.Executable()
	if err != nil {
		return [3]string{}, fmt.Errorf("find this binary: %w", err)
	}
	app := filepath.Join(filepath.Dir(self), "demo-app")
	if _, err := os.Stat(app); err != nil {
		return [3]string{}, fmt.Errorf("demo app %s: %w (run `make build`)", app, err)
	}
	hap := os.Getenv("SHADOWSCALE_HAPROXY")
	if hap == "" {
		if hap, err = exec.LookPath("haproxy"); err != nil {
			return [3]string{}, fmt.Errorf("haproxy: %w (run `make setup`)", err)
		}
	}
	return [3]string{self, app, hap}, nil
}

func defaultDemoTrace() string {
	dir := os.Getenv("SHADOWSCALE_TRACES")
	if dir == "" {
		dir = filepath.Join("..", "shared", "data", "traces")
	}
	return filepath.Join(dir, "ita_nasa_http_requests_per_minute.csv")
}

// envDuration reads a duration from the environment, or def.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}
