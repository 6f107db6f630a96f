// Package etcdtest starts a real etcd server (Debian's etcd-server) for
// tests: on 127.0.0.1 with free ports and a data dir under a temp dir,
// stopped by PID when the test ends. A Proxy in front of it lets a test cut
// one client off etcd (a partition) while the others still reach it.
package etcdtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shadowscale/shadowscale/internal/freeport"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

// Server is one running etcd member.
type Server struct {
	t        testing.TB
	bin, dir string
	Client   string // client URL, http://127.0.0.1:PORT
	peer     string
	cmd      *exec.Cmd
	out      *bytes.Buffer
	done     chan struct{}
}

// Start runs a single-member etcd and waits until it answers.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: testenv.Etcd(t), dir: t.TempDir()}
	cp, err1 := freeport.Get()
	pp, err2 := freeport.Get()
	if err1 != nil || err2 != nil {
		t.Fatalf("etcd ports: %v %v", err1, err2)
	}
	s.Client, s.peer = fmt.Sprintf("http://127.0.0.1:%d", cp), fmt.Sprintf("http://127.0.0.1:%d", pp)
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	s.out = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, "--name", "m1", "--data-dir", filepath.Join(s.dir, "data"),
		"--listen-client-urls", s.Client, "--advertise-client-urls", s.Client,
		"--listen-peer-urls", s.peer, "--initial-advertise-peer-urls", s.peer,
		"--initial-cluster", "m1="+s.peer, "--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start etcd: %v", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	s.waitReady()
}

func (s *Server) waitReady() {
	s.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Client}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		s.t.Fatal(err)
	}
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Get(ctx, "ready")
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("etcd exited: %s", s.out)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("etcd not ready after 30s: %v\n%s", err, s.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server (SIGTERM, then SIGKILL); it may be called twice.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Restart starts the server again on the same ports and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Client connects a client to the server (closed at the end of the test).
func (s *Server) NewClient(t testing.TB, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Proxy forwards TCP from its own port to etcd until Cut, which closes
// every connection and refuses new ones until Heal.
type Proxy struct {
	URL    string
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

// NewProxy listens on a free 127.0.0.1 port in front of s.
func (s *Server) NewProxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, target: s.Client[len("http://"):], conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *Proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, up)
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *Proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		if p.cut {
			c.Close()
		}
		p.conns[c] = true
	}
}

// Cut partitions the proxy's clients from etcd.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// Heal lets the proxy's clients reach etcd again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}
