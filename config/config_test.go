package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/unknwon/goconfig"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

func TestLoadGood(t *testing.T) {
	got, err := Load("testdata/good.ini")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Service: Service{Listen: "127.0.0.1:19090", StateDir: "var/shadowscale", Tick: 30 * time.Second,
			DryRun: true, KillSwitch: true, LogLevel: slog.LevelDebug, APITokenFile: "secrets/api.token", APIReadAuth: true, APIMaxBody: 4096},
		Forecast: Forecast{Forecaster: "auto", Model: "models/lstm-v1", ONNXRuntimeLib: ".cache/lib/libonnxruntime.so",
			Fallback: "seasonal-naive", Horizon: time.Hour, Quantile: "p50", MaxFailures: 5, History: 14 * day,
			AutoWindow: 24, AutoMinOrigins: 6, Refit: 12 * time.Hour},
		Metrics: Metrics{Store: "influxdb", Path: "unused.db", Retention: 30 * day,
			ScrapeInterval: 5 * time.Second, BufferPoints: 0},
		InfluxDB: InfluxDB{URL: "http://127.0.0.1:8086", Database: "shadowscale", RetentionPolicy: "autogen",
			Username: "ss", Password: "p=ss;word", Timeout: 3 * time.Second, BatchSize: 500},
		HAProxy: HAProxy{Driver: "dataplane", Sockets: []string{"a/haproxy.sock", "b/haproxy.sock"},
			ConfigFiles: []string{"a/haproxy.cfg", "b/haproxy.cfg"}, MapFiles: []string{"state/shadow.map"},
			StateFiles: []string{"a/server-state", "b/server-state"}, DataplaneURLs: []string{"http://127.0.0.1:5555", "https://lb2:5555"},
			DataplaneUser: "admin", DataplanePassword: "secret", Timeout: 2 * time.Second},
		Policy: Policy{Mode: "predictive", Headroom: 0.5, MaxPoolsPerLB: 1, MinPoolsPerLB: 1, MaxPrewarmed: 4, MaxCostPerHour: 12.5,
			Cooldown: 0, WarmupShareInitial: 2, WarmupShareMin: 1, WarmupShareMax: 3,
			CutoverSteps: []int{10, 50, 100}, ScaleDownAfter: 15 * time.Minute},
		HA:       defaultHA(),
		Feedback: goodFeedback(),
		Providers: map[string]Provider{
			"standby": {Name: "standby", Kind: "static", Addresses: []string{"10.0.0.1:80", "[::1]:8080"},
				Timeout: time.Minute, BootTime: 3 * time.Minute, WarmupTime: 2 * time.Minute},
			"cloud": {Name: "cloud", Kind: "exec", CreateCmd: "scripts/up.sh --zone a", DestroyCmd: "scripts/down.sh",
				Timeout: 90 * time.Second, PricePerHour: 0.1, BootTime: 4 * time.Minute, WarmupTime: time.Minute},
			"dev": {Name: "dev", Kind: "local", AppBinary: "bin/app", AppArgs: []string{"--port", "0", "--cold", "5s"},
				Timeout: time.Minute, BootTime: 3 * time.Minute, WarmupTime: 2 * time.Minute},
		},
		LBs: map[string]LB{
			"web": {Name: "web", Backend: "web", ShadowBackend: "web_shadow", CapacityPerInstance: 250,
				Provider: "standby", MinInstances: 1, MaxInstances: 4, EventsFile: "events.csv",
				AppQuery: `from(bucket: "app") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> filter(fn: (r) => r._measurement == "app")`, TargetUtilisation: 0.6},
			"api": {Name: "api", Backend: "api", ShadowBackend: "api_warm", Provider: "cloud", MaxInstances: 10, TargetUtilisation: 0.7},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(good.ini):\n got %+v\nwant %+v", got, want)
	}
	if n := got.LBNames(); !reflect.DeepEqual(n, []string{"api", "web"}) {
		t.Errorf("LBNames = %v", n)
	}
	if got.LBs["api"].AutoCapacity() != true || got.LBs["web"].AutoCapacity() {
		t.Error("AutoCapacity wrong")
	}
	if q := got.Forecast.QuantileLevel(); q != 0.5 {
		t.Errorf("QuantileLevel = %v, want 0.5", q)
	}
}

