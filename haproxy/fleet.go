package haproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// Fleet is several HAProxy nodes serving one load balancer (active-active),
// answering as one:
//
//   - Writes go to every node in order; when one fails, the nodes already
//     changed are rolled back (newest first) and the *FleetError names the
//     failed node. A server already gone on some nodes is skipped there
//     ("already gone" on one node never stops the others); ErrNotFound
//     only when it is gone on every node.
//   - Reads need every node: one unreachable node makes the read fail with
//     an error naming it, so a caller never acts on part of the fleet.
//     A server is healthy only when its check passes on every node;
//     sessions, queues and stats counters are summed over the nodes.
//   - A node that comes back without servers the others have (restarted
//     empty) is re-seeded by ListServers: each missing server whose copies
//     are healthy elsewhere is added there in MAINT with its checks on, and
//     set to the others' admin state only once its check passes there.
//     Until then ListServers answers ErrDegraded naming the node and the
//     server. When the node answers again, the last share set is re-applied
//     to it once it has nothing left to re-gate.
type Fleet struct {
	nodes []Node
	log   *slog.Logger

	heal   sync.Mutex            // one re-seed or share re-sync at a time
	mu     sync.Mutex            // guards the maps below
	specs  map[string]ServerSpec // backend/server → as added, to re-seed it
	shares map[string]int        // lb → the share last set on every node
	regate map[string]bool       // node/backend/server re-added, not yet gated
	stale  map[string]bool       // node that failed to answer; its share needs re-applying
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
	s := fmt.Sprintf("haproxy fleet: %s failed on node %s: %v", e.Op, e.Node, e.Err)
	if len(e.RolledBack) > 0 {
		s += fmt.Sprintf("; rolled back %v", e.RolledBack)
	}
	if e.RollbackErr != nil {
		s += fmt.Sprintf("; rollback failed: %v", e.RollbackErr)
	}
	return s
}

func (e *FleetError) Unwrap() error { return e.Err }

// NewFleet groups nodes; it needs at least one, with distinct names.
func NewFleet(log *slog.Logger, nodes ...Node) (*Fleet, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("haproxy fleet: %w: no nodes", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n.Name()] {
			return nil, fmt.Errorf("haproxy fleet: %w: two nodes named %q", ErrInvalid, n.Name())
		}
		seen[n.Name()] = true
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fleet{nodes: nodes, log: log, specs: map[string]ServerSpec{}, shares: map[string]int{}, regate: map[string]bool{}, stale: map[string]bool{}}, nil
}

// Nodes returns the fleet's nodes.
func (f *Fleet) Nodes() []Node { return f.nodes }

type undoFunc func(context.Context) error

// how a change treats a node where the server is already gone.
type goneRule int

const (
	goneFails      goneRule = iota // ErrNotFound is a failure like any other
	goneSkips                      // skip that node; ErrNotFound only if gone everywhere
	goneEverywhere                 // skip only if gone on every node, else ErrDegraded
)

// apply runs change on every node; on a failure it runs the undo functions
// of the nodes already changed, newest first.
func (f *Fleet) apply(ctx context.Context, op string, rule goneRule, change func(Node) (undoFunc, error)) error {
	var undos []undoFunc
	var done, gone []string
	for _, n := range f.nodes {
		undo, err := change(n)
		switch {
		case err == nil:
			undos, done = append(undos, undo), append(done, n.Name())
			continue
		case rule != goneFails && errors.Is(err, ErrNotFound):
			gone = append(gone, n.Name())
			continue
		}
		f.noteDown(n, err)
		return f.rollback(ctx, &FleetError{Op: op, Node: n.Name(), Err: err}, undos, done)
	}
	switch {
	case len(gone) == len(f.nodes):
		return &FleetError{Op: op, Node: strings.Join(gone, ","), Err: fmt.Errorf("%w on every node", ErrNotFound)}
	case len(gone) > 0 && rule == goneEverywhere:
		err := fmt.Errorf("%w: missing there while present on %s (being re-seeded)", ErrDegraded, strings.Join(done, ","))
		return f.rollback(ctx, &FleetError{Op: op, Node: strings.Join(gone, ","), Err: err}, undos, done)
	}
	return nil
}

func (f *Fleet) rollback(ctx context.Context, fe *FleetError, undos []undoFunc, done []string) error {
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
	// The caller gets the error and decides; only a failed rollback,
	// which leaves the fleet split, is worth an ERROR here.
	lvl := slog.LevelInfo
	if fe.RollbackErr != nil {
		lvl = slog.LevelError
	}
	f.log.Log(ctx, lvl, "fleet change not applied", "op", fe.Op, "node", fe.Node, "err", fe.Err, "rolled_back", fe.RolledBack, "rollback_err", fe.RollbackErr)
	return fe
}

