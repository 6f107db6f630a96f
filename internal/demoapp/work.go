package demoapp

import (
	"fmt"
	"net/http"
	"time"
)

// work serves one request: wait for a capacity slot (bounded queue), then
// spend the service time, failing as the cold start or the fault says.
func (a *App) work(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Instance", a.cfg.Name)
	if a.Cold() {
		w.Header().Set("X-Cold", "1") // clients can count what cold instances served
	}
	fault := a.currentFault()
	if fault.Mode == "down" {
		a.errs.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	release, ok := a.acquire(r)
	if !ok {
		a.rejected.Add(1)
		http.Error(w, "over capacity", http.StatusServiceUnavailable)
		return
	}
	defer release()

	delay, fail := a.plan(fault)
	if a.cfg.Stream {
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	a.served.Add(1)
	if fail {
		a.errs.Add(1)
		if a.cfg.Stream {
			panic(http.ErrAbortHandler) // headers are gone: cut the body
		}
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "ok %s\n", a.cfg.Name)
}

// plan decides the delay and whether this request fails. Errors are spread
// evenly (every 1/rate-th request) rather than random, so tests are exact.
func (a *App) plan(fault Fault) (time.Duration, bool) {
	delay := a.cfg.Delay
	fail := false
	if a.Cold() {
		a.coldSeen.Add(1)
		delay += a.cfg.ColdDelay
		fail = every(&a.errSeq, a.cfg.ColdErrorRate)
	}
	switch fault.Mode {
	case "slow":
		delay += fault.Delay
	case "error":
		fail = every(&a.faultSeq, fault.ErrorRate) || fail
	}
	return delay, fail
}

// every reports true for a rate fraction of calls: call n fails when
// floor(n·rate) steps up.
func every(seq interface{ Add(int64) int64 }, rate float64) bool {
	if rate <= 0 {
		return false
	}
	n := seq.Add(1)
	return int64(float64(n)*rate) > int64(float64(n-1)*rate)
}

// acquire takes a capacity slot, queueing up to QueueLimit requests.
func (a *App) acquire(r *http.Request) (func(), bool) {
	a.inflight.Add(1)
	done := func() { a.inflight.Add(-1) }
	if a.slots == nil {
		return done, true
	}
	select {
	case a.slots <- struct{}{}:
		return func() { <-a.slots; done() }, true
	default:
	}
	if a.queued.Add(1) > int64(a.cfg.QueueLimit) {
		a.queued.Add(-1)
		done()
		return nil, false
	}
	defer a.queued.Add(-1)
	select {
	case a.slots <- struct{}{}:
		return func() { <-a.slots; done() }, true
	case <-r.Context().Done():
		done()
		return nil, false
	}
}
