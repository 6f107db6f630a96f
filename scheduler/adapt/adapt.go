// Package adapt fits the concrete HAProxy runtime driver and the instance
// providers to the scheduler's small interfaces, so neither package has to
// know the other.
package adapt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
)

// RuntimeAPI is the part of *haproxy.Runtime the scheduler uses.
type RuntimeAPI interface {
	ListServers(ctx context.Context, backend string) ([]haproxy.ServerStatus, error)
	AddServer(ctx context.Context, backend string, s haproxy.ServerSpec) error
	WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error
	SetState(ctx context.Context, backend, server string, state haproxy.State) error
	RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error
	SetShare(ctx context.Context, lb string, pct int) error
	Stats(ctx context.Context) (haproxy.Stats, error)
}

// Driver adapts a runtime driver to scheduler.Driver.
type Driver struct {
	RT RuntimeAPI
	// RemoveWait bounds RemoveServer's wait for connections (default
	// 500ms): the scheduler itself waits for sessions while draining.
	RemoveWait time.Duration
	// CheckInter is the health-check interval of added servers (default
	// the runtime driver's, 1s).
	CheckInter time.Duration
}

var _ scheduler.Driver = Driver{}

// notFound makes a haproxy "not found" a scheduler.ErrNotFound too.
func notFound(err error) error {
	if errors.Is(err, haproxy.ErrNotFound) {
		return fmt.Errorf("%w: %w", scheduler.ErrNotFound, err)
	}
	return err
}

// ListServers implements scheduler.Driver.
func (d Driver) ListServers(ctx context.Context, backend string) ([]scheduler.Server, error) {
	all, err := d.RT.ListServers(ctx, backend)
	if err != nil {
		return nil, notFound(err)
	}
	out := make([]scheduler.Server, len(all))
	for i, s := range all {
		out[i] = scheduler.Server{
			Name: s.Name, Addr: net.JoinHostPort(s.Addr, strconv.Itoa(s.Port)), State: scheduler.ServerState(s.Admin),
			Healthy: haproxy.Healthy(s.CheckStatus), Pending: haproxy.CheckPending(s.CheckStatus),
			Check: s.CheckStatus, Sessions: s.Sessions + s.Queue,
		}
	}
	return out, nil
}

// AddServer adds the server in MAINT and starts its health checks without
// waiting for them: the scheduler looks at the check status every tick.
func (d Driver) AddServer(ctx context.Context, backend string, s scheduler.ServerSpec) error {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("add server %s: address %q: %w", s.Name, s.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("add server %s: port %q: %w", s.Name, port, err)
	}
	if err := d.RT.AddServer(ctx, backend, haproxy.ServerSpec{Name: s.Name, Addr: host, Port: p, CheckInter: d.CheckInter}); err != nil {
		return err
	}
	return d.EnableHealth(ctx, backend, s.Name)
}

// EnableHealth implements scheduler.Driver. WaitHealthy enables the checks
// first; a millisecond is enough to start them, and "not healthy yet" is
// the expected answer.
func (d Driver) EnableHealth(ctx context.Context, backend, server string) error {
	if err := d.RT.WaitHealthy(ctx, backend, server, time.Millisecond); err != nil && !errors.Is(err, haproxy.ErrNotHealthy) {
		return notFound(err)
	}
	return nil
}

// SetServerState implements scheduler.Driver.
func (d Driver) SetServerState(ctx context.Context, backend, server string, st scheduler.ServerState) error {
	return notFound(d.RT.SetState(ctx, backend, server, haproxy.State(st)))
}

// RemoveServer implements scheduler.Driver.
func (d Driver) RemoveServer(ctx context.Context, backend, server string) error {
	wait := d.RemoveWait
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	return notFound(d.RT.RemoveServer(ctx, backend, server, wait))
}

// SetShare implements scheduler.Driver.
func (d Driver) SetShare(ctx context.Context, lb string, pct int) error {
	return d.RT.SetShare(ctx, lb, pct)
}

// BackendStats reads the backend's row and counts its serving servers.
func (d Driver) BackendStats(ctx context.Context, backend string) (scheduler.BackendStats, error) {
	st, err := d.RT.Stats(ctx)
	if err != nil {
		return scheduler.BackendStats{}, err
	}
	row, ok := st.Row("backend", backend, "")
	if !ok {
		return scheduler.BackendStats{}, fmt.Errorf("backend %s: %w", backend, scheduler.ErrNotFound)
	}
	out := scheduler.BackendStats{
		Requests: row.Requests, Errors: row.Hrsp5xx + row.ConnErrors + row.RespErrors,
		ResponseTime: time.Duration(row.ResponseTimeMs) * time.Millisecond, Sessions: row.Sessions,
	}
	for _, s := range st.Servers {
		if s.Proxy == backend && strings.HasPrefix(s.Status, "UP") {
			out.Serving++
		}
	}
	return out, nil
}

// Provider adapts a provision.Provider to scheduler.Provider.
type Provider struct {
	P provision.Provider
}

var _ scheduler.Provider = Provider{}

// Create implements scheduler.Provider.
func (p Provider) Create(ctx context.Context, n int) ([]scheduler.Instance, error) {
	got, err := p.P.Create(ctx, n)
	return instances(got), err
}

// Destroy destroys each instance by ID; unknown IDs are already gone.
func (p Provider) Destroy(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := p.P.Destroy(ctx, provision.Instance{ID: id, Provider: p.P.Name()}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// List implements scheduler.Provider.
func (p Provider) List(ctx context.Context) ([]scheduler.Instance, error) {
	got, err := p.P.List(ctx)
	return instances(got), err
}

// PricePerHour implements scheduler.Provider.
func (p Provider) PricePerHour() float64 { return p.P.PricePerHour() }

// BootTime implements scheduler.Provider.
func (p Provider) BootTime() time.Duration { return p.P.BootTime() }

func instances(in []provision.Instance) []scheduler.Instance {
	out := make([]scheduler.Instance, len(in))
	for i, x := range in {
		out[i] = scheduler.Instance{ID: x.ID, Addr: x.Addr}
	}
	return out
}
