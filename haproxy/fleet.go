package haproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Node is one HAProxy as a driver sees it: *Runtime (runtime API) and
// dataplane.DataPlane (Data Plane API) both implement it.
type Node interface {
	Name() string
	ListServers(ctx context.Context, backend string) ([]ServerStatus, error)
	Server(ctx context.Context, backend, server string) (ServerStatus, error)
	AddServer(ctx context.Context, backend string, s ServerSpec) error
	// EnableHealth (re)starts the server's health checks without changing
	// its admin state; it is idempotent.
	EnableHealth(ctx context.Context, backend, server string) error
	WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error
	SetWeight(ctx context.Context, backend, server string, weight int) error
	SetState(ctx context.Context, backend, server string, state State) error
	RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error
	SetShare(ctx context.Context, lb string, pct int) error
	Share(ctx context.Context, lb string) (int, error)
	Stats(ctx context.Context) (Stats, error)
	Reload(ctx context.Context) error
}

var _ Node = (*Runtime)(nil)

// Fleet is several HAProxy nodes serving one load balancer
// (active-active). Every change applies to all nodes in order; when one
// fails, the nodes already changed are rolled back (in reverse order) and
// the returned *FleetError names the failed node.
type Fleet struct {
	nodes []Node
	log   *slog.Logger
}

// FleetError reports a change that failed on one node.
type FleetError struct {
	Op         string
	Node       string   // the node that failed
	Err        error    // its error
	RolledBack []string // nodes restored to their previous state
	// RollbackErr is set when restoring some node failed too.
	RollbackErr error
}

func (e *FleetError) Error() string {
	s := fmt.Sprintf("haproxy fleet: %s failed on node %s: %v; rolled back %v", e.Op, e.Node, e.Err, e.RolledBack)
	if e.RollbackErr != nil {
		s += fmt.Sprintf("; rollback failed: %v", e.RollbackErr)
	}
	return s
}

func (e *FleetError) Unwrap() error { return e.Err }

// NewFleet groups nodes; it needs at least one.
func NewFleet(log *slog.Logger, nodes ...Node) (*Fleet, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("haproxy fleet: %w: no nodes", ErrInvalid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fleet{nodes: nodes, log: log}, nil
}

// Nodes returns the fleet's nodes.
func (f *Fleet) Nodes() []Node { return f.nodes }

type undoFunc func(context.Context) error

// apply runs change on every node; on the first failure it runs the undo
// functions of the nodes already changed, newest first.
func (f *Fleet) apply(ctx context.Context, op string, change func(Node) (undoFunc, error)) error {
	var undos []undoFunc
	var done []string
	for _, n := range f.nodes {
		undo, err := change(n)
		if err == nil {
			undos, done = append(undos, undo), append(done, n.Name())
			continue
		}
		fe := &FleetError{Op: op, Node: n.Name(), Err: err}
		// Roll back even if ctx is done: a half-applied fleet is worse.
		rctx := context.WithoutCancel(ctx)
		var rbErrs []error
		for i := len(undos) - 1; i >= 0; i-- {
			if undos[i] == nil {
				continue
			}
			if uerr := undos[i](rctx); uerr != nil {
				rbErrs = append(rbErrs, fmt.Errorf("node %s: %w", done[i], uerr))
				continue
			}
			fe.RolledBack = append(fe.RolledBack, done[i])
		}
		fe.RollbackErr = errors.Join(rbErrs...)
		f.log.Error("fleet change failed", "op", op, "node", n.Name(), "err", err, "rolled_back", fe.RolledBack)
		return fe
	}
	return nil
}

// AddServer adds the server on every node (rollback: delete it).
func (f *Fleet) AddServer(ctx context.Context, backend string, s ServerSpec) error {
	return f.apply(ctx, "add server "+backend+"/"+s.Name, func(n Node) (undoFunc, error) {
		return func(ctx context.Context) error { return n.RemoveServer(ctx, backend, s.Name, 5*time.Second) },
			n.AddServer(ctx, backend, s)
	})
}

// WaitHealthy waits until the server is healthy on every node.
func (f *Fleet) WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error {
	return f.apply(ctx, "wait healthy "+backend+"/"+server, func(n Node) (undoFunc, error) {
		return nil, n.WaitHealthy(ctx, backend, server, timeout)
	})
}

// SetWeight sets the weight on every node (rollback: the previous weight).
func (f *Fleet) SetWeight(ctx context.Context, backend, server string, weight int) error {
	return f.apply(ctx, fmt.Sprintf("set weight %s/%s %d", backend, server, weight), func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetWeight(ctx, backend, server, old.Weight) },
			n.SetWeight(ctx, backend, server, weight)
	})
}

// SetState sets the admin state on every node (rollback: the previous one).
func (f *Fleet) SetState(ctx context.Context, backend, server string, state State) error {
	return f.apply(ctx, fmt.Sprintf("set state %s/%s %s", backend, server, state), func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetState(ctx, backend, server, old.Admin) },
			n.SetState(ctx, backend, server, state)
	})
}

// SetShare sets the shadow share on every node (rollback: the previous share).
func (f *Fleet) SetShare(ctx context.Context, lb string, pct int) error {
	return f.apply(ctx, fmt.Sprintf("set share %s %d%%", lb, pct), func(n Node) (undoFunc, error) {
		old, err := n.Share(ctx, lb)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetShare(ctx, lb, old) }, n.SetShare(ctx, lb, pct)
	})
}

// RemoveServer removes the server from every node (rollback: add it back
// with its address and weight, check it, and restore its admin state).
func (f *Fleet) RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error {
	return f.apply(ctx, "remove server "+backend+"/"+server, func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		undo := func(ctx context.Context) error {
			spec := ServerSpec{Name: server, Addr: old.Addr, Port: old.Port, Weight: max(old.Weight, 1)}
			if err := n.AddServer(ctx, backend, spec); err != nil {
				return err
			}
			if old.Admin == StateMaint {
				return nil
			}
			if err := n.WaitHealthy(ctx, backend, server, 10*time.Second); err != nil {
				return err
			}
			return n.SetState(ctx, backend, server, old.Admin)
		}
		return undo, n.RemoveServer(ctx, backend, server, wait)
	})
}

// Reload reloads every node; a failure names the node (there is nothing to
// roll back: reloaded nodes run the same, persisted configuration).
func (f *Fleet) Reload(ctx context.Context) error {
	return f.apply(ctx, "reload", func(n Node) (undoFunc, error) { return nil, n.Reload(ctx) })
}

// ListServers lists the backend's servers as the first node sees them.
func (f *Fleet) ListServers(ctx context.Context, backend string) ([]ServerStatus, error) {
	return f.nodes[0].ListServers(ctx, backend)
}

// Share reads the shadow share from the first node.
func (f *Fleet) Share(ctx context.Context, lb string) (int, error) { return f.nodes[0].Share(ctx, lb) }

// Stats reads every node's stats.
func (f *Fleet) Stats(ctx context.Context) ([]Stats, error) {
	out := make([]Stats, 0, len(f.nodes))
	for _, n := range f.nodes {
		s, err := n.Stats(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
