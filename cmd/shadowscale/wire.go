package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/events"
	"github.com/shadowscale/shadowscale/feedback"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/collect"
	"github.com/shadowscale/shadowscale/metrics/stores"
	"github.com/shadowscale/shadowscale/models"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
	"github.com/shadowscale/shadowscale/scheduler/adapt"
)

// service is everything serve runs, wired from the configuration.
type service struct {
	sched      *scheduler.Scheduler // nil with [ha]: see replicas
	replicas   *replicated          // nil without [ha]
	collector  *collect.Collector
	store      metrics.Store
	forecaster string
	feedback   *feedback.Loop // nil when [feedback] enabled = false; its Report is for the API
	closers    []func() error
	// What the API reads too (apiwire.go).
	fleet *haproxy.Fleet
	fc    inference.Forecaster // the primary, else the fallback
}

func (s *service) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// wire builds the service. HAProxy must answer (serve waits for it, retrying
// with backoff); an unreachable InfluxDB is only logged: writes are buffered.
func wire(ctx context.Context, cfg config.Config, log *slog.Logger) (*service, error) {
	svc := &service{}
	if err := svc.build(ctx, cfg, log); err != nil {
		svc.Close()
		return nil, err
	}
	return svc, nil
}

// build reads every local input (directories, store, events, forecaster,
// providers) before it waits for HAProxy, so a bad file fails at once rather
// than once HAProxy comes up.
func (svc *service) build(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := makeDirs(cfg); err != nil {
		return err
	}
	store, err := stores.Open(cfg, log)
	if err != nil {
		return fmt.Errorf("open metrics store: %w", err)
	}
	svc.closers, svc.store = append(svc.closers, store.Close), store
	lbEvents, err := loadEvents(ctx, cfg, store)
	if err != nil {
		return err
	}
	deps, name, err := schedulerDeps(cfg, store, log)
	if err != nil {
		return err
	}
	if cfg.Policy.Mode == "reactive" {
		if c, ok := deps.Forecaster.(interface{ Close() error }); ok {
			c.Close()
		}
		deps.Forecaster, deps.Fallback, name = nil, currentLoad{}, "reactive (target tracking at 70 %)"
	}
	if c, ok := deps.Forecaster.(interface{ Close() error }); ok {
		svc.closers = append(svc.closers, c.Close)
	}
	if err := svc.wireFeedback(cfg, store, &deps, log); err != nil {
		return err
	}
	settings := schedulerSettings(cfg)
	for i := range settings.LBs {
		settings.LBs[i].Events = lbEvents[settings.LBs[i].Name]
	}
	// Providers are opened (and so checked) before waiting for HAProxy;
	// with [ha] each term opens its own over etcd, this one only checks.
	var records func(string) provision.Records
	if cfg.HA.Enabled() {
		records = func(string) provision.Records { return noRecords{} }
	}
	if deps.Providers, err = buildProviders(cfg, records); err != nil {
		return err
	}
	fleet, err := connectFleet(ctx, cfg.HAProxy, log)
	if err != nil {
		return err
	}
	if err := checkBackends(ctx, cfg, perNode{fleet}); err != nil {
		return err
	}
	deps.Driver = adapt.Driver{Fleet: fleet, SlowStart: slowStart(cfg)}
	svc.forecaster = name
	svc.collector = collect.New(store, collectTargets(cfg, fleet), time.Now, log)
	if cfg.HA.Enabled() {
		svc.replicas, err = newReplicated(ctx, cfg, settings, deps, log)
		if svc.replicas != nil {
			svc.closers = append(svc.closers, svc.replicas.Close)
		}
		return err
	}
	if svc.sched, err = scheduler.New(settings, deps); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	svc.store, svc.fleet, svc.fc = store, fleet, deps.Fallback
	if deps.Forecaster != nil {
		svc.fc = deps.Forecaster
	}
	return nil
}

