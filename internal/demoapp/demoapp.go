// Package demoapp is a small HTTP app server for tests and the demo: it
// has a cold start (slower and erroring for its first seconds or requests),
// a capacity limit with a bounded queue beyond it, run-time failure
// injection and a /health endpoint for HAProxy checks. Every response names
// the instance in the X-Instance header so clients can measure shares.
package demoapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config shapes one instance.
type Config struct {
	Name string // instance name, sent in X-Instance
	// Delay is the service time of a warm request.
	Delay time.Duration
	// The instance is cold while younger than ColdFor or until it has
	// served ColdRequests requests, whichever lasts longer.
	ColdFor      time.Duration
	ColdRequests int
	// ColdDelay is added to Delay while cold.
	ColdDelay time.Duration
	// ColdErrorRate is the fraction (0–1) of cold requests answered 500.
	ColdErrorRate float64
	// Capacity is the number of requests served at once (0: unlimited);
	// up to QueueLimit more wait, beyond that the answer is 503.
	Capacity   int
	QueueLimit int
	// Stream sends the response headers before the service time, like a
	// streaming response: a crash mid-request then cannot be retried by the
	// proxy, so the client sees the loss. Failures abort the body.
	Stream bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("demoapp: empty name")
	case c.Delay < 0 || c.ColdFor < 0 || c.ColdDelay < 0:
		return fmt.Errorf("demoapp %s: negative delay or cold-for", c.Name)
	case c.ColdRequests < 0 || c.Capacity < 0 || c.QueueLimit < 0:
		return fmt.Errorf("demoapp %s: negative cold-requests, capacity or queue", c.Name)
	case c.ColdErrorRate < 0 || c.ColdErrorRate > 1:
		return fmt.Errorf("demoapp %s: cold error rate %v not in [0,1]", c.Name, c.ColdErrorRate)
	}
	return nil
}

// Fault is a failure injected at run time.
type Fault struct {
	// Mode is "" (none), "error" (answer 500 at ErrorRate), "slow" (add
	// Delay) or "down" (health and every request answer 503).
	Mode      string        `json:"mode"`
	ErrorRate float64       `json:"error_rate,omitempty"`
	Delay     time.Duration `json:"delay_ns,omitempty"`
}

// Stats are the instance's counters.
type Stats struct {
	Name     string `json:"name"`
	Served   int64  `json:"served"`
	Errors   int64  `json:"errors"`
	Rejected int64  `json:"rejected"`
	InFlight int64  `json:"in_flight"`
	Queued   int64  `json:"queued"`
	Cold     bool   `json:"cold"`
	Fault    Fault  `json:"fault"`
}

// App is one instance. Its zero value is not usable; call New.
type App struct {
	cfg     Config
	started time.Time
	slots   chan struct{} // nil when unlimited

	served, errs, rejected, inflight, queued atomic.Int64
	coldSeen                                 atomic.Int64 // requests counted while cold
	errSeq, faultSeq                         atomic.Int64

	mu    sync.Mutex
	fault Fault
}

// New starts the instance's clock.
func New(cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{cfg: cfg, started: cfg.Now()}
	if cfg.Capacity > 0 {
		a.slots = make(chan struct{}, cfg.Capacity)
	}
	return a, nil
}

// SetFault switches failure injection at run time.
func (a *App) SetFault(f Fault) error {
	switch f.Mode {
	case "", "error", "slow", "down":
	default:
		return fmt.Errorf("demoapp %s: unknown fault mode %q (want error, slow, down or empty)", a.cfg.Name, f.Mode)
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || f.Delay < 0 {
		return fmt.Errorf("demoapp %s: fault error rate %v not in [0,1] or negative delay", a.cfg.Name, f.ErrorRate)
	}
	a.mu.Lock()
	a.fault = f
	a.mu.Unlock()
	return nil
}

func (a *App) currentFault() Fault {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fault
}

// Cold reports whether the instance is still warming up.
func (a *App) Cold() bool {
	return a.cfg.Now().Sub(a.started) < a.cfg.ColdFor || a.coldSeen.Load() < int64(a.cfg.ColdRequests)
}

// Stats returns the counters.
func (a *App) Stats() Stats {
	return Stats{
		Name: a.cfg.Name, Served: a.served.Load(), Errors: a.errs.Load(),
		Rejected: a.rejected.Load(), InFlight: a.inflight.Load(), Queued: a.queued.Load(),
		Cold: a.Cold(), Fault: a.currentFault(),
	}
}

// Handler serves / (work), /health, /admin/stats and /admin/fault
// (GET shows, POST a JSON Fault sets).
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", a.health)
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, a.Stats()) })
	mux.HandleFunc("GET /admin/fault", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, a.currentFault()) })
	mux.HandleFunc("POST /admin/fault", a.postFault)
	mux.HandleFunc("/", a.work)
	return mux
}

func (a *App) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Instance", a.cfg.Name)
	if a.currentFault().Mode == "down" {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (a *App) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
		http.Error(w, "bad fault JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := a.SetFault(f); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, f)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
