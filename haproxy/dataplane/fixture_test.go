package dataplane

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

// newFake starts a spec-validating fake API and a driver for it with fast
// retries.
func newFake(t *testing.T) (*dpapitest.Fake, *DataPlane) {
	t.Helper()
	f := dpapitest.New(t)
	d, err := New(Config{Name: "fake", URL: f.URL, User: dpapitest.User, Password: dpapitest.Password,
		MapName: dpapitest.MapName, Timeout: 5 * time.Second, RetryDelay: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantErr checks err against a sentinel (nil: success) and that it is a
// *haproxy.Error.
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
	var he *haproxy.Error
	if !errors.As(err, &he) {
		t.Fatalf("error %T is not a *haproxy.Error", err)
	}
}

func spec(name string, port int) haproxy.ServerSpec {
	return haproxy.ServerSpec{Name: name, Addr: "127.0.0.1", Port: port}
}

// DataPlane offers the same methods as the runtime driver, so a fleet can
// mix them and callers can take either.
var _ haproxy.Node = (*DataPlane)(nil)
