package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/shadowscale/shadowscale/models"
)

// runModel is `shadowscale model list|show|validate`.
func runModel(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("want `model list [--dir DIR]`, `model show PATH` or `model validate PATH`")
	}
	fs := newFlags("model " + args[0])
	dir := fs.String("dir", "models", "registry root (list)")
	lib := fs.String("ort-lib", modelORTLib(), "ONNX Runtime shared library (validate; default $ONNXRUNTIME_LIB or .cache/lib/libonnxruntime.so)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if args[0] == "-h" || args[0] == "--help" {
		return helpRequest{newFlagsLike("model list|show PATH|validate PATH", fs)}
	}
	path, err := parseWithPath(fs, args[1:], args[0] != "list")
	if err != nil {
		return err
	}
	var out any
	switch args[0] {
	case "list":
		out, err = models.List(*dir)
	case "show":
		out, err = models.Show(path)
	case "validate":
		out, err = models.Validate(ctx, *lib, path)
	default:
		return fmt.Errorf("unknown model action %q (want list, show or validate)", args[0])
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, out)
	}
	printModel(stdout, out)
	return nil
}

// modelORTLib is $ONNXRUNTIME_LIB, else the library `make setup` caches in
// .cache/ of the repository (the working directory, or the binary's
// parent folder: bin/shadowscale), else "".
func modelORTLib() string {
	p, _ := findORTLib("")
	return p
}

func modelFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// parseWithPath parses flags before and after one positional PATH.
func parseWithPath(fs *flag.FlagSet, args []string, wantPath bool) (string, error) {
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if !wantPath {
		return "", parseFlags(fs, fs.Args())
	}
	if fs.NArg() == 0 {
		return "", errors.New("missing model PATH (a model directory or its model.onnx)")
	}
	path := fs.Arg(0)
	return path, parseFlags(fs, fs.Args()[1:])
}

func printModel(w io.Writer, out any) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	row := func(e models.Entry) {
		c := e.Card
		fmt.Fprintf(tw, "%s\t%s\twindow %d\thorizon %d\t%s\tcreated %s\n", e.Dir, c.Label(), c.Window, c.HorizonSteps,
			c.FeatureVersion, c.CreatedAt)
	}
	switch v := out.(type) {
	case []models.Entry:
		for _, e := range v {
			row(e)
		}
	case models.Entry:
		row(v)
		for _, d := range v.Card.TrainingData {
			fmt.Fprintf(tw, "  trained on\t%s\t%s\n", d.File, d.SHA256)
		}
	case models.Report:
		row(v.Entry)
		fmt.Fprintf(tw, "ok: metadata matches this build; %d parity vectors within %.2g (max %.2g)\n",
			v.ParityVectors, models.ParityTolerance, v.MaxDiff)
	}
}
