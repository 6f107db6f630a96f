package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// The client subcommands talk to a running serve through its API: the same
// routes, the same token. The address comes from --url, or from --config
// (its [service] listen, or the address a serve on port 0 wrote into its
// state_dir), or SHADOWSCALE_URL; the token from --token-file, the
// configuration, or SHADOWSCALE_TOKEN.

// apiClient is one serve's API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// clientFlags are the flags every client subcommand takes.
type clientFlags struct {
	url, cfg, tokenFile *string
	asJSON              *bool
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		url:       fs.String("url", "", "base URL of a running serve (default: from --config, else SHADOWSCALE_URL, else http://127.0.0.1:9090)"),
		cfg:       fs.String("config", "", "serve's INI file: its listen address and API token"),
		tokenFile: fs.String("token-file", "", "file holding the API token (default: from --config, else SHADOWSCALE_TOKEN)"),
		asJSON:    fs.Bool("json", false, "print the API's answer as one JSON document"),
	}
}

func (f clientFlags) client() (*apiClient, error) {
	c := &apiClient{base: *f.url, http: &http.Client{Timeout: 30 * time.Second}}
	if *f.cfg != "" {
		cfg, err := config.Load(*f.cfg)
		if err != nil {
			return nil, err
		}
		if c.base == "" {
			c.base = "http://" + listenAddr(cfg)
		}
		if c.token, err = cfg.Service.Token(os.ReadFile); err != nil {
			return nil, err
		}
	}
	if *f.tokenFile != "" {
		tok, err := config.Service{APITokenFile: *f.tokenFile}.Token(os.ReadFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", errors.Unwrap(err))
		}
		c.token = tok
	}
	if c.token == "" {
		c.token = os.Getenv("SHADOWSCALE_TOKEN")
	}
	if c.base == "" {
		c.base = os.Getenv("SHADOWSCALE_URL")
	}
	if c.base == "" {
		c.base = "http://127.0.0.1:9090"
	}
	u, err := url.Parse(c.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://host:port", c.base)
	}
	c.base = strings.TrimRight(c.base, "/")
	return c, nil
}

// listenAddr is where a serve with this configuration listens: the address
// it wrote when it bound port 0, else [service] listen.
func listenAddr(cfg config.Config) string {
	if _, port, _ := net.SplitHostPort(cfg.Service.Listen); port == "0" {
		if b, err := os.ReadFile(filepath.Join(cfg.Service.StateDir, addrFile)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return cfg.Service.Listen
}

// do sends one request; a non-2xx answer becomes an error carrying the
// API's one-line message.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e api.Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// runStatus prints every LB's phase, share, demand, forecast and capacity.
func runStatus(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("status")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var st api.StatusView
	if err := c.do(ctx, http.MethodGet, "/v1/lbs", nil, &st); err != nil {
		return err
	}
	if *cf.asJSON {
		return writeJSON(stdout, st)
	}
	printStatus(stdout, st)
	return nil
}

func printStatus(w io.Writer, st api.StatusView) {
	fmt.Fprintf(w, "ticks %d (missed %d), last %s; dry-run %v (%s), kill switch %v (%s)\n", st.Ticks, st.MissedTicks,
		st.Heartbeat.Format(time.RFC3339), st.Controls.DryRun, st.Controls.DryRunSource, st.Controls.KillSwitch, st.Controls.KillSwitchSource)
	if st.Error != "" {
		fmt.Fprintln(w, "error:", st.Error)
	}
	fmt.Fprintf(w, "%-16s %-12s %5s %9s %9s %9s  %s\n", "LB", "PHASE", "SHARE", "DEMAND", "P90", "CAPACITY", "DECISION")
	for _, l := range st.LBs {
		demand, p90 := "-", "-"
		if l.Demand != nil {
			demand = fmt.Sprintf("%.1f", *l.Demand)
		}
		if l.Forecast != nil {
			p90 = fmt.Sprintf("%.1f", l.Forecast.Next.P90)
		}
		phase := l.Phase
		if l.Paused {
			phase += "*"
		}
		fmt.Fprintf(w, "%-16s %-12s %4d%% %9s %9s %9.1f  %s\n", l.LB, phase, l.Share, demand, p90, l.Capacity, l.Decision)
	}
}

// lbCommand makes pause/resume/rollback: one LB as the argument.
func lbCommand(name, verb string, body func(fs *flag.FlagSet) func() any) func(context.Context, []string, io.Writer) error {
	return func(ctx context.Context, args []string, stdout io.Writer) error {
		fs := newFlags(name)
		cf := addClientFlags(fs)
		mk := body(fs)
		lb, rest := splitArg(args)
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if lb == "" {
			return fmt.Errorf("usage: shadowscale %s LB [flags]", name)
		}
		c, err := cf.client()
		if err != nil {
			return err
		}
		var out json.RawMessage
		if err := c.do(ctx, http.MethodPost, "/v1/lbs/"+url.PathEscape(lb)+"/"+verb, mk(), &out); err != nil {
			return err
		}
		if *cf.asJSON {
			return writeJSON(stdout, out)
		}
		fmt.Fprintf(stdout, "%s %s: %s\n", name, lb, summary(out))
		return nil
	}
}

// splitArg takes the first argument that is not a flag as the subject, so
// both `pause web --json` and `pause --json web` work.
func splitArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") && (n < 2 || !needsValue(args[n-2])) {
		return args[n-1], args[:n-1]
	}
	return "", args
}

