package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	stderrTail   = 1 << 10         // bytes of stderr kept for the error message
	stdoutLimit  = 1 << 20         // a hook printing more than this is broken
	hookWaitDone = 2 * time.Second // after exit or kill, wait this long for pipes to close
)

// HookError is a failed exec hook: the command, how it ended and the tail
// of what it wrote on stderr.
type HookError struct {
	Provider string
	Op       string // create | destroy | list
	Command  string
	ExitCode int  // -1 when it did not exit normally
	TimedOut bool // killed (with its process group) after the timeout
	Timeout  time.Duration
	Stderr   string
	Err      error
}

func (e *HookError) Error() string {
	var how string
	switch {
	case e.TimedOut:
		how = fmt.Sprintf("timed out after %s (process group killed)", e.Timeout)
	case e.ExitCode >= 0:
		how = fmt.Sprintf("exit code %d", e.ExitCode)
	default:
		how = e.Err.Error()
	}
	msg := fmt.Sprintf("provider %q: %s command %q: %s", e.Provider, e.Op, e.Command, how)
	if e.Stderr != "" {
		msg += "; stderr: " + e.Stderr
	}
	return msg
}

func (e *HookError) Unwrap() error { return e.Err }

// runHook runs command with /bin/sh -c in its own process group, bounded by
// the provider's timeout; on timeout or cancellation the whole group is
// killed, so a hook's children do not outlive it.
func (b base) runHook(ctx context.Context, op, command string, env ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(append(os.Environ(), "SHADOWSCALE_PROVIDER="+b.name), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = hookWaitDone
	stdout := &capBuffer{max: stdoutLimit}
	stderr := &capBuffer{max: stderrTail, keepTail: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success() {
		err = nil // exited fine, but a child it left behind still holds the pipes
	}
	if err == nil && stdout.overflow {
		err = fmt.Errorf("stdout larger than %d bytes", stdoutLimit)
	}
	if err == nil {
		return stdout.Bytes(), nil
	}
	he := &HookError{Provider: b.name, Op: op, Command: command, ExitCode: -1,
		Timeout: b.cfg.Timeout, Stderr: stderr.tail(), Err: err}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		he.TimedOut = true
		he.Err = fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	} else if ctx.Err() != nil {
		he.Err = fmt.Errorf("%w (process group killed): %v", ctx.Err(), err)
	} else if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		he.ExitCode = cmd.ProcessState.ExitCode()
	}
	return stdout.Bytes(), he
}

// capBuffer keeps at most max bytes: the head, or the tail when keepTail.
// It wraps (not embeds) bytes.Buffer so that io.Copy cannot bypass Write
// through Buffer.ReadFrom.
type capBuffer struct {
	buf      bytes.Buffer
	max      int
	keepTail bool
	overflow bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if c.keepTail {
		c.buf.Write(p)
		if extra := c.buf.Len() - c.max; extra > 0 {
			c.buf.Next(extra)
			c.overflow = true
		}
		return n, nil
	}
	if room := c.max - c.buf.Len(); len(p) > room {
		p = p[:max(room, 0)]
		c.overflow = true
	}
	c.buf.Write(p)
	return n, nil
}

func (c *capBuffer) Bytes() []byte { return c.buf.Bytes() }

// tail is the kept text; when the start was cut, from the next full line.
func (c *capBuffer) tail() string {
	s := c.buf.String()
	if c.overflow {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = "…" + s
	}
	return strings.TrimSpace(s)
}
