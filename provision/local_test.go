package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/internal/testenv"
)

var demoapp struct {
	once sync.Once
	path string
	err  error
}

// demoappBinary builds cmd/demoapp once per test binary.
func demoappBinary(t *testing.T) string {
	t.Helper()
	demoapp.once.Do(func() {
		dir, err := os.MkdirTemp("", "provision-demoapp")
		if err != nil {
			demoapp.err = err
			return
		}
		demoapp.path = filepath.Join(dir, "demoapp")
		cmd := exec.Command("go", "build", "-o", demoapp.path, "./cmd/demoapp")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			demoapp.err = fmt.Errorf("go build ./cmd/demoapp: %v\n%s", err, out)
		}
	})
	if demoapp.err != nil {
		t.Fatal(demoapp.err)
	}
	return demoapp.path
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(crashHelper())
	}
	code := m.Run()
	if demoapp.path != "" {
		os.RemoveAll(filepath.Dir(demoapp.path))
	}
	os.Exit(code)
}

func localConfig(bin string, args ...string) config.Provider {
	c := config.DefaultProvider("demo")
	c.Kind, c.AppBinary, c.AppArgs = "local", bin, args
	c.BootTime = 20 * time.Second
	return c
}

// newLocalT builds a local provider whose instances are all destroyed when
// the test ends, whatever happened.
func newLocalT(t *testing.T, cfg config.Provider, dir string) Provider {
	t.Helper()
	p := mustNew(t, cfg, dir)
	t.Cleanup(func() {
		ctx := context.Background()
		fresh := mustNew(t, cfg, dir) // sees instances other providers recorded too
		list, _ := fresh.List(ctx)
		for _, in := range list {
			if err := fresh.Destroy(ctx, in); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return p
}

func httpGet(addr, path string) (int, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func pidOf(t *testing.T, in Instance) int {
	t.Helper()
	pid, err := strconv.Atoi(in.Meta["pid"])
	if err != nil {
		t.Fatalf("instance %s: meta pid %q", in.ID, in.Meta["pid"])
	}
	return pid
}

func TestLocalLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := localConfig(demoappBinary(t), "--delay", "1ms")
	p := newLocalT(t, cfg, dir)

	got, err := p.Create(ctx, 2)
	if err != nil {
		t.Fatalf("Create(2): %v", err)
	}
	for _, in := range got {
		if !strings.HasPrefix(in.Addr, "127.0.0.1:") {
			t.Errorf("instance %s listens on %s, want 127.0.0.1", in.ID, in.Addr)
		}
		if code, err := httpGet(in.Addr, "/health"); err != nil || code != http.StatusOK {
			t.Errorf("GET %s/health = %d, %v", in.Addr, code, err)
		}
		// Own session, so a kill of the scheduler's group spares it.
		pid := pidOf(t, in)
		if sid, err := sessionOf(pid); err != nil || sid != pid {
			t.Errorf("instance %s: session %d (%v), want its own (%d)", in.ID, sid, err, pid)
		}
	}

	// A provider re-created from the state file (a restarted scheduler) finds both.
	p2 := mustNew(t, cfg, dir)
	assertList(t, p2, got[0].Addr, got[1].Addr)

	// Destroy through the new provider: port closed, process gone, idempotent.
	for range 2 {
		if err := p2.Destroy(ctx, got[0]); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
	}
	assertStopped(t, got[0])
	assertList(t, p2, got[1].Addr)

	// An instance that dies by itself disappears from List.
	if err := syscall.Kill(pidOf(t, got[1]), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "killed instance to leave List", func() bool {
		list, err := p.List(ctx)
		return err == nil && len(list) == 0
	})
	if err := p.Destroy(ctx, got[1]); err != nil {
		t.Errorf("Destroy of a dead instance: %v", err)
	}
}

func assertStopped(t *testing.T, in Instance) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", in.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("instance %s: %s still accepts connections after Destroy", in.ID, in.Addr)
	}
	if st, err := readStat(pidOf(t, in)); err == nil && st.state != 'Z' {
		t.Errorf("instance %s: pid %d still running (state %c)", in.ID, pidOf(t, in), st.state)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestLocalCreateFailures(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		boot    time.Duration
		wantErr []string
	}{
		// argv is: sh -c SCRIPT --listen ADDR, so the script sees $1 = ADDR.
		{"exits at start", []string{"-c", "echo no such flag >&2; exit 3"}, 10 * time.Second,
			[]string{`"demo"`, "the process exited", "no such flag"}},
		{"never listens", []string{"-c", "sleep 30"}, 500 * time.Millisecond,
			[]string{"did not accept connections in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := localConfig("/bin/sh", tt.args...)
			cfg.BootTime = tt.boot
			p := newLocalT(t, cfg, dir)
			_, err := p.Create(context.Background(), 2)
			checkErr(t, err, tt.wantErr, "", ErrNotReady)
			if list, err := p.List(context.Background()); err != nil || len(list) != 0 {
				t.Errorf("List after failed Create = %v, %v; want empty", list, err)
			}
			if out, _ := exec.Command("pgrep", "-f", "sleep 30 --listen").Output(); len(out) > 0 {
				t.Errorf("processes left behind: %s", out)
			}
		})
	}
}

func TestLocalIdentityCheck(t *testing.T) {
	// A record whose PID now belongs to another process must not be listed
	// or killed: here the PID is the test binary itself.
	dir := t.TempDir()
	cfg := localConfig(demoappBinary(t))
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rec := localState{Instances: map[string]localProc{"demo-1": {
		Instance: Instance{ID: "demo-1", Provider: "demo", Addr: "127.0.0.1:1"},
		PID:      os.Getpid(), StartTicks: st.startTicks, Argv: []string{"/not/what/runs"},
	}}}
	if err := saveJSON(stateFile(dir, "demo"), rec); err != nil {
		t.Fatal(err)
	}
	p := mustNew(t, cfg, dir)
	if err := p.Destroy(context.Background(), Instance{ID: "demo-1"}); err != nil {
		t.Fatalf("Destroy of a reused PID: %v", err)
	}
	assertList(t, p) // and the test binary was not signalled, or it would be dead
}

// sessionOf reads a process's session id (field 6 of /proc/PID/stat).
func sessionOf(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return strconv.Atoi(f[3])
}

// helperEnv makes the test binary act as a scheduler that creates local
// instances, prints them and waits to be killed.
const helperEnv = "PROVISION_CRASH_HELPER"

func crashHelper() int {
	var cfg config.Provider
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p, err := New(cfg, cfg.Name, os.Getenv("PROVISION_STATE_DIR"))
	if err == nil {
		var got []Instance
		if got, err = p.Create(context.Background(), 2); err == nil {
			json.NewEncoder(os.Stdout).Encode(got)
			time.Sleep(time.Minute)
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func TestLocalSurvivesSchedulerKill(t *testing.T) {
	dir := t.TempDir()
	cfg := localConfig(demoappBinary(t))
	newLocalT(t, cfg, dir) // cleans up whatever the helper left
	enc, _ := json.Marshal(cfg)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+string(enc), "PROVISION_STATE_DIR="+dir)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	var got []Instance
	if err := json.NewDecoder(out).Decode(&got); err != nil {
		t.Fatalf("helper output: %v", err)
	}

	// kill -9 of the "scheduler": the instances keep serving.
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	for _, in := range got {
		if code, err := httpGet(in.Addr, "/health"); err != nil || code != http.StatusOK {
			t.Errorf("after the scheduler died: GET %s/health = %d, %v", in.Addr, code, err)
		}
	}

	// The restarted scheduler finds them and can stop them.
	p := mustNew(t, cfg, dir)
	assertList(t, p, got[0].Addr, got[1].Addr)
	for _, in := range got {
		if err := p.Destroy(context.Background(), in); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
		assertStopped(t, in)
	}
	assertList(t, p)
}

// TestLocalAdoptsUnsavedPID: a crash after the record was saved but before
// its PID was leaves a record without a PID; List finds the process by its
// argv and Destroy stops it, so nothing runs unrecorded.
func TestLocalAdoptsUnsavedPID(t *testing.T) {
	dir := t.TempDir()
	cfg := localConfig(demoappBinary(t))
	p := newLocalT(t, cfg, dir)
	insts, err := p.Create(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	l := p.(*local)
	rec := l.state.Instances[insts[0].ID]
	pid := rec.PID
	rec.PID, rec.StartTicks = 0, 0
	l.state.Instances[rec.ID] = rec
	if err := l.rec.Save(l.state); err != nil {
		t.Fatal(err)
	}
	again := mustNew(t, cfg, dir)
	got, err := again.List(context.Background())
	if err != nil || len(got) != 1 || got[0].ID != rec.ID {
		t.Fatalf("List = %v, %v; want the adopted instance", got, err)
	}
	if err := again.Destroy(context.Background(), got[0]); err != nil {
		t.Fatal(err)
	}
	if st, err := readStat(pid); err == nil && st.state != 'Z' {
		t.Fatalf("process %d still running (state %c)", pid, st.state)
	}
}
