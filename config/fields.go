package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// field binds one INI key to the struct field its value goes to. The tables
// below are the single list of known keys: parsing, unknown-key errors and
// the docs-drift test all read them.
type field struct {
	key string
	set func(value string) error
}

// removedKeys are keys earlier versions read, with why they are gone.
var removedKeys = map[string]string{
	"haproxy.master_sockets": "no longer used: shadowscale never reloads HAProxy (every change is made at run time and persisted into config_file, map_file and state_file); remove the line",
}

var fixedSectionNames = []string{"service", "forecast", "metrics", "influxdb", "haproxy", "policy", "ha", "feedback"}

func fixedSections() map[string]func(c *Config) []field {
	return map[string]func(c *Config) []field{
		"service":  func(c *Config) []field { return serviceFields(&c.Service) },
		"forecast": func(c *Config) []field { return forecastFields(&c.Forecast) },
		"metrics":  func(c *Config) []field { return metricsFields(&c.Metrics) },
		"influxdb": func(c *Config) []field { return influxFields(&c.InfluxDB) },
		"haproxy":  func(c *Config) []field { return haproxyFields(&c.HAProxy) },
		"policy":   func(c *Config) []field { return policyFields(&c.Policy) },
		"ha":       func(c *Config) []field { return haFields(&c.HA) },
		"feedback": func(c *Config) []field { return feedbackFields(&c.Feedback) },
	}
}

func serviceFields(s *Service) []field {
	return []field{
		{"listen", str(&s.Listen)},
		{"state_dir", str(&s.StateDir)},
		{"tick", duration(&s.Tick)},
		{"dry_run", boolean(&s.DryRun)},
		{"kill_switch", boolean(&s.KillSwitch)},
		{"log_level", logLevel(&s.LogLevel)},
		{"api_token", str(&s.APIToken)},
		{"api_token_file", str(&s.APITokenFile)},
		{"api_read_auth", boolean(&s.APIReadAuth)},
		{"api_max_body", integer(&s.APIMaxBody)},
	}
}

func forecastFields(f *Forecast) []field {
	return []field{
		{"forecaster", str(&f.Forecaster)},
		{"model", str(&f.Model)},
		{"onnxruntime_lib", str(&f.ONNXRuntimeLib)},
		{"fallback", str(&f.Fallback)},
		{"horizon", duration(&f.Horizon)},
		{"quantile", str(&f.Quantile)},
		{"max_failures", integer(&f.MaxFailures)},
		{"history", duration(&f.History)},
		{"auto_window", integer(&f.AutoWindow)},
		{"auto_min_origins", integer(&f.AutoMinOrigins)},
		{"refit", duration(&f.Refit)},
	}
}

func metricsFields(m *Metrics) []field {
	return []field{
		{"store", str(&m.Store)},
		{"path", str(&m.Path)},
		{"retention", duration(&m.Retention)},
		{"scrape_interval", duration(&m.ScrapeInterval)},
		{"buffer_points", integer(&m.BufferPoints)},
	}
}

func influxFields(i *InfluxDB) []field {
	return []field{
		{"url", str(&i.URL)},
		{"database", str(&i.Database)},
		{"retention_policy", str(&i.RetentionPolicy)},
		{"username", str(&i.Username)},
		{"password", str(&i.Password)},
		{"timeout", duration(&i.Timeout)},
		{"batch_size", integer(&i.BatchSize)},
	}
}

func haproxyFields(h *HAProxy) []field {
	return []field{
		{"driver", str(&h.Driver)},
		{"sockets", list(&h.Sockets)},
		{"config_file", list(&h.ConfigFiles)},
		{"map_file", list(&h.MapFiles)},
		{"state_file", list(&h.StateFiles)},
		{"dataplane_urls", list(&h.DataplaneURLs)},
		{"dataplane_user", str(&h.DataplaneUser)},
		{"dataplane_password", str(&h.DataplanePassword)},
		{"timeout", duration(&h.Timeout)},
	}
}

