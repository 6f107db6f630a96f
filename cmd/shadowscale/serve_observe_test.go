package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"

	"github.com/shadowscale/shadowscale/haproxy/haproxytest"
	"github.com/shadowscale/shadowscale/scheduler"
)

// What the serve tests look at: serve's process and JSON log, the persisted
// scheduler state, the provider's record, the instance processes and
// HAProxy's live view.

// serveProc is one run of `shadowscale serve`.
type serveProc struct {
	cmd    *exec.Cmd
	log    string // its stderr: JSON log lines
	stdout *bytes.Buffer
	done   chan struct{}
	err    error // from Wait, once done is closed
	// stopped is set when the test ends the process on purpose.
	stopped bool
}

func (e *serveEnv) startServe() *serveProc {
	e.t.Helper()
	e.runs++
	p := &serveProc{log: filepath.Join(e.dir, fmt.Sprintf("serve-%d.log", e.runs)), stdout: &bytes.Buffer{}, done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(e.serveBin, "serve", "--json", "--config", e.cfgPath)
	p.cmd.Dir = e.dir
	if lib := testenv.Cached("ONNXRUNTIME_LIB", "lib/libonnxruntime.so"); lib != "" {
		p.cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+lib) // for configs that name a model
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, f
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() { p.kill() })
	e.proc = p
	return p
}

func (p *serveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill is kill -9, then the wait for the process to be gone.
func (p *serveProc) kill() {
	p.stopped = true
	if !p.exited() {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM and returns the exit code (bounded wait: a tick
// finishing takes seconds, not half a minute).
// stopClean is stop, failing the test unless serve exited 0.
func (p *serveProc) stopClean(t *testing.T) {
	t.Helper()
	if code := p.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0", code)
	}
}

func (p *serveProc) stop(t *testing.T) int {
	t.Helper()
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

// logLine is one JSON log record of serve.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// lines parses the log so far; non-JSON lines (a race report) are kept as
// their text under "msg".
func (p *serveProc) lines() []logLine {
	data, _ := os.ReadFile(p.log)
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			l = logLine{"msg": sc.Text()}
		}
		out = append(out, l)
	}
	return out
}

// find returns the first log line with msg that matches (nil: any).
func (p *serveProc) find(msg string, match func(logLine) bool) logLine {
	for _, l := range p.lines() {
		if l.str("msg") == msg && (match == nil || match(l)) {
			return l
		}
	}
	return nil
}

func (p *serveProc) count(msg string) int {
	n := 0
	for _, l := range p.lines() {
		if l.str("msg") == msg {
			n++
		}
	}
	return n
}

// text is the line as JSON, for substring checks.
func (l logLine) text() string {
	b, _ := json.Marshal(l)
	return string(b)
}

// state reads the persisted scheduler state (empty before the first save).
func (e *serveEnv) state() scheduler.State {
	e.t.Helper()
	st, err := e.readState()
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *serveEnv) readState() (scheduler.State, error) {
	var st scheduler.State
	data, err := os.ReadFile(filepath.Join(e.stateDir, "scheduler.json"))
	if os.IsNotExist(err) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		return st, fmt.Errorf("state file: %w", err)
	}
	return st, nil
}

func (e *serveEnv) lbState() scheduler.LBState {
	if st := e.state().LBs[lbName]; st != nil {
		return *st
	}
	return scheduler.LBState{}
}

// phase is the persisted pool phase (Idle: no pool or unreadable); safe
// outside the test goroutine.
func (e *serveEnv) phase() scheduler.Phase {
	st, _ := e.readState()
	if l := st.LBs[lbName]; l != nil && l.Pool != nil {
		return l.Pool.Phase
	}
	return scheduler.Idle
}

func (e *serveEnv) stateText() string {
	data, _ := os.ReadFile(filepath.Join(e.stateDir, "scheduler.json"))
	return string(data)
}

// record is the local provider's persisted record: instance ID → PID.
func (e *serveEnv) record() map[string]int {
	e.t.Helper()
	var rec struct {
		Instances map[string]struct {
			PID int `json:"pid"`
		} `json:"instances"`
	}
	data, err := os.ReadFile(filepath.Join(e.stateDir, "provider-pool.json"))
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatalf("provider record: %v", err)
	}
	out := map[string]int{}
	for id, in := range rec.Instances {
		out[id] = in.PID
	}
	return out
}

// appProcs are the live processes started from this test's appBin.
func (e *serveEnv) appProcs() map[int]bool {
	out := map[int]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.HasPrefix(string(argv), e.appBin+"\x00") {
			out[pid] = true
		}
	}
	return out
}

// killApps stops every instance this test's provider started, by PID, even
// those a crashed serve left behind.
func (e *serveEnv) killApps() {
	for pid := range e.appProcs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// shadowServers lists the servers of the shadow backend.
func (e *serveEnv) shadowServers() []string {
	e.t.Helper()
	names, err := e.shadowServersErr()
	if err != nil {
		e.t.Fatalf("show servers state: %v", err)
	}
	return names
}

func (e *serveEnv) shadowServersErr() ([]string, error) {
	out, err := haproxytest.Command(e.paths.stats, "show servers state "+haproxytest.ShadowBackend(lbName))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// be_id be_name srv_id srv_name …; the first line is a version.
		if len(f) > 4 && f[1] == haproxytest.ShadowBackend(lbName) {
			names = append(names, f[3])
		}
	}
	return names, nil
}

// share is the LB's shadow share in HAProxy's live map (-1: unreadable).
func (e *serveEnv) share() int {
	out, err := haproxytest.Command(e.paths.stats, "show map "+e.paths.mapFile)
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
