package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// List returns the instances whose process is still the one started; a
// record whose process died (or whose PID now belongs to another process)
// is dropped.
func (l *local) List(ctx context.Context) ([]Instance, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Instance, 0, len(l.state.Instances))
	changed := false
	for id, p := range l.state.Instances {
		if l.starting[id] {
			continue // being launched by this provider right now
		}
		if p.PID == 0 { // a crash between recording and launching
			if p.PID, p.StartTicks = findByArgv(p.Argv); p.PID != 0 {
				l.state.Instances[id] = p
				changed = true
			}
		}
		if !isProcess(p.PID, p.StartTicks, p.Argv) {
			delete(l.state.Instances, id)
			os.Remove(p.Meta["log"])
			changed = true
			continue
		}
		out = append(out, p.Instance)
	}
	if changed {
		if err := l.rec.Save(l.state); err != nil {
			return nil, l.errorf("list: %w", err)
		}
	}
	sortInstances(out)
	return cloneAll(out), nil
}

// Destroy stops the instance's process group: SIGTERM, then SIGKILL after
// a grace period. An unknown instance or a process already gone is fine.
func (l *local) Destroy(ctx context.Context, inst Instance) error {
	l.mu.Lock()
	p, ok := l.state.Instances[inst.ID]
	done := l.children[p.PID]
	l.mu.Unlock()
	if !ok {
		return nil
	}
	if p.PID == 0 { // recorded, then a crash before the PID was saved
		p.PID, p.StartTicks = findByArgv(p.Argv)
	}
	if err := l.stop(ctx, p, done); err != nil {
		return l.errorf("destroy %s: %w", inst.ID, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.state.Instances, inst.ID)
	if err := l.rec.Save(l.state); err != nil {
		return l.errorf("destroy %s: %w", inst.ID, err)
	}
	os.Remove(p.Meta["log"])
	return nil
}

func (l *local) stop(ctx context.Context, p localProc, done <-chan struct{}) error {
	gone := func() bool { return !isProcess(p.PID, p.StartTicks, p.Argv) }
	if gone() {
		return nil
	}
	if err := signalGroup(p.PID, syscall.SIGTERM); err != nil {
		return err
	}
	if waitGone(ctx, gone, done, stopGrace) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stop pid %d: %w", p.PID, err)
	}
	if err := signalGroup(p.PID, syscall.SIGKILL); err != nil {
		return err
	}
	if waitGone(context.WithoutCancel(ctx), gone, done, stopGrace) {
		return nil
	}
	return errors.New("pid " + fmt.Sprint(p.PID) + " still running after SIGKILL")
}

// waitGone polls until gone() holds, done (the reaper, may be nil) closes,
// ctx ends or timeout passes; it reports whether the process is gone.
func waitGone(ctx context.Context, gone func() bool, done <-chan struct{}, timeout time.Duration) bool {
	t := time.NewTicker(pollInterval / 2)
	defer t.Stop()
	stop := time.After(timeout)
	for !gone() {
		select {
		case <-done:
			return true
		case <-ctx.Done():
			return gone()
		case <-stop:
			return gone()
		case <-t.C:
		}
	}
	return true
}
