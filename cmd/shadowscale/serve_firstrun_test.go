package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/syncbuf"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// TestServeFirstRun runs serve as a new user would, side by side: a
// misspelt shadow backend is refused at start-up, the embedded store is
// pruned to [metrics] retention, and the ONNX Runtime library is found in
// .cache/lib/ like forecast and eval find it.
func TestServeFirstRun(t *testing.T) {
	t.Parallel()
	binaries(t)
	var wg sync.WaitGroup
	for name, f := range map[string]func(*testing.T){
		"unknown shadow backend refused": testUnknownShadowBackend,
		"retention prunes":               testServeRetention,
		"onnx library from .cache":       testServeFindsORTLib,
	} {
		wg.Add(1)
		go func() { defer wg.Done(); t.Run(name, f) }()
	}
	wg.Wait()
}

func testUnknownShadowBackend(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	e.writeConfig(iniOpts{extra: "shadow_backend = app_shadw\n"})
	p := e.startServe()
	e.waitFor("serve to refuse the config", time.Minute, func() bool { return p.exited() })
	p.stopped = true
	data, _ := os.ReadFile(p.log)
	if code := p.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(string(data), `[lb.app] shadow_backend: HAProxy node`) ||
		!strings.Contains(string(data), `has no backend "app_shadw"`) {
		t.Fatalf("exit %d, log:\n%s", code, data)
	}
	if r := e.record(); len(r) > 0 {
		t.Errorf("instances started before the refusal: %v", r)
	}
}

func testServeRetention(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	now := time.Now()
	path := filepath.Join(e.stateDir, "metrics.db")
	os.MkdirAll(e.stateDir, 0o700)
	writeAged(t, path, now) // 5 points 3 days old, 3 recent
	e.writeConfig(iniOpts{extra: "\n[metrics]\nretention = 2d\n"})
	p := e.startServe()
	e.waitFor("serve to prune", time.Minute, func() bool { return p.find("metrics retention: pruned", nil) != nil })
	if n := p.find("metrics retention: pruned", nil)["removed"]; n != 5.0 {
		t.Errorf("pruned %v points, want the 5 older than 2d", n)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := agedCount(t, s, now); got[0] != 0 || got[1] < 3 {
		t.Errorf("after serve: %d old, %d recent points; want 0 and the 3 recent", got[0], got[1])
	}
}

// testServeFindsORTLib: serve started in a folder whose .cache/lib/ holds
// the library, with ONNXRUNTIME_LIB unset, loads the model and goes on to
// wait for HAProxy; without it, it exits saying where it looked.
func testServeFindsORTLib(t *testing.T) {
	bin, _ := binaries(t)
	lib := testenv.ONNXRuntime(t)
	model, _ := filepath.Abs(shippedModel)
	for _, withLib := range []bool{true, false} {
		dir := t.TempDir()
		if withLib {
			os.MkdirAll(filepath.Join(dir, ".cache", "lib"), 0o700)
			if err := os.Symlink(lib, filepath.Join(dir, ".cache", "lib", "libonnxruntime.so")); err != nil {
				t.Fatal(err)
			}
		}
		ini := "[service]\nstate_dir = state\ntick = 1s\n\n[forecast]\nmodel = " + model +
			"\n\n[haproxy]\nsockets = " + filepath.Join(dir, "no-haproxy.sock") +
			"\n\n[provider.pool]\nkind = static\naddresses = 127.0.0.1:1\n\n[lb.app]\nbackend = app\nprovider = pool\n"
		os.WriteFile(filepath.Join(dir, "s.ini"), []byte(ini), 0o600)
		cmd := exec.Command(bin, "serve", "--json", "--config", "s.ini")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB=")
		var stderr syncbuf.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if !withLib {
			select {
			case err := <-done:
				if err == nil || !strings.Contains(stderr.String(), "ONNX Runtime library not found (looked at $ONNXRUNTIME_LIB (unset), "+filepath.Join(dir, ".cache")) {
					t.Errorf("without a library: %v, stderr %s", err, stderr.String())
				}
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatalf("serve without a library did not exit: %s", stderr.String())
			}
			continue
		}
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(stderr.String(), "haproxy unreachable; retrying") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("serve with .cache/lib did not get past the model: %s", stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("SIGTERM while waiting for HAProxy: %v", err)
		}
	}
}
