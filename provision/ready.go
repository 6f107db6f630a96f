package provision

import (
	"context"
	"fmt"
	"net"
	"time"
)

const pollInterval = 50 * time.Millisecond

// reachable reports whether addr accepts a TCP connection within timeout.
func reachable(ctx context.Context, addr string, timeout time.Duration) bool {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// waitReachable polls addr until it accepts a TCP connection, ctx ends,
// the deadline passes, or gone (may be nil) is closed (the process died).
func waitReachable(ctx context.Context, addr string, deadline time.Time, gone <-chan struct{}) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if reachable(ctx, addr, time.Second) {
			return nil
		}
		select {
		case <-gone:
			return fmt.Errorf("%w: %s: the process exited", ErrNotReady, addr)
		case <-ctx.Done():
			return fmt.Errorf("%w: %s did not accept connections in time: %v", ErrNotReady, addr, context.Cause(ctx))
		case <-t.C:
		}
	}
}
