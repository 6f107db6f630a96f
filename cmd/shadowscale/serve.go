package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/scheduler"
)

// runServe is the service: collector and scheduler until SIGTERM/SIGINT. On
// a signal the current tick finishes and persists before it returns.
func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("serve")
	path := fs.String("config", "", "INI configuration file")
	asJSON := fs.Bool("json", false, "log as JSON and print the final status as one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("--config is required")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Service.LogLevel, *asJSON)
	svc, err := wire(ctx, cfg, log)
	if err != nil && ctx.Err() != nil {
		// Told to stop while waiting for HAProxy: a clean stop.
		log.Info("stopped before start-up finished", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer svc.Close()
	log.Info("serving", "config", *path, "lbs", cfg.LBNames(), "dry_run", cfg.Service.DryRun,
		"kill_switch", cfg.Service.KillSwitch, "forecaster", svc.forecaster)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		svc.collector.Run(ctx, cfg.Metrics.ScrapeInterval)
	}()
	go func() {
		defer wg.Done()
		runRetention(ctx, svc.store, cfg.Metrics.Retention, log)
	}()
	if svc.replicas != nil {
		err = svc.replicas.Run(ctx, scheduler.SystemClock{})
	} else {
		err = svc.sched.Run(ctx, scheduler.SystemClock{})
	}
	wg.Wait()
	log.Info("stopped", "err", err)
	if *asJSON {
		if werr := writeJSON(stdout, svc.status()); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// status is the final status document: the scheduler's, and with [ha]
// also this replica's role in the election.
func (svc *service) status() any {
	if svc.replicas != nil {
		return svc.replicas.Status(context.Background())
	}
	return svc.sched.Status()
}

func newLogger(level slog.Level, asJSON bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if asJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
