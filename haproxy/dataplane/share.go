package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

const mapEntries = "/services/haproxy/runtime/maps_entries"

// SetShare sets the percentage (0–100) of lb's requests routed to its
// shadow backend: the live map entry is replaced (or added when lb has
// none yet) with force_sync, so the API writes the map file at once and a
// reload keeps the share.
func (d *DataPlane) SetShare(ctx context.Context, lb string, pct int) error {
	if err := haproxy.CheckName("lb", lb); err != nil {
		return d.invalid("set share", "%v", err)
	}
	if pct < 0 || pct > 100 {
		return d.invalid("set share", "share %d%% for %s not in 0..100", pct, lb)
	}
	if d.cfg.MapName == "" {
		return d.invalid("set share", "node has no map name configured")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v := strconv.Itoa(pct)
	q := url.Values{"map": {d.cfg.MapName}, "force_sync": {"true"}}
	err := d.call(ctx, "set share of "+lb, http.MethodPut, mapEntries+"/"+esc(lb), q, &models.MapEntry{Value: v}, nil)
	if errors.Is(err, haproxy.ErrNotFound) {
		// Replacing only works on an existing key; adding to an existing
		// key would create a duplicate that loses.
		err = d.call(ctx, "add share of "+lb, http.MethodPost, mapEntries, q, &models.MapEntry{Key: lb, Value: v}, nil)
	}
	if err != nil {
		return err
	}
	d.log.Info("share set", "lb", lb, "pct", pct)
	return nil
}

// Share reads lb's live shadow share from the map.
func (d *DataPlane) Share(ctx context.Context, lb string) (int, error) {
	if err := haproxy.CheckName("lb", lb); err != nil {
		return 0, d.invalid("get share", "%v", err)
	}
	if d.cfg.MapName == "" {
		return 0, d.invalid("get share", "node has no map name configured")
	}
	var e models.MapEntry
	path := mapEntries + "/" + esc(lb)
	if err := d.call(ctx, "get share of "+lb, http.MethodGet, path, url.Values{"map": {d.cfg.MapName}}, nil, &e); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(e.Value)
	if err != nil {
		return 0, &haproxy.Error{Node: d.Name(), Op: "get share of " + lb, Command: "GET " + path,
			Message: fmt.Sprintf("map value %q", e.Value), Err: haproxy.ErrRefused}
	}
	return n, nil
}
