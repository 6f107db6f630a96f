// Package haproxytest starts a real HAProxy 2.6 for tests and the demo: it
// writes a haproxy.cfg into its own directory (master-worker with a master
// socket, an admin stats socket, a server-state file, a frontend on a free
// 127.0.0.1 port that splits traffic between a primary backend and its
// "<lb>_shadow" backend through a map file), starts haproxy, waits until it
// answers and stops it by PID.
//
// Start(t, cfg) is the test entry point; StartProcess works without a
// testing.TB (the demo).
package haproxytest

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"text/template"
	"time"
)

// Server is one server line of a backend.
type Server struct {
	Name   string
	Addr   string // 127.0.0.1:PORT
	Weight int    // 0 means the default (100)
}

// Config describes the load balancer the harness writes.
type Config struct {
	// LB names the primary backend; the shadow backend is LB+"_shadow" and
	// the map key is LB. Default "app".
	LB      string
	Primary []Server
	Shadow  []Server
	// ShadowPct is the initial share (0–100) of requests sent to the shadow
	// backend.
	ShadowPct int
	// CheckInter is the health-check interval (default 1s).
	CheckInter time.Duration
	// Port is the frontend port on 127.0.0.1 (0 picks a free one).
	Port int
}

// ShadowBackend is the shadow backend's name for lb.
func ShadowBackend(lb string) string { return lb + "_shadow" }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (c *Config) defaults() error {
	if c.LB == "" {
		c.LB = "app"
	}
	if c.CheckInter == 0 {
		c.CheckInter = time.Second
	}
	if !nameRE.MatchString(c.LB) {
		return fmt.Errorf("haproxytest: LB name %q: use letters, digits, '_', '.', '-'", c.LB)
	}
	if c.ShadowPct < 0 || c.ShadowPct > 100 {
		return fmt.Errorf("haproxytest: shadow share %d not in 0..100", c.ShadowPct)
	}
	for _, s := range append(append([]Server{}, c.Primary...), c.Shadow...) {
		if !nameRE.MatchString(s.Name) || s.Addr == "" {
			return fmt.Errorf("haproxytest: server %q at %q: bad name or empty address", s.Name, s.Addr)
		}
	}
	if len(c.Primary) == 0 {
		return errors.New("haproxytest: the primary backend needs at least one server")
	}
	return nil
}

// Paths are the files of one HAProxy instance, all inside Dir.
type Paths struct {
	Dir         string
	Config      string // haproxy.cfg
	StatsSocket string // worker runtime API, level admin
	// OperatorSocket is a second runtime socket at level operator, which
	// HAProxy answers "Permission denied" on for admin commands.
	OperatorSocket string
	MasterSocket   string // master CLI (reload)
	MapFile        string // the traffic-share map
	StateFile      string // server-state-file
	PIDFile        string
}

func pathsIn(dir string) Paths {
	return Paths{
		Dir:            dir,
		Config:         dir + "/haproxy.cfg",
		StatsSocket:    dir + "/haproxy.sock",
		OperatorSocket: dir + "/operator.sock",
		MasterSocket:   dir + "/master.sock",
		MapFile:        dir + "/shadow.map",
		StateFile:      dir + "/server-state",
		PIDFile:        dir + "/haproxy.pid",
	}
}

const cfgTemplate = `global
    stats socket {{.P.StatsSocket}} mode 600 level admin expose-fd listeners
    stats socket {{.P.OperatorSocket}} mode 600 level operator
    stats timeout 30s
    server-state-file {{.P.StateFile}}
    maxconn 4096
    hard-stop-after 10s

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout queue 10s
    option redispatch
    retries 3
    load-server-state-from-file global

frontend fe_{{.C.LB}}
    bind 127.0.0.1:{{.C.Port}}
    http-request set-var(txn.shadow_pct) str({{.C.LB}}),map({{.P.MapFile}},0)
    use_backend {{.C.LB}}_shadow if { rand(100),sub(txn.shadow_pct) -m int lt 0 }
    default_backend {{.C.LB}}
{{range $b := .Backends}}
backend {{$b.Name}}
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{{- range $b.Servers}}
    server {{.Name}} {{.Addr}} check inter {{$.Inter}} weight {{weight .Weight}}
{{- end}}
{{end}}`

type backend struct {
	Name    string
	Servers []Server
}

var tmpl = template.Must(template.New("cfg").Funcs(template.FuncMap{
	"weight": func(w int) int {
		if w == 0 {
			return 100
		}
		return w
	},
}).Parse(cfgTemplate))

// Render returns the haproxy.cfg text for cfg with its files under dir and
// the map file's initial content. cfg.Port must be set.
func Render(cfg Config, dir string) (conf, mapFile string, err error) {
	if err := cfg.defaults(); err != nil {
		return "", "", err
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return "", "", fmt.Errorf("haproxytest: frontend port %d out of range", cfg.Port)
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, map[string]any{
		"P":     pathsIn(dir),
		"C":     cfg,
		"Inter": fmt.Sprintf("%dms", cfg.CheckInter.Milliseconds()),
		"Backends": []backend{
			{cfg.LB, cfg.Primary},
			{ShadowBackend(cfg.LB), cfg.Shadow},
		},
	})
	if err != nil {
		return "", "", fmt.Errorf("haproxytest: render config: %w", err)
	}
	return b.String(), fmt.Sprintf("%s %d\n", cfg.LB, cfg.ShadowPct), nil
}
