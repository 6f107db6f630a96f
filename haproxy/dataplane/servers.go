package dataplane

import (
	"context"
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
	configBackends = "/services/haproxy/configuration/backends"
	// PendingStatus is the Status of a server the configuration holds but
	// HAProxy does not run yet: the reload that starts it is still to come.
	PendingStatus = "pending reload"
)

// ListServers returns the servers of backend: those HAProxy runs (admin
// and operational state from the runtime endpoint; weight, status, check
// and sessions from the stats) and those only configured so far (Status
// PendingStatus), so nothing the configuration holds goes unseen. An
// unknown backend is an error wrapping ErrNotFound (the API answers an
// empty list for it).
func (d *DataPlane) ListServers(ctx context.Context, backend string) ([]haproxy.ServerStatus, error) {
	if err := haproxy.CheckName("backend", backend); err != nil {
		return nil, d.invalid("list servers", "%v", err)
	}
	op := "list servers of " + backend
	var rs models.RuntimeServers
	if err := d.call(ctx, op, http.MethodGet, runtimeServers, url.Values{"backend": {backend}}, nil, &rs); err != nil {
		return nil, err
	}
	stats, err := d.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.backendExists(ctx, op, backend, stats); err != nil {
		return nil, err
	}
	var conf struct {
		Data models.Servers `json:"data"`
	}
	if err := d.call(ctx, op+": configuration", http.MethodGet, configServers, url.Values{"backend": {backend}}, nil, &conf); err != nil {
		return nil, err
	}
	out := make([]haproxy.ServerStatus, 0, len(rs))
	live := map[string]bool{}
	for _, s := range rs {
		if s != nil {
			out = append(out, status2(backend, s, stats))
			live[s.Name] = true
		}
	}
	for _, s := range conf.Data {
		if s != nil && !live[s.Name] {
			out = append(out, pending(backend, s))
		}
	}
	return out, nil
}

// backendExists refuses a backend that neither HAProxy nor the
// configuration has.
func (d *DataPlane) backendExists(ctx context.Context, op, backend string, stats haproxy.Stats) error {
	if _, ok := stats.Row("backend", backend, ""); ok {
		return nil
	}
	err := d.call(ctx, op+": backend", http.MethodGet, configBackends+"/"+esc(backend), nil, nil, nil)
	if isNotFound(err) {
		return &haproxy.Error{Node: d.Name(), Op: op, Message: "no backend " + backend + " in HAProxy or its configuration", Err: haproxy.ErrNotFound}
	}
	return err
}

// Server returns one server's status (running or only configured) or an
// error wrapping ErrNotFound.
func (d *DataPlane) Server(ctx context.Context, backend, server string) (haproxy.ServerStatus, error) {
	if err := names(backend, server); err != nil {
		return haproxy.ServerStatus{}, d.invalid("get server", "%v", err)
	}
	op := "get server " + backend + "/" + server
	rs, err := d.liveServer(ctx, op, backend, server)
	if isNotFound(err) {
		conf, _, cerr := d.configServer(ctx, op, backend, server)
		if cerr != nil {
			return haproxy.ServerStatus{}, err // the runtime's not found
		}
		return pending(backend, &conf), nil
	}
	if err != nil {
		return haproxy.ServerStatus{}, err
	}
	stats, err := d.Stats(ctx)
	if err != nil {
		return haproxy.ServerStatus{}, err
	}
	return status2(backend, &rs, stats), nil
}

func (d *DataPlane) liveServer(ctx context.Context, op, backend, server string) (models.RuntimeServer, error) {
	var rs models.RuntimeServer
	err := d.call(ctx, op, http.MethodGet, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}}, nil, &rs)
	return rs, err
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

// pending is a configured server HAProxy does not run yet.
func pending(backend string, s *models.Server) haproxy.ServerStatus {
	st := haproxy.ServerStatus{Backend: backend, Name: s.Name, Addr: s.Address, Admin: haproxy.StateReady, Status: PendingStatus}
	if s.Maintenance == "enabled" {
		st.Admin = haproxy.StateMaint
	}
	if s.Port != nil {
		st.Port = int(*s.Port)
	}
	if s.Weight != nil {
		st.Weight = int(*s.Weight)
	}
	return st
}

// AddServer adds a checked server at weight 0 to backend's configuration
// (see the package comment); HAProxy runs it from the API's next reload.
// It does not wait for that reload, so that adds made together share it;
// WaitHealthy and ListServers see the server meanwhile. Adding a server
// that is already configured at the same address is not an error (a
// retry after a lost answer).
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
	err := d.createConfig(ctx, op, backend, newServer(s))
	if err != nil && (errors.Is(err, haproxy.ErrConflict) || errors.Is(err, haproxy.ErrUnavailable)) {
		if conf, _, cerr := d.configServer(ctx, op, backend, s.Name); cerr == nil &&
			conf.Address == s.Addr && conf.Port != nil && int(*conf.Port) == s.Port {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	d.weights[backend+"/"+s.Name] = s.Weight
	d.removed.forget(backend, s.Name)
	d.log.Info("server added", "backend", backend, "server", s.Name, "addr", s.Addr, "port", s.Port)
	return nil
}

// WaitHealthy makes sure the server is checked (EnableHealth, as the
// runtime driver does) and waits until its check passes (L7OK, L6OK,
// L4OK). A server added a moment ago waits for the reload that starts it.
func (d *DataPlane) WaitHealthy(ctx context.Context, backend, server string, timeout time.Duration) error {
	if err := names(backend, server); err != nil {
		return d.invalid("wait healthy", "%v", err)
	}
	if err := d.EnableHealth(ctx, backend, server); err != nil {
		return err
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
				Message: fmt.Sprintf("after %s status %q, check %q (%s)", timeout, last.Status, last.CheckStatus, last.CheckDesc), Err: haproxy.ErrNotHealthy}
		}
	}
}

func names(backend, server string) error {
	if err := haproxy.CheckName("backend", backend); err != nil {
		return err
	}
	return haproxy.CheckName("server", server)
}
