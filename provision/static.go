package provision

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"
)

// probeTimeout bounds the reachability check of a standby address.
const probeTimeout = 2 * time.Second

// static hands out addresses from a fixed standby pool. Standby instances
// already run, so Create only checks that an address answers; an address
// that does not is skipped in favour of the next free one.
type static struct {
	base
	rec Records

	mu    sync.Mutex
	state staticState
}

// staticState is the persisted allocation: address → instance.
type staticState struct {
	Allocated map[string]Instance `json:"allocated"`
}

func newStatic(b base, rec Records) (*static, error) {
	if len(b.cfg.Addresses) == 0 {
		return nil, b.errorf("static pool has no addresses")
	}
	s := &static{base: b, rec: rec, state: staticState{Allocated: map[string]Instance{}}}
	if err := rec.Load(&s.state); err != nil {
		return nil, b.errorf("load: %w", err)
	}
	if s.state.Allocated == nil {
		s.state.Allocated = map[string]Instance{}
	}
	return s, nil
}

func (s *static) Create(ctx context.Context, n int) ([]Instance, error) {
	if err := checkCount(s.base, n); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var got []Instance
	var unreachable []string
	for _, addr := range s.free() {
		if len(got) == n {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, s.errorf("create: %w", err)
		}
		if !reachable(ctx, addr, min(probeTimeout, s.cfg.Timeout)) {
			unreachable = append(unreachable, addr)
			continue
		}
		got = append(got, Instance{ID: s.idFor(addr), Provider: s.name, Addr: addr, Created: s.now().UTC()})
	}
	if len(got) < n {
		msg := fmt.Sprintf("asked for %d, %d free and reachable of %d", n, len(got), len(s.cfg.Addresses))
		if len(unreachable) > 0 {
			msg += ", unreachable: " + strings.Join(unreachable, ", ")
		}
		return nil, s.errorf("create: %w: %s", ErrExhausted, msg)
	}
	for _, in := range got {
		s.state.Allocated[in.Addr] = in
	}
	if err := s.rec.Save(s.state); err != nil {
		for _, in := range got {
			delete(s.state.Allocated, in.Addr)
		}
		return nil, s.errorf("create: %w", err)
	}
	return cloneAll(got), nil
}

// free lists unallocated addresses in config order.
func (s *static) free() []string {
	var out []string
	for _, a := range s.cfg.Addresses {
		if _, used := s.state.Allocated[a]; !used {
			out = append(out, a)
		}
	}
	return out
}

// idFor names an address without ':' so it can double as a server name.
func (s *static) idFor(addr string) string {
	return s.name + "-" + strings.NewReplacer(":", "-", "[", "", "]", "").Replace(addr)
}

func (s *static) Destroy(ctx context.Context, inst Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr, ok := s.find(inst)
	if !ok {
		return nil // already released
	}
	old := s.state.Allocated[addr]
	delete(s.state.Allocated, addr)
	if err := s.rec.Save(s.state); err != nil {
		s.state.Allocated[addr] = old
		return s.errorf("destroy %s: %w", inst.ID, err)
	}
	return nil
}

// find looks the instance up by ID, so a caller's stale Addr cannot free
// another allocation.
func (s *static) find(inst Instance) (string, bool) {
	for addr, in := range s.state.Allocated {
		if in.ID == inst.ID {
			return addr, true
		}
	}
	return "", false
}

// List returns the allocated instances, including those whose address has
// since left the config (so they can still be released).
func (s *static) List(ctx context.Context) ([]Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.state.Allocated))
	for _, in := range s.state.Allocated {
		out = append(out, in)
	}
	sortInstances(out)
	return cloneAll(out), nil
}

func sortInstances(in []Instance) {
	sort.Slice(in, func(i, j int) bool { return in[i].ID < in[j].ID })
}

// cloneAll copies Meta maps so callers cannot change the provider's state.
func cloneAll(in []Instance) []Instance {
	out := make([]Instance, len(in))
	for i, x := range in {
		out[i] = x
		out[i].Meta = maps.Clone(x.Meta)
	}
	return out
}
