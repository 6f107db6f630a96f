// Package provision creates and destroys the instances a shadow pool runs
// on. Three kinds sit behind one Provider interface: a static standby pool
// of addresses, exec hooks (commands that create and destroy an instance),
// and local processes (the demo app on free 127.0.0.1 ports). Each provider
// persists what it handed out in a small JSON file in the state directory,
// so that after a restart List still finds every instance (no orphans).
package provision

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/config"
)

// Instance is one machine or process that can serve an app.
type Instance struct {
	ID       string            `json:"id"`       // unique within the provider
	Provider string            `json:"provider"` // the provider's name
	Addr     string            `json:"addr"`     // host:port serving traffic
	Created  time.Time         `json:"created"`
	Meta     map[string]string `json:"meta,omitempty"` // provider specific (pid, log file…)
}

// Provider creates and destroys instances.
//
// Create returns n instances that accept TCP connections, or an error; on
// error every instance it created is destroyed before it returns. Destroy
// is idempotent: destroying an instance that is already gone is not an
// error. List reports what exists now, including instances created before a
// restart. All methods must return when ctx is canceled, and are safe for
// concurrent use.
type Provider interface {
	Name() string
	Create(ctx context.Context, n int) ([]Instance, error)
	Destroy(ctx context.Context, inst Instance) error
	List(ctx context.Context) ([]Instance, error)
	PricePerHour() float64
	BootTime() time.Duration
}

var (
	// ErrExhausted means the provider has fewer free instances than asked.
	ErrExhausted = errors.New("no free instances")
	// ErrNotReady means an instance did not accept TCP connections in time.
	ErrNotReady = errors.New("instance not reachable")
)

// New builds the provider that cfg.Kind names. Its record lives in stateDir
// as provider-NAME.json unless rec is given (local instances always log to
// stateDir/provider-NAME-logs/). One Provider value owns a record at a
// time: two live providers on the same record (in one process or two)
// would overwrite each other's.
func New(cfg config.Provider, name, stateDir string, rec ...Records) (Provider, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("provider %q: name must be non-empty without path separators", name)
	}
	if stateDir == "" {
		return nil, fmt.Errorf("provider %q: state dir is required", name)
	}
	b := base{name: name, cfg: cfg, now: time.Now}
	var r Records = FileRecords{Path: stateFile(stateDir, name)}
	if len(rec) > 0 && rec[0] != nil {
		r = rec[0]
	}
	switch cfg.Kind {
	case "static":
		return newStatic(b, r)
	case "exec":
		return newExec(b, r)
	case "local":
		return newLocal(b, r, filepath.Join(stateDir, "provider-"+name+"-logs"))
	}
	return nil, fmt.Errorf("provider %q: unknown kind %q (want static, exec or local)", name, cfg.Kind)
}

func stateFile(dir, name string) string {
	return filepath.Join(dir, "provider-"+name+".json")
}

// base holds what every provider kind shares.
type base struct {
	name string
	cfg  config.Provider
	now  func() time.Time
}

func (b base) Name() string            { return b.name }
func (b base) PricePerHour() float64   { return b.cfg.PricePerHour }
func (b base) BootTime() time.Duration { return b.cfg.BootTime }

// bootDeadline bounds waiting for new instances to accept connections: the
// configured boot time, or the command timeout when no boot time is set.
func (b base) bootDeadline() time.Duration {
	if b.cfg.BootTime > 0 {
		return b.cfg.BootTime
	}
	return b.cfg.Timeout
}

func (b base) errorf(format string, args ...any) error {
	return fmt.Errorf("provider %q: "+format, append([]any{b.name}, args...)...)
}

func checkCount(b base, n int) error {
	if n <= 0 {
		return b.errorf("create: count must be positive, got %d", n)
	}
	return nil
}

// destroyAll cleans up after a failed Create, even when ctx is canceled
// (each Destroy is still bounded by the provider's own timeouts).
func destroyAll(ctx context.Context, p Provider, insts []Instance) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, in := range insts {
		if err := p.Destroy(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: %w", err))
		}
	}
	return errors.Join(errs...)
}
