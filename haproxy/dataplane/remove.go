package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
)

// RemoveServer puts the server in maintenance (if it is not already),
// waits up to wait for its sessions and queue to reach zero, deletes it
// from the configuration (the API reloads, one reload for all removals
// within its reload delay) and then from the running HAProxy, so it is
// gone at once and stays gone. (A reload already in flight may start a
// worker from the configuration read just before the delete: it runs the
// server in MAINT, without traffic, until the API's next reload, one
// reload delay later.) When connections remain it returns an error
// wrapping ErrHasConnections and leaves the server in maintenance.
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
	op := "remove server " + backend + "/" + server
	if st.Admin != haproxy.StateMaint {
		if err := d.setState(ctx, backend, server, haproxy.StateMaint); err != nil {
			return err
		}
	}
	if st.Status != PendingStatus {
		if err := d.waitIdle(ctx, op, backend, server, wait); err != nil {
			return err
		}
	}
	// The configuration first: a crash after it leaves a server the
	// reload removes, never one a reload brings back.
	if err := d.deleteConfig(ctx, op, backend, server); err != nil && !isNotFound(err) {
		return err
	}
	if err := d.deleteLive(ctx, op, backend, server); err != nil {
		return err
	}
	delete(d.weights, backend+"/"+server)
	d.removed.mark(backend, server, time.Now())
	d.log.Info("server removed", "backend", backend, "server", server)
	return nil
}

// removedSet remembers the servers this driver removed, for a while: a
// reload in flight at a removal may start a worker from the configuration
// read just before it, which runs the server again (in MAINT, without
// traffic). Stats, read every tick, deletes such a server from the running
// HAProxy when it sees it.
type removedSet struct {
	mu    sync.Mutex
	names map[string]time.Time // backend/server → when removed
}

// sweepFor is how long a removal is remembered.
const sweepFor = 2 * time.Minute

func (r *removedSet) mark(backend, server string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]time.Time{}
	}
	r.names[backend+"/"+server] = now
}

func (r *removedSet) forget(backend, server string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.names, backend+"/"+server)
}

// due returns the remembered servers that st still shows, forgetting
// those remembered long enough.
func (r *removedSet) due(st haproxy.Stats, now time.Time) []haproxy.StatRow {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []haproxy.StatRow
	for k, at := range r.names {
		if now.Sub(at) > sweepFor {
			delete(r.names, k)
		}
	}
	for _, row := range st.Servers {
		if _, ok := r.names[row.Proxy+"/"+row.Server]; ok {
			out = append(out, row)
		}
	}
	return out
}

// sweep deletes from the running HAProxy the servers this driver removed
// that a worker runs again, in MAINT (one attempt each; the next read
// retries).
func (d *DataPlane) sweep(ctx context.Context, st haproxy.Stats) {
	for _, row := range d.removed.due(st, time.Now()) {
		if row.Status != "MAINT" {
			continue
		}
		err := d.call(ctx, "sweep removed server", http.MethodDelete, runtimeServers+"/"+esc(row.Server), url.Values{"backend": {row.Proxy}}, nil, nil)
		if err == nil || isNotFound(err) {
			d.log.Info("removed server ran again after a reload; deleted it", "backend", row.Proxy, "server", row.Server)
		}
	}
}

// waitIdle waits until the server has no sessions and no queue.
func (d *DataPlane) waitIdle(ctx context.Context, op, backend, server string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		stats, err := d.Stats(ctx)
		if err != nil {
			return err
		}
		row, ok := stats.Row("server", backend, server)
		if !ok || row.Sessions+row.Queue == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return &haproxy.Error{Node: d.Name(), Op: op, Err: haproxy.ErrHasConnections,
				Message: fmt.Sprintf("still %d sessions, %d queued after waiting %s", row.Sessions, row.Queue, wait)}
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// deleteLive deletes the server from the running HAProxy. HAProxy refuses
// while idle connections to the server remain (3.2 keeps them longer);
// the server is gone from the configuration already, so the reload the API
// runs next removes it: this waits for either, bounded by ReloadTimeout.
func (d *DataPlane) deleteLive(ctx context.Context, op, backend, server string) error {
	deadline := time.Now().Add(d.cfg.ReloadTimeout)
	for {
		err := d.call(ctx, op+": live", http.MethodDelete, runtimeServers+"/"+esc(server), url.Values{"backend": {backend}}, nil, nil)
		if err == nil || isNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		d.log.Debug("live delete refused; waiting for it or the reload", "backend", backend, "server", server, "err", err)
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