// badFiles maps each testdata/<name>.bad.ini to a substring of its error.
var badFiles = map[string]string{
	"policy_mode":                    `[policy] mode: must be predictive or reactive, got "hpa"`,
	"ha_embedded_store":              "[ha] etcd_endpoints: replicas must share the metrics store",
	"ha_prefix":                      "[ha] election_prefix: must start and end with '/'",
	"ha_ttl":                         "[ha] lease_ttl: must be whole seconds, at least 2s",
	"ha_margin":                      "[ha] acting_margin: must be positive and below 2/3 of lease_ttl minus 1s (9s)",
	"ha_endpoint":                    "[ha] etcd_endpoints: endpoint \"127.0.0.1:2379\"",
	"ha_local_provider":              "[provider.dev] kind: local instances live on one machine",
	"unknown_section":                `[servce]: unknown section`,
	"unknown_key":                    `[service] listne: unknown key (did you mean listen?)`,
	"api_token_both":                 `[service] api_token_file: set api_token or api_token_file, not both`,
	"api_token_short":                `[service] api_token: must be at least 16 characters`,
	"api_max_body_small":             `[service] api_max_body: must be at least 1024 bytes, got 10`,
	"key_outside_section":            `keys outside any section`,
	"unparsable_line":                `line 13: could not parse line: this line has no equals sign`,
	"bad_duration":                   `[service] tick: invalid duration "60"`,
	"bad_integer":                    `[forecast] max_failures: invalid integer "three"`,
	"bad_number":                     `[policy] headroom: invalid number "lots"`,
	"bad_number_nan":                 `[policy] max_cost_per_hour: invalid number "NaN"`,
	"bad_bool":                       `[service] dry_run: invalid bool "yes"`,
	"bad_log_level":                  `[service] log_level: must be one of debug, info, warn, error, got "verbose"`,
	"bad_capacity":                   `[lb.web] capacity_per_instance: must be auto or a positive number, got "0"`,
	"bad_list_item":                  `[haproxy] sockets: empty item 2 in list "a.sock,,b.sock"`,
	"bad_cutover_integer":            `[policy] cutover_steps: invalid integer "half"`,
	"provider_name_empty":            `[provider.]: name missing`,
	"lb_name_bad":                    `[lb.my web]: name "my web" may hold only letters`,
	"listen_no_host":                 `[service] listen: host must be given`,
	"listen_no_port":                 `[service] listen: must be host:port, got "localhost"`,
	"listen_bad_port":                `[service] listen: port must be a number 0-65535, got "http"`,
	"state_dir_empty":                `[service] state_dir: must not be empty`,
	"tick_zero":                      `[service] tick: must be positive, got 0s`,
	"fallback_unknown":               `[forecast] fallback: must be one of naive, seasonal-naive, holt-winters, got "arima"`,
	"forecaster_unknown":             `[forecast] forecaster: must be one of auto, lstm, naive, seasonal-naive, holt-winters, diff-ar, got "prophet"`,
	"lstm_without_model":             `[forecast] model: required when forecaster = lstm`,
	"auto_min_above_window":          `[forecast] auto_min_origins: must be in 1..auto_window (4), got 5`,
	"refit_zero":                     `[forecast] refit: must be positive, got 0s`,
	"horizon_zero":                   `[forecast] horizon: must be positive, got 0s`,
	"quantile_unknown":               `[forecast] quantile: must be one of p10, p50, p90, got "p95"`,
	"max_failures_zero":              `[forecast] max_failures: must be at least 1, got 0`,
	"history_short":                  `[forecast] history: must be longer than horizon (30m0s), got 20m0s`,
	"store_unknown":                  `[metrics] store: must be embedded or influxdb, got "sqlite"`,
	"metrics_path_empty":             `[metrics] path: must not be empty when store = embedded`,
	"retention_zero":                 `[metrics] retention: must be positive`,
	"feedback_retrain_at":            `[feedback] retrain_at: want HH:MM (UTC) or empty, got "25:00"`,
	"feedback_trial_margin":          `[feedback] trial_margin: must be in [0, 1), got 1.5`,
	"scrape_interval_zero":           `[metrics] scrape_interval: must be positive`,
	"buffer_points_negative":         `[metrics] buffer_points: must be at least 0, got -1`,
	"influx_url_missing":             `[influxdb] url: required when [metrics] store = influxdb`,
	"influx_database_missing":        `[influxdb] database: required when [metrics] store = influxdb`,
	"influx_url_scheme":              `[influxdb] url: must be an http(s) URL with a host, got "ftp://127.0.0.1:8086"`,
	"influx_timeout_zero":            `[influxdb] timeout: must be positive`,
	"influx_batch_zero":              `[influxdb] batch_size: must be at least 1, got 0`,
	"driver_unknown":                 `[haproxy] driver: must be runtime or dataplane, got "ssh"`,
	"sockets_missing":                `[haproxy] sockets: required when driver = runtime`,
	"master_sockets_removed":         `[haproxy] master_sockets: no longer used: shadowscale never reloads HAProxy`,
	"config_file_count":              `[haproxy] config_file: must list one file per socket (2), same order, got 1`,
	"map_file_count":                 `[haproxy] map_file: must list one file per socket (1), same order, got 2`,
	"map_file_dataplane_count":       `[haproxy] map_file: must list one file per dataplane_urls entry (3), same order, got 2`,
	"sockets_repeated":               `[haproxy] sockets: a/haproxy.sock is listed twice; each entry is one HAProxy node`,
	"state_file_shared":              `[haproxy] state_file: a/server-state is listed for two nodes; each HAProxy needs its own file`,
	"dataplane_urls_missing":         `[haproxy] dataplane_urls: required when driver = dataplane`,
	"dataplane_url_bad":              `[haproxy] dataplane_urls: must be an http(s) URL with a host, got "127.0.0.1:5555"`,
	"haproxy_timeout_zero":           `[haproxy] timeout: must be positive`,
	"headroom_negative":              `[policy] headroom: must be between 0 and 10, got -0.5`,
	"max_pools_negative":             `[policy] max_pools_per_lb: must be 0 (never pre-warm) or 1 (one pool that grows and shrinks), got -1`,
	"max_pools_two":                  `[policy] max_pools_per_lb: must be 0 (never pre-warm) or 1 (one pool that grows and shrinks), got 2`,
	"target_utilisation_above_1":     `[lb.web] target_utilisation: must be above 0 and at most 1, got 70`,
	"min_pools_above_max":            `[policy] min_pools_per_lb: must be between 0 and max_pools_per_lb (1), got 2`,
	"max_prewarmed_negative":         `[policy] max_prewarmed: must be at least 0, got -3`,
	"max_cost_negative":              `[policy] max_cost_per_hour: must be at least 0 (0 = unlimited), got -1`,
	"cooldown_negative":              `[policy] cooldown: must not be negative, got -1m0s`,
	"warmup_share_min_zero":          `[policy] warmup_share_min: must be between 1 and 5 percent, got 0`,
	"warmup_share_max_above_5":       `[policy] warmup_share_max: must be between warmup_share_min (1) and 5 percent, got 6`,
	"warmup_share_initial_above_max": `[policy] warmup_share_initial: must be between warmup_share_min (1) and warmup_share_max (3), got 4`,
	"cutover_empty":                  `[policy] cutover_steps: must not be empty`,
	"cutover_out_of_range":           `[policy] cutover_steps: each step must be between 1 and 100 percent, got 0`,
	"cutover_not_increasing":         `[policy] cutover_steps: must be increasing, got 25 after 50`,
	"cutover_not_ending_100":         `[policy] cutover_steps: must end at 100, got 50`,
	"scale_down_negative":            `[policy] scale_down_after: must not be negative`,
	"provider_kind_missing":          `[provider.pool] kind: required (static, exec or local)`,
	"provider_kind_unknown":          `[provider.pool] kind: must be one of static, exec, local, got "cloud"`,
	"static_addresses_missing":       `[provider.pool] addresses: required when kind = static`,
	"static_address_bad":             `[provider.pool] addresses: must be host:port, got "127.0.0.1"`,
	"exec_create_missing":            `[provider.pool] create_cmd: required when kind = exec`,
	"exec_destroy_missing":           `[provider.pool] destroy_cmd: required when kind = exec`,
	"local_binary_missing":           `[provider.pool] app_binary: required when kind = local`,
	"provider_key_for_other_kind":    `[provider.pool] create_cmd: only used when kind = exec, but kind = static`,
	"provider_timeout_zero":          `[provider.pool] timeout: must be positive`,
	"provider_price_negative":        `[provider.pool] price_per_hour: must be at least 0, got -0.1`,
	"provider_boot_negative":         `[provider.pool] boot_time: must not be negative`,
	"provider_warmup_negative":       `[provider.pool] warmup_time: must not be negative`,
	"lb_missing":                     `[lb.NAME]: at least one load balancer section is required`,
	"lb_backend_missing":             `[lb.web] backend: required`,
	"lb_app_query_no_influx":         `[lb.web] app_query: is a Flux query: it needs [metrics] store = influxdb, got "embedded"`,
	"lb_app_query_unbounded":         `[lb.web] app_query: app query must bound its range with v.timeRangeStart and v.timeRangeStop`,
	"lb_backend_bad_name":            `[lb.web] backend: must be an HAProxy name`,
	"lb_shadow_bad_name":             `[lb.web] shadow_backend: must be an HAProxy name (letters, digits, '-', '_', '.', ':'), got "web/shadow"`,
	"lb_shadow_same":                 `[lb.web] shadow_backend: must differ from backend "web"`,
	"lb_provider_missing":            `[lb.web] provider: required`,
	"lb_provider_undefined":          `[lb.web] provider: no [provider.poool] section (defined: pool)`,
	"lb_min_negative":                `[lb.web] min_instances: must be at least 0, got -1`,
	"lb_max_below_min":               `[lb.web] max_instances: must be at least min_instances (3), got 2`,
	"lb_backend_shared":              `[lb.web] backend: backend "web_shadow" is already used by [lb.api]`,
}

