// Package haproxy drives a live HAProxy 2.6 for the scheduler: dynamic
// servers in a primary backend and its "<lb>_shadow" backend, health-gated
// warm-up, weights and admin states, the traffic share between the two
// backends (a map file), live stats, persistence of every change into
// haproxy.cfg so a reload keeps it, and reload.
//
// Runtime is the default implementation: the runtime API over the worker's
// stats socket with client-native/v5 (runtime for live changes,
// configuration transactions for persistence), every command bounded by
// the node's timeout, reload through the master socket. Fleet answers for
// several nodes as one (see Fleet). Package haproxy/dataplane offers the
// same methods over the Data Plane API v2 (HTTP).
package haproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/haproxytech/client-native/v5/configuration"
	"github.com/haproxytech/client-native/v5/runtime"
	rtopts "github.com/haproxytech/client-native/v5/runtime/options"
)

// NodeConfig locates one HAProxy node's files.
type NodeConfig struct {
	// Name identifies the node in errors and logs (default: the socket).
	Name string
	// StatsSocket is the worker's runtime API socket (level admin).
	StatsSocket string
	// MasterSocket is the master CLI socket, used for reload.
	MasterSocket string
	// ConfigFile is the haproxy.cfg that persistence rewrites; empty
	// disables persistence (runtime-only changes vanish on reload).
	ConfigFile string
	// MapFile is the traffic-share map (key: LB name, value: percent).
	MapFile string
	// StateFile is the server-state-file dumped before each reload.
	StateFile string
	// HAProxyBin validates configuration commits (default "haproxy" on PATH).
	HAProxyBin string
	// TransactionDir holds configuration transactions (default: a
	// "transactions" dir next to ConfigFile).
	TransactionDir string
	// Timeout bounds every socket command, including the connect
	// (default DefaultTimeout).
	Timeout time.Duration
}

func (c NodeConfig) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.StatsSocket
}

// Runtime drives one HAProxy node. Its methods are safe for concurrent use;
// changes are serialized.
type Runtime struct {
	cfg  NodeConfig
	rt   runtime.Runtime
	conf configuration.Configuration // nil when persistence is off
	log  *slog.Logger
	mu   sync.Mutex
}

// NewRuntime connects to the node's stats socket (it must answer) and, when
// ConfigFile is set, opens it for configuration transactions.
func NewRuntime(ctx context.Context, cfg NodeConfig, log *slog.Logger) (*Runtime, error) {
	if cfg.StatsSocket == "" {
		return nil, &Error{Node: cfg.name(), Op: "connect", Err: fmt.Errorf("%w: empty stats socket path", ErrInvalid)}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkSocket(cfg.StatsSocket); err != nil {
		return nil, &Error{Node: cfg.name(), Op: "connect", Err: err}
	}
	rt, err := bounded(ctx, cfg.timeout(), func() (runtime.Runtime, error) {
		return runtime.New(ctx, rtopts.Socket(cfg.StatsSocket))
	})
	if timedOut(err) {
		return nil, &Error{Node: cfg.name(), Op: "connect", Command: "show info", Err: err}
	}
	if err != nil {
		return nil, &Error{Node: cfg.name(), Op: "connect", Message: err.Error(), Err: classify("", err)}
	}
	r := &Runtime{cfg: cfg, rt: rt, log: log.With("node", cfg.name())}
	if cfg.ConfigFile != "" {
		if r.conf, err = openConfiguration(ctx, cfg); err != nil {
			return nil, &Error{Node: cfg.name(), Op: "open configuration", Err: err}
		}
	}
	// Written at once, so the next start of HAProxy finds the file it is
	// configured to load (it warns when the file is missing).
	r.keepState(ctx)
	return r, nil
}

// Name is the node's name.
func (r *Runtime) Name() string { return r.cfg.name() }

// checkSocket gives a clear error for a missing or forbidden socket before
// client-native's generic dial error.
func checkSocket(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: socket %s does not exist (is haproxy running with this stats socket?)", ErrUnavailable, path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w: socket %s: %v", ErrPermission, path, err)
	case err != nil:
		return fmt.Errorf("%w: socket %s: %v", ErrUnavailable, path, err)
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%w: %s is not a unix socket", ErrUnavailable, path)
	}
	return nil
}

// nativeErrRE splits client-native's "<socket> [3] message [command]".
var nativeErrRE = regexp.MustCompile(`\[(\d)\]:? (.*) \[(.*)\]$`)

// fail wraps an error from client-native into an *Error with HAProxy's
// message and a sentinel.
func (r *Runtime) fail(op, cmd string, err error) error {
	if timedOut(err) {
		return &Error{Node: r.Name(), Op: op, Command: cmd, Err: err}
	}
	msg := ""
	if m := nativeErrRE.FindStringSubmatch(strings.TrimSpace(err.Error())); m != nil {
		msg, cmd = strings.TrimSpace(m[2]), m[3]
		return &Error{Node: r.Name(), Op: op, Command: cmd, Message: msg, Err: classify(msg, nil)}
	}
	return &Error{Node: r.Name(), Op: op, Command: cmd, Message: err.Error(), Err: classify("", err)}
}

// raw runs one CLI command on the stats socket and returns its answer, or
// an *Error carrying HAProxy's message when the answer is an error.
func (r *Runtime) raw(ctx context.Context, op, cmd string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &Error{Node: r.Name(), Op: op, Command: cmd, Err: err}
	}
	outs, err := bounded(ctx, r.cfg.timeout(), func() ([]string, error) { return r.rt.ExecuteRaw(cmd) })
	if err != nil {
		return "", r.fail(op, cmd, err)
	}
	out := strings.Join(outs, "\n")
	if msg := cliMessage(out); msg != "" {
		return "", &Error{Node: r.Name(), Op: op, Command: cmd, Message: msg, Err: classify(msg, nil)}
	}
	return out, nil
}

// CheckName refuses names HAProxy would not accept in a configuration or
// a runtime command (a ';' would start another command).
func CheckName(kind, s string) error {
	if s == "" || strings.ContainsAny(s, " \t\n/;#\\'\"") {
		return fmt.Errorf("%w: %s name %q is empty or contains a space, '/', ';' or '#'", ErrInvalid, kind, s)
	}
	return nil
}

func invalid(node, op string, err error) error {
	return &Error{Node: node, Op: op, Err: err}
}
