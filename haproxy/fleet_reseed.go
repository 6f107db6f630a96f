package haproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

func regateKey(n Node, backend, server string) string { return n.Name() + "/" + backend + "/" + server }

// reseed re-adds, on every node that lacks it, each server whose copies
// on the other nodes are all healthy, and gates the copies it re-added:
// once a copy's check passes on its node, it takes the admin state the
// other nodes agree on. It returns what is still pending, naming node and
// server. A server unhealthy elsewhere is not re-seeded (it shows as
// CheckMissing): an orphan whose instance is gone must stay removable.
func (f *Fleet) reseed(ctx context.Context, backend string, reads []nodeRead[[]ServerStatus]) ([]string, error) {
	if len(reads) < 2 {
		return nil, nil
	}
	f.heal.Lock()
	defer f.heal.Unlock()
	var pending []string
	var errs []error
	for _, name := range serverNames(reads) {
		for _, r := range reads {
			msg, err := f.reseedOne(ctx, backend, name, r, reads)
			if msg != "" {
				pending = append(pending, msg)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return pending, errors.Join(errs...)
}

func (f *Fleet) reseedOne(ctx context.Context, backend, name string, r nodeRead[[]ServerStatus], reads []nodeRead[[]ServerStatus]) (string, error) {
	mine, has := find(r.v, name)
	if !has {
		donor, ok := healthyElsewhere(reads, r.node, name)
		if !ok {
			return "", nil
		}
		if err := f.readd(ctx, r.node, backend, donor); err != nil {
			return "", err
		}
		return fmt.Sprintf("node %s: re-seeded %s/%s (in MAINT until its check passes there)", r.node.Name(), backend, name), nil
	}
	if !f.regating(regateKey(r.node, backend, name)) {
		return "", nil
	}
	return f.regateCopy(ctx, backend, mine, r.node, reads)
}

// regateCopy gives a re-seeded copy whose check passes on its node the
// admin state the other nodes agree on.
func (f *Fleet) regateCopy(ctx context.Context, backend string, mine ServerStatus, n Node, reads []nodeRead[[]ServerStatus]) (string, error) {
	if !Healthy(mine.CheckStatus) {
		return fmt.Sprintf("node %s: re-gating %s/%s (check %q)", n.Name(), backend, mine.Name, mine.CheckStatus), nil
	}
	target, ok := othersAgree(reads, n, mine.Name)
	if !ok {
		return fmt.Sprintf("node %s: re-gating %s/%s (other nodes disagree on its state)", n.Name(), backend, mine.Name), nil
	}
	if target != mine.Admin {
		if err := n.SetState(ctx, backend, mine.Name, target); err != nil {
			return "", fmt.Errorf("haproxy fleet: re-gate %s/%s on node %s: %w", backend, mine.Name, n.Name(), err)
		}
	}
	f.mu.Lock()
	delete(f.regate, regateKey(n, backend, mine.Name))
	f.mu.Unlock()
	f.log.Info("re-gated server on node that came back", "node", n.Name(), "backend", backend, "server", mine.Name, "state", target)
	return "", nil
}

// readd adds the server like its healthy copy, in MAINT with checks on.
func (f *Fleet) readd(ctx context.Context, n Node, backend string, donor ServerStatus) error {
	f.mu.Lock()
	spec, ok := f.specs[backend+"/"+donor.Name]
	f.mu.Unlock()
	if !ok {
		spec = ServerSpec{Name: donor.Name, Addr: donor.Addr, Port: donor.Port}
	}
	spec.Weight = max(donor.Weight, 1)
	if err := f.quiesce(ctx, n); err != nil {
		return err
	}
	if err := n.AddServer(ctx, backend, spec); err != nil {
		return fmt.Errorf("haproxy fleet: re-seed %s/%s on node %s: %w", backend, donor.Name, n.Name(), err)
	}
	if err := n.EnableHealth(ctx, backend, donor.Name); err != nil {
		return fmt.Errorf("haproxy fleet: re-seed %s/%s on node %s: %w", backend, donor.Name, n.Name(), err)
	}
	f.mu.Lock()
	f.regate[regateKey(n, backend, donor.Name)] = true
	f.stale[n.Name()] = true // its share is re-applied once re-gated
	f.mu.Unlock()
	f.log.Warn("node lacks a server the others have; re-seeded it", "node", n.Name(), "backend", backend, "server", donor.Name)
	return nil
}

// quiesce sets every share the fleet knows to 0 on a node that came back
// without servers, the first time one is re-seeded there: until they are
// re-gated its shadow backends have nothing to serve with (a map file
// restored at start-up may hold the last share).
func (f *Fleet) quiesce(ctx context.Context, n Node) error {
	f.mu.Lock()
	first := !f.regatesOf(n)
	lbs := make([]string, 0, len(f.shares))
	for lb := range f.shares {
		lbs = append(lbs, lb)
	}
	f.mu.Unlock()
	if !first {
		return nil
	}
	for _, lb := range lbs {
		if err := n.SetShare(ctx, lb, 0); err != nil {
			return fmt.Errorf("haproxy fleet: share of %s to 0 on node %s before re-seeding it: %w", lb, n.Name(), err)
		}
	}
	return nil
}

func (f *Fleet) regatesOf(n Node) bool {
	prefix := n.Name() + "/"
	for k := range f.regate {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (f *Fleet) regating(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.regate[key]
}

// healthyElsewhere returns a copy of the server from another node when
// every other node has it and its check passes there.
func healthyElsewhere(reads []nodeRead[[]ServerStatus], self Node, name string) (ServerStatus, bool) {
	var donor ServerStatus
	for _, r := range reads {
		if r.node == self {
			continue
		}
		s, ok := find(r.v, name)
		if !ok || !Healthy(s.CheckStatus) {
			return ServerStatus{}, false
		}
		donor = s
	}
	return donor, donor.Name != ""
}

// othersAgree returns the admin state every other node has the server in.
func othersAgree(reads []nodeRead[[]ServerStatus], self Node, name string) (State, bool) {
	var st State
	for _, r := range reads {
		if r.node == self {
			continue
		}
		s, ok := find(r.v, name)
		if !ok || (st != "" && s.Admin != st) {
			return "", false
		}
		st = s.Admin
	}
	return st, st != ""
}

func serverNames(reads []nodeRead[[]ServerStatus]) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range reads {
		for _, s := range r.v {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// resyncShares re-applies the fleet's shares to nodes that failed to answer
// earlier (or were re-seeded) and have nothing left to re-gate.
func (f *Fleet) resyncShares(ctx context.Context) {
	f.heal.Lock()
	defer f.heal.Unlock()
	for _, n := range f.nodes {
		shares, ok := f.resyncable(n)
		if !ok {
			continue
		}
		var errs []error
		for lb, pct := range shares {
			errs = append(errs, n.SetShare(ctx, lb, pct))
		}
		if err := errors.Join(errs...); err != nil {
			f.log.Warn("share not re-applied to node that came back", "node", n.Name(), "err", err)
			continue
		}
		f.mu.Lock()
		delete(f.stale, n.Name())
		f.mu.Unlock()
		if len(shares) > 0 {
			f.log.Info("shares re-applied to node that came back", "node", n.Name(), "shares", shares)
		}
	}
}

func (f *Fleet) resyncable(n Node) (map[string]int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stale[n.Name()] || f.regatesOf(n) {
		return nil, false
	}
	shares := make(map[string]int, len(f.shares))
	for lb, pct := range f.shares {
		shares[lb] = pct
	}
	return shares, true
}
