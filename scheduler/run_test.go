package scheduler

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// stepClock fires every After at once, moving its time to the deadline;
// slow makes each tick "take" that long, to provoke missed ticks.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	slow time.Duration
	seen []time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.seen = append(c.seen, c.now)
	c.now = c.now.Add(c.slow) // the tick that follows takes this long
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestRunAlignedTicks(t *testing.T) {
	for _, c := range []struct {
		name   string
		slow   time.Duration
		missed int64
	}{{"on time", 0, 0}, {"overrunning", 150 * time.Second, 4}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testSettings(), step(150, 150, 0, 0))
			clock := &stepClock{now: t0.Add(17 * time.Second), slow: c.slow}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- h.sch.Run(ctx, clock) }()
			for h.sch.Status().Ticks < 3 {
				time.Sleep(time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			st := h.sch.Status()
			if !st.At.Equal(st.At.Truncate(time.Minute)) {
				t.Errorf("tick at %s is not aligned to the minute", st.At)
			}
			if c.missed == 0 && st.MissedTicks != 0 || c.missed > 0 && st.MissedTicks < 2 {
				t.Errorf("missed ticks %d", st.MissedTicks)
			}
			if !h.sch.Healthy(st.Heartbeat.Add(time.Minute)) || h.sch.Healthy(st.Heartbeat.Add(5*time.Minute)) {
				t.Error("heartbeat health wrong")
			}
			if _, err := json.Marshal(st); err != nil {
				t.Errorf("status does not serialise: %v", err)
			}
		})
	}
}
