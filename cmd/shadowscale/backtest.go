package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/sim"
)

// backtestFlags are backtest's command line (DESIGN.md 3.2).
type backtestFlags struct {
	trace, policy, capacity, configPath, lb, plot, series, primary string
	boot, warmup, sloP99, skip, span, forecastEvery                time.Duration
	coldFactor                                                     float64
	asJSON                                                         bool
	set                                                            map[string]bool
}

func parseBacktestFlags(args []string) (backtestFlags, error) {
	var f backtestFlags
	fs := newFlags("backtest")
	fs.StringVar(&f.trace, "trace", "", "trace CSV (timestamp,value); values are requests/s")
	fs.StringVar(&f.policy, "policy", strings.Join(sim.Policies, ","), "policies to compare")
	fs.StringVar(&f.capacity, "capacity-per-instance", "auto", "requests/s one warm instance serves: auto (p95 of demand / 10) or N")
	fs.DurationVar(&f.boot, "boot", 3*time.Minute, "instance boot time")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Minute, "instance warm-up time (serving, cold)")
	fs.DurationVar(&f.sloP99, "slo-p99", 250*time.Millisecond, "p99 latency objective")
	fs.StringVar(&f.configPath, "config", "", "take the scheduler's settings from this service configuration")
	fs.StringVar(&f.lb, "lb", "", "the [lb.NAME] of --config to simulate (default: the first)")
	fs.StringVar(&f.plot, "plot", "", "write a chart of demand, forecast and ready capacity to this PNG")
	fs.StringVar(&f.primary, "primary", "auto", "predictive: primary instances, auto (median of the skipped history) or N")
	fs.Var((*dayDuration)(&f.skip), "skip", "start of the trace that only feeds the history, e.g. 36h or 4d (default 4d, or a quarter of a trace shorter than 8d)")
	fs.Var((*dayDuration)(&f.span), "span", "score at most this much after --skip, e.g. 60d (default: the rest of the trace)")
	fs.DurationVar(&f.forecastEvery, "forecast-every", 10*time.Minute, "how often the forecaster really runs (the tick = every tick, as serve)")
	fs.Float64Var(&f.coldFactor, "cold-factor", 2, "how much slower a cold instance serves")
	fs.StringVar(&f.series, "series", "", "write every scored tick (demand, forecast band, each policy's instances, ready capacity, violation) to this CSV")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, nil
}

func runBacktest(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseBacktestFlags(args)
	if err != nil {
		return err
	}
	cfg, err := f.prepare()
	if err != nil {
		return err
	}
	series, err := createSeries(f.series) // before the run, which may be long
	if err != nil {
		return err
	}
	cfg.Progress = newProgress(os.Stderr, time.Now()).update
	rep, err := sim.Run(ctx, cfg)
	cfg.Progress(-1, 0)
	if err != nil {
		closeSeries(series)
		return err
	}
	rep.Trace = f.trace
	if f.plot != "" {
		if err := writePlot(f.plot, rep); err != nil {
			return fmt.Errorf("--plot %s: %w", f.plot, err)
		}
	}
	if series != nil {
		if err := writeSeries(series, rep); err != nil {
			return fmt.Errorf("--series %s: %w", f.series, err)
		}
	}
	if f.asJSON {
		return writeJSON(stdout, rep)
	}
	printBacktest(stdout, rep)
	return nil
}

// prepare turns the flags, the trace and the configuration into a sim run.
func (f backtestFlags) prepare() (sim.Config, error) {
	policies, err := parsePolicies(f.policy)
	if err != nil {
		return sim.Config{}, err
	}
	c, lb, err := backtestConfig(f.configPath, f.lb)
	if err != nil {
		return sim.Config{}, err
	}
	r, err := loadTrace(f.trace, false)
	if err != nil {
		return sim.Config{}, err
	}
	d, err := sim.OnGrid(r, c.Service.Tick)
	if err != nil {
		return sim.Config{}, fmt.Errorf("--trace %s: %w", f.trace, err)
	}
	cluster, err := f.cluster(c, lb, d)
	if err != nil {
		return sim.Config{}, err
	}
	skip, err := f.scored(c, d, cluster)
	if err != nil {
		return sim.Config{}, err
	}
	if end := int((skip + f.span) / d.Step); f.span > 0 && end < len(d.Values) {
		d.Values = d.Values[:end]
	}
	primary, err := f.primaryInstances()
	if err != nil {
		return sim.Config{}, err
	}
	fallback, err := inference.Baseline(c.Forecast.Fallback)
	if err != nil {
		return sim.Config{}, fmt.Errorf("[forecast] fallback: %w", err)
	}
	model, _, err := loadModel(c.Forecast, fallback)
	if err != nil {
		return sim.Config{}, err
	}
	return sim.Config{
		Demand: d, Cluster: cluster, SLO: sim.SLO{P99: f.sloP99}, Policies: policies,
		Settings: f.settings(c, lb, cluster), Forecaster: model, Fallback: fallback,
		HistoryWindow: c.Forecast.History, ForecastEvery: f.forecastEvery, Skip: skip, Primary: primary,
		// As serve adds a predictive pool's servers: slowstart over the
		// (one simulated) provider's warm-up.
		SlowStart: cluster.Warmup,
	}, nil
}

// dayDuration is a Go duration or a whole number of days ("4d"), as the
// configuration's durations are.
type dayDuration time.Duration

func (d *dayDuration) String() string { return time.Duration(*d).String() }

func (d *dayDuration) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return fmt.Errorf("%q: want a duration (36h) or whole days (4d)", s)
		}
		*d = dayDuration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration (36h) or whole days (4d)", s)
	}
	*d = dayDuration(v)
	return nil
}

