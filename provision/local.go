package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/internal/freeport"
)

// stopGrace is how long a local instance has to exit after SIGTERM before
// it gets SIGKILL.
const stopGrace = 5 * time.Second

// local starts the app binary as local processes on free 127.0.0.1 ports.
// Each runs in its own session (setsid), so it keeps serving when the
// scheduler dies, even by SIGKILL; the persisted record (PID, start time,
// argv) lets a restarted scheduler find it again and stop it. Its stdout and
// stderr go to a log file in the state directory, removed on Destroy.
type local struct {
	base
	rec    Records
	logDir string
	bin    string // absolute, so that argv identifies the process

	mu       sync.Mutex
	state    localState
	children map[int]chan struct{} // PIDs this object started → closed once reaped
	starting map[string]bool       // IDs recorded, process not yet launched
}

type localState struct {
	Instances map[string]localProc `json:"instances"` // by ID
}

// localProc is a started process and what identifies it after a restart.
type localProc struct {
	Instance
	PID        int      `json:"pid"`
	StartTicks uint64   `json:"start_ticks"`
	Argv       []string `json:"argv"`
}

func newLocal(b base, rec Records, logDir string) (*local, error) {
	if b.cfg.AppBinary == "" {
		return nil, b.errorf("local provider needs app_binary")
	}
	bin, err := exec.LookPath(b.cfg.AppBinary)
	if err == nil {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return nil, b.errorf("app_binary: %w", err)
	}
	l := &local{
		base: b, rec: rec, bin: bin,
		logDir:   logDir,
		state:    localState{Instances: map[string]localProc{}},
		children: map[int]chan struct{}{},
		starting: map[string]bool{},
	}
	if err := rec.Load(&l.state); err != nil {
		return nil, b.errorf("load: %w", err)
	}
	if l.state.Instances == nil {
		l.state.Instances = map[string]localProc{}
	}
	return l, nil
}

func (l *local) Create(ctx context.Context, n int) ([]Instance, error) {
	if err := checkCount(l.base, n); err != nil {
		return nil, err
	}
	deadline := l.now().Add(l.bootDeadline())
	var started []localProc
	var reaped []<-chan struct{}
	err := func() error {
		for range n {
			p, done, err := l.start()
			if err != nil {
				return err
			}
			started, reaped = append(started, p), append(reaped, done)
		}
		for i, p := range started {
			if err := waitReachable(ctx, p.Addr, deadline, reaped[i]); err != nil {
				return l.errorf("create %s: %w; log: %s", p.ID, err, logTail(p.Meta["log"]))
			}
		}
		return nil
	}()
	out := make([]Instance, len(started))
	for i, p := range started {
		out[i] = p.Instance
	}
	if err != nil {
		return nil, errors.Join(err, destroyAll(ctx, l, out))
	}
	return cloneAll(out), nil
}

// start records one instance, then launches its process: a crash between
// the two leaves a record without a PID, which List resolves by the unique
// argv (its --listen address), so no process can run unrecorded. The
// channel closes once the process has exited and been reaped.
func (l *local) start() (localProc, <-chan struct{}, error) {
	port, err := freeport.Get()
	if err != nil {
		return localProc{}, nil, l.errorf("create: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	id := fmt.Sprintf("%s-%d", l.name, port)
	logPath := filepath.Join(l.logDir, id+".log")
	p := localProc{
		Instance: Instance{ID: id, Provider: l.name, Addr: addr, Created: l.now().UTC(), Meta: map[string]string{"log": logPath}},
		Argv:     append(append([]string{l.bin}, l.cfg.AppArgs...), "--listen", addr),
	}
	if err := l.record(p, true); err != nil {
		return localProc{}, nil, l.errorf("create %s: %w", id, err)
	}
	cmd, done, err := l.spawn(p.Argv, logPath)
	if err != nil {
		l.forget(id)
		return localProc{}, nil, l.errorf("create %s: %w", id, err)
	}
	p.PID = cmd.Process.Pid
	p.Meta["pid"] = strconv.Itoa(p.PID)
	if st, err := readStat(p.PID); err == nil {
		p.StartTicks = st.startTicks
	}
	if err := l.record(p, false); err != nil {
		_ = signalGroup(p.PID, syscall.SIGKILL)
		l.forget(id)
		return localProc{}, nil, l.errorf("create %s: %w", id, err)
	}
	return p, done, nil
}

// record saves p in the persisted state; pending marks it as being started
// by this provider, so List does not drop it for lack of a process yet.
func (l *local) record(p localProc, pending bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state.Instances[p.ID] = p
	if pending {
		l.starting[p.ID] = true
	} else {
		delete(l.starting, p.ID)
	}
	if err := l.rec.Save(l.state); err != nil {
		delete(l.state.Instances, p.ID)
		delete(l.starting, p.ID)
		return err
	}
	return nil
}

// forget drops a record whose process never started or was killed.
func (l *local) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.state.Instances, id)
	delete(l.starting, id)
	_ = l.rec.Save(l.state)
}

// spawn starts argv in a new session with output to logPath, and reaps it
// in the background when it exits.
func (l *local) spawn(argv []string, logPath string) (*exec.Cmd, <-chan struct{}, error) {
	if err := os.MkdirAll(l.logDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log dir: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	l.mu.Lock()
	l.children[cmd.Process.Pid] = done
	l.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
		l.mu.Lock()
		delete(l.children, cmd.Process.Pid)
		l.mu.Unlock()
	}()
	return cmd, done, nil
}

// logTail is the end of a log file, for error messages.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	const max = 1 << 10
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return fmt.Sprintf("%q", data)
}