func needsValue(flagArg string) bool {
	name := strings.TrimLeft(flagArg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	switch name {
	case "url", "config", "token-file", "reason", "lb", "kind", "name", "start", "end", "lift":
		return true
	}
	return false
}

func summary(raw json.RawMessage) string {
	var rr api.RollbackResult
	if json.Unmarshal(raw, &rr) == nil && rr.Result != "" {
		return rr.Result
	}
	var cv scheduler.ControlView
	if json.Unmarshal(raw, &cv) == nil && cv.KillSwitchSource != "" {
		paused := make([]string, 0, len(cv.Paused))
		for lb := range cv.Paused {
			paused = append(paused, lb)
		}
		return fmt.Sprintf("ok (paused: %s; dry-run %v; kill switch %v)", orDash(strings.Join(paused, ",")), cv.DryRun, cv.KillSwitch)
	}
	return "ok"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func noBody(*flag.FlagSet) func() any { return func() any { return nil } }

func rollbackFlags(fs *flag.FlagSet) func() any {
	reason := fs.String("reason", "", "why (recorded as the pool's failure reason)")
	return func() any { return map[string]string{"reason": *reason} }
}

// switchCommand makes kill-switch and dry-run: on or off.
func switchCommand(name, path string) func(context.Context, []string, io.Writer) error {
	return func(ctx context.Context, args []string, stdout io.Writer) error {
		fs := newFlags(name)
		cf := addClientFlags(fs)
		v, rest := splitArg(args)
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if v != "on" && v != "off" {
			return fmt.Errorf("usage: shadowscale %s on|off [flags]; got %q", name, v)
		}
		c, err := cf.client()
		if err != nil {
			return err
		}
		var out json.RawMessage
		if err := c.do(ctx, http.MethodPut, path, map[string]bool{"on": v == "on"}, &out); err != nil {
			return err
		}
		if *cf.asJSON {
			return writeJSON(stdout, out)
		}
		fmt.Fprintf(stdout, "%s %s: %s\n", name, v, summary(out))
		return nil
	}
}

// fetchExport reads an LB's demand through a running serve's API and lays
// it on the query's grid, as a local export would have read it.
func fetchExport(ctx context.Context, c *apiClient, q metrics.Query, lb string) (metrics.Regular, error) {
	v := url.Values{"from": {q.From.Format(time.RFC3339)}, "to": {q.To.Format(time.RFC3339)}, "step": {q.Step.String()}}
	var data []byte
	if err := c.do(ctx, http.MethodGet, "/v1/lbs/"+url.PathEscape(lb)+"/export?"+v.Encode(), nil, &data); err != nil {
		return metrics.Regular{}, err
	}
	start, n, err := q.Grid()
	if err != nil {
		return metrics.Regular{}, err
	}
	r := metrics.Regular{Name: q.Select.String(), Start: start, Step: q.Step, Values: make([]float64, n)}
	for i := range r.Values {
		r.Values[i] = math.NaN()
	}
	tr, err := metrics.ReadTrace(bytes.NewReader(data), lb, metrics.TraceOptions{})
	if errors.Is(err, metrics.ErrEmptyTrace) {
		return r, nil
	}
	if err != nil {
		return metrics.Regular{}, fmt.Errorf("export answer: %w", err)
	}
	for _, p := range tr.Points {
		if i := int(p.T.Sub(start) / q.Step); i >= 0 && i < n {
			r.Values[i] = p.V
		}
	}
	return r, nil
}