func parsePolicies(s string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(sim.Policies, p) {
			return nil, fmt.Errorf("--policy %q: want a comma-separated list of %s", p, strings.Join(sim.Policies, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// backtestConfig is the service configuration to take the scheduler's
// settings from: the file's, or the defaults with one LB "sim".
func backtestConfig(path, lb string) (config.Config, string, error) {
	if path == "" {
		if lb != "" {
			return config.Config{}, "", fmt.Errorf("--lb needs --config")
		}
		c := config.Default()
		c.Providers["sim"] = config.DefaultProvider("sim")
		l := config.DefaultLB("sim")
		l.Backend, l.ShadowBackend, l.Provider = "sim", "sim_shadow", "sim"
		c.LBs["sim"] = l
		return c, "sim", nil
	}
	c, err := config.Load(path)
	if err != nil {
		return config.Config{}, "", fmt.Errorf("--config: %w", err)
	}
	if lb == "" {
		lb = c.LBNames()[0]
	}
	if _, ok := c.LBs[lb]; !ok {
		return config.Config{}, "", fmt.Errorf("--lb %q: no [lb.%s] in %s", lb, lb, path)
	}
	return c, lb, nil
}

// cluster is the simulated instances: flags first, else the configured
// provider's times, else the flag defaults.
func (f backtestFlags) cluster(c config.Config, lb string, d sim.Demand) (sim.Cluster, error) {
	prov := c.Providers[c.LBs[lb].Provider]
	boot, warmup := f.boot, f.warmup
	if f.configPath != "" && !f.set["boot"] {
		boot = prov.BootTime
	}
	if f.configPath != "" && !f.set["warmup"] {
		warmup = prov.WarmupTime
	}
	switch {
	case boot < 0:
		return sim.Cluster{}, fmt.Errorf("--boot must not be negative, got %s", boot)
	case warmup < 0:
		return sim.Cluster{}, fmt.Errorf("--warmup must not be negative, got %s", warmup)
	case f.sloP99 <= 0:
		return sim.Cluster{}, fmt.Errorf("--slo-p99 must be positive, got %s", f.sloP99)
	case f.coldFactor < 1:
		return sim.Cluster{}, fmt.Errorf("--cold-factor must be at least 1, got %g", f.coldFactor)
	}
	capacity, err := parseCapacity(f.capacity, d.Values)
	if err != nil {
		return sim.Cluster{}, err
	}
	if n := c.LBs[lb].CapacityPerInstance; f.configPath != "" && !f.set["capacity-per-instance"] && n > 0 {
		capacity = n
	}
	return sim.Cluster{Capacity: capacity, Boot: boot, Warmup: warmup, ColdFactor: f.coldFactor,
		PricePerHour: prov.PricePerHour}, nil
}

// parseCapacity is N, or auto: p95 of the demand / 10 (DESIGN.md 3.2).
func parseCapacity(s string, demand []float64) (float64, error) {
	if s != "auto" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("--capacity-per-instance must be auto or a positive number, got %q", s)
		}
		return v, nil
	}
	var ok []float64
	for _, v := range demand {
		if !math.IsNaN(v) {
			ok = append(ok, v)
		}
	}
	slices.Sort(ok)
	if len(ok) == 0 || ok[int(0.95*float64(len(ok)-1))] <= 0 {
		return 0, fmt.Errorf("--capacity-per-instance auto: the trace's p95 demand is 0; give a number")
	}
	return ok[int(0.95*float64(len(ok)-1))] / 10, nil
}

// scored checks the trace is long enough and returns the skip.
func (f backtestFlags) scored(c config.Config, d sim.Demand, cl sim.Cluster) (time.Duration, error) {
	span := time.Duration(len(d.Values)) * d.Step
	if cl.Boot+cl.Warmup >= span {
		return 0, fmt.Errorf("--boot %s + --warmup %s is not shorter than the trace --trace %s (%s)", cl.Boot, cl.Warmup, f.trace, span)
	}
	skip := f.skip
	if !f.set["skip"] {
		skip = 4 * 24 * time.Hour
		if span < 2*skip {
			skip = (span / 4).Truncate(d.Step)
		}
	}
	if skip < 0 {
		return 0, fmt.Errorf("--skip must not be negative, got %s", skip)
	}
	if left := span - skip; left < c.Forecast.Horizon+d.Step {
		return 0, fmt.Errorf("--trace %s is too short: %s scored after --skip %s, the horizon is %s", f.trace, max(left, 0), skip, c.Forecast.Horizon)
	}
	if f.span < 0 {
		return 0, fmt.Errorf("--span must not be negative, got %s", f.span)
	}
	if f.forecastEvery < 0 {
		return 0, fmt.Errorf("--forecast-every must not be negative, got %s", f.forecastEvery)
	}
	return skip, nil
}

func (f backtestFlags) primaryInstances() (int, error) {
	if f.primary == "auto" {
		return 0, nil
	}
	n, err := strconv.Atoi(f.primary)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--primary must be auto or a whole number >= 1, got %q", f.primary)
	}
	return n, nil
}

// settings are serve's scheduler settings for the one simulated LB. The
// LB's warm-up is the cluster's; its capacity is the cluster's unless the
// configuration learns it (capacity_per_instance = auto) and no
// --capacity-per-instance overrides that.
func (f backtestFlags) settings(c config.Config, lb string, cl sim.Cluster) scheduler.Settings {
	s := schedulerSettings(c)
	for _, l := range s.LBs {
		if l.Name == lb {
			l.Warmup = cl.Warmup
			if f.configPath == "" || f.set["capacity-per-instance"] || l.Capacity > 0 {
				l.Capacity = cl.Capacity
			}
			s.LBs = []scheduler.LBSpec{l}
			break
		}
	}
	return s
}
