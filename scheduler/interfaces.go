// Package scheduler is shadowscale's control loop: once per tick it observes
// every load balancer, forecasts their demand in one batch, plans the
// capacity needed over the pool's lead time and advances each shadow pool's
// lifecycle by one step (Idle → Provisioning → WarmingUp → Ready →
// CuttingOver → Active → Draining → Retired, RollingBack on failure).
//
// The planner and the pool state machine do no I/O of their own and never
// read the wall clock: time, the HAProxy driver, the instance providers, the
// metrics history and the forecaster are passed in, so the backtest
// simulator can drive exactly this code against a simulated cluster.
package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Forecaster predicts a batch of series (the same contract as
// inference.Forecaster): one Forecast per input, in input order,
// P10 <= P50 <= P90, non-negative; it returns when ctx is done.
type Forecaster interface {
	Name() string
	Forecast(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error)
}

// History gives a load balancer's recent demand (requests/s at a regular
// step) up to now. The series ends at or before now; missing points are
// NaN. It must return when ctx is done.
type History interface {
	Demand(ctx context.Context, lb string, now time.Time) (inference.Series, error)
}

// AppMetrics reads a load balancer's application utilisation now: the
// busy fraction of its instances (0..1; values above 1 are read as percent),
// NaN when there is no recent point. It must return when ctx is done.
type AppMetrics interface {
	Utilisation(ctx context.Context, lb string, now time.Time) (float64, error)
}

// ServerState is a server's administrative state in HAProxy.
type ServerState string

// The administrative states the scheduler sets.
const (
	ServerReady ServerState = "ready"
	ServerDrain ServerState = "drain"
	ServerMaint ServerState = "maint"
)

// ServerSpec is a server to add to a shadow backend.
type ServerSpec struct {
	Name string
	Addr string // host:port
}

// Server is one server of a backend as the load balancer sees it now.
type Server struct {
	Name     string      `json:"name"`
	Addr     string      `json:"addr"`
	State    ServerState `json:"state"`
	Healthy  bool        `json:"healthy"` // the last health check passed (L7OK/L6OK/L4OK)
	Pending  bool        `json:"pending"` // no check result yet (INI: just added, restarted or reloaded)
	Check    string      `json:"check"`   // the check status as reported, for reasons
	Sessions int64       `json:"sessions"`
}

// BackendStats is one backend's traffic. Requests and Errors are cumulative
// counters (they may reset when HAProxy reloads); the scheduler turns them
// into rates between ticks.
type BackendStats struct {
	Requests     int64         `json:"requests"` // HTTP requests, cumulative
	Errors       int64         `json:"errors"`   // 5xx + connection/response errors, cumulative
	ResponseTime time.Duration `json:"response_time"`
	Sessions     int64         `json:"sessions"` // current
	Serving      int           `json:"serving"`  // servers ready and up
}

// Driver changes and reads one HAProxy (or fleet). Every method must return
// when ctx is done, be safe to retry after a failure, and wrap ErrNotFound
// for an unknown server so that cleanup can treat "already gone" as done.
type Driver interface {
	// ListServers returns the servers of backend with their state,
	// health and current sessions.
	ListServers(ctx context.Context, backend string) ([]Server, error)
	// AddServer adds a server in MAINT with health checks running, so
	// it can be proven healthy before it takes any traffic.
	AddServer(ctx context.Context, backend string, s ServerSpec) error
	// EnableHealth (re)starts a server's health checks; it is idempotent.
	// A crash between AddServer's add and its start of the checks leaves
	// a server no check would ever prove healthy.
	EnableHealth(ctx context.Context, backend, server string) error
	// SetServerState sets a server's administrative state.
	SetServerState(ctx context.Context, backend, server string, st ServerState) error
	// RemoveServer deletes a server that is in MAINT with no sessions; it
	// fails (without waiting long) when sessions remain.
	RemoveServer(ctx context.Context, backend, server string) error
	// SetShare sets the percentage (0–100) of lb's requests sent to its
	// shadow backend; it must survive a reload of the load balancer.
	SetShare(ctx context.Context, lb string, pct int) error
	// BackendStats reads one backend's counters and gauges.
	BackendStats(ctx context.Context, backend string) (BackendStats, error)
}

// ErrNotFound is what a Driver or Provider wraps for an unknown name.
var ErrNotFound = errors.New("not found")

// Instance is one instance a provider created.
type Instance struct {
	ID   string `json:"id"`
	Addr string `json:"addr"` // host:port the app listens on
}

// Provider creates and destroys the instances of shadow pools. Every method
// must return when ctx is done. Destroy of an instance that no longer
// exists is not an error (cleanup is retried). List returns everything the
// provider created and has not destroyed, so that reconcile finds orphans.
type Provider interface {
	Create(ctx context.Context, n int) ([]Instance, error)
	Destroy(ctx context.Context, ids []string) error
	List(ctx context.Context) ([]Instance, error)
	PricePerHour() float64 // per instance
	BootTime() time.Duration
}

// StateStore persists the scheduler's whole state. Save must be atomic: after
// a crash Load returns either the previous or the new state, never a mix.
// Load of a store that was never saved returns an empty State and no error.
type StateStore interface {
	Load(ctx context.Context) (State, error)
	Save(ctx context.Context, s State) error
}

// Clock gives Run its ticks; tests and the simulator pass their own.
type Clock interface {
	Now() time.Time
	// After is time.After for this clock.
	After(d time.Duration) <-chan time.Time
}
