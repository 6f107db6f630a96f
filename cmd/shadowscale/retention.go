package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// pruner is a metrics store that applies [metrics] retention itself (the
// embedded store); InfluxDB applies its own retention policy.
type pruner interface {
	RunRetention(ctx context.Context, every time.Duration, now func() time.Time, report func(removed int, err error))
}

// runRetention prunes the store at start and then every retention/24
// (at most hourly, at least every minute) until ctx is done; a store that
// does not prune itself returns at once.
func runRetention(ctx context.Context, store metrics.Store, retention time.Duration, log *slog.Logger) {
	p, ok := store.(pruner)
	if !ok || retention <= 0 {
		return
	}
	every := min(max(retention/24, time.Minute), time.Hour)
	p.RunRetention(ctx, every, time.Now, func(removed int, err error) {
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("metrics retention: prune failed", "err", err)
		case removed > 0:
			log.Info("metrics retention: pruned", "removed", removed, "retention", retention.String(), "next_in", every.String())
		}
	})
}
