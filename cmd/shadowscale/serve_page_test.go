package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// chromiumFlags start a headless Chromium that talks to nothing but the
// page it is given.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--disable-extensions",
	"--disable-default-apps", "--mute-audio", "--virtual-time-budget=8000"}

// chromium runs one headless Chromium with a fresh profile and returns its
// stdout.
func chromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append(append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile), args...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("chromium %v: %v\n%.2000s", args, err, stderr)
	}
	return out
}

// statusPage loads / from the running serve in a real headless Chromium:
// the rendered DOM must show the LB, its phase and a drawn chart, and a
// phone-sized screenshot is kept in out/ as the test's artefact.
func statusPage(t *testing.T, e *serveEnv, at *apiTester) {
	bin := testenv.Chromium(t)
	// A few more ticks so the chart has a history of decisions.
	e.waitTicks(at, 6)
	dom := string(chromium(t, bin, "--dump-dom", at.base+"/"))
	checks := []struct {
		what string
		re   string
	}{
		{"the page finished loading its data", `<body[^>]*data-ready="true"`},
		{"a card for the LB", `data-lb="app"`},
		{"the LB's phase", `data-role="phase"[^>]*>Idle<`},
		{"the dry-run badge", `dry-run: plans only`},
		{"a decision in words", `Recent decisions`},
		{"an explanation", `instances serve at 100 req/s each`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(dom) {
			t.Errorf("the page does not show %s (%s)", c.what, c.re)
		}
	}
	drawn := regexp.MustCompile(`<svg[^>]*data-drawn="(\d+)"`).FindStringSubmatch(dom)
	demand := regexp.MustCompile(`<path[^>]*class="demand"[^>]*data-points="(\d+)"`).FindStringSubmatch(dom)
	band := regexp.MustCompile(`<path[^>]*class="band"[^>]*data-points="(\d+)"`).FindStringSubmatch(dom)
	if drawn == nil || demand == nil || band == nil || atoi(demand[1]) < 2 || atoi(band[1]) < 2 {
		t.Errorf("no drawn chart with demand and forecast band: svg %v, demand %v, band %v", drawn, demand, band)
	}
	if t.Failed() {
		t.Logf("DOM:\n%.4000s", dom)
	}
	out := filepath.Join(testenv.RepoRoot(), "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(out, "status-page.png")
	os.Remove(shot)
	chromium(t, bin, "--window-size=412,915", "--screenshot="+shot, at.base+"/")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 5000 {
		t.Errorf("screenshot %s: %v", shot, err)
	} else {
		t.Logf("status page screenshot: %s (%d bytes)", shot, fi.Size())
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
