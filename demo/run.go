package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/internal/loadgen"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
	"github.com/shadowscale/shadowscale/provision"
)

// runPolicy replays the day once under one policy: a fresh state dir and
// metrics store (holding the compressed days before the replay as
// history), serve started, the load replayed while HAProxy and serve's
// state are sampled every second, serve stopped, HAProxy and the
// provider's instances reset for the next run.
func runPolicy(ctx context.Context, c Config, w *world, rp *replay, policy, dir string) (*Result, error) {
	st := filepath.Join(dir, policy)
	if err := os.MkdirAll(st, 0o700); err != nil {
		return nil, err
	}
	start := time.Now().Truncate(time.Second).Add(time.Second)
	if err := seedHistory(filepath.Join(st, "metrics.db"), rp, start); err != nil {
		return nil, err
	}
	ini := filepath.Join(st, "shadowscale.ini")
	if err := os.WriteFile(ini, []byte(c.ini(w, policy, st)), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(c.OutDir, "serve-"+policy+".log")
	srv, err := startServe(ctx, c.Serve, ini, logPath)
	if err != nil {
		return nil, err
	}
	defer func() { srv.stop(); cleanup(c, w, st) }()
	if err := srv.waitLog(ctx, `"msg":"serving"`, time.Minute); err != nil {
		return nil, err
	}
	if addr, err := os.ReadFile(filepath.Join(st, "api.addr")); err == nil && c.Progress != nil {
		fmt.Fprintf(c.Progress, "%s: status page http://%s/ while it runs\n", policy, strings.TrimSpace(string(addr)))
	}
	m := newMeasure(len(rp.Rate))
	res, err := replayLoad(ctx, c, w, rp, st, srv, m, policy)
	res.Policy = policy
	srv.stop()
	res.fromLog(logPath)
	res.Forecast = readForecasts(filepath.Join(st, "metrics.db"), m.start, len(rp.Rate))
	return res, err
}

// seedHistory writes the compressed days before the replay into the
// store, as the collector would have recorded them (one point a second).
func seedHistory(path string, rp *replay, start time.Time) error {
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	recs := make([]metrics.Record, 0, len(rp.History))
	for i, v := range rp.History {
		at := start.Add(-time.Duration(len(rp.History)-i) * time.Second)
		recs = append(recs, metrics.Record{Measurement: metrics.MeasHAProxy, Time: at,
			Tags:   map[string]string{metrics.TagLB: lbName, metrics.TagBackend: lbName, metrics.TagServer: metrics.ServerBackend},
			Fields: map[string]float64{metrics.FieldReqRate: v}})
	}
	return s.Write(context.Background(), recs...)
}

// ini is serve's configuration for one run: 1s ticks, the compressed
// day's horizon, the local provider starting cold demo app instances.
func (c Config) ini(w *world, policy, st string) string {
	model := ""
	if c.Model != "" {
		model = "model = " + c.Model + "\n"
	}
	return fmt.Sprintf(`[service]
listen = 127.0.0.1:0
state_dir = %[1]s
tick = 1s

[forecast]
%[2]shorizon = 30s
history = %[3]s

[metrics]
store = embedded
path = %[1]s/metrics.db
scrape_interval = 1s
retention = 1d

[haproxy]
sockets = %[4]s
map_file = %[5]s

[policy]
mode = %[6]s
headroom = 0.2
max_prewarmed = %[7]d
cooldown = 3s
scale_down_after = 20s
cutover_steps = 25,50,75,100

[provider.pool]
kind = local
app_binary = %[8]s
app_args = %[9]s
boot_time = %[10]s
warmup_time = %[11]s
timeout = 20s

[lb.%[12]s]
backend = %[12]s
provider = pool
capacity_per_instance = %[13]g
max_instances = %[7]d
`, st, model, c.Duration*time.Duration(c.HistoryDays), w.hap.StatsSocket, w.hap.MapFile, policy, c.MaxPool,
		c.AppBin, c.appArgs(), c.Boot, c.Warmup, lbName, c.Capacity)
}

// cleanup resets HAProxy and destroys what the run's provider created.
func cleanup(c Config, w *world, st string) {
	_ = w.reset()
	p, err := provision.New(config.Provider{Kind: "local", AppBinary: c.AppBin, Timeout: 20 * time.Second}, "pool", st)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	insts, _ := p.List(ctx)
	for _, in := range insts {
		_ = p.Destroy(ctx, in)
	}
}

// replayLoad sends the day's traffic and samples every second.
func replayLoad(ctx context.Context, c Config, w *world, rp *replay, st string, srv *serveProc, m *measure, policy string) (*Result, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.sampleEvery(lctx, w, st, rp, c, policy)
	}()
	m.start = time.Now()
	lr, err := loadgen.Run(lctx, loadgen.Config{Target: "http://" + w.hap.Addr + "/", Duration: time.Duration(len(rp.Rate)) * rp.Second,
		RateAt: func(e time.Duration) float64 {
			i := int(e / rp.Second)
			if i >= len(rp.Rate) || srv.exited() {
				return 0
			}
			return rp.Rate[i]
		},
		Concurrency: 64, Timeout: 5 * time.Second, CountHeader: "X-Instance", Observe: m.observe})
	cancel()
	wg.Wait()
	res := m.result(rp, c)
	res.Clients = lr
	if srv.exited() {
		return res, fmt.Errorf("serve exited during the replay; see %s", srv.log)
	}
	return res, err
}

// serveProc is `shadowscale serve` as a child process.
type serveProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	once sync.Once
}

func startServe(ctx context.Context, bin, ini, logPath string) (*serveProc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, "serve", "--json", "--config", ini)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a Ctrl-C reaches the demo, which stops
	// serve itself, in order, after the load.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	p := &serveProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *serveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM (serve finishes its tick and persists), then SIGKILL
// after 30s.
func (p *serveProc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// waitLog waits until serve's log holds text (bounded).
func (p *serveProc) waitLog(ctx context.Context, text string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		data, _ := os.ReadFile(p.log)
		if strings.Contains(string(data), text) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("serve exited at start; see %s:\n%s", p.log, tail(string(data), 2000))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("serve not serving after %s; see %s", limit, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
