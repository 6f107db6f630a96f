package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

const (
	runtimeServers = "/services/haproxy/runtime/servers"
	configServers  = "/services/haproxy/configuration/servers"
)

// ListServers returns the servers of backend: admin and operational state
// from the runtime endpoint, weight, status, check and sessions from the
// stats.
func (d *DataPlane) ListServers(ctx context.Context, backend string) ([]haproxy.ServerStatus, error) {
	if err := haproxy.CheckName("backend", backend); err != nil {
		return nil, d.invalid("list servers", "%v", err)
	}
	var rs models.RuntimeServers
	if err := d.call(ctx, "list servers of "+backend, http.MethodGet, runtimeServers, url.Values{"backend": {backend}}, nil, &rs); err != nil {
		return nil, err
	}
	stats, err := d.Stats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]haproxy.ServerStatus, 0, len(rs))
	for _, s := range rs {
		if s != nil {
			out = append(out, status2(backend, s, stats))
		}
	}
	return out, nil
}

// Server returns one server's status or an error wrapping ErrNotFound.
func (d *DataPlane) Server(ctx context.Context, backend, server string) (haproxy.ServerStatus, error) {
	if err := names(backend, server); err != nil {
		return haproxy.ServerStatus{}, d.invalid("get server", "%v", err)
	}
	var rs models.RuntimeServer
	if err := d.call(ctx, "get server "+backend+"/"+server, http.MethodGet, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}}, nil, &rs); err != nil {
		return haproxy.ServerStatus{}, err
	}
	stats, err := d.Stats(ctx)
	if err != nil {
		return haproxy.ServerStatus{}, err
	}
	return status2(backend, &rs, stats), nil
}

// status2 joins a runtime server with its stats row.
func status2(backend string, s *models.RuntimeServer, stats haproxy.Stats) haproxy.ServerStatus {
	st := haproxy.ServerStatus{Backend: backend, Name: s.Name, Addr: s.Address,
		Admin: haproxy.State(s.AdminState), Operational: s.OperationalState}
	if s.Port != nil {
		st.Port = int(*s.Port)
	}
	if row, ok := stats.Row("server", backend, s.Name); ok {
		st.Status, st.CheckStatus, st.CheckDesc = row.Status, row.CheckStatus, row.CheckDesc
		st.Weight, st.Sessions, st.Queue = int(row.Weight), row.Sessions, row.Queue
	}
	return st
}

