// Package config loads shadowscale's INI file into a typed Config: defaults
// first, then the file's values, then Validate (the Prometheus order). Unknown
// sections and keys are errors, so a typo never passes silently.
package config

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// Config is the whole service configuration. Providers and LBs are keyed by
// the NAME of their [provider.NAME] / [lb.NAME] section.
type Config struct {
	Service   Service
	Forecast  Forecast
	Metrics   Metrics
	InfluxDB  InfluxDB
	HAProxy   HAProxy
	Policy    Policy
	HA        HA
	Feedback  Feedback
	Providers map[string]Provider
	LBs       map[string]LB
}

// Service is the [service] section: the process itself.
type Service struct {
	Listen     string // host:port of the HTTP status/metrics endpoint
	StateDir   string
	Tick       time.Duration
	DryRun     bool // plan and log, never act
	KillSwitch bool // stop all actions, keep forecasting
	LogLevel   slog.Level
	// APIToken (or the first line of APITokenFile) is the bearer token of
	// the API's mutating routes; with neither set they are refused.
	APIToken     string
	APITokenFile string
	APIReadAuth  bool // require the token on reads too
	APIMaxBody   int  // request body limit, bytes
}

// Token returns the API token from api_token or api_token_file ("" when
// neither is set); readFile is passed in (usually os.ReadFile). The error
// names the key, never the token.
func (s Service) Token(readFile func(string) ([]byte, error)) (string, error) {
	if s.APITokenFile == "" {
		return s.APIToken, nil
	}
	b, err := readFile(s.APITokenFile)
	if err != nil {
		return "", fmt.Errorf("[service] api_token_file: %w", err)
	}
	tok := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	if tok == "" {
		return "", fmt.Errorf("[service] api_token_file: %s holds no token on its first line", s.APITokenFile)
	}
	return tok, nil
}

// Forecast is the [forecast] section.
type Forecast struct {
	Forecaster     string // auto | lstm | naive | seasonal-naive | holt-winters
	Model          string // ONNX model dir or file; empty = no LSTM
	ONNXRuntimeLib string // empty = the ONNXRUNTIME_LIB environment variable
	Fallback       string // naive | seasonal-naive | holt-winters, after MaxFailures
	Horizon        time.Duration
	Quantile       string // p10 | p50 | p90
	MaxFailures    int    // consecutive model failures before using the fallback
	History        time.Duration
	AutoWindow     int           // auto: scored past origins per series
	AutoMinOrigins int           // auto: scored origins before the ranking is trusted
	Refit          time.Duration // how often Holt-Winters refits a series
}

// RuntimeLib resolves the ONNX Runtime library path; getenv is passed in
// (usually os.Getenv) so that callers and tests control the environment.
func (f Forecast) RuntimeLib(getenv func(string) string) string {
	if f.ONNXRuntimeLib != "" {
		return f.ONNXRuntimeLib
	}
	return getenv("ONNXRUNTIME_LIB")
}

// QuantileLevel is the quantile as a level in (0,1), e.g. 0.9 for "p90".
func (f Forecast) QuantileLevel() float64 { return quantileLevels[f.Quantile] }

var quantileLevels = map[string]float64{"p10": 0.1, "p50": 0.5, "p90": 0.9}

// Metrics is the [metrics] section: where observed traffic is stored.
type Metrics struct {
	Store          string // embedded | influxdb
	Path           string // embedded store file
	Retention      time.Duration
	ScrapeInterval time.Duration
	BufferPoints   int // points held in memory while the store is unreachable
}

// InfluxDB is the [influxdb] section, used when Metrics.Store is "influxdb".
type InfluxDB struct {
	URL             string
	Database        string
	RetentionPolicy string
	Username        string
	Password        string
	Timeout         time.Duration
	BatchSize       int
}

// HAProxy is the [haproxy] section. Sockets[i], ConfigFiles[i], MapFiles[i]
// and StateFiles[i] belong to the same node of the fleet (with the Data
// Plane driver MapFiles[i] goes with DataplaneURLs[i], or one entry names
// the map on every node).
type HAProxy struct {
	Driver            string // runtime | dataplane
	Sockets           []string
	ConfigFiles       []string
	MapFiles          []string
	StateFiles        []string
	DataplaneURLs     []string
	DataplaneUser     string
	DataplanePassword string
	Timeout           time.Duration
}

