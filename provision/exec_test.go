package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
)

// hook is a shell command running testdata/<script> with env assignments.
func hook(t *testing.T, script string, env ...string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(append(env, "sh", path), " ")
}

func execConfig(create, destroy string) config.Provider {
	c := config.DefaultProvider("vms")
	c.Kind, c.CreateCmd, c.DestroyCmd = "exec", create, destroy
	c.Timeout, c.BootTime = 5*time.Second, 2*time.Second
	return c
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

func TestExecCreate(t *testing.T) {
	live := listenAddrs(t, 2)
	dead := closedAddr(t)
	tests := []struct {
		name      string
		script    string
		env       []string // besides LOG
		timeout   time.Duration
		n         int
		wantErr   []string // substrings; none = success
		notInErr  string
		wantLog   []string
		wantIs    error
		checkHook func(t *testing.T, he *HookError)
	}{
		{name: "one object per line", script: "create.sh", env: []string{"ADDRS='" + strings.Join(live, " ") + "'"}, n: 2,
			wantLog: []string{"create vm-1 vms", "create vm-2 vms"}},
		{name: "array", script: "create.sh", env: []string{"FORMAT=array", "ADDRS='" + strings.Join(live, " ") + "'"}, n: 2,
			wantLog: []string{"create vm-1", "create vm-2"}},
		{name: "fewer than asked", script: "create.sh", env: []string{"ADDRS=" + live[0]}, n: 2,
			wantErr: []string{`"vms"`, "printed 1 instances, want 2"}, wantLog: []string{"destroy vm-1 " + live[0]}},
		{name: "non-zero exit", script: "fail.sh", env: []string{"ADDRS=" + live[0]}, n: 1,
			wantErr:  []string{"create command", "fail.sh", "exit code 3", "quota exceeded in zone z1"},
			notInErr: "noise line 0", wantLog: []string{"destroy vm-partial " + live[0]},
			checkHook: func(t *testing.T, he *HookError) {
				if he.ExitCode != 3 || he.TimedOut {
					t.Errorf("HookError exit %d timedOut %v, want 3 false", he.ExitCode, he.TimedOut)
				}
			}},
		{name: "bad JSON", script: "badjson.sh", n: 1, wantErr: []string{"badjson.sh", "bad output", "JSON object 1"}},
		{name: "timeout kills the process group", script: "hang.sh", timeout: 300 * time.Millisecond, n: 1,
			wantErr: []string{"hang.sh", "timed out after 300ms", "process group killed"}, wantIs: context.DeadlineExceeded,
			checkHook: func(t *testing.T, he *HookError) {
				if !he.TimedOut {
					t.Errorf("HookError.TimedOut = false")
				}
			}},
		{name: "unreachable address", script: "create.sh", env: []string{"ADDRS=" + dead}, n: 1,
			wantErr: []string{"vm-1", dead}, wantIs: ErrNotReady, wantLog: []string{"destroy vm-1 " + dead}},
		{name: "zero count", script: "create.sh", n: 0, wantErr: []string{"count must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath, pidFile := filepath.Join(dir, "hooks.log"), filepath.Join(dir, "pid")
			env := append([]string{"LOG=" + logPath, "PIDFILE=" + pidFile}, tt.env...)
			cfg := execConfig(hook(t, tt.script, env...), hook(t, "destroy.sh", "LOG="+logPath))
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			cfg.BootTime = time.Second
			p := mustNew(t, cfg, dir)
			got, err := p.Create(context.Background(), tt.n)
			checkErr(t, err, tt.wantErr, tt.notInErr, tt.wantIs)
			if he := (*HookError)(nil); tt.checkHook != nil {
				if !errors.As(err, &he) {
					t.Fatalf("error %v is not a *HookError", err)
				}
				tt.checkHook(t, he)
			}
			log := readLog(t, logPath)
			for _, w := range tt.wantLog {
				if !strings.Contains(log, w) {
					t.Errorf("hook log %q lacks %q", log, w)
				}
			}
			list, lerr := p.List(context.Background())
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(tt.wantErr) > 0 {
				if len(list) != 0 {
					t.Errorf("List after a failed Create = %v, want empty", list)
				}
				if strings.Contains(tt.script, "hang") {
					assertProcessGone(t, pidFile)
				}
				return
			}
			if len(got) != tt.n || len(list) != tt.n || got[0].ID != "vm-1" || got[0].Meta["zone"] != "z1" || got[0].Provider != "vms" {
				t.Errorf("Create = %+v, List = %+v; want %d instances vm-1… with meta zone=z1", got, list, tt.n)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want []string, notIn string, is error) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if notIn != "" && strings.Contains(err.Error(), notIn) {
		t.Errorf("error %q should keep only the stderr tail, but has %q", err, notIn)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v is not %v", err, is)
	}
}

// assertProcessGone waits briefly for the PID in pidFile to die.
func assertProcessGone(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("hook pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, err := readStat(pid); err != nil || st.state == 'Z' {
			return
		}
	}
	t.Errorf("hook child %d still running after the timeout", pid)
}

func TestExecDestroyAndReload(t *testing.T) {
	ctx := context.Background()
	live := listenAddrs(t, 1)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "hooks.log")
	cfg := execConfig(hook(t, "create.sh", "LOG="+logPath, "ADDRS="+live[0]), hook(t, "destroy.sh", "LOG="+logPath))
	p := mustNew(t, cfg, dir)
	got, err := p.Create(ctx, 1)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	// A reloaded provider knows the instance from its record.
	p2 := mustNew(t, cfg, dir)
	assertList(t, p2, live[0])

	// A failing destroy hook keeps the record and surfaces stderr.
	failing := cfg
	failing.DestroyCmd = "echo 'api: 503' >&2; exit 2"
	err = mustNew(t, failing, dir).Destroy(ctx, got[0])
	checkErr(t, err, []string{"destroy command", "exit code 2", "api: 503"}, "", nil)
	assertList(t, mustNew(t, cfg, dir), live[0])

	// Destroy twice: both succeed, the hook sees the id and address.
	for range 2 {
		if err := p2.Destroy(ctx, got[0]); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
	}
	assertList(t, mustNew(t, cfg, dir))
	if log := readLog(t, logPath); strings.Count(log, "destroy vm-1 "+live[0]) != 2 {
		t.Errorf("hook log %q: want two destroys of vm-1 at %s", log, live[0])
	}
}

func TestExecListCommand(t *testing.T) {
	ctx := context.Background()
	live := listenAddrs(t, 1)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "hooks.log")
	cfg := execConfig(hook(t, "create.sh", "LOG="+logPath, "ADDRS="+live[0]), hook(t, "destroy.sh", "LOG="+logPath))
	p := mustNew(t, cfg, dir).(*execProvider)
	created, err := p.Create(ctx, 1)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	p.listCmd = hook(t, "list.sh", "ADDRS="+live[0])
	got, err := p.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := fmt.Sprintf("[orphan@10.0.0.9:80 created=false vm-1@%s created=true]", live[0])
	var have []string
	for _, in := range got {
		have = append(have, fmt.Sprintf("%s@%s created=%v", in.ID, in.Addr, in.Created.Equal(created[0].Created)))
	}
	if s := "[" + strings.Join(have, " ") + "]"; s != want {
		t.Errorf("List = %s, want %s", s, want)
	}

	p.listCmd = "echo '[{\"id\": \"\"}]'"
	_, err = p.List(ctx)
	checkErr(t, err, []string{"list command", `"id" is missing`}, "", nil)
}
