package dataplane

import (
	"context"
	"net/http"
	"net/url"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// SetWeight sets the server's absolute weight (0–256) in the
// configuration; the API applies it through the runtime API, no reload.
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
	_, err := d.editConfig(ctx, "set weight of "+backend+"/"+server, backend, server, func(s *models.Server) { s.Weight = &w })
	if err == nil && weight > 0 {
		d.weights[backend+"/"+server] = weight
	}
	return err
}

// SetState sets the server's admin state live and in the configuration,
// without a reload:
//   - ready: out of maintenance and at its serving weight (a server added
//     or drained by this driver sits at weight 0);
//   - drain: drain live, and weight 0 in the configuration, so a reload
//     keeps it out of rotation even without the server-state file;
//   - maint: maintenance ("disabled") in the configuration, which the API
//     applies live.
//
// A server HAProxy runs but the configuration lacks is changed live only;
// one only configured so far, in the configuration only.
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
	op := "set state of " + backend + "/" + server + " to " + string(state)
	live, lerr := d.liveServer(ctx, op, backend, server)
	if lerr != nil && !isNotFound(lerr) {
		return lerr
	}
	_, cerr := d.editConfig(ctx, op, backend, server, func(s *models.Server) { d.stateEdit(backend, state, s) })
	switch {
	case cerr != nil && !isNotFound(cerr):
		return cerr
	case isNotFound(cerr) && isNotFound(lerr):
		return lerr
	case lerr != nil:
		return nil // only configured: the reload to come applies it
	}
	// The configuration edit applied maintenance and weight live; drain,
	// and leaving drain, are runtime states.
	if after, err := d.liveServer(ctx, op, backend, server); err == nil {
		live = after
	}
	if haproxy.State(live.AdminState) == state {
		return nil
	}
	return d.call(ctx, op, http.MethodPut, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}},
		&models.RuntimeServer{AdminState: string(state)}, nil)
}

// stateEdit is the configuration of a server in state.
func (d *DataPlane) stateEdit(backend string, state haproxy.State, s *models.Server) {
	key := backend + "/" + s.Name
	w := int64(0)
	if s.Weight != nil {
		w = *s.Weight
	}
	switch state {
	case haproxy.StateMaint:
		s.Maintenance = "enabled"
	case haproxy.StateDrain:
		if w > 0 {
			d.weights[key] = int(w)
		}
		zero := int64(0)
		s.Weight = &zero
	case haproxy.StateReady:
		if s.Maintenance == "enabled" {
			s.Maintenance = "disabled"
		}
		if w == 0 {
			ready := int64(100)
			if n := d.weights[key]; n > 0 {
				ready = int64(n)
			}
			s.Weight = &ready
		}
	}
}