func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.ini")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.ini")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := badFiles[name]
			if !ok {
				t.Fatalf("%s has no expected error in badFiles", f)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatalf("Load(%s) = nil error, want %q", f, want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, f+": ") || !strings.Contains(msg, want) {
				t.Errorf("Load(%s) error:\n got %s\nwant %s: ...%s...", f, msg, f, want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
	for name := range badFiles {
		if !seen[name] {
			t.Errorf("badFiles lists %s but testdata/%s.bad.ini is missing", name, name)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.ini")
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.ini") {
		t.Fatalf("Load(missing) error = %v, want one naming the file", err)
	}
}

// TestValidateProgrammatic covers checks a file cannot reach, because the
// parser rejects the value first.
func TestValidateProgrammatic(t *testing.T) {
	base := func() Config {
		c := Default()
		c.HAProxy.Sockets = []string{"s.sock"}
		c.Providers["p"] = Provider{Name: "p", Kind: "static", Addresses: []string{"h:1"}, Timeout: time.Second}
		c.LBs["web"] = LB{Name: "web", Backend: "web", ShadowBackend: "web_shadow", Provider: "p", MaxInstances: 1}
		return c
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"negative capacity", func(c *Config) {
			l := c.LBs["web"]
			l.CapacityPerInstance = -1
			c.LBs["web"] = l
		}, "[lb.web] capacity_per_instance: must be auto or a positive number, got -1"},
		{"empty shadow", func(c *Config) {
			l := c.LBs["web"]
			l.ShadowBackend = ""
			c.LBs["web"] = l
		}, "[lb.web] shadow_backend: must be an HAProxy name"},
		{"headroom above 10", func(c *Config) { c.Policy.Headroom = 10.5 }, "[policy] headroom: must be between 0 and 10, got 10.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	const head = "[haproxy]\nsockets = s.sock\n[provider.p]\nkind = static\naddresses = h:1\n[lb.web]\nbackend = web\nprovider = p\n"
	tests := []struct {
		name, ini string
		check     func(c Config) bool
	}{
		{"days", "[forecast]\nhistory = 2d\n", func(c Config) bool { return c.Forecast.History == 48*time.Hour }},
		{"colon separator", "[service]\nlisten: 127.0.0.1:1\n", func(c Config) bool { return c.Service.Listen == "127.0.0.1:1" }},
		{"shadow default", "", func(c Config) bool { return c.LBs["web"].ShadowBackend == "web_shadow" }},
		{"empty list", "[haproxy]\nstate_file =\n", func(c Config) bool { return c.HAProxy.StateFiles == nil }},
		{"no interpolation", "[influxdb]\npassword = %(password)s\n", func(c Config) bool { return c.InfluxDB.Password == "%(password)s" }},
		{"sections repeat", "[policy]\nheadroom = 1\n[policy]\ncooldown = 1s\n", func(c Config) bool {
			return c.Policy.Headroom == 1 && c.Policy.Cooldown == time.Second
		}},
		{"port 0", "[service]\nlisten = localhost:0\n", func(c Config) bool { return c.Service.Listen == "localhost:0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(head+tt.ini), "t.ini")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

func TestRuntimeLib(t *testing.T) {
	env := func(string) string { return "from-env.so" }
	if got := (Forecast{}).RuntimeLib(env); got != "from-env.so" {
		t.Errorf("empty key: got %q", got)
	}
	if got := (Forecast{ONNXRuntimeLib: "set.so"}).RuntimeLib(env); got != "set.so" {
		t.Errorf("set key: got %q", got)
	}
}

func examplePath() string {
	return filepath.Join(testenv.RepoRoot(), "deploy", "shadowscale.example.ini")
}

func TestExampleLoads(t *testing.T) {
	c, err := Load(examplePath())
	if err != nil {
		t.Fatal(err)
	}
	// Where the example sets a key to its default, the loaded value must be
	// the default, or the documented defaults have drifted.
	d := Default()
	if !reflect.DeepEqual(c.Service, d.Service) || !reflect.DeepEqual(c.Forecast, d.Forecast) ||
		!reflect.DeepEqual(c.Metrics, d.Metrics) || !reflect.DeepEqual(c.InfluxDB, d.InfluxDB) ||
		!reflect.DeepEqual(c.Policy, d.Policy) || !reflect.DeepEqual(c.Feedback, d.Feedback) {
		t.Errorf("example's documented defaults differ from Default():\n got %+v\nwant %+v", c, d)
	}
}

// TestExampleDocumentsEveryKey keeps the example file and the parser in step:
// each key in the example is known, and each known key is in the example.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath())
	if err != nil {
		t.Fatal(err)
	}
	f, err := goconfig.LoadFromReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	inExample := map[string]bool{}
	for _, sec := range f.GetSectionList() {
		for _, k := range f.GetKeyList(sec) {
			inExample[sectionPattern(sec)+" "+k] = true
		}
	}
	known := knownKeys()
	for k := range inExample {
		if !known[k] {
			t.Errorf("example documents unknown key %s", k)
		}
	}
	var missing []string
	for k := range known {
		if !inExample[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("example does not document: %s", strings.Join(missing, ", "))
	}
}

func sectionPattern(sec string) string {
	kind, _, ok := strings.Cut(sec, ".")
	if ok {
		return kind + ".NAME"
	}
	return sec
}

func knownKeys() map[string]bool {
	c := Default()
	sections := map[string][]field{
		"provider.NAME": providerFields(&Provider{}),
		"lb.NAME":       lbFields(&LB{}),
	}
	for name, fn := range fixedSections() {
		sections[name] = fn(&c)
	}
	known := map[string]bool{}
	for sec, fields := range sections {
		for _, f := range fields {
			known[sec+" "+f.key] = true
		}
	}
	return known
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/good.ini", "../deploy/shadowscale.example.ini"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	bad, _ := filepath.Glob("testdata/*.bad.ini")
	for _, p := range bad {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "[", "]", "[]", "a=b", "[lb.]\n", "\"\"\"\n", "[s]\n`k`=`v`", "[service]\nk=\"\"\"x", "a=%(a)s\n[b]\nc=%(a)s"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.ini")
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.ini: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error must be one line naming the file, got %q", msg)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", err)
		}
	})
}

// TestServiceToken: the token comes from api_token or the first line of
// api_token_file; errors name the key and never hold the token.
func TestServiceToken(t *testing.T) {
	files := map[string]string{"ok": "s3cret-token-of-16+\nsecond line\n", "empty": "\n"}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, os.ErrNotExist
	}
	for _, tc := range []struct {
		svc       Service
		want, err string
	}{
		{Service{APIToken: "inline-token-0123456"}, "inline-token-0123456", ""},
		{Service{APITokenFile: "ok"}, "s3cret-token-of-16+", ""},
		{Service{APITokenFile: "empty"}, "", "[service] api_token_file: empty holds no token"},
		{Service{APITokenFile: "missing"}, "", "[service] api_token_file: file does not exist"},
		{Service{}, "", ""},
	} {
		got, err := tc.svc.Token(read)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %q, %v; want %q, %q", tc.svc, got, err, tc.want, tc.err)
		}
	}
}