// makeDirs creates the state directory and the embedded store's directory,
// so a fresh state_dir works.
func makeDirs(cfg config.Config) error {
	if err := os.MkdirAll(cfg.Service.StateDir, 0o700); err != nil {
		return fmt.Errorf("[service] state_dir: %w", err)
	}
	if cfg.Metrics.Store == "embedded" {
		if err := os.MkdirAll(filepath.Dir(cfg.Metrics.Path), 0o700); err != nil {
			return fmt.Errorf("[metrics] path: %w", err)
		}
	}
	return nil
}

// schedulerDeps builds everything the scheduler needs but the driver.
func schedulerDeps(cfg config.Config, store metrics.Store, log *slog.Logger) (scheduler.Deps, string, error) {
	fallback, err := inference.Baseline(cfg.Forecast.Fallback)
	if err != nil {
		return scheduler.Deps{}, "", fmt.Errorf("[forecast] fallback: %w", err)
	}
	primary, name, err := loadModel(cfg.Forecast, fallback)
	if err != nil {
		return scheduler.Deps{}, "", err
	}
	deps := scheduler.Deps{Fallback: fallback, Log: log, Forecaster: primary,
		History: storeHistory{src: store, window: cfg.Forecast.History, step: historyStep(cfg)},
		Store:   scheduler.FileStore{Path: filepath.Join(cfg.Service.StateDir, "scheduler.json")}}
	if app := newAppUtilisation(cfg, store); app != nil {
		deps.App = app
	}
	return deps, name, nil
}

// buildProviders opens every configured provider; records, when not nil,
// gives each its record store (etcd with [ha]), else a file in state_dir.
func buildProviders(cfg config.Config, records func(name string) provision.Records) (map[string]scheduler.Provider, error) {
	providers := map[string]scheduler.Provider{}
	for _, pname := range cfg.ProviderNames() {
		var rec provision.Records
		if records != nil {
			rec = records(pname)
		}
		p, err := provision.New(cfg.Providers[pname], pname, cfg.Service.StateDir, rec)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", pname, err)
		}
		providers[pname] = adapt.Provider{P: p}
	}
	return providers, nil
}

// slowStart is the weight ramp of added servers: with the predictive
// policy, the longest warm-up of the providers (a grown pool's new server
// warms on a rising part of the traffic); the reactive policy adds servers
// that take their share at once, cold, as a target tracker's do.
func slowStart(cfg config.Config) time.Duration {
	if cfg.Policy.Mode == "reactive" {
		return 0
	}
	var d time.Duration
	for _, p := range cfg.Providers {
		d = max(d, p.WarmupTime)
	}
	return d
}

// noRecords checks a provider's configuration without touching a record.
type noRecords struct{}

func (noRecords) Load(any) error { return nil }
func (noRecords) Save(any) error { return nil }

// loadModel builds the configured forecaster: auto (the LSTM when a model
// is configured, and the classical forecasters), the LSTM alone, or one
// baseline. The model's ONNX Runtime library comes from [forecast]
// onnxruntime_lib, ONNXRUNTIME_LIB or .cache/lib/ (findORTLib, as forecast
// and eval); a model that does not load or whose metadata does not match
// this build is a start-up error, not a fallback.
func loadModel(fc config.Forecast, fallback inference.Forecaster) (scheduler.Forecaster, string, error) {
	classical, _ := classicalSetRefit(fc.Refit)
	for i, n := range inference.BaselineNames {
		if n == fc.Forecaster {
			return classical[i], n, nil
		}
	}
	var lstm *onnx.Model
	if fc.Model != "" {
		lib, err := findORTLib(fc.RuntimeLib(os.Getenv))
		if err != nil {
			return nil, "", fmt.Errorf("[forecast] onnxruntime_lib: the model %s needs it: %w", fc.Model, err)
		}
		// Series too short for the model's window, and steps beyond its
		// head, go to the configured fallback, as they always have.
		m, err := openServeModel(lib, fc.Model, onnx.Options{Threads: 1, Fallback: fallback})
		if err != nil {
			return nil, "", fmt.Errorf("[forecast] model %s: %w", fc.Model, err)
		}
		lstm = m
	}
	if fc.Forecaster == "lstm" {
		return lstm, lstm.Card().Label(), nil
	}
	a := closingAuto{Auto: newAuto(nil, classical, fc.AutoWindow, fc.AutoMinOrigins)}
	name := "auto"
	if lstm != nil {
		a.Auto, a.close = newAuto(lstm, classical, fc.AutoWindow, fc.AutoMinOrigins), lstm.Close
		name = "auto(" + lstm.Card().Label() + ", classical)"
	}
	return a, name, nil
}

