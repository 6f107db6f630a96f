package haproxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is a server's administrative state.
type State string

// The administrative states a server can be set to.
const (
	StateReady State = "ready" // takes traffic
	StateDrain State = "drain" // no new sessions; in-flight ones finish
	StateMaint State = "maint" // out of rotation; the only state del server accepts
)

func (s State) valid() bool { return s == StateReady || s == StateDrain || s == StateMaint }

// ServerSpec is a server to add.
type ServerSpec struct {
	Name string
	Addr string // IP, e.g. 127.0.0.1
	Port int
	// Weight 0–256 (default 100).
	Weight int
	// CheckInter is the health-check interval (default 1s).
	CheckInter time.Duration
	// SlowStart ramps a server's weight up over this long after it
	// becomes ready (0: off).
	SlowStart time.Duration
}

// Validate fills defaults (weight 100, checks every second) and checks a
// server to add.
func (s *ServerSpec) Validate() error {
	if s.Weight == 0 {
		s.Weight = 100
	}
	if s.CheckInter == 0 {
		s.CheckInter = time.Second
	}
	switch {
	case CheckName("server", s.Name) != nil:
		return CheckName("server", s.Name)
	case s.Addr == "" || CheckName("address", s.Addr) != nil:
		return fmt.Errorf("%w: server %s: address %q", ErrInvalid, s.Name, s.Addr)
	case s.Port <= 0 || s.Port > 65535:
		return fmt.Errorf("%w: server %s: port %d not in 1..65535", ErrInvalid, s.Name, s.Port)
	case s.Weight < 0 || s.Weight > 256:
		return fmt.Errorf("%w: server %s: weight %d not in 0..256", ErrInvalid, s.Name, s.Weight)
	case s.CheckInter < time.Millisecond || s.SlowStart < 0:
		return fmt.Errorf("%w: server %s: check interval %s or slowstart %s", ErrInvalid, s.Name, s.CheckInter, s.SlowStart)
	}
	return nil
}

// attributes is the "add server" argument list after the name.
func (s ServerSpec) attributes() string {
	a := fmt.Sprintf("%s:%d weight %d check inter %dms", s.Addr, s.Port, s.Weight, s.CheckInter.Milliseconds())
	if s.SlowStart > 0 {
		a += fmt.Sprintf(" slowstart %dms", s.SlowStart.Milliseconds())
	}
	return a
}

// ServerStatus is one server as HAProxy sees it now.
type ServerStatus struct {
	Backend     string `json:"backend"`
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	Port        int    `json:"port"`
	Admin       State  `json:"admin"`       // ready, drain or maint
	Operational string `json:"operational"` // up, down or stopping
	Status      string `json:"status"`      // HAProxy's status column: UP, DOWN, MAINT, DRAIN, "UP 1/3"…
	Weight      int    `json:"weight"`
	CheckStatus string `json:"check_status"` // L7OK, L4CON, INI…; "" when checks are off
	CheckDesc   string `json:"check_desc"`
	Sessions    int64  `json:"sessions"`
	Queue       int64  `json:"queue"`
}