// noteDown remembers a node that did not answer, so its share is
// re-applied once it answers again.
func (f *Fleet) noteDown(n Node, err error) {
	if errors.Is(err, ErrUnavailable) {
		f.mu.Lock()
		f.stale[n.Name()] = true
		f.mu.Unlock()
	}
}

// AddServer adds the server on every node (rollback: delete it).
func (f *Fleet) AddServer(ctx context.Context, backend string, s ServerSpec) error {
	f.mu.Lock()
	f.specs[backend+"/"+s.Name] = s
	f.mu.Unlock()
	return f.apply(ctx, "add server "+backend+"/"+s.Name, goneFails, func(n Node) (undoFunc, error) {
		return func(ctx context.Context) error { return n.RemoveServer(ctx, backend, s.Name, 5*time.Second) },
			n.AddServer(ctx, backend, s)
	})
}

// EnableHealth starts the server's checks on every node that has it.
func (f *Fleet) EnableHealth(ctx context.Context, backend, server string) error {
	return f.apply(ctx, "enable health "+backend+"/"+server, goneSkips, func(n Node) (undoFunc, error) {
		return nil, n.EnableHealth(ctx, backend, server)
	})
}

// WaitHealthy waits until the server is healthy on every node.
func (f *Fleet) WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error {
	return f.apply(ctx, "wait healthy "+backend+"/"+server, goneFails, func(n Node) (undoFunc, error) {
		return nil, n.WaitHealthy(ctx, backend, server, timeout)
	})
}

// SetWeight sets the weight on every node that has the server (rollback:
// the previous weight); a re-seeded copy takes the weight of the others.
func (f *Fleet) SetWeight(ctx context.Context, backend, server string, weight int) error {
	return f.apply(ctx, fmt.Sprintf("set weight %s/%s %d", backend, server, weight), goneSkips, func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetWeight(ctx, backend, server, old.Weight) },
			n.SetWeight(ctx, backend, server, weight)
	})
}

// SetState sets the admin state on every node (rollback: the previous
// one). MAINT skips nodes where the server is gone (it serves nothing
// there); ready or drain on a fleet where some node lacks the server is
// refused with ErrDegraded, so no state runs ahead on part of the fleet.
func (f *Fleet) SetState(ctx context.Context, backend, server string, state State) error {
	rule := goneEverywhere
	if state == StateMaint {
		rule = goneSkips
	}
	return f.apply(ctx, fmt.Sprintf("set state %s/%s %s", backend, server, state), rule, func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetState(ctx, backend, server, old.Admin) },
			n.SetState(ctx, backend, server, state)
	})
}

// SetShare sets the shadow share on every node (rollback: the previous
// share, or 0 where the map had no key for lb yet: a new load balancer).
func (f *Fleet) SetShare(ctx context.Context, lb string, pct int) error {
	err := f.apply(ctx, fmt.Sprintf("set share %s %d%%", lb, pct), goneFails, func(n Node) (undoFunc, error) {
		old, err := n.Share(ctx, lb)
		if errors.Is(err, ErrNotFound) {
			old, err = 0, nil
		}
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return n.SetShare(ctx, lb, old) }, n.SetShare(ctx, lb, pct)
	})
	if err == nil {
		f.mu.Lock()
		f.shares[lb] = pct
		f.mu.Unlock()
	}
	return err
}

// RemoveServer removes the server from every node that has it (rollback:
// add it back with its address and weight, check it, and restore its
// admin state).
func (f *Fleet) RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error {
	err := f.apply(ctx, "remove server "+backend+"/"+server, goneSkips, func(n Node) (undoFunc, error) {
		old, err := n.Server(ctx, backend, server)
		if err != nil {
			return nil, err
		}
		return restoreServer(n, backend, old), n.RemoveServer(ctx, backend, server, wait)
	})
	if err == nil || errors.Is(err, ErrNotFound) {
		f.mu.Lock()
		for _, n := range f.nodes {
			delete(f.regate, regateKey(n, backend, server))
		}
		delete(f.specs, backend+"/"+server)
		f.mu.Unlock()
	}
	return err
}

func restoreServer(n Node, backend string, old ServerStatus) undoFunc {
	return func(ctx context.Context) error {
		spec := ServerSpec{Name: old.Name, Addr: old.Addr, Port: old.Port, Weight: max(old.Weight, 1)}
		if err := n.AddServer(ctx, backend, spec); err != nil {
			return err
		}
		if old.Admin == StateMaint {
			return n.EnableHealth(ctx, backend, old.Name)
		}
		if err := n.WaitHealthy(ctx, backend, old.Name, 10*time.Second); err != nil {
			return err
		}
		return n.SetState(ctx, backend, old.Name, old.Admin)
	}
}

// Reload reloads every node; a failure names the node (there is nothing to
// roll back: reloaded nodes run the same, persisted configuration).
func (f *Fleet) Reload(ctx context.Context) error {
	return f.apply(ctx, "reload", goneFails, func(n Node) (undoFunc, error) { return nil, n.Reload(ctx) })
}
