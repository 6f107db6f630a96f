package feedback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// Retrainer trains a new model version on production traffic: it exports
// the recent demand of the asked LBs from the store as trace CSVs, runs the
// training script as a subprocess under a time and CPU budget, checks the
// result and only then moves it into the registry root, so a crash or kill
// at any point leaves no half-written model where models are listed.
type Retrainer struct {
	Source    metrics.Source
	Python    string // /usr/bin/python3: the interpreter that sees PyTorch
	Script    string // training/train.py
	ModelsDir string // registry root: new versions appear here
	History   time.Duration
	Step      time.Duration // export step (the forecaster's step)
	Timeout   time.Duration
	CPU       time.Duration // CPU-time limit of the subprocess (0 = none)
	Full      bool          // full training instead of fine-tuning the champion
	// Args are extra arguments for the script (epochs, sample counts).
	Args []string
	// Started, when set, is told the subprocess's PID (for tests and logs).
	Started func(pid int)
}

// RetrainRequest says what to retrain on and why.
type RetrainRequest struct {
	LBs      []string
	Why      string
	At       time.Time // the export ends here
	Champion string    // model dir to fine-tune ("" = full training)
}

// staging is where a version is built; the leading dot keeps it out of
// model listings, and it is emptied before every run.
func (r *Retrainer) staging() string { return filepath.Join(r.ModelsDir, ".staging") }

// Run trains and publishes a new version, returning its directory.
func (r *Retrainer) Run(ctx context.Context, req RetrainRequest) (string, error) {
	if err := os.RemoveAll(r.staging()); err != nil {
		return "", fmt.Errorf("retrain: clear staging: %w", err)
	}
	data := filepath.Join(r.staging(), "data")
	if err := r.export(ctx, req, data); err != nil {
		return "", err
	}
	name, arch, err := r.architecture(req)
	if err != nil {
		return "", err
	}
	version := req.At.UTC().Format("20060102t150405")
	out := filepath.Join(r.staging(), name+"-"+version)
	args := append([]string{r.Script, "--traces", data, "--out", out, "--name", name, "--version", version,
		"--quiet", "--threads", "1", "--max-seconds", strconv.Itoa(int(r.Timeout.Seconds() * 0.7))}, arch...)
	if err := r.train(ctx, append(args, r.Args...)); err != nil {
		return "", err
	}
	if _, err := CheckModel(out); err != nil {
		return "", fmt.Errorf("retrain: the new model is unusable: %w", err)
	}
	// Absolute, so that `shadowscale model` run from anywhere finds it.
	dst, err := filepath.Abs(filepath.Join(r.ModelsDir, name+"-"+version))
	if err != nil {
		return "", fmt.Errorf("retrain: %w", err)
	}
	if err := os.Rename(out, dst); err != nil {
		return "", fmt.Errorf("retrain: publish %s: %w", dst, err)
	}
	os.RemoveAll(r.staging())
	return dst, nil
}

// export writes one trace CSV per LB with enough history.
func (r *Retrainer) export(ctx context.Context, req RetrainRequest, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("retrain: %w", err)
	}
	end := metrics.AlignDown(req.At, r.Step)
	written := 0
	for _, lb := range req.LBs {
		sel, field := metrics.Demand(lb)
		series, err := r.Source.History(ctx, metrics.Query{Select: sel, Field: field, From: end.Add(-r.History), To: end, Step: r.Step})
		if err != nil {
			return fmt.Errorf("retrain: export %s: %w", lb, err)
		}
		if observed(series.Values) < 200 {
			continue // too little to learn from
		}
		f, err := os.Create(filepath.Join(dir, lb+".csv"))
		if err != nil {
			return fmt.Errorf("retrain: %w", err)
		}
		_, werr := metrics.WriteTraceCSV(f, series)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("retrain: export %s: %w", lb, err)
		}
		written++
	}
	if written == 0 {
		return fmt.Errorf("retrain: no load balancer of %v has 200 observed points in the last %s", req.LBs, r.History)
	}
	return nil
}

func observed(v []float64) int {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			n++
		}
	}
	return n
}

// architecture is the champion's name and shape, and its weights when
// fine-tuning; a full training without a champion uses the script's
// defaults.
func (r *Retrainer) architecture(req RetrainRequest) (string, []string, error) {
	if req.Champion == "" {
		return "lstm", nil, nil
	}
	card, err := CheckModel(req.Champion)
	if err != nil {
		return "", nil, fmt.Errorf("retrain: champion: %w", err)
	}
	args := []string{"--window", strconv.Itoa(card.Window), "--horizon", strconv.Itoa(card.HorizonSteps)}
	for _, k := range []string{"hidden", "mlp", "residual"} {
		if v, ok := card.Architecture[k]; ok {
			args = append(args, "--"+k, archValue(v))
		}
	}
	weights := filepath.Join(req.Champion, "weights.pt")
	if _, err := os.Stat(weights); err == nil && !r.Full {
		args = append(args, "--init", weights)
	}
	return card.Name, args, nil
}

func archValue(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// train runs the script in its own process group, killed with the group on
// timeout or cancellation, with RLIMIT_CPU set through prlimit.
func (r *Retrainer) train(ctx context.Context, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	name, argv := r.Python, args
	if r.CPU > 0 {
		// Soft limit at the budget (SIGXCPU, which names the cause), hard
		// limit a little later (SIGKILL) for a script that ignores it.
		soft := int(r.CPU.Seconds())
		limit := fmt.Sprintf("--cpu=%d:%d", soft, soft+5)
		name, argv = "prlimit", append([]string{limit, "--", r.Python}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("retrain: start %s: %w", name, err)
	}
	if r.Started != nil {
		r.Started(cmd.Process.Pid)
	}
	err := cmd.Wait()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("retrain: timed out after %s: %s", r.Timeout, tail(stderr.String()))
	case err != nil && r.CPU > 0 && cpuExhausted(cmd.ProcessState, r.CPU):
		return fmt.Errorf("retrain: CPU budget of %s exhausted (%w): %s", r.CPU, err, tail(stderr.String()))
	case err != nil:
		return fmt.Errorf("retrain: %s: %w: %s", filepath.Base(r.Script), err, tail(stderr.String()))
	}
	return nil
}

// cpuExhausted says whether the script stopped on its CPU limit: SIGXCPU,
// or SIGKILL after using the budget (the hard limit).
func cpuExhausted(st *os.ProcessState, budget time.Duration) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return false
	}
	used := st.UserTime() + st.SystemTime()
	return ws.Signal() == syscall.SIGXCPU || ws.Signal() == syscall.SIGKILL && used >= budget-100*time.Millisecond
}

// tail is the last line of the script's output, for the error.
func tail(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no output)"
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
