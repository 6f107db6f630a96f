package ha

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shadowscale/shadowscale/scheduler"
)

// Driver fences a scheduler.Driver: every change is refused unless the
// replica may act (the lease proven live with margin), and logged with the
// replica that made it; reads pass through, so followers observe.
type Driver struct {
	scheduler.Driver
	R   *Replica
	Log *slog.Logger
}

var _ scheduler.Driver = Driver{}

func (d Driver) act(op string, f func() error) error {
	if !d.R.Acting() {
		return fmt.Errorf("haproxy %s: replica %s: %w", op, d.R.ID(), ErrNotLeader)
	}
	err := f()
	d.Log.Info("haproxy change", "replica", d.R.ID(), "op", op, "ok", err == nil)
	return err
}

// AddServer implements scheduler.Driver.
func (d Driver) AddServer(ctx context.Context, backend string, s scheduler.ServerSpec) error {
	return d.act("add "+backend+"/"+s.Name, func() error { return d.Driver.AddServer(ctx, backend, s) })
}

// EnableHealth implements scheduler.Driver.
func (d Driver) EnableHealth(ctx context.Context, backend, server string) error {
	return d.act("enable health "+backend+"/"+server, func() error { return d.Driver.EnableHealth(ctx, backend, server) })
}

// SetServerState implements scheduler.Driver.
func (d Driver) SetServerState(ctx context.Context, backend, server string, st scheduler.ServerState) error {
	return d.act(fmt.Sprintf("state %s/%s %s", backend, server, st), func() error {
		return d.Driver.SetServerState(ctx, backend, server, st)
	})
}

// RemoveServer implements scheduler.Driver.
func (d Driver) RemoveServer(ctx context.Context, backend, server string) error {
	return d.act("remove "+backend+"/"+server, func() error { return d.Driver.RemoveServer(ctx, backend, server) })
}

// SetShare implements scheduler.Driver.
func (d Driver) SetShare(ctx context.Context, lb string, pct int) error {
	return d.act(fmt.Sprintf("share %s %d", lb, pct), func() error { return d.Driver.SetShare(ctx, lb, pct) })
}

// Provider fences a scheduler.Provider's Create and Destroy the same way.
type Provider struct {
	scheduler.Provider
	R *Replica
}

var _ scheduler.Provider = Provider{}

// Create implements scheduler.Provider.
func (p Provider) Create(ctx context.Context, n int) ([]scheduler.Instance, error) {
	if !p.R.Acting() {
		return nil, fmt.Errorf("create instances: replica %s: %w", p.R.ID(), ErrNotLeader)
	}
	return p.Provider.Create(ctx, n)
}

// Destroy implements scheduler.Provider.
func (p Provider) Destroy(ctx context.Context, ids []string) error {
	if !p.R.Acting() {
		return fmt.Errorf("destroy instances: replica %s: %w", p.R.ID(), ErrNotLeader)
	}
	return p.Provider.Destroy(ctx, ids)
}
