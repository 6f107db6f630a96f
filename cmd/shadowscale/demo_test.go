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
	// Hard links, not symlinks: the demo finds demo-app beside its own
	// executable, which the kernel reports with symlinks resolved.
	for name, target := range map[string]string{"shadowscale": serve, "demo-app": app} {
		linkOrCopy(t, target, filepath.Join(dir, name))
	}
	// The demo's temp dir goes under a TMPDIR of the test's own (short:
	// HAProxy's socket paths), so only this demo's processes and temp
	// dirs are counted, not another demo running on the machine.
	tmp, err := os.MkdirTemp("", "ssdt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	cmd := exec.Command(filepath.Join(dir, "shadowscale"), "demo", "--duration", "40s", "--out", filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "SHADOWSCALE_TRACES="+testenv.Traces(t), "TMPDIR="+tmp)
	var out bytes.Buffer // read only once the demo has exited
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	after := time.Duration(3+rand.IntN(30)) * time.Second
	select {
	case err := <-done:
		t.Fatalf("demo ended before the SIGINT at %s (%v):\n%s", after, err, out.String())
	case <-time.After(after):
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("demo still running 90s after SIGINT:\n%s", out.String())
	}
	t.Logf("SIGINT after %s", after)
	if left := demoProcesses(dir, tmp); len(left) > 0 {
		t.Errorf("processes left after SIGINT at %s: %v\n%s", after, left, out.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("temp dirs left after SIGINT at %s: %v", after, left)
	}
}

// linkOrCopy makes to a hard link of from, or a copy across filesystems.
func linkOrCopy(t *testing.T, from, to string) {
	t.Helper()
	if os.Link(from, to) == nil {
		return
	}
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// demoProcesses are live processes whose command line names one of dirs
// (the demo's binaries, the serve it started, HAProxy, the instances).
func demoProcesses(dirs ...string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		argv, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || len(argv) == 0 {
			continue
		}
		s := strings.ReplaceAll(string(argv), "\x00", " ")
		for _, dir := range dirs {
			if strings.Contains(s, dir) {
				out = append(out, d.Name()+": "+s)
				break
			}
		}
	}
	return out
}
