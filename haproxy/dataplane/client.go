// Package dataplane drives HAProxy through the Data Plane API v2 (the
// program v2.9, in front of HAProxy 2.6 or 3.2) over HTTP, with the same
// methods and errors as haproxy.Runtime. What the real API can and cannot
// do decides the design:
//
//   - A server is added to the configuration checked, not in maintenance,
//     at weight 0: HAProxy checks it from the reload on but sends it no
//     traffic. (Servers in MAINT are never checked, v2 has no endpoint to
//     enable checks, and its runtime add drops every option but "check".)
//     SetState(ready) gives it its weight once its check passed.
//   - Weight and maintenance changes are configuration PUTs the API
//     applies through the runtime API without a reload; drain is set live
//     and kept as weight 0 in the configuration, so it survives a reload
//     even without the server-state file.
//   - Adds and deletes reload; the API's reload agent makes one reload of
//     all changes within its --reload-delay, so a pool's adds cost one
//     reload and its removals another.
//   - Every write carries the configuration version; a conflict (another
//     client wrote in between) is re-read and retried.
//
// The traffic share goes through the runtime map endpoints, stats through
// /services/haproxy/stats/native. Bodies are client-native's models.
package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
)

// Config locates one Data Plane API instance (one HAProxy node).
type Config struct {
	// Name identifies the node in errors and logs (default: URL).
	Name string
	// URL is the API's base URL including its basePath, e.g.
	// http://127.0.0.1:5555/v2.
	URL      string
	User     string
	Password string
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration
	// MapName is the share map's storage name, the "map" query parameter
	// of the runtime map endpoints (e.g. shadow.map).
	MapName string
	// Retries bounds the retries of version conflicts (409), outdated
	// transactions (406) and transient errors (502/503/504, network) of
	// idempotent requests (default 3).
	Retries int
	// RetryDelay is the first back-off; it grows linearly (default 100ms).
	RetryDelay time.Duration
	// ReloadTimeout bounds Reload's wait for a new worker (default 15s).
	ReloadTimeout time.Duration
	// Client overrides the HTTP client (its Timeout is kept if set).
	Client *http.Client
}

// DataPlane drives one node through its Data Plane API. Safe for
// concurrent use; changes are serialized.
type DataPlane struct {
	cfg  Config
	base *url.URL
	hc   *http.Client
	log  *slog.Logger
	mu   sync.Mutex // serializes changes
	// weights are the serving weights of servers this driver added or
	// drained (a server out of rotation is configured at weight 0); a
	// server it does not know gets 100 when set ready.
	weights map[string]int
	// counters keeps the stats counters monotonic across reloads.
	counters counters
	removed  removedSet
}

// New checks cfg and returns a driver; it does not contact the API.
func New(cfg Config, log *slog.Logger) (*DataPlane, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &haproxy.Error{Node: cfg.Name, Op: "connect", Err: fmt.Errorf("%w: Data Plane API URL %q: want http(s)://host:port/v2", haproxy.ErrInvalid, cfg.URL)}
	}
	if cfg.Name == "" {
		cfg.Name = cfg.URL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ReloadTimeout <= 0 {
		cfg.ReloadTimeout = 15 * time.Second
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 100 * time.Millisecond
	}
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DataPlane{cfg: cfg, base: u, hc: hc, log: log.With("node", cfg.Name), weights: map[string]int{}}, nil
}

// Name is the node's name.
func (d *DataPlane) Name() string { return d.cfg.Name }

// call is one API request: method, path below the base URL, query, an
// optional JSON body and an optional JSON result. Idempotent requests
// (GET, PUT, DELETE) are retried on transient failures. Errors are
// *haproxy.Error wrapping a sentinel (and an *apiError when the API
// answered).
func (d *DataPlane) call(ctx context.Context, op, method, path string, q url.Values, in, out any) error {
	_, err := d.callStatus(ctx, op, method, path, q, in, out)
	return err
}

// callStatus is call that also returns the HTTP status of a success
// (200, 201, 202 or 204).
func (d *DataPlane) callStatus(ctx context.Context, op, method, path string, q url.Values, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, d.fail(op, method, path, q, fmt.Errorf("encode request: %w", err))
		}
	}
	for attempt := 0; ; attempt++ {
		st, err := d.once(ctx, method, path, q, body, out)
		if err == nil {
			return st, nil
		}
		if method == http.MethodPost || !transient(err) || attempt >= d.cfg.Retries || ctx.Err() != nil {
			return 0, d.fail(op, method, path, q, err)
		}
		d.log.Warn("data plane api transient error, retrying", "op", op, "attempt", attempt+1, "err", err)
		if err := sleep(ctx, d.cfg.RetryDelay*time.Duration(attempt+1)); err != nil {
			return 0, d.fail(op, method, path, q, err)
		}
	}
}

func (d *DataPlane) once(ctx context.Context, method, path string, q url.Values, body []byte, out any) (int, error) {
	u := *d.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(d.cfg.User, d.cfg.Password)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &netError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, &netError{err}
	}
	if resp.StatusCode >= 300 {
		return 0, newAPIError(resp.StatusCode, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return 0, fmt.Errorf("decode %d response: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// fail wraps err into the *haproxy.Error callers branch on.
func (d *DataPlane) fail(op, method, path string, q url.Values, err error) error {
	cmd := method + " " + path
	if len(q) > 0 {
		cmd += "?" + q.Encode()
	}
	e := &haproxy.Error{Node: d.Name(), Op: op, Command: cmd, Err: err}
	var ae *apiError
	if errors.As(err, &ae) {
		e.Message = ae.Message
	}
	return e
}

func (d *DataPlane) invalid(op string, format string, args ...any) error {
	return &haproxy.Error{Node: d.Name(), Op: op, Err: fmt.Errorf("%w: "+format, append([]any{haproxy.ErrInvalid}, args...)...)}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func esc(s string) string { return url.PathEscape(s) }
