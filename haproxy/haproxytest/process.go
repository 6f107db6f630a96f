package haproxytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/internal/freeport"
	"github.com/shadowscale/shadowscale/internal/syncbuf"
)

// HAProxy is one running master-worker HAProxy.
type HAProxy struct {
	Paths
	Bin string
	LB  string
	// Addr is the frontend's 127.0.0.1:PORT.
	Addr   string
	cfg    Config // as started, Port filled in: RestartEmpty starts it again
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *syncbuf.Buffer
}

// StartProcess writes the config into dir (which must exist and be short
// enough for unix socket paths), starts bin in master-worker mode and waits
// until the worker answers on its stats socket and the frontend accepts
// connections. Call Stop when done.
func StartProcess(ctx context.Context, bin, dir string, cfg Config) (*HAProxy, error) {
	if cfg.Port != 0 {
		return startProcess(ctx, bin, dir, cfg)
	}
	// A free port may be taken by another test before HAProxy binds it:
	// pick another and try again.
	var err error
	for range 3 {
		c := cfg
		if c.Port, err = freeport.Get(); err != nil {
			return nil, err
		}
		var h *HAProxy
		if h, err = startProcess(ctx, bin, dir, c); err == nil || !strings.Contains(err.Error(), "failed to start their listeners") {
			return h, err
		}
	}
	return nil, err
}

func startProcess(ctx context.Context, bin, dir string, cfg Config) (*HAProxy, error) {
	conf, mapText, err := Render(cfg, dir)
	if err != nil {
		return nil, err
	}
	p := pathsIn(dir)
	if err := os.WriteFile(p.Config, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("haproxytest: write config: %w", err)
	}
	if err := os.WriteFile(p.MapFile, []byte(mapText), 0o600); err != nil {
		return nil, fmt.Errorf("haproxytest: write map: %w", err)
	}
	if err := os.WriteFile(p.StateFile, nil, 0o600); err != nil {
		return nil, fmt.Errorf("haproxytest: write state file: %w", err)
	}
	h := &HAProxy{Paths: p, Bin: bin, LB: cfg.LB, Addr: fmt.Sprintf("127.0.0.1:%d", cfg.Port), cfg: cfg}
	if h.LB == "" {
		h.LB = "app"
	}
	return h.start(ctx)
}

// StartConfig starts bin on a configuration the caller wrote (such as the
// shipped example) at p.Config, whose stats socket, master socket and
// frontend address (addr) are as given; p.Dir is the working directory.
func StartConfig(ctx context.Context, bin string, p Paths, lb, addr string) (*HAProxy, error) {
	return (&HAProxy{Paths: p, Bin: bin, LB: lb, Addr: addr}).start(ctx)
}

func (h *HAProxy) start(ctx context.Context) (*HAProxy, error) {
	h.done, h.stderr = make(chan struct{}), &syncbuf.Buffer{}
	// -W: master-worker in the foreground, so the child we started is the
	// master and its PID is the one to signal.
	h.cmd = exec.Command(h.Bin, "-W", "-S", h.MasterSocket+",mode,600", "-f", h.Config, "-p", h.PIDFile)
	h.cmd.Dir = h.Dir
	h.cmd.Stdout = h.stderr
	h.cmd.Stderr = h.stderr
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("haproxytest: start %s: %w", h.Bin, err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	if err := h.waitReady(ctx, 10*time.Second); err != nil {
		_ = h.Stop()
		return nil, err
	}
	return h, nil
}

// PID is the master's process id.
func (h *HAProxy) PID() int { return h.cmd.Process.Pid }

// Port is the frontend's port.
func (h *HAProxy) Port() int {
	_, p, _ := net.SplitHostPort(h.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// URL is the frontend's base URL.
func (h *HAProxy) URL() string { return "http://" + h.Addr + "/" }

// ShadowBackend is this instance's shadow backend name.
func (h *HAProxy) ShadowBackend() string { return ShadowBackend(h.LB) }

// Output is what haproxy printed so far (warnings, alerts).
func (h *HAProxy) Output() string { return h.stderr.String() }

func (h *HAProxy) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-h.done:
			return fmt.Errorf("haproxytest: haproxy exited during start-up: %s", strings.TrimSpace(h.stderr.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if _, err = Command(h.StatsSocket, "show info"); err != nil {
			continue
		}
		if _, err = Command(h.MasterSocket, "show proc"); err != nil {
			continue
		}
		var c net.Conn
		if c, err = net.DialTimeout("tcp", h.Addr, time.Second); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("haproxytest: haproxy not ready after %s: %v; output: %s", timeout, err, h.stderr.String())
}

// WorkerPID asks the stats socket for the current worker's PID.
func (h *HAProxy) WorkerPID() (int, error) {
	out, err := Command(h.StatsSocket, "show info")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Pid: "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("haproxytest: no Pid in show info")
}

// Stop terminates the master by PID (SIGTERM, then SIGKILL after 5 s) and
// waits for it to exit. It is safe to call twice.
func (h *HAProxy) Stop() error {
	select {
	case <-h.done:
		return nil
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
		return errors.New("haproxytest: haproxy ignored SIGTERM for 5s; killed")
	}
}

// Command sends one command to an HAProxy CLI socket (stats or master) and
// returns the answer.
func Command(socket, cmd string) (string, error) {
	c, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("haproxytest: dial %s: %w", socket, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		return "", fmt.Errorf("haproxytest: send %q: %w", cmd, err)
	}
	// Half-close: the master CLI waits for more commands until it sees EOF.
	_ = c.(*net.UnixConn).CloseWrite()
	var b bytes.Buffer
	_, err = b.ReadFrom(c)
	return b.String(), err
}