// Policy is the [policy] section: the bounds on every action.
// Warm-up shares are percent of live traffic.
type Policy struct {
	// Mode is predictive (forecast, pre-warmed shadow pools) or reactive
	// (target tracking on current load, cold instances: what HPA and
	// cloud autoscalers do, to run beside them or compare).
	Mode               string
	Headroom           float64
	MaxPoolsPerLB      int
	MinPoolsPerLB      int
	MaxPrewarmed       int
	MaxCostPerHour     float64 // 0 = unlimited
	Cooldown           time.Duration
	WarmupShareInitial int
	WarmupShareMin     int
	WarmupShareMax     int
	// CutoverSteps are percent of the way from the warm-up share to the
	// pool's capacity-proportional target share, increasing, ending at 100.
	CutoverSteps   []int
	ScaleDownAfter time.Duration
}

// Provider is one [provider.NAME] section: where instances come from.
type Provider struct {
	Name         string
	Kind         string   // static | exec | local
	Addresses    []string // static: host:port of the standby instances
	CreateCmd    string   // exec
	DestroyCmd   string   // exec
	Timeout      time.Duration
	AppBinary    string   // local
	AppArgs      []string // local; split on whitespace
	PricePerHour float64
	BootTime     time.Duration
	WarmupTime   time.Duration
}

// LB is one [lb.NAME] section: a load balancer's backend and its shadow pool.
type LB struct {
	Name          string
	Backend       string
	ShadowBackend string
	// CapacityPerInstance is requests/s one instance serves; 0 means "auto"
	// (learned from observed throughput at healthy latency).
	CapacityPerInstance float64
	Provider            string
	MinInstances        int
	MaxInstances        int
	EventsFile          string
	// AppQuery is a Flux query for the app's utilisation (0..1 or
	// percent); with capacity auto it is what capacity is learned from.
	AppQuery string
	// TargetUtilisation is the utilisation an instance should run at
	// (default 0.7): capacity = requests per instance ÷ utilisation × it.
	TargetUtilisation float64
}

// AutoCapacity reports whether capacity per instance is learned.
func (l LB) AutoCapacity() bool { return l.CapacityPerInstance == 0 }

const day = 24 * time.Hour

// Default returns the configuration used for every key the file omits.
// It has no load balancers, so it does not validate on its own.
func Default() Config {
	return Config{
		Service: Service{
			Listen:     "127.0.0.1:9090",
			StateDir:   "state",
			Tick:       60 * time.Second,
			LogLevel:   slog.LevelInfo,
			APIMaxBody: 1 << 20,
		},
		Forecast: Forecast{
			Forecaster:     "auto",
			AutoWindow:     400,
			AutoMinOrigins: 8,
			Refit:          day,
			Fallback:       "holt-winters",
			Horizon:        30 * time.Minute,
			Quantile:       "p90",
			MaxFailures:    3,
			History:        8 * day,
		},
		Metrics: Metrics{
			Store:          "embedded",
			Path:           "state/metrics.db",
			Retention:      30 * day,
			ScrapeInterval: 10 * time.Second,
			BufferPoints:   100000,
		},
		InfluxDB: InfluxDB{Timeout: 10 * time.Second, BatchSize: 1000},
		HAProxy:  HAProxy{Driver: "runtime", Timeout: 5 * time.Second},
		Policy: Policy{
			Mode:               "predictive",
			Headroom:           0.2,
			MaxPoolsPerLB:      1,
			MaxPrewarmed:       10,
			Cooldown:           5 * time.Minute,
			WarmupShareInitial: 1,
			WarmupShareMin:     1,
			WarmupShareMax:     5,
			CutoverSteps:       []int{25, 50, 75, 100},
			ScaleDownAfter:     10 * time.Minute,
		},
		HA:        defaultHA(),
		Feedback:  DefaultFeedback(),
		Providers: map[string]Provider{},
		LBs:       map[string]LB{},
	}
}

// DefaultProvider is a [provider.NAME] section with no keys set.
func DefaultProvider(name string) Provider {
	return Provider{
		Name:       name,
		Timeout:    60 * time.Second,
		BootTime:   3 * time.Minute,
		WarmupTime: 2 * time.Minute,
	}
}

// DefaultLB is an [lb.NAME] section with no keys set. ShadowBackend stays
// empty here and becomes "<backend>_shadow" once the file is read.
func DefaultLB(name string) LB {
	return LB{Name: name, MaxInstances: 10, TargetUtilisation: 0.7}
}

// ProviderNames returns the provider names in sorted order.
func (c Config) ProviderNames() []string { return sortedKeys(c.Providers) }

// LBNames returns the load balancer names in sorted order.
func (c Config) LBNames() []string { return sortedKeys(c.LBs) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
