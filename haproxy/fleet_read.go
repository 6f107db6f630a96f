package haproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// StateMixed is the merged admin state of a server whose nodes disagree
// (e.g. a crash between two nodes' changes); setting any real state on the
// fleet makes them agree again.
const StateMixed State = "mixed"

// CheckMissing is the merged check status of a server that some node
// lacks and that is not (yet) being re-seeded there.
const CheckMissing = "MISSING"

// nodeRead is one node's answer to a read.
type nodeRead[T any] struct {
	node Node
	v    T
}

// readAll asks every node; the first that fails makes the read fail,
// naming it.
func readAll[T any](ctx context.Context, f *Fleet, op string, read func(Node) (T, error)) ([]nodeRead[T], error) {
	out := make([]nodeRead[T], 0, len(f.nodes))
	for _, n := range f.nodes {
		v, err := read(n)
		if err != nil {
			f.noteDown(n, err)
			return nil, &FleetError{Op: op, Node: n.Name(), Err: err}
		}
		out = append(out, nodeRead[T]{n, v})
	}
	return out, nil
}

// ListServers lists the backend's servers over the fleet (see Fleet for
// the merge), re-seeding and re-gating nodes that lack servers. It answers
// the merged list with an error wrapping ErrDegraded while some node is
// being re-gated.
func (f *Fleet) ListServers(ctx context.Context, backend string) ([]ServerStatus, error) {
	reads, err := readAll(ctx, f, "list servers of "+backend, func(n Node) ([]ServerStatus, error) { return n.ListServers(ctx, backend) })
	if err != nil {
		return nil, err
	}
	pending, err := f.reseed(ctx, backend, reads)
	f.resyncShares(ctx)
	merged := mergeServers(reads)
	if err != nil {
		return merged, err
	}
	if len(pending) > 0 {
		return merged, fmt.Errorf("haproxy fleet: %w: %s", ErrDegraded, strings.Join(pending, "; "))
	}
	return merged, nil
}

// Server returns one server as the fleet sees it (ErrNotFound when no node
// has it).
func (f *Fleet) Server(ctx context.Context, backend, server string) (ServerStatus, error) {
	all, err := f.ListServers(ctx, backend)
	for _, s := range all {
		if s.Name == server {
			return s, err
		}
	}
	if err != nil {
		return ServerStatus{}, err
	}
	return ServerStatus{}, fmt.Errorf("haproxy fleet: server %s/%s: %w", backend, server, ErrNotFound)
}

// mergeServers joins the nodes' lists by server name, in first-seen order.
func mergeServers(reads []nodeRead[[]ServerStatus]) []ServerStatus {
	var order []string
	per := map[string][]ServerStatus{}
	for _, r := range reads {
		for _, s := range r.v {
			if per[s.Name] == nil {
				order = append(order, s.Name)
			}
			per[s.Name] = append(per[s.Name], s)
		}
	}
	out := make([]ServerStatus, 0, len(order))
	for _, name := range order {
		out = append(out, mergeServer(reads, name, per[name]))
	}
	return out
}

// mergeServer: the worst check wins (failing over pending over passing),
// prefixed with its node; admin states that differ are StateMixed.
func mergeServer(reads []nodeRead[[]ServerStatus], name string, copies []ServerStatus) ServerStatus {
	m := copies[0]
	m.Sessions, m.Queue = 0, 0
	worst := -1
	for _, r := range reads {
		s, ok := find(r.v, name)
		if !ok {
			m.CheckStatus, m.CheckDesc, m.Status, m.Operational = CheckMissing, "not on node "+r.node.Name(), "MISSING", "down"
			worst = 3
			continue
		}
		m.Sessions, m.Queue = m.Sessions+s.Sessions, m.Queue+s.Queue
		if s.Admin != m.Admin {
			m.Admin = StateMixed
		}
		if rank := checkRank(s.CheckStatus); rank > worst {
			worst = rank
			m.CheckStatus, m.Status, m.Operational = s.CheckStatus, s.Status, s.Operational
			m.CheckDesc = s.CheckDesc
			if len(reads) > 1 {
				m.CheckDesc = "node " + r.node.Name() + ": " + s.CheckDesc
			}
		}
	}
	return m
}

func checkRank(check string) int {
	switch {
	case Healthy(check):
		return 0
	case CheckPending(check):
		return 1
	}
	return 2
}

func find(list []ServerStatus, name string) (ServerStatus, bool) {
	for _, s := range list {
		if s.Name == name {
			return s, true
		}
	}
	return ServerStatus{}, false
}

// Share reads lb's shadow share; the nodes must agree (ErrDegraded names
// them when not; ErrNotFound when no node's map has the key).
func (f *Fleet) Share(ctx context.Context, lb string) (int, error) {
	reads, err := readAll(ctx, f, "get share "+lb, func(n Node) (int, error) {
		v, err := n.Share(ctx, lb)
		if errors.Is(err, ErrNotFound) {
			return -1, nil
		}
		return v, err
	})
	if err != nil {
		return 0, err
	}
	var vals []string
	for _, r := range reads {
		vals = append(vals, fmt.Sprintf("%s=%d", r.node.Name(), r.v))
		if r.v != reads[0].v {
			return 0, fmt.Errorf("haproxy fleet: share of %s: %w: nodes disagree (%s; -1 = no key)", lb, ErrDegraded, strings.Join(vals, ", "))
		}
	}
	if reads[0].v < 0 {
		return 0, fmt.Errorf("haproxy fleet: share of %s: %w: no map key on any node", lb, ErrNotFound)
	}
	return reads[0].v, nil
}
