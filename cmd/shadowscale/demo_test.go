package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// TestDemoCleansUpAfterSIGINT interrupts `shadowscale demo` at a random
// moment and checks that it leaves nothing behind: no HAProxy, app or serve
// process, no temp dir.
func TestDemoCleansUpAfterSIGINT(t *testing.T) {
	t.Parallel()
	serve, app := binaries(t)
	testenv.HAProxy(t)
	dir := t.TempDir()
	for link, target := range map[string]string{"shadowscale": serve, "demo-app": app} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "shadowscale")
	before := demoTempDirs(t)
	cmd := exec.Command(bin, "demo", "--duration", "40s", "--out", filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "SHADOWSCALE_TRACES="+testenv.Traces(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	after := time.Duration(3+rand.IntN(30)) * time.Second
	time.Sleep(after)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("demo still running 90s after SIGINT:\n%s", out.String())
	}
	t.Logf("SIGINT after %s", after)
	if left := demoProcesses(dir); len(left) > 0 {
		t.Errorf("processes left after SIGINT at %s: %v\n%s", after, left, out.String())
	}
	if left := newEntries(before, demoTempDirs(t)); len(left) > 0 {
		t.Errorf("temp dirs left after SIGINT at %s: %v", after, left)
	}
}

// demoProcesses are live processes whose command line names dir (the
// demo's binaries, the serve it started, the instances) or a demo temp dir.
func demoProcesses(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		argv, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || len(argv) == 0 {
			continue
		}
		s := strings.ReplaceAll(string(argv), "\x00", " ")
		if strings.Contains(s, dir) || strings.Contains(s, "/ssdemo-") {
			out = append(out, d.Name()+": "+s)
		}
	}
	return out
}

func demoTempDirs(t *testing.T) map[string]bool {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), "ssdemo-*"))
	out := map[string]bool{}
	for _, p := range m {
		out[p] = true
	}
	return out
}

func newEntries(before, after map[string]bool) []string {
	var out []string
	for p := range after {
		if !before[p] {
			out = append(out, p)
		}
	}
	return out
}
