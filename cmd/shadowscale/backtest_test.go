package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/sim"
)

func TestBacktestBadInput(t *testing.T) {
	daily := []string{"backtest", "--trace", "testdata/daily_cycle.csv"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no trace", []string{"backtest"}, "--trace is required"},
		{"too short for the horizon", []string{"backtest", "--trace", "testdata/short.csv", "--skip", "45m"},
			"--trace testdata/short.csv is too short: 15m0s scored after --skip 45m0s, the horizon is 30m0s"},
		{"zero capacity", append(daily, "--capacity-per-instance", "0"), `--capacity-per-instance must be auto or a positive number, got "0"`},
		{"negative capacity", append(daily, "--capacity-per-instance", "-5"), `--capacity-per-instance must be auto or a positive number, got "-5"`},
		{"capacity not a number", append(daily, "--capacity-per-instance", "lots"), `--capacity-per-instance must be auto or a positive number, got "lots"`},
		{"boot longer than the trace", append(daily, "--boot", "100h"), "--boot 100h0m0s + --warmup 2m0s is not shorter than the trace"},
		{"negative boot", append(daily, "--boot", "-1m"), "--boot must not be negative"},
		{"negative warm-up", append(daily, "--warmup", "-1m"), "--warmup must not be negative"},
		{"bad slo", append(daily, "--slo-p99", "0s"), "--slo-p99 must be positive"},
		{"unknown policy", append(daily, "--policy", "reactive,psychic"), `--policy "psychic"`},
		{"bad primary", append(daily, "--primary", "0"), "--primary must be auto or a whole number >= 1"},
		{"lb without config", append(daily, "--lb", "web"), "--lb needs --config"},
		{"missing config", append(daily, "--config", "testdata/none.ini"), "--config"},
		{"negative skip", append(daily, "--skip", "-1h"), "--skip must not be negative"},
		{"series not writable", append(daily, "--series", "testdata/no/such/dir/bt.csv"), "--series: open testdata/no/such/dir/bt.csv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(oneLine(err.Error()), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// The JSON contract of DESIGN.md 3.2, every policy, one document.
func TestBacktestJSON(t *testing.T) {
	var out bytes.Buffer
	plot, series := filepath.Join(t.TempDir(), "bt.png"), filepath.Join(t.TempDir(), "bt.csv")
	err := run(context.Background(), []string{"backtest", "--trace", "testdata/daily_cycle.csv", "--skip", "3d",
		"--forecast-every", "30m", "--json", "--plot", plot, "--series", series}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Trace   string           `json:"trace"`
		Results []map[string]any `json:"results"`
		Peaks   []sim.Peak       `json:"peaks"`
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("more than one JSON document")
	}
	if doc.Trace != "testdata/daily_cycle.csv" || len(doc.Results) != 3 || len(doc.Peaks) == 0 {
		t.Fatalf("trace %q, %d results, %d peaks", doc.Trace, len(doc.Results), len(doc.Peaks))
	}
	for i, want := range sim.Policies {
		r := doc.Results[i]
		if r["policy"] != want {
			t.Errorf("result %d is %v, want %s", i, r["policy"], want)
		}
		for _, k := range []string{"slo_violation_minutes", "underprovisioned_minutes", "excess_requests", "instance_hours",
			"cost_vs_oracle", "actions", "cutovers", "rollbacks"} {
			if _, ok := r[k].(float64); !ok {
				t.Errorf("%s: %s = %v, want a number", want, k, r[k])
			}
		}
	}
	if doc.Results[2]["slo_violation_minutes"] != 0.0 || doc.Results[2]["cost_vs_oracle"] != 1.0 {
		t.Errorf("oracle: %v", doc.Results[2])
	}
	checkSeries(t, series, doc.Results)
}

// checkSeries: the --series CSV has a row per scored minute and adds up
// to the report's violation minutes and instance-hours.
func checkSeries(t *testing.T, path string, results []map[string]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || len(rows[0]) != 4+3*len(results) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for i, r := range results {
		var viol, inst float64
		for _, row := range rows[1:] {
			v, _ := strconv.ParseFloat(row[4+3*i+2], 64)
			n, _ := strconv.ParseFloat(row[4+3*i], 64)
			viol, inst = viol+v, inst+n
		}
		if rows[0][4+3*i] != r["policy"].(string)+"_instances" || viol != r["slo_violation_minutes"] ||
			math.Abs(inst/60-r["instance_hours"].(float64)) > 0.01*inst/60+0.1 {
			t.Errorf("%s: series %s: %g violation minutes, %g instance-hours; report %v, %v", r["policy"], rows[0][4+3*i],
				viol, inst/60, r["slo_violation_minutes"], r["instance_hours"])
		}
	}
}

// The simulator decides as serve would: the settings, the fallback and the
// history built the way serve's wiring builds them (schedulerSettings,
// inference.Baseline of [forecast] fallback, storeHistory over the embedded
// metrics store filled with the observed request rate) give the same
// decision at every tick as the simulator's own history.
func TestBacktestDecidesAsServe(t *testing.T) {
	f, err := parseBacktestFlags([]string{"--trace", "testdata/daily_cycle.csv", "--skip", "74h",
		"--span", "5h", "--forecast-every", "1m", "--policy", "predictive"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.prepare()
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeepDecisions = true
	own, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	c, lb, err := backtestConfig("", "")
	if err != nil {
		t.Fatal(err)
	}
	store := demandStore(t, lb, cfg.Demand)
	fallback, err := inference.Baseline(c.Forecast.Fallback)
	if err != nil {
		t.Fatal(err)
	}
	served := cfg
	served.Fallback = fallback
	served.Settings = schedulerSettings(c)
	served.Settings.LBs[0].Capacity, served.Settings.LBs[0].Warmup = cfg.Cluster.Capacity, cfg.Cluster.Warmup
	served.History = storeHistory{src: store, window: c.Forecast.History, step: historyStep(c)}
	viaServe, err := sim.Run(context.Background(), served)
	if err != nil {
		t.Fatal(err)
	}
	acted := 0
	for i, d := range own.Decisions {
		if d != viaServe.Decisions[i] {
			t.Fatalf("tick %d: simulator %+v, serve's wiring %+v", i, d, viaServe.Decisions[i])
		}
		if d.Decision != "none" {
			acted++
		}
	}
	if len(own.Decisions) != 5*60 || acted == 0 || own.Results[0].Cutovers == 0 {
		t.Fatalf("%d decisions, %d not none, %d cutovers: the run never exercised a pool", len(own.Decisions), acted, own.Results[0].Cutovers)
	}
}

// demandStore is an embedded metrics store holding d as the LB's observed
// request rate, one point per tick, as the collector writes it.
func demandStore(t *testing.T, lb string, d sim.Demand) metrics.Store {
	t.Helper()
	store, err := embedded.Open(filepath.Join(t.TempDir(), "metrics.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sel, field := metrics.Demand(lb)
	recs := make([]metrics.Record, 0, len(d.Values))
	for i, v := range d.Values {
		tags := map[string]string{metrics.TagBackend: lb}
		for k, v := range sel.Tags {
			tags[k] = v
		}
		recs = append(recs, metrics.Record{Measurement: sel.Measurement, Tags: tags,
			Fields: map[string]float64{field: v}, Time: d.Time(i)})
	}
	if err := store.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	return store
}

// --config takes the scheduler's settings, the provider's boot and warm-up
// and the LB's capacity from a real service configuration; flags given
// explicitly still win.
func TestBacktestConfig(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "bt.ini")
	body := "[service]\ntick = 60s\n[haproxy]\nsockets = /nonexistent/haproxy.sock\n[policy]\nheadroom = 1\n" +
		"[provider.standby]\nkind = static\naddresses = 127.0.0.1:8081\nboot_time = 1m\nwarmup_time = 30s\n" +
		"[lb.other]\nbackend = other\nprovider = standby\n" +
		"[lb.web]\nbackend = web\nprovider = standby\ncapacity_per_instance = 20\n"
	if err := os.WriteFile(ini, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name              string
		extra             []string
		boot, warmup, cap float64
		primary           int
	}{
		// the first 3 days' median is 106 req/s: ceil(106 × (1 + headroom 1) / 20) = 11
		{"from the file", nil, 60, 30, 20, 11},
		{"flags win", []string{"--boot", "2m", "--capacity-per-instance", "50"}, 120, 30, 50, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"backtest", "--config", ini, "--lb", "web", "--trace", "testdata/daily_cycle.csv",
				"--skip", "3d", "--span", "2h", "--json"}, c.extra...)
			if err := run(context.Background(), args, &out); err != nil {
				t.Fatal(err)
			}
			var rep sim.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.BootSeconds != c.boot || rep.WarmupSeconds != c.warmup || rep.Capacity != c.cap || rep.Primary != c.primary {
				t.Errorf("boot %gs, warm-up %gs, capacity %g, primary %d; want %gs, %gs, %g, %d",
					rep.BootSeconds, rep.WarmupSeconds, rep.Capacity, rep.Primary, c.boot, c.warmup, c.cap, c.primary)
			}
		})
	}
	err := run(context.Background(), []string{"backtest", "--config", ini, "--lb", "nope", "--trace", "testdata/daily_cycle.csv"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `--lb "nope": no [lb.nope]`) {
		t.Errorf("unknown --lb: %v", err)
	}
}

// The simulated shadow servers ramp their weight as serve's do: slowstart
// over the provider's warm-up (serve's slowStart of the same configuration),
// and over the --warmup simulated when that flag is given.
func TestBacktestSlowStartAsServe(t *testing.T) {
	for _, c := range []struct {
		args []string
		want time.Duration
	}{{nil, 0}, {[]string{"--warmup", "90s"}, 90 * time.Second}} {
		f, err := parseBacktestFlags(append([]string{"--trace", "testdata/daily_cycle.csv"}, c.args...))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.prepare()
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if want == 0 {
			conf, _, _ := backtestConfig("", "")
			want = slowStart(conf)
		}
		if cfg.SlowStart != want || cfg.SlowStart != cfg.Cluster.Warmup {
			t.Errorf("%v: slowstart %s, want %s (warm-up %s)", c.args, cfg.SlowStart, want, cfg.Cluster.Warmup)
		}
	}
}