// ListServers returns the servers of backend.
func (r *Runtime) ListServers(ctx context.Context, backend string) ([]ServerStatus, error) {
	if err := CheckName("backend", backend); err != nil {
		return nil, invalid(r.Name(), "list servers", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := "show servers state " + backend
	raw, err := r.raw(ctx, "list servers of "+backend, cmd)
	if err != nil {
		return nil, err
	}
	states, err := parseServersState(raw)
	if err != nil {
		return nil, &Error{Node: r.Name(), Op: "list servers of " + backend, Command: cmd, Err: err}
	}
	stats, err := r.Stats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ServerStatus, 0, len(states))
	for _, st := range states {
		if row, ok := stats.Row("server", backend, st.Name); ok {
			st.Status, st.CheckStatus, st.CheckDesc = row.Status, row.CheckStatus, row.CheckDesc
			st.Sessions, st.Queue = row.Sessions, row.Queue
		}
		out = append(out, st)
	}
	return out, nil
}

// Server returns one server's status or an error wrapping ErrNotFound.
func (r *Runtime) Server(ctx context.Context, backend, server string) (ServerStatus, error) {
	all, err := r.ListServers(ctx, backend)
	if err != nil {
		return ServerStatus{}, err
	}
	for _, s := range all {
		if s.Name == server {
			return s, nil
		}
	}
	return ServerStatus{}, &Error{Node: r.Name(), Op: "find server", Command: backend + "/" + server, Err: ErrNotFound}
}

// AddServer adds a server to backend in maintenance with health checks
// configured (not yet running: see WaitHealthy) and persists it.
func (r *Runtime) AddServer(ctx context.Context, backend string, s ServerSpec) error {
	if err := CheckName("backend", backend); err != nil {
		return invalid(r.Name(), "add server", err)
	}
	if err := s.Validate(); err != nil {
		return invalid(r.Name(), "add server", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	add := func() error { return r.rt.AddServer(backend, s.Name, s.attributes()) }
	if err := r.exec(ctx, "add server", add, "add server "+backend+"/"+s.Name); err != nil {
		return err
	}
	if err := r.persistAdd(backend, s); err != nil {
		// Keep runtime and file in step: undo the runtime add.
		del := func() error { return r.rt.DeleteServer(backend, s.Name) }
		if derr := r.exec(context.WithoutCancel(ctx), "undo add server", del, "del server "+backend+"/"+s.Name); derr != nil {
			r.log.Error("undo add server", "backend", backend, "server", s.Name, "err", derr)
		}
		return &Error{Node: r.Name(), Op: "persist added server " + backend + "/" + s.Name, Err: err}
	}
	r.log.Info("server added", "backend", backend, "server", s.Name, "addr", s.Addr, "port", s.Port)
	r.keepState(ctx)
	return nil
}

// EnableHealth starts the server's health checks (idempotent); its admin
// state is unchanged, so a server in MAINT is checked before it serves.
func (r *Runtime) EnableHealth(ctx context.Context, backend, server string) error {
	if err := names(backend, server); err != nil {
		return invalid(r.Name(), "enable health", err)
	}
	return r.exec(ctx, "enable health", func() error { return r.rt.EnableServerHealth(backend, server) }, "enable health "+backend+"/"+server)
}

// WaitHealthy enables the server's health checks and waits until its check
// passes (L7OK with option httpchk, or L4OK/L6OK) while its admin state is
// unchanged, so a server in MAINT can be proven healthy before it takes
// traffic. It returns an error wrapping ErrNotHealthy with the last check
// status when timeout passes.
func (r *Runtime) WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error {
	if err := names(backend, server); err != nil {
		return invalid(r.Name(), "wait healthy", err)
	}
	if err := r.EnableHealth(ctx, backend, server); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last ServerStatus
	for {
		st, err := r.Server(ctx, backend, server)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if err == nil {
			last = st
			if Healthy(st.CheckStatus) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return &Error{Node: r.Name(), Op: "wait healthy " + backend + "/" + server,
				Message: fmt.Sprintf("after %s check status %q (%s)", timeout, last.CheckStatus, last.CheckDesc), Err: ErrNotHealthy}
		case <-tick.C:
		}
	}
}

// Healthy reads a check status from `show servers state`/`show stat`: "* "
// marks a check in progress and prefixes the last result, so "* L7OK" is
// still healthy.
func Healthy(check string) bool {
	check = strings.TrimPrefix(check, "* ")
	return check == "L7OK" || check == "L6OK" || check == "L4OK"
}

// CheckPending reports a check status that holds no result yet: "INI"
// (initializing) right after the server was added or HAProxy (re)started.
func CheckPending(check string) bool {
	check = strings.TrimPrefix(check, "* ")
	return check == "INI" || check == ""
}

// SetWeight sets the server's absolute weight (0–256) and persists it.
func (r *Runtime) SetWeight(ctx context.Context, backend, server string, weight int) error {
	if err := names(backend, server); err != nil {
		return invalid(r.Name(), "set weight", err)
	}
	if weight < 0 || weight > 256 {
		return invalid(r.Name(), "set weight", fmt.Errorf("%w: weight %d for %s/%s not in 0..256", ErrInvalid, weight, backend, server))
	}
	w := strconv.Itoa(weight)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.exec(ctx, "set weight", func() error { return r.rt.SetServerWeight(backend, server, w) }, "set server "+backend+"/"+server+" weight "+w); err != nil {
		return err
	}
	defer r.keepState(ctx)
	return r.persistEdit(backend, server, func(p *serverPatch) { p.weight = &weight })
}

// SetState sets the server's admin state and persists it (maint is kept in
// the config as "disabled"; drain survives reloads via the state file).
func (r *Runtime) SetState(ctx context.Context, backend, server string, state State) error {
	if err := names(backend, server); err != nil {
		return invalid(r.Name(), "set state", err)
	}
	if !state.valid() {
		return invalid(r.Name(), "set state", fmt.Errorf("%w: state %q for %s/%s (want ready, drain or maint)", ErrInvalid, state, backend, server))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.exec(ctx, "set state", func() error { return r.rt.SetServerState(backend, server, string(state)) }, "set server "+backend+"/"+server+" state "+string(state)); err != nil {
		return err
	}
	defer r.keepState(ctx)
	return r.persistEdit(backend, server, func(p *serverPatch) { m := state == StateMaint; p.maint = &m })
}

// RemoveServer puts the server in maintenance (if it is not already), waits
// up to wait for its sessions and queue to reach zero, deletes it and
// removes it from the config. When connections remain it returns an error
// wrapping ErrHasConnections and leaves the server in maintenance.
func (r *Runtime) RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error {
	if err := names(backend, server); err != nil {
		return invalid(r.Name(), "remove server", err)
	}
	st, err := r.Server(ctx, backend, server)
	if err != nil {
		return err
	}
	if st.Admin != StateMaint {
		if err := r.SetState(ctx, backend, server, StateMaint); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	deadline := time.Now().Add(wait)
	cmd := "del server " + backend + "/" + server
	for {
		err := r.exec(ctx, "remove server", func() error { return r.rt.DeleteServer(backend, server) }, cmd)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrHasConnections) {
			return err
		}
		if time.Now().After(deadline) {
			st, _ := r.Server(ctx, backend, server)
			return &Error{Node: r.Name(), Op: "remove server", Command: cmd,
				Message: fmt.Sprintf("still %d sessions, %d queued after waiting %s", st.Sessions, st.Queue, wait), Err: ErrHasConnections}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.log.Info("server removed", "backend", backend, "server", server)
	defer r.keepState(ctx)
	return r.persistDelete(backend, server)
}

// exec runs one client-native call, bounded by the node's timeout.
func (r *Runtime) exec(ctx context.Context, op string, call func() error, cmd string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.call(ctx, call); err != nil {
		return r.fail(op, cmd, err)
	}
	return nil
}

func names(backend, server string) error {
	if err := CheckName("backend", backend); err != nil {
		return err
	}
	return CheckName("server", server)
}
