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

// connectFleet connects to every configured node, retrying with backoff
// while one is unreachable, until all answer or ctx is done: a service
// started before HAProxy waits for it rather than exiting. Other errors
// (permission, config_file) fail at once.
func connectFleet(ctx context.Context, hc config.HAProxy, log *slog.Logger) (*haproxy.Fleet, error) {
	backoff := time.Second
	for {
		f, err := connectOnce(ctx, hc, log)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, haproxy.ErrUnavailable) {
			// A forbidden socket or an unusable config_file does not
			// heal by waiting.
			return nil, fmt.Errorf("[haproxy] connect: %w", err)
		}
		// Expected while HAProxy starts: not an ERROR.
		log.Warn("haproxy unreachable; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to haproxy: %w (last error: %w)", ctx.Err(), err)
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
	for i := range hc.Sockets {
		n, err := haproxy.NewRuntime(ctx, nodeConfig(hc, i), log)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return haproxy.NewFleet(log, nodes...)
}

// nodeConfig is node i of [haproxy]: its socket and its own files.
func nodeConfig(hc config.HAProxy, i int) haproxy.NodeConfig {
	return haproxy.NodeConfig{StatsSocket: hc.Sockets[i], Timeout: hc.Timeout,
		ConfigFile: nth(hc.ConfigFiles, i), MapFile: nth(hc.MapFiles, i), StateFile: nth(hc.StateFiles, i)}
}

// nth is list[i], or the only entry of a one-entry list, or "".
func nth(list []string, i int) string {
	switch {
	case i < len(list):
		return list[i]
	case len(list) == 1:
		return list[0]
	}
	return ""
}

// dataplaneFleet drives every node through its Data Plane API. Nothing is
// contacted here: an unreachable API shows in the first tick's errors.
func dataplaneFleet(hc config.HAProxy, log *slog.Logger) (*haproxy.Fleet, error) {
	nodes := make([]haproxy.Node, 0, len(hc.DataplaneURLs))
	for i, u := range hc.DataplaneURLs {
		mapName := "" // the storage name of the share map, as the API knows it
		if m := nth(hc.MapFiles, i); m != "" {
			mapName = filepath.Base(m)
		}
		n, err := dataplane.New(dataplane.Config{URL: u, User: hc.DataplaneUser, Password: hc.DataplanePassword,
			Timeout: hc.Timeout, MapName: mapName}, log)
		if err != nil {
			return nil, fmt.Errorf("[haproxy] dataplane_urls %s: %w", u, err)
		}
		nodes = append(nodes, n)
	}
	return haproxy.NewFleet(log, nodes...)
}
