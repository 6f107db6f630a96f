package dpapitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/freeport"
	"github.com/shadowscale/shadowscale/internal/syncbuf"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

// Real is the real Data Plane API v2.9.9 program in front of one HAProxy
// started by haproxytest, configured the way this project deploys it: it
// edits the HAProxy's haproxy.cfg, reaches the worker through the first
// stats socket, owns the map file's folder, and reloads with a script that
// first saves "show servers state" into the server-state file (so drain
// and check results survive a reload) and then sends SIGUSR2 to the master.
type Real struct {
	URL     string // base URL including /v2
	MapName string // the share map's storage name
	Dir     string // the API's own files (transactions, backups, logs)
	bin     string
	h       *haproxytest.HAProxy
	port    int
	cmd     *exec.Cmd
	done    chan struct{}
	log     *syncbuf.Buffer
}

// StartReal starts the API for h and stops it at cleanup. A missing binary
// skips the test, or fails it under SHADOWSCALE_STRICT=1.
func StartReal(t testing.TB, h *haproxytest.HAProxy) *Real {
	t.Helper()
	r, err := StartRealProcess(testenv.DataplaneAPI(t), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("data plane api log (tail):\n%s", tail(r.Log(), 6<<10))
		}
		if err := r.Stop(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// StartRealProcess starts bin in front of h (files under h.Dir/dpapi) and
// waits until it answers; call Stop when done.
func StartRealProcess(bin string, h *haproxytest.HAProxy) (*Real, error) {
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	r := &Real{URL: fmt.Sprintf("http://127.0.0.1:%d/v2", port), MapName: filepath.Base(h.MapFile),
		Dir: filepath.Join(h.Dir, "dpapi"), bin: bin, h: h, port: port}
	if err := r.writeFiles(); err != nil {
		return nil, err
	}
	return r, r.Start()
}

func (r *Real) writeFiles() error {
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return fmt.Errorf("dpapitest: %w", err)
	}
	users := "userlist dataplaneapi\n  user " + User + " insecure-password " + Password + "\n"
	reload := fmt.Sprintf(`#!/bin/sh
# Save the live server states first, so load-server-state-from-file restores
# drain, weights and check results in the new worker.
echo "show servers state" | socat stdio unix-connect:%[1]s > %[2]s.tmp && mv %[2]s.tmp %[2]s
kill -USR2 %[3]d
`, r.h.StatsSocket, r.h.StateFile, r.h.PID())
	for name, text := range map[string]string{"users.cfg": users, "reload.sh": reload} {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(text), 0o700); err != nil {
			return fmt.Errorf("dpapitest: %w", err)
		}
	}
	return nil
}

// Start starts the API (again, after Stop or Kill) and waits until it
// answers an authenticated request.
func (r *Real) Start() error {
	d := r.Dir
	args := []string{"-f", d + "/dataplaneapi.yaml", "--scheme", "http", "--host", "127.0.0.1",
		"--port", strconv.Itoa(r.port), "--haproxy-bin", r.h.Bin, "--config-file", r.h.Config,
		"--userlist", "dataplaneapi", "--userlist-file", d + "/users.cfg",
		"--reload-cmd", d + "/reload.sh", "--restart-cmd", d + "/reload.sh", "--reload-delay", "1",
		"--maps-dir", filepath.Dir(r.h.MapFile), "--transaction-dir", d + "/tx", "--backups-dir", d + "/backups",
		// Every storage folder in the test's dir: the defaults are under /etc/haproxy.
		"--spoe-dir", d + "/spoe", "--spoe-transaction-dir", d + "/spoe-tx", "--ssl-certs-dir", d + "/ssl",
		"--general-storage-dir", d + "/general", "--cluster-tls-dir", d + "/cluster-tls",
		"--log-level", "info"}
	r.log = &syncbuf.Buffer{}
	r.cmd = exec.Command(r.bin, args...)
	r.cmd.Dir = d
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("dpapitest: start %s: %w", r.bin, err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	return r.waitReady(30 * time.Second)
}

func (r *Real) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return fmt.Errorf("dpapitest: data plane api exited during start-up: %s", tail(r.Log(), 2<<10))
		case <-time.After(50 * time.Millisecond):
		}
		if err = r.ping(); err == nil {
			return nil
		}
	}
	_ = r.Stop()
	return fmt.Errorf("dpapitest: data plane api not ready after %s: %v; log: %s", timeout, err, tail(r.Log(), 2<<10))
}

func (r *Real) ping() error { return r.get("/services/haproxy/configuration/version", nil) }

// PendingReloads is how many reloads the API has scheduled or running
// ("in_progress" in its reload list). A change made while a reload runs
// schedules another, even when the new worker already read that change.
func (r *Real) PendingReloads() (int, error) {
	var list []struct{ Status string }
	if err := r.get("/services/haproxy/reloads", &list); err != nil {
		return 0, err
	}
	n := 0
	for _, rl := range list {
		if rl.Status == "in_progress" {
			n++
		}
	}
	return n, nil
}

// get GETs path and decodes the JSON body into out (if not nil).
func (r *Real) get(path string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(User, Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// Stop terminates the API by PID (SIGTERM, SIGKILL after 20 s: its
// graceful shutdown waits up to 15 s for open requests). Safe to call twice.
func (r *Real) Stop() error { return r.signal(syscall.SIGTERM, 20*time.Second) }

// Kill ends the API at once (SIGKILL), as a crash would.
func (r *Real) Kill() error { return r.signal(syscall.SIGKILL, 5*time.Second) }

func (r *Real) signal(sig syscall.Signal, wait time.Duration) error {
	if r.cmd == nil {
		return nil
	}
	select {
	case <-r.done:
		return nil
	default:
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
		return nil
	case <-time.After(wait):
		_ = r.cmd.Process.Kill()
		<-r.done
		return errors.New("dpapitest: data plane api ignored " + sig.String() + "; killed")
	}
}

// Log is what the API printed so far.
func (r *Real) Log() string {
	if r.log == nil {
		return ""
	}
	return r.log.String()
}

var masterReloadsRE = regexp.MustCompile(`(?m)^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]`)

// CountReloads is Reloads for a test: an error fails it, and so does a
// failed reload.
func CountReloads(t testing.TB, h *haproxytest.HAProxy) int {
	t.Helper()
	n, failed, err := Reloads(h)
	if err != nil {
		t.Fatal(err)
	}
	if failed > 0 {
		t.Errorf("haproxy reports %d failed reloads", failed)
	}
	return n
}

// Reloads is HAProxy's own count of reloads (and failed ones) since its
// master started, from "show proc" on the master socket (which the 2.6
// master re-creates at each reload: a refused connection is retried).
func Reloads(h *haproxytest.HAProxy) (reloads, failed int, err error) {
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; {
		if out, err = haproxytest.Command(h.MasterSocket, "show proc"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return 0, 0, err
	}
	m := masterReloadsRE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("dpapitest: no master line in show proc: %q", out)
	}
	reloads, _ = strconv.Atoi(m[1])
	failed, _ = strconv.Atoi(m[2])
	return reloads, failed, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
