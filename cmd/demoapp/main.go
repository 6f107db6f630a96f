// Command demoapp runs one app instance for tests and the demo (see
// internal/demoapp). SIGUSR1 toggles an "error" fault at 50 %, SIGUSR2
// toggles "down"; POST /admin/fault sets any fault.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/internal/demoapp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demoapp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("demoapp", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "loopback address to listen on")
	var cfg demoapp.Config
	fs.StringVar(&cfg.Name, "name", "", "instance name (default: the listen address)")
	fs.DurationVar(&cfg.Delay, "delay", 2*time.Millisecond, "service time of a warm request")
	fs.DurationVar(&cfg.ColdFor, "cold-for", 0, "cold start duration")
	fs.IntVar(&cfg.ColdRequests, "cold-requests", 0, "cold for the first N requests")
	fs.DurationVar(&cfg.ColdDelay, "cold-delay", 20*time.Millisecond, "extra delay while cold")
	fs.Float64Var(&cfg.ColdErrorRate, "cold-error-rate", 0.05, "fraction of cold requests answered 500")
	fs.IntVar(&cfg.Capacity, "capacity", 0, "requests served at once (0: unlimited)")
	fs.IntVar(&cfg.QueueLimit, "queue", 100, "requests waiting beyond capacity before 503")
	fs.BoolVar(&cfg.Stream, "stream", false, "send headers before the service time (losses on a crash reach clients)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Name == "" {
		cfg.Name = *listen
	}
	in, err := demoapp.Start(cfg, *listen)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	log.Info("listening", "addr", in.Addr, "name", cfg.Name)
	fmt.Println(in.Addr)

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	for s := range sig {
		switch s {
		case syscall.SIGUSR1:
			toggle(in.App, demoapp.Fault{Mode: "error", ErrorRate: 0.5}, log)
		case syscall.SIGUSR2:
			toggle(in.App, demoapp.Fault{Mode: "down"}, log)
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			log.Info("shutting down", "signal", s.String())
			return in.Shutdown(ctx)
		}
	}
	return nil
}

// toggle sets f, or clears the fault when f's mode is already on.
func toggle(app *demoapp.App, f demoapp.Fault, log *slog.Logger) {
	if app.Stats().Fault.Mode == f.Mode {
		f = demoapp.Fault{}
	}
	_ = app.SetFault(f)
	log.Info("fault", "mode", f.Mode)
}
