package dataplane

import (
	"context"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// EnableHealth makes sure HAProxy checks the server; it is idempotent and
// does not wait for a result. API v2 has no endpoint that starts checks,
// so it works through the configuration: a configured server gets "check"
// if it lacks it (the API reloads, and the new worker checks it); a server
// HAProxy runs but the configuration lacks (added at run time, in MAINT,
// unchecked) is deleted and written to the configuration checked at
// weight 0, and the reload that follows runs it checked. A server checked
// already costs one read.
func (d *DataPlane) EnableHealth(ctx context.Context, backend, server string) error {
	if err := names(backend, server); err != nil {
		return d.invalid("enable health", "%v", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	op := "enable health of " + backend + "/" + server
	_, err := d.editConfig(ctx, op, backend, server, func(s *models.Server) {
		if s.Check == "enabled" {
			return
		}
		s.Check = "enabled"
		if s.Inter == nil {
			inter := int64(1000)
			s.Inter = &inter
		}
	})
	if !isNotFound(err) {
		return err
	}
	return d.readdChecked(ctx, op, backend, server)
}

// readdChecked replaces a server HAProxy runs but the configuration lacks
// with a configured, checked one at weight 0. It is deleted first: the
// reload would otherwise restore it from the server-state file, in MAINT
// and unchecked. A crash in between leaves no server, which callers see as
// missing, never a half-added one.
func (d *DataPlane) readdChecked(ctx context.Context, op, backend, server string) error {
	live, err := d.liveServer(ctx, op, backend, server)
	if err != nil {
		return err
	}
	spec := haproxy.ServerSpec{Name: server, Addr: live.Address}
	if live.Port != nil {
		spec.Port = int(*live.Port)
	}
	if err := spec.Validate(); err != nil {
		return d.invalid(op, "%v", err)
	}
	if err := d.deleteLive(ctx, op, backend, server); err != nil {
		return err
	}
	d.log.Info("re-adding a server that ran unchecked through the configuration, so the reload checks it", "backend", backend, "server", server)
	return d.createConfig(ctx, op, backend, newServer(spec))
}