// openServeModel opens [forecast] model: a path, or "builtin" for the
// default model built into the binary.
func openServeModel(lib, model string, opts onnx.Options) (*onnx.Model, error) {
	if model == "builtin" {
		return onnx.NewFromData(lib, "built-in "+models.Default, models.DefaultONNX, models.DefaultCard, opts)
	}
	return onnx.New(lib, model, opts)
}

// closingAuto closes the LSTM auto mixes in when serve stops.
type closingAuto struct {
	inference.Auto
	close func() error
}

func (a closingAuto) Close() error {
	if a.close == nil {
		return nil
	}
	return a.close()
}

// historyStep is the step the forecaster sees: one tick, never finer than
// the scrape interval that feeds it.
func historyStep(cfg config.Config) time.Duration {
	return max(cfg.Service.Tick, cfg.Metrics.ScrapeInterval)
}

// loadEvents reads each LB's events file, stores the events in the metrics
// store (so they are history too) and returns them per LB name.
func loadEvents(ctx context.Context, cfg config.Config, sink metrics.Sink) (map[string][]scheduler.Event, error) {
	out := map[string][]scheduler.Event{}
	err := eachEventsFile(cfg, func(name string, evs []events.Event) error {
		if err := events.Store(ctx, sink, evs); err != nil {
			return fmt.Errorf("[lb.%s] store events: %w", name, err)
		}
		for _, e := range forLB(evs, name) {
			out[name] = append(out[name], scheduler.Event{Start: e.Start, End: e.End, Lift: e.Lift})
		}
		return nil
	})
	return out, err
}

// eachEventsFile reads each LB's events file and hands its events to f.
func eachEventsFile(cfg config.Config, f func(lb string, evs []events.Event) error) error {
	for _, name := range cfg.LBNames() {
		path := cfg.LBs[name].EventsFile
		if path == "" {
			continue
		}
		evs, err := events.LoadFile(path)
		if err != nil {
			return fmt.Errorf("[lb.%s] events_file: %w", name, err)
		}
		if err := f(name, evs); err != nil {
			return err
		}
	}
	return nil
}

// forLB keeps the events that apply to lb.
func forLB(evs []events.Event, lb string) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.LB == lb || e.LB == events.All {
			out = append(out, e)
		}
	}
	return out
}

// collectTargets scrapes each LB's primary and shadow backends through the
// fleet (counters summed over its nodes).
func collectTargets(cfg config.Config, fleet *haproxy.Fleet) func() []collect.Target {
	var ts []collect.Target
	for _, name := range cfg.LBNames() {
		l := cfg.LBs[name]
		ts = append(ts, collect.Target{LB: name, Reader: collect.FromHAProxy(fleet), Proxies: []string{l.Backend, l.ShadowBackend}})
	}
	return func() []collect.Target { return ts }
}

// storeHistory reads an LB's demand (request rate of its backends) from the
// metrics store.
type storeHistory struct {
	src    metrics.Source
	window time.Duration
	step   time.Duration
}

func (h storeHistory) Demand(ctx context.Context, lb string, now time.Time) (inference.Series, error) {
	sel, field := metrics.Demand(lb)
	end := metrics.AlignDown(now, h.step)
	r, err := h.src.History(ctx, metrics.Query{Select: sel, Field: field, From: end.Add(-h.window), To: end, Step: h.step})
	if err != nil {
		return inference.Series{}, fmt.Errorf("demand history of %s: %w", lb, err)
	}
	return inference.Series{ID: lb, Start: r.Start, Step: r.Step, Values: r.Values}, nil
}
