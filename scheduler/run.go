package scheduler

import (
	"context"
	"time"
)

// SystemClock is the wall clock, for Run in production.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Run reconciles, then ticks at aligned multiples of the tick (Prometheus
// style) until ctx is done. A tick that starts late because the previous
// one overran skips the ticks it missed and counts them. The current tick
// always finishes and persists; Run returns nil when ctx is cancelled.
//
// Reconcile runs first; while it fails (HAProxy unreachable at start) no
// tick acts and Reconcile is retried at every tick, the error in the status.
func (s *Scheduler) Run(ctx context.Context, clock Clock) error {
	var reconciled bool
	s.locked(func() { reconciled = s.tryReconcile(ctx, clock.Now()) })
	next := clock.Now().Truncate(s.set.Tick).Add(s.set.Tick)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(next.Sub(clock.Now())):
		}
		// The tick runs to completion even if ctx is cancelled meanwhile:
		// a half-done step is worse than a late shutdown.
		tickCtx := context.WithoutCancel(ctx)
		s.locked(func() {
			if !reconciled {
				reconciled = s.tryReconcile(tickCtx, next)
			} else if err := s.RunOnce(tickCtx, next); err != nil {
				s.log.Error("tick", "at", next, "err", err)
			}
		})
		now := clock.Now()
		after := next.Add(s.set.Tick)
		if missed := int64(now.Sub(after) / s.set.Tick); now.After(after) {
			s.updateStatus(func(st *Status) { st.MissedTicks += missed + 1 })
			s.log.Warn("missed ticks", "count", missed+1, "tick", s.set.Tick)
			after = now.Truncate(s.set.Tick).Add(s.set.Tick)
		}
		next = after
	}
}

// Healthy reports whether a tick completed within the last two ticks: the
// heartbeat for a liveness probe.
func (s *Scheduler) Healthy(now time.Time) bool {
	hb := s.Status().Heartbeat
	return !hb.IsZero() && now.Sub(hb) <= 2*s.set.Tick
}

func (s *Scheduler) tryReconcile(ctx context.Context, now time.Time) bool {
	err := s.Reconcile(ctx, now)
	if err != nil {
		s.log.Error("reconcile", "err", err)
		s.updateStatus(func(st *Status) { st.At, st.Error = now, "reconcile: "+err.Error() })
		return false
	}
	return true
}
