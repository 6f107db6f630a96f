package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Policies are the policy names, in report order.
var Policies = []string{"reactive", "predictive", "oracle"}

// Config is one backtest.
type Config struct {
	Demand  Demand
	Cluster Cluster
	SLO     SLO
	// Policies to report (default all); the oracle always runs, for
	// cost_vs_oracle.
	Policies []string
	// Settings are the predictive scheduler's, with exactly one LB and
	// Tick equal to Demand.Step.
	Settings   scheduler.Settings
	Forecaster scheduler.Forecaster // the primary model; nil = the fallback only (serve without a model)
	Fallback   scheduler.Forecaster // required
	// HistoryWindow is the demand the scheduler sees ([forecast] history).
	HistoryWindow time.Duration
	// ForecastEvery is how often the forecaster really runs (default one
	// tick: every tick, as serve does).
	ForecastEvery time.Duration
	// Skip is the start of the trace that only feeds the history.
	Skip time.Duration
	// Primary is the predictive policy's primary instances (0 = auto).
	Primary int
	// SlowStart ramps the weight of a shadow server set ready from 0 to
	// full over this long (HAProxy's slowstart; serve's predictive policy
	// adds servers with the providers' longest warm-up); 0 = at once.
	SlowStart time.Duration
	Reactive  Reactive
	// History replaces the trace-backed history (tests: serve's store).
	History scheduler.History
	// KeepDecisions keeps the scheduler's decision at every tick.
	KeepDecisions bool
	// Progress, if set, is called now and then with ticks done and total.
	Progress func(done, total int64)
	Log      *slog.Logger
}

// Result is one policy's figures (DESIGN.md 3.2).
type Result struct {
	Policy                  string    `json:"policy"`
	SLOViolationMinutes     float64   `json:"slo_violation_minutes"`
	UnderprovisionedMinutes float64   `json:"underprovisioned_minutes"`
	ExcessRequests          float64   `json:"excess_requests"`
	InstanceHours           float64   `json:"instance_hours"`
	Cost                    float64   `json:"cost"`
	CostVsOracle            float64   `json:"cost_vs_oracle"`
	Actions                 int       `json:"actions"`
	Cutovers                int       `json:"cutovers"`
	Rollbacks               int       `json:"rollbacks"`
	PeakInstances           int       `json:"peak_instances"`
	Forecast                *Accuracy `json:"forecast,omitempty"`
	Series                  Series    `json:"-"`
}

// Report is a whole backtest.
type Report struct {
	Trace         string        `json:"trace"`
	From          time.Time     `json:"from"`
	To            time.Time     `json:"to"`
	StepSeconds   float64       `json:"step_seconds"`
	Minutes       float64       `json:"minutes"`
	FilledTicks   int           `json:"filled_ticks"` // trace gaps interpolated (whole trace)
	Capacity      float64       `json:"capacity_per_instance"`
	Boot          time.Duration `json:"-"`
	Warmup        time.Duration `json:"-"`
	SLOP99        time.Duration `json:"-"`
	ForecastEvery time.Duration `json:"-"`
	// The same durations in seconds, for JSON.
	BootSeconds          float64    `json:"boot_seconds"`
	WarmupSeconds        float64    `json:"warmup_seconds"`
	SLOP99Seconds        float64    `json:"slo_p99_seconds"`
	ForecastEverySeconds float64    `json:"forecast_every_seconds"`
	Primary              int        `json:"primary_instances"`
	Results              []Result   `json:"results"`
	Peaks                []Peak     `json:"peaks"`
	Decisions            []Decision `json:"-"`
	// Demand and Band (the forecast made Boot+Warmup ahead, p10 and p90,
	// NaN where none) cover the scored ticks, for plots.
	Demand  []float64    `json:"-"`
	Band    [][2]float64 `json:"-"`
	Seconds float64      `json:"seconds"`
}

// env is what every policy run shares.
type env struct {
	cfg      Config
	cluster  Cluster
	slo      SLO
	d        Demand
	from, to int
	primary  int
	every    int
	done     *atomic.Int64
	total    int64

	decisions []Decision
	forecasts []inference.Forecast
}

// Run replays the demand under every policy (concurrently) and scores them.
func Run(ctx context.Context, cfg Config) (Report, error) {
	began := time.Now()
	e, err := newEnv(cfg)
	if err != nil {
		return Report{}, err
	}
	names := e.cfg.Policies
	results, err := e.runAll(ctx, names)
	if err != nil {
		return Report{}, err
	}
	rep := e.report(results, names)
	rep.Seconds = time.Since(began).Seconds()
	return rep, nil
}

func (e *env) runAll(ctx context.Context, names []string) (map[string]*tally, error) {
	run := map[string]func(context.Context, *env, *tally) error{
		"reactive": runReactive, "predictive": runPredictive, "oracle": runOracle}
	want := append(slices.Clone(names), "oracle")
	tallies := map[string]*tally{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, n := range Policies {
		if !slices.Contains(want, n) {
			continue
		}
		t := newTally(e.slo, e.d.Step, e.to-e.from)
		tallies[n] = t
		wg.Go(func() {
			if err := run[n](ctx, e, t); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return tallies, errors.Join(errs...)
}

// tick reports progress and honours cancellation every so often.
func (e *env) tick(ctx context.Context, k int) error {
	if (k-e.from)%1024 != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.cfg.Progress != nil {
		done := e.done.Add(int64(min(1024, e.to-k)))
		e.cfg.Progress(done, e.total)
	}
	return nil
}

func (e *env) report(tallies map[string]*tally, names []string) Report {
	c := e.cluster
	rep := Report{Trace: e.d.Name, From: e.d.Time(e.from), To: e.d.Time(e.to), StepSeconds: e.d.Step.Seconds(),
		Minutes: float64(e.to-e.from) * e.d.Step.Minutes(), Capacity: c.Capacity, Boot: c.Boot, Warmup: c.Warmup,
		SLOP99: e.slo.P99, Primary: e.primary, ForecastEvery: time.Duration(e.every) * e.d.Step,
		Decisions: e.decisions, Demand: e.d.Values[e.from:e.to], FilledTicks: e.d.Filled}
	rep.BootSeconds, rep.WarmupSeconds = c.Boot.Seconds(), c.Warmup.Seconds()
	rep.SLOP99Seconds, rep.ForecastEverySeconds = e.slo.P99.Seconds(), rep.ForecastEvery.Seconds()
	oracle := tallies["oracle"].result("oracle", c.PricePerHour)
	for _, n := range Policies {
		t := tallies[n]
		if t == nil || !slices.Contains(names, n) {
			continue
		}
		r := t.result(n, c.PricePerHour)
		if oracle.InstanceHours > 0 {
			r.CostVsOracle = r.InstanceHours / oracle.InstanceHours
		}
		if n == "predictive" {
			r.Forecast = e.accuracy()
		}
		rep.Results = append(rep.Results, r)
	}
	rep.Band = e.band(int(math.Ceil(float64(c.Boot+c.Warmup) / float64(e.d.Step))))
	rep.Peaks = peaks(rep, 3)
	return rep
}
