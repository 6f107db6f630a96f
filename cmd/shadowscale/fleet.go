package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane"
)

// fleetAPI is the fleet seen as one node: changes go to every node (with
// rollback on partial failure), stats are summed over the nodes.
type fleetAPI struct{ *haproxy.Fleet }

// connectFleet connects to every configured node, retrying with backoff
// while one is unreachable, until all answer or ctx is done: a service
// started before HAProxy waits for it rather than exiting. Other errors
// (permission, config_file) fail at once.
func connectFleet(ctx context.Context, hc config.HAProxy, log *slog.Logger) (fleetAPI, error) {
	backoff := time.Second
	for {
		f, err := connectOnce(ctx, hc, log)
		if err == nil {
			return fleetAPI{f}, nil
		}
		if !errors.Is(err, haproxy.ErrUnavailable) {
			// A forbidden socket or an unusable config_file does not
			// heal by waiting.
			return fleetAPI{}, fmt.Errorf("[haproxy] connect: %w", err)
		}
		log.Error("haproxy unreachable; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return fleetAPI{}, fmt.Errorf("connect to haproxy: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func connectOnce(ctx context.Context, hc config.HAProxy, log *slog.Logger) (*haproxy.Fleet, error) {
	if hc.Driver == "dataplane" {
		return dataplaneFleet(hc, log)
	}
	nodes := make([]haproxy.Node, 0, len(hc.Sockets))
	for i, sock := range hc.Sockets {
		nc := haproxy.NodeConfig{StatsSocket: sock, ConfigFile: hc.ConfigFile, MapFile: hc.MapFile}
		if i < len(hc.MasterSockets) {
			nc.MasterSocket = hc.MasterSockets[i]
		}
		n, err := haproxy.NewRuntime(ctx, nc, log)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return haproxy.NewFleet(log, nodes...)
}

// dataplaneFleet drives every node through its Data Plane API. Nothing is
// contacted here: an unreachable API shows in the first tick's errors.
func dataplaneFleet(hc config.HAProxy, log *slog.Logger) (*haproxy.Fleet, error) {
	mapName := "" // the storage name of the share map, as the API knows it
	if hc.MapFile != "" {
		mapName = filepath.Base(hc.MapFile)
	}
	nodes := make([]haproxy.Node, 0, len(hc.DataplaneURLs))
	for _, u := range hc.DataplaneURLs {
		n, err := dataplane.New(dataplane.Config{URL: u, User: hc.DataplaneUser, Password: hc.DataplanePassword,
			Timeout: hc.Timeout, MapName: mapName}, log)
		if err != nil {
			return nil, fmt.Errorf("[haproxy] dataplane_urls %s: %w", u, err)
		}
		nodes = append(nodes, n)
	}
	return haproxy.NewFleet(log, nodes...)
}

// Stats sums counters and current values of the same rows over the nodes;
// times are averaged.
func (f fleetAPI) Stats(ctx context.Context) (haproxy.Stats, error) {
	all, err := f.Fleet.Stats(ctx)
	if err != nil {
		return haproxy.Stats{}, err
	}
	if len(all) == 1 {
		return all[0], nil
	}
	out := haproxy.Stats{Node: "fleet"}
	out.Frontends = mergeRows(all, func(s haproxy.Stats) []haproxy.StatRow { return s.Frontends })
	out.Backends = mergeRows(all, func(s haproxy.Stats) []haproxy.StatRow { return s.Backends })
	out.Servers = mergeRows(all, func(s haproxy.Stats) []haproxy.StatRow { return s.Servers })
	return out, nil
}

func mergeRows(all []haproxy.Stats, rows func(haproxy.Stats) []haproxy.StatRow) []haproxy.StatRow {
	type key struct{ proxy, server string }
	idx := map[key]int{}
	var out []haproxy.StatRow
	count := map[key]int64{}
	for _, s := range all {
		for _, r := range rows(s) {
			k := key{r.Proxy, r.Server}
			i, ok := idx[k]
			if !ok {
				idx[k] = len(out)
				out = append(out, r)
				count[k] = 1
				continue
			}
			addRow(&out[i], r)
			count[k]++
		}
	}
	for i := range out {
		n := count[key{out[i].Proxy, out[i].Server}]
		out[i].QueueTimeMs /= n
		out[i].ConnectTimeMs /= n
		out[i].ResponseTimeMs /= n
		out[i].TotalTimeMs /= n
	}
	return out
}

func addRow(a *haproxy.StatRow, b haproxy.StatRow) {
	a.Sessions += b.Sessions
	a.Queue += b.Queue
	a.SessionsTotal += b.SessionsTotal
	a.Requests += b.Requests
	a.Rate += b.Rate
	a.ReqRate += b.ReqRate
	a.Hrsp2xx += b.Hrsp2xx
	a.Hrsp4xx += b.Hrsp4xx
	a.Hrsp5xx += b.Hrsp5xx
	a.ConnErrors += b.ConnErrors
	a.RespErrors += b.RespErrors
	a.ReqErrors += b.ReqErrors
	a.Retries += b.Retries
	a.Redispatches += b.Redispatches
	a.QueueTimeMs += b.QueueTimeMs
	a.ConnectTimeMs += b.ConnectTimeMs
	a.ResponseTimeMs += b.ResponseTimeMs
	a.TotalTimeMs += b.TotalTimeMs
}
