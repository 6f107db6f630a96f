// Command shadowscale is the one binary: each subcommand wires packages
// together. Contract (DESIGN.md 3.2): every subcommand accepts --json and
// then prints exactly one JSON document on stdout; bad input exits non-zero
// with a one-line error on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command runs one subcommand with its own arguments.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"forecast": {"forecast a trace's next horizon (p10/p50/p90)", runForecast},
		"eval":     {"rolling-origin evaluation of every forecaster on a trace", runEval},
		"serve":    {"run the service: collect, forecast, pre-warm (serve --config FILE.ini)", runServe},
		"export":   {"write an LB's request rate from the metrics store as a trace CSV", runExport},
		"model":    {"the model registry (model list|show|validate PATH, model promote [PATH]|rollback|history)", runModel},
		"backtest": {"replay a trace through reactive, predictive and oracle scaling", runBacktest},
		"demo":     {"the whole product on this machine: predictive against reactive on a real HAProxy", runDemo},
		// Clients of a running serve (client.go).
		"status":      {"show a running serve's load balancers (status [--url URL | --config FILE.ini])", runStatus},
		"pause":       {"stop acting on a load balancer (pause LB)", lbCommand("pause", "pause", noBody)},
		"resume":      {"act on a paused load balancer again (resume LB)", lbCommand("resume", "resume", noBody)},
		"rollback":    {"roll a load balancer's shadow pool back now (rollback LB [--reason TEXT])", lbCommand("rollback", "rollback", rollbackFlags)},
		"kill-switch": {"stop or allow every action (kill-switch on|off)", switchCommand("kill-switch", "/v1/controls/kill-switch")},
		"dry-run":     {"plan only, or act again (dry-run on|off)", switchCommand("dry-run", "/v1/controls/dry-run")},
		"events":      {"list, add or delete external events (events [list|add|delete ID])", runEvents},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shadowscale: "+oneLine(err.Error()))
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cmds := commands()
	if len(args) == 0 {
		usage(os.Stderr, cmds)
		return errors.New("no subcommand given")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 && cmds[args[1]].run != nil { // help SUB = SUB --help
			return run(ctx, []string{args[1], "--help"}, stdout)
		}
		usage(stdout, cmds)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown subcommand %q (try `shadowscale help`)", args[0])
	}
	err := c.run(ctx, args[1:], stdout)
	var help helpRequest
	if errors.As(err, &help) { // SUB -h / --help: usage on stdout, exit 0
		fmt.Fprintf(stdout, "usage: shadowscale %s [flags]\n  %s\n\nflags:\n", help.fs.Name(), c.summary)
		help.fs.SetOutput(stdout)
		help.fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

// helpRequest is what parsing -h or --help returns: run prints the flag
// set's usage and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h helpRequest) Error() string { return "help requested" }

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: shadowscale <subcommand> [flags]   (every subcommand takes --json)")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
}

// newFlags makes a flag set that reports errors instead of exiting, so that
// bad flags follow the one-line error contract.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and refuses stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// newFlagsLike is a copy of fs's flags under another name (for usage).
func newFlagsLike(name string, fs *flag.FlagSet) *flag.FlagSet {
	out := newFlags(name)
	fs.VisitAll(func(f *flag.Flag) { out.Var(f.Value, f.Name, f.Usage) })
	return out
}

// parse is fs.Parse with -h/--help turned into a helpRequest.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return helpRequest{fs}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
