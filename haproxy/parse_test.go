package haproxy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseServersState(t *testing.T) {
	raw, err := os.ReadFile("testdata/servers-state.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseServersState(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []ServerStatus{
		{Backend: "app", Name: "a", Addr: "127.0.0.1", Port: 36455, Admin: StateReady, Operational: "up", Weight: 100},
		{Backend: "app", Name: "n1", Addr: "127.0.0.1", Port: 9, Admin: StateMaint, Operational: "down", Weight: 42},
		{Backend: "app", Name: "d1", Addr: "127.0.0.1", Port: 10, Admin: StateDrain, Operational: "up", Weight: 7},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d servers, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("server %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"2\n", "1\n3 app 1 a\n", "1\n3 app 1 a 127.0.0.1 x 0 100 100 0 15 3 4 6 0 0 0 - 1 - 0 0 - - 0\n"} {
		if _, err := parseServersState(bad); err == nil {
			t.Errorf("parseServersState(%q) succeeded", bad)
		}
	}
}

func TestCLIMessageAndClassify(t *testing.T) {
	tests := []struct {
		out     string
		msg     string
		classed error
	}{
		{"[3]: No such server.\n", "No such server.", ErrNotFound},
		{"[3]: Can't find backend.", "Can't find backend.", ErrNotFound},
		{"[6]: New server registered.", "", nil},
		{"Server deleted.\n", "", nil},
		{"Permission denied\n", "Permission denied", ErrPermission},
		{"[3]: Server still has connections attached to it, cannot remove it.", "Server still has connections attached to it, cannot remove it.", ErrHasConnections},
		{"[3]: Already exists a server with the same name in backend.", "Already exists a server with the same name in backend.", ErrRefused},
		{"\n", "", nil},
	}
	for _, tt := range tests {
		msg := cliMessage(tt.out)
		if msg != tt.msg {
			t.Errorf("cliMessage(%q) = %q, want %q", tt.out, msg, tt.msg)
		}
		if msg != "" && !errors.Is(classify(msg, nil), tt.classed) {
			t.Errorf("classify(%q) = %v, want %v", msg, classify(msg, nil), tt.classed)
		}
	}
}

func TestWriteMapValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.map")
	if err := os.WriteFile(path, []byte("other 3\napp 1\napp 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeMapValue(path, "app", "25"); err != nil {
		t.Fatal(err)
	}
	if err := writeMapValue(path, "new", "2"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "other 3\napp 25\nnew 2\n"; string(got) != want {
		t.Errorf("map = %q, want %q", got, want)
	}
}

func TestHealthy(t *testing.T) {
	for _, c := range []struct {
		check string
		want  bool
	}{{"L7OK", true}, {"* L7OK", true}, {"L4OK", true}, {"* L4CON", false}, {"L7STS", false}, {"", false}, {"INI", false}} {
		if got := Healthy(c.check); got != c.want {
			t.Errorf("Healthy(%q) = %v, want %v", c.check, got, c.want)
		}
	}
}

func TestCheckPending(t *testing.T) {
	for _, c := range []struct {
		check string
		want  bool
	}{{"INI", true}, {"* INI", true}, {"", true}, {"L7OK", false}, {"* L4CON", false}, {"L7STS", false}} {
		if got := CheckPending(c.check); got != c.want {
			t.Errorf("CheckPending(%q) = %v, want %v", c.check, got, c.want)
		}
	}
}
