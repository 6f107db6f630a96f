package demoapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Instance is an App serving HTTP on a loopback address.
type Instance struct {
	App  *App
	Addr string // host:port actually bound
	srv  *http.Server
	done chan error
	once sync.Once
	err  error // Serve's result, set once
}

// Start serves a new App on addr, which must be a loopback IP and port
// ("127.0.0.1:0" picks a free port).
func Start(cfg Config, addr string) (*Instance, error) {
	if err := CheckLoopbackAddr(addr); err != nil {
		return nil, err
	}
	app, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demoapp %s: listen %s: %w", cfg.Name, addr, err)
	}
	in := &Instance{
		App:  app,
		Addr: ln.Addr().String(),
		srv:  &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { in.done <- in.srv.Serve(ln) }()
	return in, nil
}

// Port is the bound TCP port.
func (in *Instance) Port() int {
	_, p, _ := net.SplitHostPort(in.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Kill stops serving abruptly: the listener and every connection close at
// once, in-flight requests are lost (what a crashed process does).
// It is safe to call more than once.
func (in *Instance) Kill() error {
	err := in.srv.Close()
	in.wait()
	return err
}

func (in *Instance) wait() error {
	in.once.Do(func() { in.err = <-in.done })
	return in.err
}

// Shutdown stops accepting and waits for in-flight requests.
func (in *Instance) Shutdown(ctx context.Context) error {
	err := in.srv.Shutdown(ctx)
	if serr := in.wait(); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// CheckLoopbackAddr refuses a listen address whose host is not a loopback IP.
func CheckLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demoapp: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("demoapp: listen address %q: host must be a loopback IP such as 127.0.0.1", addr)
	}
	return nil
}
