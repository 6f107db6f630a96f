package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/events"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// addrFile is where serve writes the address it listens on, so the CLI
// finds a serve started with port 0.
const addrFile = "api.addr"

// startAPI listens on [service] listen and serves the API and the tick
// recorder until the returned stop is called.
func startAPI(ctx context.Context, cfg config.Config, svc *service, log *slog.Logger) (func(), error) {
	token, err := cfg.Service.Token(os.ReadFile)
	if err != nil {
		return nil, err
	}
	fileEvents, err := operatorView(cfg)
	if err != nil {
		return nil, err
	}
	srv := api.New(api.Config{
		Sched: svc.apiScheduler(), Store: svc.store, Forecaster: svc.fc, Accuracy: api.StoreAccuracy{Src: svc.store},
		Models:       apiModels(cfg),
		ConfigEvents: fileEvents, Probes: probes(svc), Tick: cfg.Service.Tick, Horizon: cfg.Forecast.Horizon,
		HistoryStep: historyStep(cfg), History: cfg.Forecast.History, Token: token, ReadAuth: cfg.Service.APIReadAuth,
		MaxBody: int64(cfg.Service.APIMaxBody), Log: log.With("component", "api"),
		Collector: func() api.CollectorStatus {
			cs := svc.collector.Status()
			return api.CollectorStatus{Scrapes: cs.Scrapes, Errors: cs.Errors, LastTick: cs.LastTick, LastLag: cs.LastLag}
		},
	})
	ln, err := net.Listen("tcp", cfg.Service.Listen)
	if err != nil {
		return nil, fmt.Errorf("[service] listen: %w", err)
	}
	addr := ln.Addr().String()
	if err := os.WriteFile(filepath.Join(cfg.Service.StateDir, addrFile), []byte(addr+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("[service] state_dir: write %s: %w", addrFile, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rec := &api.Recorder{Sched: svc.apiScheduler(), Sink: svc.store, Log: log, OnDecision: srv.CountDecision,
		SkipForecasts: svc.feedback != nil}
	done := make(chan struct{}, 2)
	go func() { rec.Run(rctx, max(cfg.Service.Tick/4, 100*time.Millisecond)); done <- struct{}{} }()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("api server", "err", err)
		}
		done <- struct{}{}
	}()
	log.Info("api listening", "addr", addr, "auth", token != "", "read_auth", cfg.Service.APIReadAuth)
	return func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		hs.Shutdown(sctx)
		cancel()
		<-done
		<-done
	}, nil
}

// probes are /readyz's checks: each real dependency answers.
func probes(svc *service) []api.Probe {
	return []api.Probe{
		{Name: "store", Check: func(ctx context.Context) error {
			sel, _ := metrics.Demand("readyz")
			now := time.Now()
			_, err := svc.store.Latest(ctx, sel, now.Add(-time.Minute), now)
			return err
		}},
		{Name: "haproxy", Check: func(ctx context.Context) error {
			_, err := svc.fleet.Stats(ctx)
			return err
		}},
		{Name: "forecaster", Check: func(ctx context.Context) error {
			vals := make([]float64, 48)
			for i := range vals {
				vals[i] = 1
			}
			_, err := svc.fc.Forecast(ctx, []inference.Series{{ID: "readyz", Start: time.Unix(0, 0), Step: time.Minute, Values: vals}}, 1)
			return err
		}},
	}
}

// operatorView lists the configured events files' events for the API
// (read-only there), with IDs "file-N".
func operatorView(cfg config.Config) ([]scheduler.OperatorEvent, error) {
	var out []scheduler.OperatorEvent
	err := eachEventsFile(cfg, func(name string, evs []events.Event) error {
		for _, e := range forLB(evs, name) {
			out = append(out, scheduler.OperatorEvent{ID: fmt.Sprintf("file-%d", len(out)+1), LB: e.LB, Kind: e.Kind,
				Name: e.Name, Start: e.Start, End: e.End, Lift: e.Lift})
		}
		return nil
	})
	return out, err
}
