// Package adapt fits the HAProxy fleet and the instance providers to the
// scheduler's small interfaces, so neither package has to know the other.
package adapt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Driver is the HAProxy fleet as scheduler.Driver: the one place that maps
// the driver's types onto the scheduler's. A single HAProxy is a fleet of
// one node. Errors pass through unchanged: both sides wrap the same
// ErrNotFound.
type Driver struct {
	Fleet *haproxy.Fleet
	// RemoveWait bounds RemoveServer's wait for connections (default
	// 500ms): the scheduler itself waits for sessions while draining.
	RemoveWait time.Duration
	// CheckInter is the health-check interval of added servers (default
	// the runtime driver's, 1s).
	CheckInter time.Duration
	// SlowStart ramps an added server's weight up from 0 over this long
	// once it is ready (HAProxy's slowstart): a server that joins a pool
	// already carrying traffic takes its part gradually, not cold at once.
	SlowStart time.Duration
}

var _ scheduler.Driver = Driver{}

// ListServers implements scheduler.Driver. While a node is unreachable or
// being re-seeded the error says which, and the scheduler holds the pool.
func (d Driver) ListServers(ctx context.Context, backend string) ([]scheduler.Server, error) {
	all, err := d.Fleet.ListServers(ctx, backend)
	if err != nil {
		return nil, err
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

// AddServer adds the server in MAINT on every node and starts its health
// checks without waiting for them: the scheduler looks every tick.
func (d Driver) AddServer(ctx context.Context, backend string, s scheduler.ServerSpec) error {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("add server %s: address %q: %w", s.Name, s.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("add server %s: port %q: %w", s.Name, port, err)
	}
	if err := d.Fleet.AddServer(ctx, backend, haproxy.ServerSpec{Name: s.Name, Addr: host, Port: p, CheckInter: d.CheckInter, SlowStart: d.SlowStart}); err != nil {
		return err
	}
	return d.EnableHealth(ctx, backend, s.Name)
}

// EnableHealth implements scheduler.Driver.
func (d Driver) EnableHealth(ctx context.Context, backend, server string) error {
	return d.Fleet.EnableHealth(ctx, backend, server)
}

// SetServerState implements scheduler.Driver.
func (d Driver) SetServerState(ctx context.Context, backend, server string, st scheduler.ServerState) error {
	return d.Fleet.SetState(ctx, backend, server, haproxy.State(st))
}

// RemoveServer implements scheduler.Driver.
func (d Driver) RemoveServer(ctx context.Context, backend, server string) error {
	wait := d.RemoveWait
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	return d.Fleet.RemoveServer(ctx, backend, server, wait)
}

// SetShare implements scheduler.Driver.
func (d Driver) SetShare(ctx context.Context, lb string, pct int) error {
	return d.Fleet.SetShare(ctx, lb, pct)
}

// BackendStats reads the backend's row summed over the fleet and counts
// its serving servers (StatRow.Serving).
func (d Driver) BackendStats(ctx context.Context, backend string) (scheduler.BackendStats, error) {
	st, err := d.Fleet.Stats(ctx)
	if err != nil {
		return scheduler.BackendStats{}, err
	}
	row, ok := st.Row("backend", backend, "")
	if !ok {
		return scheduler.BackendStats{}, fmt.Errorf("backend %s: %w", backend, scheduler.ErrNotFound)
	}
	out := scheduler.BackendStats{
		Requests: row.Requests, Errors: row.Errors(),
		ResponseTime: time.Duration(row.ResponseTimeMs) * time.Millisecond, Sessions: row.Sessions,
	}
	for _, s := range st.Servers { // merged: UP means up on every node
		if s.Proxy == backend && s.Serving() {
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
