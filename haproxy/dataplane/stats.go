package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// Stats reads live stats for every frontend, backend and server from
// /services/haproxy/stats/native (one collection per runtime socket). Its
// counters do not reset when HAProxy reloads (see counters).
func (d *DataPlane) Stats(ctx context.Context) (haproxy.Stats, error) {
	st, err := d.readStats(ctx)
	if err == nil {
		d.sweep(ctx, st)
	}
	return st, err
}

func (d *DataPlane) readStats(ctx context.Context) (haproxy.Stats, error) {
	// Reads are serialized so that the counters are adjusted in the order
	// HAProxy produced them: two concurrent reads finishing out of order
	// would look like a reset.
	d.counters.mu.Lock()
	defer d.counters.mu.Unlock()
	var colls models.NativeStats
	const path = "/services/haproxy/stats/native"
	err := d.call(ctx, "read stats", http.MethodGet, path, nil, nil, &colls)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusInternalServerError && json.Unmarshal(ae.Body, &colls) == nil {
		err = nil // the spec's 500 answer: collections carrying their error
	}
	if err != nil {
		return haproxy.Stats{}, err
	}
	out := haproxy.Stats{Node: d.Name()}
	for _, c := range colls {
		if c == nil {
			continue
		}
		if c.Error != "" {
			return haproxy.Stats{}, &haproxy.Error{Node: d.Name(), Op: "read stats", Command: "GET " + path,
				Message: c.Error, Err: errors.Join(haproxy.ErrUnavailable, errors.New(c.Error))}
		}
		for _, st := range c.Stats {
			if st == nil {
				continue
			}
			out.Add(haproxy.RowFromNative(st))
		}
	}
	d.counters.adjust(&out)
	return out, nil
}
