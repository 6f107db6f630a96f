package feedback

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/models"
)

// Drift → retraining on production traffic (a real, tiny PyTorch run) →
// challenger beside the champion → promotion with a hot swap; then a worse
// challenger (the old champion again) is not promoted.
func TestEndToEndDriftRetrainPromote(t *testing.T) {
	e := newE2E(t)
	champDir, reg, ms := e.championModels()
	opt := DefaultOptions()
	opt.MaxLateness = 5 * time.Minute
	// The weak champion's p90 covers about 84 % of this traffic: drift for a
	// threshold of 88 %.
	opt.Drift = Drift{Window: 30 * time.Minute, MinSamples: 100, MinCoverage: 0.88, For: 5 * time.Minute, Margin: 0.25}
	opt.Trial = Trial{Period: 40 * time.Minute, MinSamples: 200, Margin: 0.02}
	loop := New(opt, e.store, Deps{Models: ms, Retrainer: e.retrainer(),
		Schedule: &Schedule{MinInterval: 6 * time.Hour}}, nil)
	defer loop.Close()

	now := e2eStart
	for ; !loop.RetrainStatus().Running && now.Before(e2eStart.Add(40*time.Minute)); now = now.Add(time.Minute) {
		e.tick(loop, ms, now)
	}
	st := loop.Staleness()["web"]
	a := loop.Accuracy().Accuracy("web", "lstm-0", 30*time.Minute, now)
	t.Logf("champion over 30m: %d scored, MAE %.2f, MASE %v, pinball %.2f, coverage p90 %.2f", a.Scored, a.MAE, deref(a.MASE), a.Pinball, a.CoverageP90)
	if !st.Stale || !strings.Contains(st.Why, "coverage") {
		t.Fatalf("champion not stale after %s: %+v", now.Sub(e2eStart), st)
	}
	t.Logf("stale after %s: %s", now.Sub(e2eStart), st.Why)
	began := time.Now()
	rs := waitRetrain(t, loop)
	if rs.Error != "" || rs.Model == "" {
		t.Fatalf("retraining failed: %+v", rs)
	}
	t.Logf("retrained (fine-tune on 3 days of exported traffic) in %s: %s", time.Since(began).Round(100*time.Millisecond), rs.Model)
	trialStart := now
	for ; now.Before(trialStart.Add(opt.Trial.Period + time.Minute)); now = now.Add(time.Minute) {
		e.tick(loop, ms, now)
	}
	state, _ := reg.Load()
	last := state.History[len(state.History)-1]
	t.Logf("trial: %s %s — %s", last.Action, last.Model, last.Reason)
	if last.Action != "promoted" || state.Champion != rs.Model || ms.Champion.Name() != filepath.Base(rs.Model) {
		t.Fatalf("after the trial: history %+v, champion %s serving %s; want %s promoted", last, state.Champion, ms.Champion.Name(), rs.Model)
	}
	if st := loop.Staleness()["web"]; st.Stale {
		t.Errorf("the new champion inherited the old one's stale mark: %+v", st)
	}

	// The old champion again, as a challenger: worse, not promoted.
	if err := ms.Propose(champDir, "test: the old champion", now); err != nil {
		t.Fatal(err)
	}
	trialStart = now
	for ; now.Before(trialStart.Add(opt.Trial.Period + time.Minute)); now = now.Add(time.Minute) {
		e.tick(loop, ms, now)
	}
	state, _ = reg.Load()
	last = state.History[len(state.History)-1]
	t.Logf("second trial: %s %s — %s", last.Action, last.Model, last.Reason)
	if last.Action != "rejected" || state.Champion != rs.Model || ms.Champion.Name() != filepath.Base(rs.Model) {
		t.Fatalf("a worse challenger: history %+v, champion %s", last, state.Champion)
	}
}

// kill -9 of the training process: the retraining fails, is reported, the
// champion keeps serving and no half-written model is listed.
func TestRetrainKilledLeavesChampion(t *testing.T) {
	e := newE2E(t)
	champDir := e.trainChampion()
	r := e.retrainer()
	started := make(chan int, 1)
	r.Started = func(pid int) { started <- pid }
	r.Args = append(r.Args, "--epochs", "200") // long enough to be killed mid-run
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(t.Context(), RetrainRequest{LBs: []string{"web"}, At: e2eStart, Why: "test", Champion: champDir})
		done <- err
	}()
	pid := <-started
	// Wait until the script has written something into staging.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m, _ := filepath.Glob(filepath.Join(e.modelsDir, ".staging", "lstm-*", "loss.csv")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("training wrote nothing in 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Signal(os.Kill)
	}
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("killed training returned %v", err)
	}
	list, lerr := models.List(e.modelsDir)
	if lerr != nil || len(list) != 1 || list[0].Dir != champDir {
		t.Fatalf("models listed after the kill: %v %v, want only the champion", list, lerr)
	}
	if _, err := CheckModel(champDir); err != nil {
		t.Fatalf("champion damaged: %v", err)
	}
}

// A corrupt or incompatible challenger is refused with an error naming the
// field; the champion keeps serving and the refusal is in the history.
func TestBadChallengerRefused(t *testing.T) {
	e := newE2E(t)
	champDir, reg, ms := e.championModels()
	for _, c := range []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"window changed in the card", func(d string) { editFile(t, filepath.Join(d, "model.json"), `"window": 16`, `"window": 32`) }, `field "window"`},
		{"truncated onnx", func(d string) { os.WriteFile(filepath.Join(d, "model.onnx"), []byte("garbage"), 0o644) }, "not an ONNX model"},
		{"no card", func(d string) { os.Remove(filepath.Join(d, "model.json")) }, "card"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := filepath.Join(e.modelsDir, "lstm-bad-"+strings.ReplaceAll(c.name, " ", "-"))
			copyDir(t, champDir, bad)
			c.break_(bad)
			err := ms.Propose(bad, "test", e2eStart)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Propose: %v, want an error containing %q", err, c.want)
			}
			if f, _ := ms.Trial(); f != nil || ms.Champion.Name() != "lstm-0" {
				t.Fatalf("after a refused challenger: trial %v, serving %s", f, ms.Champion.Name())
			}
			st, _ := reg.Load()
			if last := st.History[len(st.History)-1]; last.Action != "refused" || !strings.Contains(last.Reason, c.want) {
				t.Errorf("history ends with %+v", last)
			}
		})
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q (%v)", path, old, err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o755)
	ents, _ := os.ReadDir(from)
	for _, en := range ents {
		b, err := os.ReadFile(filepath.Join(from, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, en.Name()), b, 0o644)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The time and CPU budgets stop a training run; the error says which.
func TestRetrainBudgets(t *testing.T) {
	e := newE2E(t)
	for _, c := range []struct {
		name    string
		timeout time.Duration
		cpu     time.Duration
		want    string
	}{
		{"time", 2 * time.Second, 0, "timed out after 2s"},
		{"cpu", time.Minute, time.Second, "CPU budget of 1s exhausted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.retrainer()
			r.Timeout, r.CPU, r.Full = c.timeout, c.cpu, true
			// Far more work than either budget allows, however fast the
			// machine: each epoch samples a million windows.
			r.Args = append(r.Args, "--epochs", "500", "--samples", "1000000")
			_, err := r.Run(t.Context(), RetrainRequest{LBs: []string{"web"}, At: e2eStart, Why: "test"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run: %v, want %q", err, c.want)
			}
			if list, _ := models.List(e.modelsDir); len(list) != 0 {
				t.Errorf("a stopped run left models %v", list)
			}
		})
	}
}
