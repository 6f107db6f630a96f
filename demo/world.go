package demo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/internal/demoapp"
)

// lbName is the demo's one load balancer.
const lbName = "app"

// world is what both runs share: a real HAProxy (master-worker, runtime
// API, the map-based shadow split) in front of the primary app instances.
type world struct {
	dir       string
	hap       *haproxytest.HAProxy
	primaries []*demoapp.Instance
}

func startWorld(ctx context.Context, c Config, dir string) (*world, error) {
	w := &world{dir: dir}
	hc := haproxytest.Config{LB: lbName, CheckInter: 500 * time.Millisecond}
	for i := range c.Primaries {
		name := fmt.Sprintf("primary-%d", i+1)
		in, err := demoapp.Start(c.primaryApp(name), "127.0.0.1:0")
		if err != nil {
			w.stop()
			return nil, err
		}
		w.primaries = append(w.primaries, in)
		hc.Primary = append(hc.Primary, haproxytest.Server{Name: name, Addr: in.Addr})
	}
	h, err := haproxytest.StartProcess(ctx, c.HAProxy, dir, hc)
	if err != nil {
		w.stop()
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	w.hap = h
	return w, nil
}

func (w *world) stop() {
	if w.hap != nil {
		w.hap.Stop()
	}
	for _, p := range w.primaries {
		p.Kill()
	}
}

func (w *world) cmd(c string) (string, error) { return haproxytest.Command(w.hap.StatsSocket, c) }

// share is the live shadow share (-1 when unreadable).
func (w *world) share() int {
	out, err := w.cmd("show map " + w.hap.MapFile)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == lbName {
			if v, err := strconv.Atoi(f[2]); err == nil {
				return v
			}
		}
	}
	return 0
}

// shadowServer is one server of the shadow backend as HAProxy sees it.
type shadowServer struct {
	name    string
	serving bool // admin ready and checks up: takes its share of traffic
}

// shadowServers lists the shadow backend from `show stat`.
func (w *world) shadowServers() ([]shadowServer, error) {
	out, err := w.cmd("show stat")
	if err != nil {
		return nil, err
	}
	var res []shadowServer
	be := haproxytest.ShadowBackend(lbName)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if len(f) < 18 || f[0] != be || f[1] == "BACKEND" || f[1] == "FRONTEND" {
			continue
		}
		res = append(res, shadowServer{name: f[1], serving: strings.HasPrefix(f[17], "UP")})
	}
	return res, nil
}

// reset puts HAProxy back as it started: share 0, every shadow server gone.
func (w *world) reset() error {
	if _, err := w.cmd(fmt.Sprintf("set map %s %s 0", w.hap.MapFile, lbName)); err != nil {
		return fmt.Errorf("reset share: %w", err)
	}
	be := haproxytest.ShadowBackend(lbName)
	servers, err := w.shadowServers()
	if err != nil {
		return fmt.Errorf("list shadow servers: %w", err)
	}
	for _, s := range servers {
		w.cmd("set server " + be + "/" + s.name + " state maint")
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := w.cmd("del server " + be + "/" + s.name)
			if err == nil && !strings.Contains(out, "still") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("remove %s/%s: %v %s", be, s.name, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return os.WriteFile(w.hap.MapFile, []byte(lbName+" 0\n"), 0o600)
}
