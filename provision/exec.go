package provision

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"time"
)

// execProvider runs configured shell commands (/bin/sh -c) to create and
// destroy instances, each bounded by the provider's timeout.
//
// The create command gets SHADOWSCALE_COUNT (how many instances) and
// SHADOWSCALE_PROVIDER in its environment and prints the instances it
// created on stdout as JSON: either one array of objects or a sequence of
// objects (one per line, say), each {"id": "...", "addr": "host:port"} with
// an optional "meta" object of strings. It must print exactly COUNT
// instances and exit 0; otherwise Create destroys those it printed and
// fails.
//
// The destroy command gets SHADOWSCALE_INSTANCE_ID, SHADOWSCALE_INSTANCE_ADDR
// and SHADOWSCALE_PROVIDER. It must exit 0 when the instance is already gone
// (Destroy is idempotent).
//
// The optional list command prints every instance that exists, in the
// create command's format; without one, List reports the provider's own
// persisted record of what it created.
type execProvider struct {
	base
	rec     Records
	listCmd string // not in the config file yet; see New

	mu    sync.Mutex
	state execState
}

type execState struct {
	Instances map[string]Instance `json:"instances"` // by ID
}

func newExec(b base, rec Records) (*execProvider, error) {
	if b.cfg.CreateCmd == "" || b.cfg.DestroyCmd == "" {
		return nil, b.errorf("exec provider needs create_cmd and destroy_cmd")
	}
	if b.cfg.Timeout <= 0 {
		return nil, b.errorf("exec provider needs a positive timeout, got %s", b.cfg.Timeout)
	}
	e := &execProvider{base: b, rec: rec, state: execState{Instances: map[string]Instance{}}}
	if err := rec.Load(&e.state); err != nil {
		return nil, b.errorf("load: %w", err)
	}
	if e.state.Instances == nil {
		e.state.Instances = map[string]Instance{}
	}
	return e, nil
}

func (e *execProvider) Create(ctx context.Context, n int) ([]Instance, error) {
	if err := checkCount(e.base, n); err != nil {
		return nil, err
	}
	start := e.now()
	out, err := e.runHook(ctx, "create", e.cfg.CreateCmd, "SHADOWSCALE_COUNT="+strconv.Itoa(n))
	got, perr := parseInstances(out)
	insts := e.instances(got, start)
	switch {
	case err != nil:
	case perr != nil:
		err = e.errorf("create command %q: bad output: %w", e.cfg.CreateCmd, perr)
	case len(insts) != n:
		err = e.errorf("create command %q: printed %d instances, want %d", e.cfg.CreateCmd, len(insts), n)
	}
	if err == nil {
		err = e.remember(insts)
	}
	if err == nil {
		// Boot time counts from the hook's answer, not its start: the
		// hook itself may take up to the timeout.
		err = e.waitAll(ctx, insts, e.now())
	}
	if err != nil {
		return nil, errors.Join(err, destroyAll(ctx, e, insts))
	}
	return cloneAll(insts), nil
}

func (e *execProvider) instances(got []hookInstance, created time.Time) []Instance {
	out := make([]Instance, len(got))
	for i, h := range got {
		out[i] = Instance{ID: h.ID, Provider: e.name, Addr: h.Addr, Created: created.UTC(), Meta: h.Meta}
	}
	return out
}

// remember persists new instances before waiting for them, so a crash
// while they boot still leaves a record of them.
func (e *execProvider) remember(insts []Instance) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, in := range insts {
		e.state.Instances[in.ID] = in
	}
	if err := e.rec.Save(e.state); err != nil {
		return e.errorf("create: %w", err)
	}
	return nil
}

func (e *execProvider) waitAll(ctx context.Context, insts []Instance, start time.Time) error {
	deadline := start.Add(e.bootDeadline())
	for _, in := range insts {
		if err := waitReachable(ctx, in.Addr, deadline, nil); err != nil {
			return e.errorf("create %s: %w", in.ID, err)
		}
	}
	return nil
}

func (e *execProvider) Destroy(ctx context.Context, inst Instance) error {
	addr := inst.Addr
	e.mu.Lock()
	if known, ok := e.state.Instances[inst.ID]; ok {
		addr = known.Addr
	}
	e.mu.Unlock()
	_, err := e.runHook(ctx, "destroy", e.cfg.DestroyCmd,
		"SHADOWSCALE_INSTANCE_ID="+inst.ID, "SHADOWSCALE_INSTANCE_ADDR="+addr)
	if err != nil {
		return err
	}
	return e.forget(inst.ID)
}

func (e *execProvider) forget(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	old, ok := e.state.Instances[id]
	if !ok {
		return nil
	}
	delete(e.state.Instances, id)
	if err := e.rec.Save(e.state); err != nil {
		e.state.Instances[id] = old
		return e.errorf("destroy %s: %w", id, err)
	}
	return nil
}

func (e *execProvider) List(ctx context.Context) ([]Instance, error) {
	if e.listCmd == "" {
		e.mu.Lock()
		out := make([]Instance, 0, len(e.state.Instances))
		for _, in := range e.state.Instances {
			out = append(out, in)
		}
		e.mu.Unlock()
		sortInstances(out)
		return cloneAll(out), nil
	}
	stdout, err := e.runHook(ctx, "list", e.listCmd)
	if err != nil {
		return nil, err
	}
	got, err := parseInstances(stdout)
	if err != nil {
		return nil, e.errorf("list command %q: bad output: %w", e.listCmd, err)
	}
	return e.withCreated(e.instances(got, time.Time{})), nil
}

// withCreated fills in creation times (and missing meta) from the record.
func (e *execProvider) withCreated(insts []Instance) []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, in := range insts {
		if known, ok := e.state.Instances[in.ID]; ok {
			insts[i].Created = known.Created
			if in.Meta == nil {
				insts[i].Meta = maps.Clone(known.Meta)
			}
		}
	}
	sortInstances(insts)
	return insts
}
