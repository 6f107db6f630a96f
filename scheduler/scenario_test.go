package scheduler

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScenarios runs every testdata/*.scenario: small scripts of "traffic
// like this → the pool does that" (Prometheus promqltest style). Commands:
//
//	set key=value ...                 settings, before the first tick
//	demand V [then V at T]...         the demand profile; the forecast is the profile
//	tick D                            run one RunOnce per tick for D
//	shadow errors R | sick | sessions N | ok
//	primary errors R                  the primary's error rate
//	forecast fail | ok                the primary model fails / recovers
//	forecast scale F                  the forecasts are the profile × F
//	metrics missing | ok              the latest demand point is NaN
//	driver down | up                  every driver call fails
//	primary knee R                    primary latency rises above R req/s per instance
//	app util U | app per-request U    the app metric: a fixed utilisation, or U per req/s per instance
//	crash after N saves               the process dies: later saves are lost
//	restart [key=value ...]           a new Scheduler over the same store, reconciled
//	                                  (with these settings changed, e.g. dry_run=true)
//	expect key value ...              phase, share, servers, instances, rollbacks,
//	                                  retired, decision "sub", reason "sub",
//	                                  forecaster NAME, fallback "sub", bounds "sub", notes "sub",
//	                                  capacity "N learned|configured", estimate "sub",
//	                                  size N (persisted pool size), carrying N, signal forecast|reactive,
//	                                  lead "sub", utilisation U, ready N (servers READY in the LB),
//	                                  changes N (driver calls + destroys since restart),
//	                                  saves N, would "sub" (dry-run reconcile report)
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.scenario")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".scenario"), func(t *testing.T) { runScenario(t, f) })
	}
}

type scenario struct {
	t    *testing.T
	set  Settings
	boot time.Duration
	// healthyAfter is how long a new server really takes to pass its
	// check (default: boot, the provider's claim).
	healthyAfter time.Duration
	price        float64
	prim         int
	steps        []demandStep
	h            *harness
	line         string // file:line, for messages
}

type demandStep struct {
	at time.Duration
	v  float64
}

func (sc *scenario) demand(_ string, t time.Time) float64 {
	v := 0.0
	for _, s := range sc.steps {
		if t.Sub(t0) >= s.at {
			v = s.v
		}
	}
	return v
}

func runScenario(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := &scenario{t: t, set: testSettings(), boot: 2 * time.Minute, price: 0.1, prim: 2}
	in := bufio.NewScanner(f)
	for n := 1; in.Scan(); n++ {
		line := strings.TrimSpace(strings.SplitN(in.Text(), "#", 2)[0])
		if line == "" {
			continue
		}
		sc.line = fmt.Sprintf("%s:%d", path, n)
		words, err := tokens(line)
		if err == nil {
			err = sc.do(words)
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", sc.line, line, err)
		}
	}
}

func (sc *scenario) harness() *harness {
	if sc.h == nil {
		sc.h = newHarness(sc.t, sc.set, sc.demand)
		sc.h.prov.boot, sc.h.prov.price, sc.h.drv.healthyAfter = sc.boot, sc.price, sc.boot
		if sc.healthyAfter > 0 {
			sc.h.drv.healthyAfter = sc.healthyAfter
		}
		sc.h.drv.backend("app").serving = sc.prim
		sc.h.build()
	}
	return sc.h
}

func (sc *scenario) do(w []string) error {
	if w[0] == "restart" {
		return sc.restart(w[1:])
	}
	if len(w) < 2 {
		return fmt.Errorf("command %q needs arguments", w[0])
	}
	switch w[0] {
	case "set":
		return sc.setAll(w[1:])
	case "demand":
		return sc.parseDemand(w[1:])
	case "tick":
		d, err := time.ParseDuration(w[1])
		if err != nil {
			return err
		}
		h := sc.harness()
		for end := h.now.Add(d); h.now.Before(end); {
			h.tick()
			if os.Getenv("SCENARIO_TRACE") != "" { // to write a new scenario
				st := h.lb()
				sc.t.Logf("%5s %-12s share %3d servers %d: %s | want %d bounds %v", h.now.Sub(t0), st.Phase, st.Share,
					len(h.drv.backend("app_shadow").servers), st.Plan.Decision, st.Plan.Reason.Want, st.Plan.Reason.Bounds)
			}
		}
		return nil
	case "expect":
		return sc.expect(w[1:])
	}
	return sc.inject(w)
}

// restart builds a new Scheduler over the same store and fakes, with the
// given settings changed, and reconciles; the fakes' call log starts afresh
// so "changes" counts what the restart did.
func (sc *scenario) restart(kvs []string) error {
	h := sc.harness()
	h.store.left = -1
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if err := sc.setOne(k, v); err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	h.set = sc.set
	h.build()
	h.drv.calls, h.prov.destroyed, h.store.saves = nil, 0, 0
	return h.sch.Reconcile(context.Background(), h.now)
}

func (sc *scenario) inject(w []string) error {
	h := sc.harness()
	switch w[0] + " " + w[1] {
	case "shadow errors":
		r, err := strconv.ParseFloat(w[2], 64)
		h.drv.shadowErr = r
		return err
	case "shadow sick":
		h.drv.sick = true
	case "primary errors":
		r, err := strconv.ParseFloat(w[2], 64)
		h.drv.primaryErr = r
		return err
	case "shadow ok":
		h.drv.sick, h.drv.shadowErr, h.drv.sessions = false, 0, 0
	case "shadow sessions":
		n, err := strconv.Atoi(w[2])
		h.drv.sessions = int64(n)
		return err
	case "forecast fail", "forecast ok":
		h.model.fail = w[1] == "fail"
	case "metrics missing", "metrics ok":
		h.hist.missing = w[1] == "missing"
	case "crash after":
		n, err := strconv.Atoi(w[2])
		h.store.left = n
		return err
	case "driver down", "driver up":
		h.drv.down = w[1] == "down"
	case "forecast scale": // a model that misses by this factor
		f, err := strconv.ParseFloat(w[2], 64)
		h.model.scale, h.fb.scale = f, f
		return err
	case "primary knee":
		k, err := strconv.ParseFloat(w[2], 64)
		h.drv.backend("app").knee = k
		return err
	case "app util":
		u, err := strconv.ParseFloat(w[2], 64)
		h.app.util = u
		return err
	case "app per-request":
		u, err := strconv.ParseFloat(w[2], 64)
		h.app.perReq, h.app.drv = u, h.drv
		return err
	default:
		return fmt.Errorf("unknown command %q", strings.Join(w, " "))
	}
	return nil
}

func (sc *scenario) parseDemand(w []string) error {
	sc.steps = nil
	at := time.Duration(0)
	for i := 0; i < len(w); {
		v, err := strconv.ParseFloat(w[i], 64)
		if err != nil {
			return fmt.Errorf("demand value %q: %w", w[i], err)
		}
		if i > 0 {
			if i+2 >= len(w)+1 || w[i+1] != "at" {
				return fmt.Errorf("want 'then V at T', got %q", strings.Join(w[i-1:], " "))
			}
			if at, err = time.ParseDuration(w[i+2]); err != nil {
				return err
			}
			i += 2
		}
		sc.steps = append(sc.steps, demandStep{at: at, v: v})
		i++
		if i < len(w) {
			if w[i] != "then" {
				return fmt.Errorf("want 'then', got %q", w[i])
			}
			i++
		}
	}
	return nil
}

// tokens splits a line on spaces, keeping "quoted strings" whole.
func tokens(line string) ([]string, error) {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			out = append(out, line[1:end+1])
			line = line[end+2:]
			continue
		}
		end := strings.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
	return out, nil
}
