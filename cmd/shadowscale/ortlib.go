package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ortLibRel is where `make setup` caches the ONNX Runtime library.
var ortLibRel = filepath.Join(".cache", "lib", "libonnxruntime.so")

// findORTLib is the one ONNX Runtime library lookup of every subcommand:
// the configured path (a flag or [forecast] onnxruntime_lib) if any, else
// $ONNXRUNTIME_LIB, else .cache/lib/ of the repository (the working
// directory, or beside the binary's folder). Not found, the error says
// where it looked.
func findORTLib(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p, nil
	}
	if p := repoFile(ortLibRel); p != "" {
		return p, nil
	}
	looked := []string{"$ONNXRUNTIME_LIB (unset)", absOr(ortLibRel)}
	if exe, err := os.Executable(); err == nil {
		looked = append(looked, absOr(filepath.Join(filepath.Dir(exe), "..", ortLibRel)))
	}
	return "", fmt.Errorf("ONNX Runtime library not found (looked at %s): set it or run `make setup`", strings.Join(looked, ", "))
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
