package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

// The end-to-end harness for `shadowscale serve`: real binaries (built once),
// a real HAProxy with two demoapp primaries, an INI file in a temp dir, and
// serve run as a subprocess with its JSON log in a file.

const lbName = "app"

var bins struct {
	once            sync.Once
	dir, serve, app string
	err             error
}

// binaries builds shadowscale (with -race when the tests run with it, so
// the service's own goroutines are checked too) and demoapp, once.
func binaries(t *testing.T) (serve, app string) {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "ss-bin"); bins.err != nil {
			return
		}
		bins.serve, bins.app = filepath.Join(bins.dir, "shadowscale"), filepath.Join(bins.dir, "demoapp")
		args := []string{"build"}
		if raceEnabled() {
			args = append(args, "-race")
		}
		for _, b := range [][]string{
			append(args, "-o", bins.serve, "./cmd/shadowscale"),
			{"build", "-o", bins.app, "./cmd/demoapp"},
		} {
			cmd := exec.Command("go", b...)
			cmd.Dir = testenv.RepoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("go %s: %v\n%s", strings.Join(b, " "), err, out)
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.serve, bins.app
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopSharedInflux()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// serveEnv is one test's world: its own dir (short: it holds the HAProxy
// sockets), HAProxy, primaries, config and state.
type serveEnv struct {
	t        *testing.T
	dir      string
	hapBin   string
	hapCfg   haproxytest.Config
	hap      *haproxytest.HAProxy
	paths    hapPaths
	serveBin string
	// appBin is this test's own link to demoapp: argv[0] of every
	// instance its local provider starts, so its processes can be told
	// from other tests' when scanning /proc.
	appBin   string
	cfgPath  string
	stateDir string
	runs     int
	proc     *serveProc // the latest serve run; waits fail if it dies
}

// hapPaths are haproxytest's file names inside the env dir.
type hapPaths struct{ cfg, stats, master, mapFile string }

func newServeEnv(t *testing.T) *serveEnv {
	t.Helper()
	serveBin, app := binaries(t)
	dir, err := os.MkdirTemp("", "ss-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &serveEnv{t: t, dir: dir, hapBin: testenv.HAProxy(t), serveBin: serveBin,
		appBin: filepath.Join(dir, "app"), stateDir: filepath.Join(dir, "state"), cfgPath: filepath.Join(dir, "shadowscale.ini"),
		paths: hapPaths{dir + "/haproxy.cfg", dir + "/haproxy.sock", dir + "/master.sock", dir + "/shadow.map"}}
	if err := os.Symlink(app, e.appBin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.killApps)
	// Port 0: haproxytest picks one and picks again if it is taken first.
	e.hapCfg = haproxytest.Config{LB: lbName, CheckInter: 500 * time.Millisecond}
	for _, name := range []string{"p1", "p2"} {
		in, err := demoapp.Start(demoapp.Config{Name: name, Delay: 2 * time.Millisecond}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Kill() })
		e.hapCfg.Primary = append(e.hapCfg.Primary, haproxytest.Server{Name: name, Addr: in.Addr})
	}
	t.Cleanup(e.dumpLogsOnFailure)
	t.Cleanup(e.checkRaces)
	return e
}

