package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
)

// statser is the part of the fleet checkBackends reads.
type statser interface {
	Stats(ctx context.Context) ([]haproxy.Stats, error)
}

// checkBackends refuses, at start-up, an [lb.NAME] backend or
// shadow_backend that an HAProxy node does not have: otherwise every tick
// would fail on it. It reads each node's stats (the Data Plane API answers
// an unknown backend's server list with an empty list, stats do not lie).
func checkBackends(ctx context.Context, cfg config.Config, f statser) error {
	stats, err := f.Stats(ctx)
	if err != nil {
		return fmt.Errorf("check backends: %w", err)
	}
	var errs []error
	for _, name := range cfg.LBNames() {
		l := cfg.LBs[name]
		for _, k := range []struct{ key, backend string }{{"backend", l.Backend}, {"shadow_backend", l.ShadowBackend}} {
			for _, st := range stats {
				if _, ok := st.Row("backend", k.backend, ""); !ok {
					errs = append(errs, fmt.Errorf("[lb.%s] %s: HAProxy%s has no backend %q", name, k.key, nodeName(st.Node), k.backend))
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}

func nodeName(n string) string {
	if n == "" {
		return ""
	}
	return " node " + n
}