// AddServer adds a server to backend in maintenance with health checks
// configured, live (runtime endpoint) and in the configuration (one
// transaction, written "disabled" so a reload keeps it out of rotation).
// When persisting fails the live server is deleted again.
func (d *DataPlane) AddServer(ctx context.Context, backend string, s haproxy.ServerSpec) error {
	if err := haproxy.CheckName("backend", backend); err != nil {
		return d.invalid("add server", "%v", err)
	}
	if err := s.Validate(); err != nil {
		return d.invalid("add server", "%v", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	op := "add server " + backend + "/" + s.Name
	q := url.Values{"backend": {backend}}
	if err := d.call(ctx, op, http.MethodPost, runtimeServers, q, runtimeAdd(s), nil); err != nil {
		return err
	}
	err := d.persist(ctx, op, false, func(ctx context.Context, tx string) error {
		return d.call(ctx, op+": persist", http.MethodPost, configServers, txQuery(tx, backend), configServer(s), nil)
	})
	if err != nil {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Timeout)
		defer cancel()
		if derr := d.call(uctx, op+": undo", http.MethodDelete, runtimeServers+"/"+esc(s.Name), q, nil, nil); derr != nil {
			d.log.Error("undo add server", "backend", backend, "server", s.Name, "err", derr)
		}
		return err
	}
	d.log.Info("server added", "backend", backend, "server", s.Name, "addr", s.Addr, "port", s.Port)
	return nil
}

// WaitHealthy waits until the server's check passes (L7OK, L6OK, L4OK)
// while its admin state is unchanged. The Data Plane API v2 has no
// "enable health" endpoint: checks of a server added at run time start
// once the reload that follows its persisting commit has run.
func (d *DataPlane) WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error {
	if err := names(backend, server); err != nil {
		return d.invalid("wait healthy", "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last haproxy.ServerStatus
	for {
		st, err := d.Server(ctx, backend, server)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			if last = st; haproxy.Healthy(st.CheckStatus) {
				return nil
			}
		}
		if sleep(ctx, 50*time.Millisecond) != nil {
			return &haproxy.Error{Node: d.Name(), Op: "wait healthy " + backend + "/" + server,
				Message: fmt.Sprintf("after %s check status %q (%s)", timeout, last.CheckStatus, last.CheckDesc), Err: haproxy.ErrNotHealthy}
		}
	}
}

// SetWeight sets the server's absolute weight (0–256) in the
// configuration. The runtime server endpoint of v2.9 carries no weight:
// the API applies the committed change with its reload.
func (d *DataPlane) SetWeight(ctx context.Context, backend, server string, weight int) error {
	if err := names(backend, server); err != nil {
		return d.invalid("set weight", "%v", err)
	}
	if weight < 0 || weight > 256 {
		return d.invalid("set weight", "weight %d for %s/%s not in 0..256", weight, backend, server)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	w := int64(weight)
	return d.editServer(ctx, "set weight of "+backend+"/"+server, backend, server, func(s *models.Server) { s.Weight = &w })
}

// SetState sets the server's admin state live and persists maintenance
// ("disabled" in the configuration; drain is runtime-only, as with the
// runtime driver).
func (d *DataPlane) SetState(ctx context.Context, backend, server string, state haproxy.State) error {
	if err := names(backend, server); err != nil {
		return d.invalid("set state", "%v", err)
	}
	if state != haproxy.StateReady && state != haproxy.StateDrain && state != haproxy.StateMaint {
		return d.invalid("set state", "state %q for %s/%s (want ready, drain or maint)", state, backend, server)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setState(ctx, backend, server, state)
}

func (d *DataPlane) setState(ctx context.Context, backend, server string, state haproxy.State) error {
	op := "set state of " + backend + "/" + server
	body := &models.RuntimeServer{AdminState: string(state)}
	if err := d.call(ctx, op, http.MethodPut, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}}, body, nil); err != nil {
		return err
	}
	return d.editServer(ctx, op, backend, server, func(s *models.Server) {
		switch {
		case state == haproxy.StateMaint:
			s.Maintenance = "enabled"
		case s.Maintenance != "": // unset already means in rotation
			s.Maintenance = "disabled"
		}
	})
}

// editServer reads a server's configuration inside a transaction, edits it
// and writes it back.
func (d *DataPlane) editServer(ctx context.Context, op, backend, server string, edit func(*models.Server)) error {
	return d.persist(ctx, op, false, func(ctx context.Context, tx string) error {
		var got struct {
			Data models.Server `json:"data"`
		}
		path := configServers + "/" + esc(server)
		if err := d.call(ctx, op+": read configuration", http.MethodGet, path, txQuery(tx, backend), nil, &got); err != nil {
			return err
		}
		before, _ := json.Marshal(&got.Data)
		edit(&got.Data)
		if after, _ := json.Marshal(&got.Data); bytes.Equal(before, after) {
			return errNoChange
		}
		return d.call(ctx, op+": persist", http.MethodPut, path, txQuery(tx, backend), &got.Data, nil)
	})
}

// RemoveServer puts the server in maintenance (if it is not already),
// waits up to wait for its connections to end, deletes it live and from
// the configuration. When connections remain it returns an error wrapping
// ErrHasConnections and leaves the server in maintenance.
func (d *DataPlane) RemoveServer(ctx context.Context, backend, server string, wait time.Duration) error {
	if err := names(backend, server); err != nil {
		return d.invalid("remove server", "%v", err)
	}
	st, err := d.Server(ctx, backend, server)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st.Admin != haproxy.StateMaint {
		if err := d.setState(ctx, backend, server, haproxy.StateMaint); err != nil {
			return err
		}
	}
	op := "remove server " + backend + "/" + server
	if err := d.deleteLive(ctx, op, backend, server, wait); err != nil {
		return err
	}
	err = d.persist(ctx, op, false, func(ctx context.Context, tx string) error {
		err := d.call(ctx, op+": persist", http.MethodDelete, configServers+"/"+esc(server), txQuery(tx, backend), nil, nil)
		if errors.Is(err, haproxy.ErrNotFound) {
			return nil // a runtime-only server
		}
		return err
	})
	if err == nil {
		d.log.Info("server removed", "backend", backend, "server", server)
	}
	return err
}

// deleteLive retries the runtime delete while HAProxy refuses it for
// remaining connections, until wait has passed.
func (d *DataPlane) deleteLive(ctx context.Context, op, backend, server string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := d.call(ctx, op, http.MethodDelete, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}}, nil, nil)
		if !errors.Is(err, haproxy.ErrHasConnections) {
			return err
		}
		if time.Now().After(deadline) {
			var e *haproxy.Error
			if errors.As(err, &e) {
				if st, serr := d.Server(ctx, backend, server); serr == nil {
					e.Message += fmt.Sprintf(" (still %d sessions, %d queued after waiting %s)", st.Sessions, st.Queue, wait)
				}
			}
			return err
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

func runtimeAdd(s haproxy.ServerSpec) *models.RuntimeAddServer {
	port, w, inter := int64(s.Port), int64(s.Weight), s.CheckInter.Milliseconds()
	m := &models.RuntimeAddServer{Name: s.Name, Address: s.Addr, Port: &port, Weight: &w,
		Check: "enabled", Inter: &inter, Maintenance: "enabled"}
	if s.SlowStart > 0 {
		ss := s.SlowStart.Milliseconds()
		m.Slowstart = &ss
	}
	return m
}

func configServer(s haproxy.ServerSpec) *models.Server {
	a := runtimeAdd(s)
	return &models.Server{Name: s.Name, Address: s.Addr, Port: a.Port, ServerParams: models.ServerParams{
		Weight: a.Weight, Check: "enabled", Inter: a.Inter, Maintenance: "enabled", Slowstart: a.Slowstart}}
}

func names(backend, server string) error {
	if err := haproxy.CheckName("backend", backend); err != nil {
		return err
	}
	return haproxy.CheckName("server", server)
}
