package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shadowscale/shadowscale/metrics"
)

// FieldError is a validation failure of one key: "[section] key: problem".
type FieldError struct {
	Section, Key, Problem string
}

func (e *FieldError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("[%s]: %s", e.Section, e.Problem)
	}
	return fmt.Sprintf("[%s] %s: %s", e.Section, e.Key, e.Problem)
}

func bad(section, key, format string, args ...any) error {
	return &FieldError{Section: section, Key: key, Problem: fmt.Sprintf(format, args...)}
}

// Validate checks every value and the relations between them, and returns
// the first problem found (sections in file-documentation order, providers
// and load balancers by name), so the message is one line.
func (c Config) Validate() error {
	checks := []func() error{
		c.Service.validate, c.Forecast.validate, c.Metrics.validate,
		func() error { return c.InfluxDB.validate(c.Metrics.Store == "influxdb") },
		c.HAProxy.validate, c.Policy.validate, c.Feedback.validate, c.validateProviders, c.validateLBs, c.validateHA,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (s Service) validate() error {
	const sec = "service"
	host, port, err := net.SplitHostPort(s.Listen)
	switch {
	case err != nil:
		return bad(sec, "listen", "must be host:port, got %q", s.Listen)
	case host == "":
		return bad(sec, "listen", "host must be given (e.g. 127.0.0.1:9090), got %q", s.Listen)
	case !validPort(port):
		return bad(sec, "listen", "port must be a number 0-65535, got %q", port)
	case s.StateDir == "":
		return bad(sec, "state_dir", "must not be empty")
	case s.Tick <= 0:
		return bad(sec, "tick", "must be positive, got %s", s.Tick)
	case s.APIToken != "" && s.APITokenFile != "":
		return bad(sec, "api_token_file", "set api_token or api_token_file, not both")
	case s.APIToken != "" && len(s.APIToken) < 16:
		return bad(sec, "api_token", "must be at least 16 characters")
	case s.APIMaxBody < 1024:
		return bad(sec, "api_max_body", "must be at least 1024 bytes, got %d", s.APIMaxBody)
	}
	return nil
}

func (f Forecast) validate() error {
	const sec = "forecast"
	switch {
	case !slices.Contains([]string{"auto", "lstm", "naive", "seasonal-naive", "holt-winters", "diff-ar"}, f.Forecaster):
		return bad(sec, "forecaster", "must be one of auto, lstm, naive, seasonal-naive, holt-winters, diff-ar, got %q", f.Forecaster)
	case f.Forecaster == "lstm" && f.Model == "":
		return bad(sec, "model", "required when forecaster = lstm")
	case f.AutoWindow < 1:
		return bad(sec, "auto_window", "must be at least 1, got %d", f.AutoWindow)
	case f.AutoMinOrigins < 1 || f.AutoMinOrigins > f.AutoWindow:
		return bad(sec, "auto_min_origins", "must be in 1..auto_window (%d), got %d", f.AutoWindow, f.AutoMinOrigins)
	case f.Refit <= 0:
		return bad(sec, "refit", "must be positive, got %s", f.Refit)
	case !slices.Contains([]string{"naive", "seasonal-naive", "holt-winters"}, f.Fallback):
		return bad(sec, "fallback", "must be one of naive, seasonal-naive, holt-winters, got %q", f.Fallback)
	case f.Horizon <= 0:
		return bad(sec, "horizon", "must be positive, got %s", f.Horizon)
	case quantileLevels[f.Quantile] == 0:
		return bad(sec, "quantile", "must be one of p10, p50, p90, got %q", f.Quantile)
	case f.MaxFailures < 1:
		return bad(sec, "max_failures", "must be at least 1, got %d", f.MaxFailures)
	case f.History <= f.Horizon:
		return bad(sec, "history", "must be longer than horizon (%s), got %s", f.Horizon, f.History)
	}
	return nil
}

func (m Metrics) validate() error {
	const sec = "metrics"
	switch {
	case m.Store != "embedded" && m.Store != "influxdb":
		return bad(sec, "store", "must be embedded or influxdb, got %q", m.Store)
	case m.Store == "embedded" && m.Path == "":
		return bad(sec, "path", "must not be empty when store = embedded")
	case m.Retention <= 0:
		return bad(sec, "retention", "must be positive, got %s", m.Retention)
	case m.ScrapeInterval <= 0:
		return bad(sec, "scrape_interval", "must be positive, got %s", m.ScrapeInterval)
	case m.BufferPoints < 0:
		return bad(sec, "buffer_points", "must be at least 0, got %d", m.BufferPoints)
	}
	return nil
}

func (i InfluxDB) validate(used bool) error {
	const sec = "influxdb"
	switch {
	case used && i.URL == "":
		return bad(sec, "url", "required when [metrics] store = influxdb")
	case used && i.Database == "":
		return bad(sec, "database", "required when [metrics] store = influxdb")
	case i.Timeout <= 0:
		return bad(sec, "timeout", "must be positive, got %s", i.Timeout)
	case i.BatchSize < 1:
		return bad(sec, "batch_size", "must be at least 1, got %d", i.BatchSize)
	}
	if i.URL != "" {
		if problem := httpURLProblem(i.URL); problem != "" {
			return bad(sec, "url", "%s", problem)
		}
	}
	return nil
}

func (h HAProxy) validate() error {
	const sec = "haproxy"
	switch {
	case h.Driver != "runtime" && h.Driver != "dataplane":
		return bad(sec, "driver", "must be runtime or dataplane, got %q", h.Driver)
	case h.Driver == "runtime" && len(h.Sockets) == 0:
		return bad(sec, "sockets", "required when driver = runtime (comma list of stats socket paths)")
	case h.Driver == "dataplane" && len(h.DataplaneURLs) == 0:
		return bad(sec, "dataplane_urls", "required when driver = dataplane")
	case h.Timeout <= 0:
		return bad(sec, "timeout", "must be positive, got %s", h.Timeout)
	}
	for _, u := range h.DataplaneURLs {
		if problem := httpURLProblem(u); problem != "" {
			return bad(sec, "dataplane_urls", "%s", problem)
		}
	}
	return h.validateNodeFiles()
}

// validateNodeFiles: each per-node file list is empty or has one entry per
// node, and no two nodes share a file (each HAProxy has its own).
func (h HAProxy) validateNodeFiles() error {
	const sec = "haproxy"
	if dup := repeated(h.Sockets); dup != "" {
		return bad(sec, "sockets", "%s is listed twice; each entry is one HAProxy node", dup)
	}
	nodes, by := len(h.Sockets), "socket"
	if h.Driver == "dataplane" {
		nodes, by = len(h.DataplaneURLs), "dataplane_urls entry"
	}
	for _, l := range []struct {
		key   string
		files []string
		one   bool // a single entry may serve every node
	}{
		{"config_file", h.ConfigFiles, false},
		{"map_file", h.MapFiles, h.Driver == "dataplane"},
		{"state_file", h.StateFiles, false},
	} {
		n := len(l.files)
		if n == 0 || n == nodes || (l.one && n == 1) {
			if dup := repeated(l.files); dup != "" && !l.one {
				return bad(sec, l.key, "%s is listed for two nodes; each HAProxy needs its own file", dup)
			}
			continue
		}
		return bad(sec, l.key, "must list one file per %s (%d), same order, got %d", by, nodes, n)
	}
	return nil
}

func repeated(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

func (p Policy) validate() error {
	const sec = "policy"
	switch {
	case p.Mode != "predictive" && p.Mode != "reactive":
		return bad(sec, "mode", "must be predictive or reactive, got %q", p.Mode)
	case !(p.Headroom >= 0 && p.Headroom <= 10):
		return bad(sec, "headroom", "must be between 0 and 10, got %g", p.Headroom)
	case p.MaxPoolsPerLB < 0 || p.MaxPoolsPerLB > 1:
		// One elastic pool per load balancer grows and shrinks with
		// the forecast; more pools would add nothing but lifecycles.
		return bad(sec, "max_pools_per_lb", "must be 0 (never pre-warm) or 1 (one pool that grows and shrinks), got %d", p.MaxPoolsPerLB)
	case p.MinPoolsPerLB < 0 || p.MinPoolsPerLB > p.MaxPoolsPerLB:
		return bad(sec, "min_pools_per_lb", "must be between 0 and max_pools_per_lb (%d), got %d", p.MaxPoolsPerLB, p.MinPoolsPerLB)
	case p.MaxPrewarmed < 0:
		return bad(sec, "max_prewarmed", "must be at least 0, got %d", p.MaxPrewarmed)
	case !(p.MaxCostPerHour >= 0):
		return bad(sec, "max_cost_per_hour", "must be at least 0 (0 = unlimited), got %g", p.MaxCostPerHour)
	case p.Cooldown < 0:
		return bad(sec, "cooldown", "must not be negative, got %s", p.Cooldown)
	case p.WarmupShareMin < 1 || p.WarmupShareMin > 5:
		return bad(sec, "warmup_share_min", "must be between 1 and 5 percent, got %d", p.WarmupShareMin)
	case p.WarmupShareMax < p.WarmupShareMin || p.WarmupShareMax > 5:
		return bad(sec, "warmup_share_max", "must be between warmup_share_min (%d) and 5 percent, got %d", p.WarmupShareMin, p.WarmupShareMax)
	case p.WarmupShareInitial < p.WarmupShareMin || p.WarmupShareInitial > p.WarmupShareMax:
		return bad(sec, "warmup_share_initial", "must be between warmup_share_min (%d) and warmup_share_max (%d), got %d",
			p.WarmupShareMin, p.WarmupShareMax, p.WarmupShareInitial)
	case p.ScaleDownAfter < 0:
		return bad(sec, "scale_down_after", "must not be negative, got %s", p.ScaleDownAfter)
	}
	return validateSteps(p.CutoverSteps)
}

func validateSteps(steps []int) error {
	const sec, key = "policy", "cutover_steps"
	if len(steps) == 0 {
		return bad(sec, key, "must not be empty (e.g. 25,50,75,100)")
	}
	for i, s := range steps {
		if s < 1 || s > 100 {
			return bad(sec, key, "each step must be between 1 and 100 percent, got %d", s)
		}
		if i > 0 && s <= steps[i-1] {
			return bad(sec, key, "must be increasing, got %d after %d", s, steps[i-1])
		}
	}
	if last := steps[len(steps)-1]; last != 100 {
		return bad(sec, key, "must end at 100, got %d", last)
	}
	return nil
}

func (c Config) validateProviders() error {
	for _, name := range c.ProviderNames() {
		if err := c.Providers[name].validate(); err != nil {
			return err
		}
	}
	return nil
}

// kindKeys are the keys only one provider kind reads; setting one for another
// kind is a mistake worth reporting. Ordered, so errors are deterministic.
var kindKeys = []struct {
	kind string
	keys []string
}{
	{"static", []string{"addresses"}},
	{"exec", []string{"create_cmd", "destroy_cmd"}},
	{"local", []string{"app_binary", "app_args"}},
}

func (p Provider) validate() error {
	sec := "provider." + p.Name
	if p.Kind == "" {
		return bad(sec, "kind", "required (static, exec or local)")
	}
	if !slices.Contains([]string{"static", "exec", "local"}, p.Kind) {
		return bad(sec, "kind", "must be one of static, exec, local, got %q", p.Kind)
	}
	set := map[string]bool{
		"addresses": len(p.Addresses) > 0, "create_cmd": p.CreateCmd != "", "destroy_cmd": p.DestroyCmd != "",
		"app_binary": p.AppBinary != "", "app_args": len(p.AppArgs) > 0,
	}
	for _, kk := range kindKeys {
		kind := kk.kind
		for _, k := range kk.keys {
			if kind == p.Kind && k != "app_args" && !set[k] {
				return bad(sec, k, "required when kind = %s", p.Kind)
			}
			if kind != p.Kind && set[k] {
				return bad(sec, k, "only used when kind = %s, but kind = %s", kind, p.Kind)
			}
		}
	}
	for _, a := range p.Addresses {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || !validPort(port) || port == "0" {
			return bad(sec, "addresses", "must be host:port, got %q", a)
		}
	}
	return p.validateNumbers(sec)
}

func (p Provider) validateNumbers(sec string) error {
	switch {
	case p.Timeout <= 0:
		return bad(sec, "timeout", "must be positive, got %s", p.Timeout)
	case !(p.PricePerHour >= 0):
		return bad(sec, "price_per_hour", "must be at least 0, got %g", p.PricePerHour)
	case p.BootTime < 0:
		return bad(sec, "boot_time", "must not be negative, got %s", p.BootTime)
	case p.WarmupTime < 0:
		return bad(sec, "warmup_time", "must not be negative, got %s", p.WarmupTime)
	}
	return nil
}

func (c Config) validateLBs() error {
	if len(c.LBs) == 0 {
		return bad("lb.NAME", "", "at least one load balancer section is required")
	}
	usedBy := map[string]string{} // backend -> lb
	for _, name := range c.LBNames() {
		l := c.LBs[name]
		if err := l.validate(c.Providers); err != nil {
			return err
		}
		if l.AppQuery != "" && c.Metrics.Store != "influxdb" {
			return bad("lb."+name, "app_query", "is a Flux query: it needs [metrics] store = influxdb, got %q", c.Metrics.Store)
		}
		for _, be := range []string{l.Backend, l.ShadowBackend} {
			if other, ok := usedBy[be]; ok {
				return bad("lb."+name, "backend", "backend %q is already used by [lb.%s]", be, other)
			}
			usedBy[be] = name
		}
	}
	return nil
}

func (l LB) validate(providers map[string]Provider) error {
	sec := "lb." + l.Name
	switch {
	case l.Backend == "":
		return bad(sec, "backend", "required")
	case !validBackendName(l.Backend):
		return bad(sec, "backend", "must be an HAProxy name (letters, digits, '-', '_', '.', ':'), got %q", l.Backend)
	case !validBackendName(l.ShadowBackend):
		return bad(sec, "shadow_backend", "must be an HAProxy name (letters, digits, '-', '_', '.', ':'), got %q", l.ShadowBackend)
	case l.ShadowBackend == l.Backend:
		return bad(sec, "shadow_backend", "must differ from backend %q", l.Backend)
	case l.CapacityPerInstance < 0:
		return bad(sec, "capacity_per_instance", "must be auto or a positive number, got %g", l.CapacityPerInstance)
	case l.Provider == "":
		return bad(sec, "provider", "required (the NAME of a [provider.NAME] section)")
	case l.MinInstances < 0:
		return bad(sec, "min_instances", "must be at least 0, got %d", l.MinInstances)
	case l.MaxInstances < l.MinInstances:
		return bad(sec, "max_instances", "must be at least min_instances (%d), got %d", l.MinInstances, l.MaxInstances)
	case !(l.TargetUtilisation >= 0 && l.TargetUtilisation <= 1): // 0: the default
		return bad(sec, "target_utilisation", "must be above 0 and at most 1, got %g", l.TargetUtilisation)
	}
	if _, ok := providers[l.Provider]; !ok {
		return bad(sec, "provider", "no [provider.%s] section (defined: %s)", l.Provider, strings.Join(sortedKeys(providers), ", "))
	}
	if l.AppQuery != "" {
		if err := metrics.ValidateAppQuery(l.AppQuery); err != nil {
			return bad(sec, "app_query", "%v", err)
		}
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// validBackendName follows HAProxy's rule for proxy names.
func validBackendName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

func httpURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("must be an http(s) URL with a host, got %q", raw)
	}
	return ""
}
