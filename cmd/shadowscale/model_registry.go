package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/feedback"
	"github.com/shadowscale/shadowscale/models"
)

// registryActions are the champion/challenger subcommands of `model`.
var registryActions = map[string]bool{"promote": true, "rollback": true, "history": true}

// registryDoc is what promote, rollback and history print.
type registryDoc struct {
	Action     string               `json:"action"`
	Registry   string               `json:"registry"`
	Champion   string               `json:"champion"`
	Was        string               `json:"was,omitempty"`
	Challenger *feedback.Challenger `json:"challenger,omitempty"`
	Previous   []string             `json:"previous,omitempty"`
	History    []feedback.Event     `json:"history,omitempty"`
}

// runModelRegistry is `shadowscale model promote [PATH] | rollback |
// history`: it changes the registry file a running service watches, which
// swaps the champion within a tick, without a restart.
func runModelRegistry(ctx context.Context, args []string, stdout io.Writer) error {
	action := args[0]
	fs := newFlags("model " + action)
	cfgPath := fs.String("config", "", "service INI file (its [feedback] registry)")
	regPath := fs.String("registry", "", "registry file (instead of --config)")
	reason := fs.String("reason", "operator", "why, for the history")
	lib := fs.String("ort-lib", modelORTLib(), "ONNX Runtime shared library (promote validates the model with it)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	path, err := parseOptionalPath(fs, args[1:], action == "promote")
	if err != nil {
		return err
	}
	reg, err := registryFile(*cfgPath, *regPath)
	if err != nil {
		return err
	}
	if action == "promote" && path != "" {
		if err := validatePromoted(ctx, *lib, path); err != nil {
			return err
		}
	}
	doc, err := applyRegistry(reg, action, path, *reason, time.Now().UTC())
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, doc)
	}
	printRegistry(stdout, doc)
	return nil
}

// parseOptionalPath parses flags before and after at most one positional
// PATH (when allowed).
func parseOptionalPath(fs *flag.FlagSet, args []string, allowed bool) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if allowed && fs.NArg() > 0 {
		return fs.Arg(0), parseFlags(fs, fs.Args()[1:])
	}
	return "", parseFlags(fs, fs.Args())
}

// validatePromoted loads a model to be promoted through ONNX Runtime, as
// the service will (metadata against the card, parity vectors), so a bad
// model is refused here, naming the field, rather than by the service.
func validatePromoted(ctx context.Context, lib, path string) error {
	if lib == "" {
		return errors.New("promote: --ort-lib: empty and ONNXRUNTIME_LIB unset; the model is checked with ONNX Runtime before promotion")
	}
	if _, err := models.Validate(ctx, lib, path); err != nil {
		return fmt.Errorf("promote %s: %w", path, err)
	}
	return nil
}

func registryFile(cfgPath, regPath string) (feedback.Registry, error) {
	switch {
	case (cfgPath == "") == (regPath == ""):
		return feedback.Registry{}, errors.New("give exactly one of --config FILE.ini and --registry FILE")
	case regPath != "":
		return feedback.Registry{Path: regPath}, nil
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return feedback.Registry{}, err
	}
	return feedback.Registry{Path: cfg.RegistryPath()}, nil
}

func applyRegistry(reg feedback.Registry, action, path, reason string, now time.Time) (registryDoc, error) {
	doc := registryDoc{Action: action, Registry: reg.Path}
	var st feedback.RegistryState
	var err error
	switch action {
	case "history":
		st, err = reg.Load()
	case "rollback":
		st, err = reg.Update(func(st *feedback.RegistryState) error {
			doc.Was = st.Champion
			return st.Rollback(now, reason)
		})
	case "promote":
		st, err = reg.Update(func(st *feedback.RegistryState) error {
			return promote(st, path, reason, now, &doc)
		})
	}
	if err != nil {
		return doc, err
	}
	doc.Champion, doc.Challenger, doc.Previous = st.Champion, st.Challenger, st.Previous
	if action == "history" {
		doc.History = st.History
	}
	return doc, nil
}

// promote makes path (default: the challenger on trial) the champion,
// after checking its files; a bad model is refused naming the field.
func promote(st *feedback.RegistryState, path, reason string, now time.Time, doc *registryDoc) error {
	if path == "" {
		if st.Challenger == nil {
			return errors.New("promote: no challenger on trial; give a model PATH")
		}
		path = st.Challenger.Dir
	}
	if _, err := feedback.CheckModel(path); err != nil {
		return fmt.Errorf("promote %s: %w", path, err)
	}
	// Absolute: the service resolves it from its own working directory.
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("promote %s: %w", path, err)
	}
	doc.Was = st.Champion
	st.Promote(abs, now, reason, feedback.Event{})
	return nil
}

func printRegistry(w io.Writer, d registryDoc) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	champ := d.Champion
	if champ == "" {
		champ = "(the fallback)"
	}
	fmt.Fprintf(tw, "champion\t%s\n", champ)
	if d.Was != "" {
		fmt.Fprintf(tw, "was\t%s\n", d.Was)
	}
	if d.Challenger != nil {
		fmt.Fprintf(tw, "challenger\t%s\tsince %s\t%s\n", d.Challenger.Dir, d.Challenger.Since.Format(time.RFC3339), d.Challenger.Reason)
	}
	for _, e := range d.History {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Action, e.Model, e.Reason)
	}
}