func policyFields(p *Policy) []field {
	return []field{
		{"mode", str(&p.Mode)},
		{"headroom", number(&p.Headroom)},
		{"max_pools_per_lb", integer(&p.MaxPoolsPerLB)},
		{"min_pools_per_lb", integer(&p.MinPoolsPerLB)},
		{"max_prewarmed", integer(&p.MaxPrewarmed)},
		{"max_cost_per_hour", number(&p.MaxCostPerHour)},
		{"cooldown", duration(&p.Cooldown)},
		{"warmup_share_initial", integer(&p.WarmupShareInitial)},
		{"warmup_share_min", integer(&p.WarmupShareMin)},
		{"warmup_share_max", integer(&p.WarmupShareMax)},
		{"cutover_steps", intList(&p.CutoverSteps)},
		{"scale_down_after", duration(&p.ScaleDownAfter)},
	}
}

func providerFields(p *Provider) []field {
	return []field{
		{"kind", str(&p.Kind)},
		{"addresses", list(&p.Addresses)},
		{"create_cmd", str(&p.CreateCmd)},
		{"destroy_cmd", str(&p.DestroyCmd)},
		{"timeout", duration(&p.Timeout)},
		{"app_binary", str(&p.AppBinary)},
		{"app_args", words(&p.AppArgs)},
		{"price_per_hour", number(&p.PricePerHour)},
		{"boot_time", duration(&p.BootTime)},
		{"warmup_time", duration(&p.WarmupTime)},
	}
}

func lbFields(l *LB) []field {
	return []field{
		{"backend", str(&l.Backend)},
		{"shadow_backend", str(&l.ShadowBackend)},
		{"capacity_per_instance", capacity(&l.CapacityPerInstance)},
		{"provider", str(&l.Provider)},
		{"min_instances", integer(&l.MinInstances)},
		{"max_instances", integer(&l.MaxInstances)},
		{"events_file", str(&l.EventsFile)},
		{"app_query", str(&l.AppQuery)},
		{"target_utilisation", number(&l.TargetUtilisation)},
	}
}

func str(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

// duration accepts Go durations (90s, 30m, 1h30m) and whole days (8d).
func duration(p *time.Duration) func(string) error {
	return func(v string) error {
		if days, ok := strings.CutSuffix(v, "d"); ok {
			if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100000 {
				*p = time.Duration(n) * day
				return nil
			}
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("invalid duration %q (use e.g. 60s, 30m, 2h or 8d)", v)
		}
		*p = d
		return nil
	}
}

func integer(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid integer %q", v)
		}
		*p = n
		return nil
	}
}

func number(p *float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("invalid number %q", v)
		}
		*p = f
		return nil
	}
}

func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("invalid bool %q (use true or false)", v)
		}
		*p = b
		return nil
	}
}

func logLevel(p *slog.Level) func(string) error {
	levels := map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}
	return func(v string) error {
		l, ok := levels[v]
		if !ok {
			return fmt.Errorf("must be one of debug, info, warn, error, got %q", v)
		}
		*p = l
		return nil
	}
}

// list splits a comma list; an empty value is an empty list.
func list(p *[]string) func(string) error {
	return func(v string) error {
		items, err := splitList(v)
		*p = items
		return err
	}
}

func splitList(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	items := strings.Split(v, ",")
	for i, it := range items {
		items[i] = strings.TrimSpace(it)
		if items[i] == "" {
			return nil, fmt.Errorf("empty item %d in list %q", i+1, v)
		}
	}
	return items, nil
}

func intList(p *[]int) func(string) error {
	return func(v string) error {
		items, err := splitList(v)
		if err != nil {
			return err
		}
		out := make([]int, len(items))
		for i, it := range items {
			if out[i], err = strconv.Atoi(it); err != nil {
				return fmt.Errorf("invalid integer %q in list %q", it, v)
			}
		}
		*p = out
		return nil
	}
}

// words splits on whitespace, without shell quoting.
func words(p *[]string) func(string) error {
	return func(v string) error { *p = strings.Fields(v); return nil }
}

func capacity(p *float64) func(string) error {
	return func(v string) error {
		if v == "auto" {
			*p = 0
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return errors.New("must be auto or a positive number, got " + strconv.Quote(v))
		}
		*p = f
		return nil
	}
}
