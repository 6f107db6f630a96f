package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// Reload makes HAProxy re-read its configuration. The Data Plane API v2
// reloads after commits; an empty transaction committed with force_reload
// reloads at once. A reload reported done only means the signal was sent
// (on 2.6 it is SIGUSR2 to the master), so Reload then waits, bounded by
// Config.ReloadTimeout, until a worker with a new PID answers on the runtime API.
func (d *DataPlane) Reload(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	before, err := d.workerPID(ctx)
	if err != nil {
		return err
	}
	if err := d.persist(ctx, "reload", true); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ReloadTimeout)
	defer cancel()
	for {
		pid, err := d.workerPID(ctx)
		if err == nil && pid != before {
			d.log.Info("reloaded", "old_pid", before, "new_pid", pid)
			return nil
		}
		if sleep(ctx, 100*time.Millisecond) != nil {
			return &haproxy.Error{Node: d.Name(), Op: "reload", Err: haproxy.ErrUnavailable,
				Message: fmt.Sprintf("no new worker after %s (worker pid still %d)", d.cfg.ReloadTimeout, before)}
		}
	}
}

func (d *DataPlane) workerPID(ctx context.Context) (int64, error) {
	var infos models.ProcessInfos
	if err := d.call(ctx, "read process info", http.MethodGet, "/services/haproxy/runtime/info", nil, nil, &infos); err != nil {
		return 0, err
	}
	for _, i := range infos {
		if i != nil && i.Info != nil && i.Info.Pid != nil {
			return *i.Info.Pid, nil
		}
	}
	return 0, &haproxy.Error{Node: d.Name(), Op: "read process info", Message: "no worker pid in answer", Err: haproxy.ErrUnavailable}
}
