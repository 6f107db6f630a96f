package haproxytest

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Kill ends HAProxy at once, as a crash would: SIGKILL to the master and
// its current worker (a worker outliving its master would keep the port).
func (h *HAProxy) Kill() error {
	worker, _ := h.WorkerPID()
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	if worker > 0 {
		_ = syscall.Kill(worker, syscall.SIGKILL)
	}
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		return fmt.Errorf("haproxytest: master %d still running 5s after SIGKILL", h.PID())
	}
	// The worker is not our child: wait until its PID is gone.
	for deadline := time.Now().Add(5 * time.Second); worker > 0 && syscall.Kill(worker, 0) == nil; {
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxytest: worker %d still running 5s after SIGKILL", worker)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// RestartEmpty starts HAProxy again in the same directory, on the same
// port, from the configuration it was first started with: the servers and
// the share added at run time are gone, as after a restart from a config
// that never persisted them. The old process must have ended (Stop, Kill).
func (h *HAProxy) RestartEmpty(ctx context.Context) (*HAProxy, error) {
	select {
	case <-h.done:
	default:
		return nil, fmt.Errorf("haproxytest: restart of a running haproxy (pid %d)", h.PID())
	}
	return StartProcess(ctx, h.Bin, h.Dir, h.cfg)
}
