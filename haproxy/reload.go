package haproxy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/internal/atomicfile"
)

// Reload makes HAProxy re-read its config without dropping connections:
// it dumps the live server states into the state file (so weights, drain
// and maintenance survive), sends "reload" on the master socket (the 2.6
// way; client-native's Reload needs 2.7) and waits until a new worker
// answers on the stats socket. A reload the master reports as failed (bad
// config) is an error naming HAProxy's count of failed reloads.
func (r *Runtime) Reload(ctx context.Context) error {
	if r.cfg.MasterSocket == "" {
		return invalid(r.Name(), "reload", fmt.Errorf("%w: no master socket configured", ErrInvalid))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.saveServerState(ctx); err != nil {
		return err
	}
	oldPID, err := r.workerPID(ctx)
	if err != nil {
		return err
	}
	_, failedBefore, err := r.masterReloads()
	if err != nil {
		return err
	}
	if _, err := masterCommand(r.cfg.MasterSocket, "reload", r.cfg.timeout()); err != nil {
		return &Error{Node: r.Name(), Op: "reload", Command: "reload", Err: classify("", err)}
	}
	return r.waitNewWorker(ctx, oldPID, failedBefore, 15*time.Second)
}

func (r *Runtime) waitNewWorker(ctx context.Context, oldPID, failedBefore int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if _, failed, err := r.masterReloads(); err == nil && failed > failedBefore {
			return &Error{Node: r.Name(), Op: "reload", Command: "reload",
				Message: fmt.Sprintf("master reports %d failed reloads (was %d); the old worker keeps serving", failed, failedBefore), Err: ErrRefused}
		}
		if pid, err := r.workerPID(ctx); err == nil && pid != oldPID {
			r.log.Info("reloaded", "old_worker", oldPID, "new_worker", pid)
			return nil
		}
	}
	return &Error{Node: r.Name(), Op: "reload", Message: fmt.Sprintf("no new worker after %s", timeout), Err: ErrUnavailable}
}

// keepState refreshes the state file after a change, so any reload or
// restart of HAProxy (by shadowscale or by an operator) starts with the
// weights and admin states the change left, and HAProxy finds the file it
// is configured to load. A failure is logged: the live change stands.
func (r *Runtime) keepState(ctx context.Context) {
	if err := r.saveServerState(ctx); err != nil {
		r.log.Warn("server-state file not refreshed", "file", r.cfg.StateFile, "err", err)
	}
}

// saveServerState writes "show servers state" to the state file atomically.
func (r *Runtime) saveServerState(ctx context.Context) error {
	if r.cfg.StateFile == "" {
		return nil
	}
	out, err := r.raw(ctx, "save server state", "show servers state")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(r.cfg.StateFile, []byte(strings.TrimSpace(out)+"\n"), 0o600); err != nil {
		return &Error{Node: r.Name(), Op: "save server state", Err: err}
	}
	return nil
}

func (r *Runtime) workerPID(ctx context.Context) (int, error) {
	out, err := r.raw(ctx, "show info", "show info")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Pid: "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, &Error{Node: r.Name(), Op: "show info", Message: "no Pid line", Err: ErrRefused}
}

// masterLineRE matches the master's line of "show proc":
// "<pid> master <reloads> [failed: <n>] ...".
var masterLineRE = regexp.MustCompile(`(?m)^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]`)

func (r *Runtime) masterReloads() (reloads, failed int, err error) {
	out, err := masterCommand(r.cfg.MasterSocket, "show proc", r.cfg.timeout())
	if err != nil {
		return 0, 0, &Error{Node: r.Name(), Op: "show proc", Command: "show proc", Err: classify("", err)}
	}
	m := masterLineRE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, &Error{Node: r.Name(), Op: "show proc", Message: strings.TrimSpace(out), Err: ErrRefused}
	}
	reloads, _ = strconv.Atoi(m[1])
	failed, _ = strconv.Atoi(m[2])
	return reloads, failed, nil
}

// masterCommand sends one command to the master CLI. client-native's
// master-socket mode is broken on 2.6, so this speaks the CLI directly;
// the half-close tells the master there is nothing more to read.
func masterCommand(socket, cmd string, timeout time.Duration) (string, error) {
	if err := checkSocket(socket); err != nil {
		return "", err
	}
	c, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		return "", err
	}
	_ = c.(*net.UnixConn).CloseWrite()
	var b bytes.Buffer
	_, err = b.ReadFrom(c)
	return b.String(), err
}