// startHAProxy starts HAProxy from a freshly written config.
func (e *serveEnv) startHAProxy() {
	e.t.Helper()
	h, err := haproxytest.StartProcess(e.t.Context(), e.hapBin, e.dir, e.hapCfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.hap = h
	e.hapCfg.Port = h.Port() // a second start keeps the address
	e.t.Cleanup(func() { h.Stop() })
	if h.StatsSocket != e.paths.stats || h.MapFile != e.paths.mapFile || h.Config != e.paths.cfg {
		e.t.Fatalf("haproxytest moved its files: %+v", h.Paths)
	}
}

// restartHAProxy starts HAProxy again from the files it left behind (the
// config serve persisted its servers into, the map with the share), as an
// operator restarting the service would.
func (e *serveEnv) restartHAProxy() {
	e.t.Helper()
	cmd := exec.Command(e.hapBin, "-W", "-S", e.paths.master+",mode,600", "-f", e.paths.cfg)
	cmd.Dir = e.dir
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	e.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	e.waitFor("restarted haproxy answers", 20*time.Second, func() bool {
		select {
		case <-done:
			e.t.Fatalf("haproxy exited on restart: %s", out)
		default:
		}
		_, err := haproxytest.Command(e.paths.stats, "show info")
		return err == nil
	})
}

// iniOpts are what the tests vary in the configuration.
type iniOpts struct {
	eventIn, eventFor time.Duration // the lift event, from now; 0 = none
	minPools          int
	provider          string // the [provider.pool] body; default local
	configFile        string // [haproxy] config_file; default HAProxy's
	model             string // [forecast] model; default none (the fallback alone)
	forecaster        string // [forecast] forecaster; default serve's (auto)
	haproxy           string // the [haproxy] body; default the runtime API of e's HAProxy
	metrics           string // the [metrics] body (and sections after it); default the embedded store
	extra             string // appended verbatim
	service           string // appended to [service]
}

func forecasterKey(name string) string {
	if name == "" {
		return ""
	}
	return "forecaster = " + name
}

func (e *serveEnv) writeConfig(o iniOpts) {
	e.t.Helper()
	events := ""
	if o.eventFor > 0 {
		start := time.Now().Add(o.eventIn).UTC()
		events = filepath.Join(e.dir, "events.csv")
		csv := fmt.Sprintf("lb,kind,start,end,lift\n%s,campaign,%s,%s,3\n", lbName,
			start.Format(time.RFC3339Nano), start.Add(o.eventFor).Format(time.RFC3339Nano))
		e.writeFile(events, csv)
	}
	if o.configFile == "" {
		o.configFile = e.paths.cfg
	}
	if o.haproxy == "" {
		o.haproxy = fmt.Sprintf("sockets = %s\nconfig_file = %s\nmap_file = %s\nstate_file = %s",
			e.paths.stats, o.configFile, e.paths.mapFile, filepath.Dir(e.paths.cfg)+"/server-state")
	}
	if o.metrics == "" {
		o.metrics = fmt.Sprintf("store = embedded\npath = %s\nscrape_interval = 1s", filepath.Join(e.stateDir, "metrics.db"))
	}
	if o.provider == "" {
		o.provider = "kind = local\napp_binary = " + e.appBin + "\nboot_time = 2s\nwarmup_time = 3s\ntimeout = 10s"
	}
	ini := fmt.Sprintf(`[service]
listen = 127.0.0.1:0
state_dir = %s
tick = 1s
log_level = info
%s

[forecast]
model = %s
%s
fallback = seasonal-naive
horizon = 30s
history = 10m

[metrics]
%s

[haproxy]
%s

[policy]
headroom = 0.2
min_pools_per_lb = %d
max_prewarmed = 4
cooldown = 2s
cutover_steps = 25,50,75,100
scale_down_after = 2s

[provider.pool]
%s

[lb.%s]
backend = %s
provider = pool
capacity_per_instance = 100
max_instances = 2
events_file = %s
%s`, e.stateDir, o.service, o.model, forecasterKey(o.forecaster), o.metrics, o.haproxy,
		o.minPools, o.provider, lbName, lbName, events, o.extra)
	e.writeFile(e.cfgPath, ini)
}

func (e *serveEnv) writeFile(path, text string) {
	e.t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond every 100ms until it holds, failing after timeout.
func (e *serveEnv) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if e.proc != nil && e.proc.exited() && !e.proc.stopped {
			e.t.Fatalf("serve exited (%v) while waiting for %s", e.proc.err, what)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s; state: %s", timeout, what, e.stateText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkRaces fails the test if a race-enabled serve reported a data race.
func (e *serveEnv) checkRaces() {
	for i := 1; i <= e.runs; i++ {
		data, _ := os.ReadFile(filepath.Join(e.dir, fmt.Sprintf("serve-%d.log", i)))
		if bytes.Contains(data, []byte("WARNING: DATA RACE")) {
			e.t.Errorf("serve run %d reported a data race", i)
		}
	}
}

func (e *serveEnv) dumpLogsOnFailure() {
	if !e.t.Failed() {
		return
	}
	for i := 1; i <= e.runs; i++ {
		data, _ := os.ReadFile(filepath.Join(e.dir, fmt.Sprintf("serve-%d.log", i)))
		const max = 12 << 10
		if len(data) > max {
			data = data[len(data)-max:]
		}
		e.t.Logf("serve run %d log (tail):\n%s", i, data)
	}
	if e.hap != nil {
		e.t.Logf("haproxy output:\n%s", e.hap.Output())
	}
}
