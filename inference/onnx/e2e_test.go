package onnx

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// TestTrainExportLoadParity runs a tiny training (seconds) with the real
// training script, then loads its export here and checks PyTorch parity.
func TestTrainExportLoadParity(t *testing.T) {
	py := testenv.Python(t)
	testenv.ONNXRuntime(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 4*288; i++ {
		v := 100 + 50*math.Sin(2*math.Pi*float64(i)/288) + 5*math.Sin(float64(i))
		if i%97 == 0 {
			fmt.Fprintf(&b, "%s,\n", start.Add(time.Duration(i)*5*time.Minute).Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(&b, "%s,%.3f\n", start.Add(time.Duration(i)*5*time.Minute).Format(time.RFC3339), v)
	}
	trace := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tiny-0")
	cmd := exec.Command(py, filepath.Join(testenv.RepoRoot(), "training", "train.py"), "--traces", trace, "--out", out,
		"--name", "tiny", "--version", "0", "--window", "16", "--hidden", "8", "--mlp", "8", "--epochs", "1",
		"--samples", "64", "--coarsen", "", "--quiet")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train.py: %v\n%s", err, tail(string(msg), 2000))
	}
	checkParity(t, out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
