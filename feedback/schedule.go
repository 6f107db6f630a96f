package feedback

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Schedule is the retraining schedule besides drift: every day at At past
// midnight UTC (Daily false = never), and never more often than
// MinInterval whatever triggers it.
type Schedule struct {
	Daily       bool
	At          time.Duration
	MinInterval time.Duration
	lastCheck   time.Time
}

// due reports whether a scheduled time fell in (last check, now].
func (s *Schedule) due(now time.Time) bool {
	if s == nil || !s.Daily {
		return false
	}
	last := s.lastCheck
	s.lastCheck = now
	if last.IsZero() {
		return false
	}
	at := now.UTC().Truncate(24 * time.Hour).Add(s.At)
	if at.After(now) {
		at = at.Add(-24 * time.Hour)
	}
	return at.After(last)
}

// retrainRunner runs one retraining at a time in the background; the next
// tick picks up its result.
type retrainRunner struct {
	r   *Retrainer
	log *slog.Logger

	mu      sync.Mutex
	running bool
	started time.Time
	result  *retrainResult
	last    RetrainStatus
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type retrainResult struct {
	req RetrainRequest
	dir string
	err error
}

// RetrainStatus is the last retraining's outcome, for status pages.
type RetrainStatus struct {
	Running bool      `json:"running"`
	Started time.Time `json:"started,omitzero"`
	Why     string    `json:"why,omitempty"`
	Model   string    `json:"model,omitempty"` // the version it produced
	Error   string    `json:"error,omitempty"`
}

func (rr *retrainRunner) start(req RetrainRequest, minInterval time.Duration) bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.running || (!rr.started.IsZero() && req.At.Sub(rr.started) < minInterval) {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr.running, rr.started, rr.cancel = true, req.At, cancel
	rr.last = RetrainStatus{Running: true, Started: req.At, Why: req.Why}
	rr.wg.Add(1)
	go func() {
		defer rr.wg.Done()
		dir, err := rr.r.Run(ctx, req)
		rr.mu.Lock()
		defer rr.mu.Unlock()
		rr.running, rr.result = false, &retrainResult{req: req, dir: dir, err: err}
		rr.last.Running, rr.last.Model = false, dir
		if err != nil {
			rr.last.Error = err.Error()
		}
	}()
	return true
}

func (rr *retrainRunner) take() *retrainResult {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	r := rr.result
	rr.result = nil
	return r
}

func (rr *retrainRunner) status() RetrainStatus {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.last
}

// stop cancels a running retraining (its subprocess is killed) and waits.
func (rr *retrainRunner) stop() {
	rr.mu.Lock()
	if rr.cancel != nil {
		rr.cancel()
	}
	rr.mu.Unlock()
	rr.wg.Wait()
}

// startRetrain starts a retraining of the champion unless one runs or ran
// too recently.
func (l *Loop) startRetrain(req RetrainRequest) {
	if l.retrain == nil {
		return
	}
	if l.leading != nil && !l.leading() {
		if l.deferred == nil {
			l.log.Info("retraining deferred: this replica is not the leader", "why", req.Why)
		}
		l.deferred = &req
		return
	}
	l.deferred = nil
	if l.models != nil {
		req.Champion = l.models.ChampionDir()
	}
	var minInterval time.Duration
	if l.schedule != nil {
		minInterval = l.schedule.MinInterval
	}
	if l.retrain.start(req, minInterval) {
		l.log.Info("retraining", "lbs", req.LBs, "why", req.Why, "champion", req.Champion)
	}
}

// maybeRetrain proposes a finished retraining's model as the challenger
// and starts the scheduled one when it is due.
func (l *Loop) maybeRetrain(_ context.Context, now time.Time) {
	if l.retrain == nil {
		return
	}
	if res := l.retrain.take(); res != nil {
		l.finishRetrain(res, now)
	}
	if req := l.deferred; req != nil && l.leading() {
		r := *req
		r.At = now // train on the history up to now
		l.startRetrain(r)
	}
	if l.schedule.due(now) {
		l.startRetrain(RetrainRequest{LBs: l.lbs, Why: "schedule", At: now})
	}
}

func (l *Loop) finishRetrain(res *retrainResult, now time.Time) {
	if res.err != nil {
		l.log.Warn("retraining failed; the champion keeps serving", "why", res.req.Why, "err", res.err)
		if l.models != nil {
			l.models.Note(Event{At: now, Action: "retrain-failed", Reason: res.err.Error()})
		}
		return
	}
	l.log.Info("retrained", "model", res.dir, "why", res.req.Why)
	if l.models == nil {
		return
	}
	if err := l.models.Propose(res.dir, "retrained: "+res.req.Why, now); err != nil {
		l.log.Warn("retrained model refused; the champion keeps serving", "err", err)
	}
}

// RetrainStatus is the last retraining's outcome.
func (l *Loop) RetrainStatus() RetrainStatus {
	if l.retrain == nil {
		return RetrainStatus{}
	}
	return l.retrain.status()
}

// Retrain starts a retraining now (all LBs seen so far).
func (l *Loop) Retrain(now time.Time, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startRetrain(RetrainRequest{LBs: l.lbs, Why: why, At: now})
}

// Close stops a running retraining.
func (l *Loop) Close() error {
	if l.retrain != nil {
		l.retrain.stop()
	}
	return nil
}
