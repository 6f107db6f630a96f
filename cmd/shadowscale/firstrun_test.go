package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// What a new user meets first: help, the build, the library lookup, the
// checks serve makes at start-up and the store it keeps.

func TestHelp(t *testing.T) {
	cases := [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "serve"}, {"model", "-h"}, {"model", "list", "--help"}}
	for name := range commands() {
		cases = append(cases, []string{name, "--help"}, []string{name, "-h"})
	}
	for _, args := range cases {
		var out bytes.Buffer
		err := run(context.Background(), args, &out)
		want := "usage: shadowscale "
		if len(args) > 1 && args[0] != "help" {
			want += args[0] // SUB --help names SUB and lists its flags
		}
		if err != nil || !strings.Contains(out.String(), want) || (len(args) > 1 && !strings.Contains(out.String(), "-json")) {
			t.Errorf("%v: err %v, output %q, want usage %q with its flags", args, err, out.String(), want)
		}
	}
	bin, _ := binaries(t)
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"export", "-h"}} {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stdout.Len() == 0 || stderr.Len() != 0 {
			t.Errorf("shadowscale %v: %v, stdout %q, stderr %q; want usage on stdout and exit 0", args, err, stdout.String(), stderr.String())
		}
	}
}

// make build builds the demo app where the example file's app_binary
// points.
func TestMakeBuildBuildsDemoApp(t *testing.T) {
	root := testenv.RepoRoot()
	out, err := exec.Command("make", "-C", root, "-n", "build").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-o bin/demo-app ./cmd/demoapp") {
		t.Errorf("make build does not build bin/demo-app:\n%s", out)
	}
	ini, err := os.ReadFile(filepath.Join(root, "deploy", "shadowscale.example.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ini), "\napp_binary = bin/demo-app\n") {
		t.Error("the example file's app_binary is not bin/demo-app")
	}
}

// One lookup for every subcommand: configured, then $ONNXRUNTIME_LIB, then
// .cache/lib/ of the repository; not found, it says where it looked.
func TestFindORTLib(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("ONNXRUNTIME_LIB", "")
	_, err := findORTLib("")
	if err == nil || !strings.Contains(err.Error(), "looked at $ONNXRUNTIME_LIB (unset), "+filepath.Join(dir, ".cache", "lib", "libonnxruntime.so")) {
		t.Fatalf("not found: %v", err)
	}
	_, _, err = loadModel(config.Forecast{Model: "m"}, nil)
	if err == nil || !strings.Contains(err.Error(), "[forecast] onnxruntime_lib: the model m needs it: ONNX Runtime library not found (looked at") {
		t.Fatalf("serve's loadModel without a library: %v", err)
	}
	cached := filepath.Join(dir, ".cache", "lib", "libonnxruntime.so")
	os.MkdirAll(filepath.Dir(cached), 0o700)
	os.WriteFile(cached, nil, 0o600)
	for _, c := range []struct{ configured, env, want string }{
		{"", "", cached}, {"", "/env/lib.so", "/env/lib.so"}, {"/conf/lib.so", "/env/lib.so", "/conf/lib.so"},
	} {
		t.Setenv("ONNXRUNTIME_LIB", c.env)
		if got, err := findORTLib(c.configured); got != c.want || err != nil {
			t.Errorf("findORTLib(%q) with env %q = %q, %v; want %q", c.configured, c.env, got, err, c.want)
		}
	}
}

type fakeStats []haproxy.Stats

func (f fakeStats) Stats(context.Context) ([]haproxy.Stats, error) { return f, nil }

func TestCheckBackends(t *testing.T) {
	cfg := config.Default()
	cfg.LBs = map[string]config.LB{"web": {Name: "web", Backend: "web", ShadowBackend: "web_shadow"}}
	node := func(name string, backends ...string) haproxy.Stats {
		s := haproxy.Stats{Node: name}
		for _, b := range backends {
			s.Backends = append(s.Backends, haproxy.StatRow{Proxy: b})
		}
		return s
	}
	for _, c := range []struct {
		name  string
		stats fakeStats
		want  string
	}{
		{"both present", fakeStats{node("n1", "web", "web_shadow")}, ""},
		{"no shadow", fakeStats{node("n1", "web")}, `[lb.web] shadow_backend: HAProxy node n1 has no backend "web_shadow"`},
		{"no primary on one node", fakeStats{node("n1", "web", "web_shadow"), node("n2", "web_shadow")}, `[lb.web] backend: HAProxy node n2 has no backend "web"`},
	} {
		err := checkBackends(context.Background(), cfg, c.stats)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// runRetention prunes what is older than the retention at once, and
// stops with its context.
func TestRunRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.db")
	now := time.Now()
	writeAged(t, path, now)
	s, err := embedded.Open(path, embedded.Options{Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runRetention(ctx, s, 24*time.Hour, slog.New(slog.DiscardHandler)); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for agedCount(t, s, now) != [2]int{0, 3} {
		if time.Now().After(deadline) {
			t.Fatalf("not pruned: %v (old, recent)", agedCount(t, s, now))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// writeAged writes 5 points 3 days old and 3 of the last hour for lb app.
func writeAged(t *testing.T, path string, now time.Time) {
	t.Helper()
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var recs []metrics.Record
	for i, age := range []time.Duration{72, 72, 72, 72, 72, 1, 1, 1} {
		recs = append(recs, metrics.Record{Measurement: metrics.MeasHAProxy, Time: now.Add(-age*time.Hour + time.Duration(i)*time.Second),
			Tags:   map[string]string{metrics.TagLB: "app", metrics.TagBackend: "app", metrics.TagServer: metrics.ServerBackend},
			Fields: map[string]float64{metrics.FieldReqRate: 1}})
	}
	if err := s.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
}

// agedCount counts the points older and younger than 2 days.
func agedCount(t *testing.T, s metrics.Source, now time.Time) [2]int {
	t.Helper()
	sel, _ := metrics.Demand("app")
	var n [2]int
	for i, r := range [][2]time.Time{{now.Add(-96 * time.Hour), now.Add(-48 * time.Hour)}, {now.Add(-48 * time.Hour), now}} {
		recs, err := s.Records(context.Background(), sel, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		n[i] = len(recs)
	}
	return n
}
