package haproxy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout bounds one runtime command when NodeConfig.Timeout is 0.
const DefaultTimeout = 5 * time.Second

func (c NodeConfig) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// bounded runs one client-native call and gives up after timeout or when
// ctx ends. client-native keeps its own 30 s socket deadline and, on a
// socket that accepts but never answers, returns an empty answer with no
// error; so the call runs in a goroutine that is abandoned (it ends within
// client-native's deadline) and the caller gets ErrUnavailable at once.
func bounded[T any](ctx context.Context, timeout time.Duration, call func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		// client-native panics on some answers (GetStats slices an empty
		// one, as a socket closed mid-command gives): an error, not a crash.
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("%w: client-native panicked on the answer: %v", ErrUnavailable, p)}
			}
		}()
		v, err := call()
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	var zero T
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-t.C:
		return zero, fmt.Errorf("%w: no answer within %s ([haproxy] timeout)", ErrUnavailable, timeout)
	}
}

// call bounds a client-native call that returns only an error.
func (r *Runtime) call(ctx context.Context, f func() error) error {
	_, err := bounded(ctx, r.cfg.timeout(), func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// timedOut reports an error from bounded itself (no answer, or ctx done),
// which must not be classified from HAProxy's text.
func timedOut(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
