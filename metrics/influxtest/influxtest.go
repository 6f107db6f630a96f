// Package influxtest runs a real InfluxDB 1.8.3 server for tests: its own
// config and data under a directory, free 127.0.0.1 ports, stopped by PID.
// Flux makes start-up take 4–12 s, so a test package should start one
// server in TestMain (see Main) and give each test its own database.
package influxtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/freeport"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// Server is one influxd process.
type Server struct {
	Binary string
	Dir    string
	URL    string // http://127.0.0.1:port
	cmd    *exec.Cmd
	exited chan struct{}
}

// Binary returns the influxd binary the set-up built, or "".
func Binary() string { return testenv.Cached("INFLUXD", "bin/influxd") }

// New writes a config under dir with free ports and starts influxd.
func New(ctx context.Context, binary, dir string) (*Server, error) {
	httpPort, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  flux-enabled = true
  log-enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort)
	if err := os.WriteFile(filepath.Join(dir, "influxd.conf"), []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write influxd config: %w", err)
	}
	s := &Server{Binary: binary, Dir: dir, URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	return s, s.Start(ctx)
}

// Start (re)starts influxd on the same config, data and port and waits
// until /ping answers 204.
func (s *Server) Start(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "influxd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("start influxd: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(s.Binary, "run", "-config", filepath.Join(s.Dir, "influxd.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Die with the test binary even if it is killed before cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start influxd: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(cmd, s.exited)
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		return err
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/ping", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("influxd exited during start-up; see %s", filepath.Join(s.Dir, "influxd.log"))
		case <-ctx.Done():
			return fmt.Errorf("influxd not ready at %s after %v: %w", s.URL, limit, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits (SIGKILL after 15 s). Stopping a stopped
// server does nothing.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("influxd ignored SIGTERM for 15 s; killed")
	}
}

// Query runs an InfluxQL statement (CREATE DATABASE, DROP ...).
func (s *Server) Query(ctx context.Context, q string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query",
		strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("influxql %q: %w", q, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("influxql %q: status %s", q, resp.Status)
	}
	return nil
}

// CreateDatabase creates db (idempotent).
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	return s.Query(ctx, "CREATE DATABASE "+quoteIdent(db))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// Start runs a server for one test, stopped at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(context.Background(), testenv.Influxd(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Shared holds the package's one server started by Main.
type Shared struct {
	srv *Server
	err error
}

// Main starts one server for a whole test package, runs the tests and stops
// it; use as `os.Exit(influxtest.Main(m, &shared))`. Without the binary the
// tests decide through Shared.Get (skip, or fail under make test).
func Main(m *testing.M, sh *Shared) int {
	bin := Binary()
	if bin != "" {
		dir, err := os.MkdirTemp("", "influxtest-")
		if err != nil {
			sh.err = err
		} else {
			defer os.RemoveAll(dir)
			sh.srv, sh.err = New(context.Background(), bin, dir)
			defer func() {
				if sh.srv != nil {
					sh.srv.Stop()
				}
			}()
		}
	}
	return m.Run()
}

// Get returns the shared server with a fresh database named after the test.
func (sh *Shared) Get(t testing.TB) (*Server, string) {
	t.Helper()
	if sh.err != nil {
		t.Fatalf("influxd did not start: %v", sh.err)
	}
	if sh.srv == nil {
		testenv.Influxd(t) // fails or skips, naming what is missing
		t.Fatal("influxd missing")
	}
	db := dbName(t.Name())
	if err := sh.srv.CreateDatabase(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return sh.srv, db
}

// GetBench is Get for a benchmark, with a fixed database name (benchmarks
// re-run with growing b.N and may keep their data).
func (sh *Shared) GetBench(b *testing.B, db string) (*Server, string) {
	b.Helper()
	if sh.err != nil {
		b.Fatalf("influxd did not start: %v", sh.err)
	}
	if sh.srv == nil {
		testenv.Influxd(b)
		b.Fatal("influxd missing")
	}
	if err := sh.srv.CreateDatabase(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	return sh.srv, db
}

func dbName(test string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, test)
}
