package feedback

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Loader opens a model directory as a forecaster (cmd wires the ONNX
// Runtime forecaster); it must refuse a model this build cannot feed,
// naming the field.
type Loader func(dir string) (inference.Forecaster, error)

// Models is the service's side of the registry: the champion it serves
// (through a Swappable) and the challenger it runs beside it. Changes made
// by `shadowscale model promote|rollback` are picked up by Sync.
type Models struct {
	Champion *Swappable
	reg      Registry
	load     Loader
	log      *slog.Logger

	mu          sync.Mutex
	champDir    string
	challenger  inference.Forecaster
	chal        *Challenger
	seenModTime time.Time
}

// NewModels serves the registry's champion, or initial (the configured
// model, from initialDir; nil = the fallback) when the registry names none.
// A registry champion that fails to load is logged and initial serves.
func NewModels(reg Registry, load Loader, initial inference.Forecaster, initialDir string, fallback inference.Forecaster, now time.Time, log *slog.Logger) (*Models, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Models{reg: reg, load: load, log: log, Champion: NewSwappable(initial, fallback), champDir: initialDir}
	st, err := reg.Update(func(st *RegistryState) error {
		if st.Champion == "" && initialDir != "" && len(st.History) == 0 {
			st.Champion = initialDir
			st.note(Event{At: now, Action: "initial", Model: initialDir, Reason: "the configured [forecast] model"})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.apply(st)
	return m, nil
}

// Sync applies registry changes made elsewhere (the CLI) since the last
// call: a new champion is loaded and hot-swapped in; a failed load keeps
// the current one serving.
func (m *Models) Sync() {
	fi, err := os.Stat(m.reg.Path)
	if err != nil || fi.ModTime().Equal(m.seenModTime) {
		return
	}
	st, err := m.reg.Load()
	if err != nil {
		m.log.Warn("model registry unreadable; keeping the serving models", "err", err)
		return
	}
	m.seenModTime = fi.ModTime()
	m.apply(st)
}

func (m *Models) apply(st RegistryState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fi, err := os.Stat(m.reg.Path); err == nil {
		m.seenModTime = fi.ModTime()
	}
	m.applyChampion(st.Champion)
	m.applyChallenger(st.Challenger)
}

// applyChampion swaps in the registry's champion; m.mu is held.
func (m *Models) applyChampion(dir string) {
	switch {
	case dir == m.champDir:
	case dir == "": // rolled back to the fallback
		m.Champion.Swap(nil)
		m.log.Info("champion swapped", "model", "(fallback) "+m.Champion.Name(), "was", m.champDir)
		m.champDir = ""
	default:
		if f, err := m.load(dir); err != nil {
			m.log.Error("champion from the model registry refused; the current model keeps serving", "model", dir, "err", err)
		} else {
			m.Champion.Swap(f)
			m.log.Info("champion swapped", "model", dir, "was", m.champDir)
			m.champDir = dir
		}
	}
}

// applyChallenger loads the registry's challenger if it changed; m.mu is
// held.
func (m *Models) applyChallenger(c *Challenger) {
	if c != nil && m.chal != nil && c.Dir == m.chal.Dir {
		return
	}
	m.dropChallenger()
	if c == nil {
		return
	}
	f, err := m.load(c.Dir)
	if err != nil {
		m.log.Error("challenger refused", "model", c.Dir, "err", err)
		return
	}
	cc := *c
	m.challenger, m.chal = f, &cc
}

func (m *Models) dropChallenger() {
	if c, ok := m.challenger.(io.Closer); ok {
		c.Close()
	}
	m.challenger, m.chal = nil, nil
}

// ChampionDir is the directory of the serving model ("" = fallback).
func (m *Models) ChampionDir() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.champDir
}

// Trial returns the challenger and its registry entry, nil when none.
func (m *Models) Trial() (inference.Forecaster, *Challenger) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.challenger, m.chal
}

// Propose puts dir on trial from now. A model that is missing, corrupt or
// incompatible is refused (the error names the field), the refusal is in
// the history, and the champion stays.
func (m *Models) Propose(dir, reason string, now time.Time) error {
	f, err := m.check(dir)
	if err != nil {
		m.reg.Update(func(st *RegistryState) error {
			st.note(Event{At: now, Action: "refused", Model: dir, Reason: err.Error()})
			return nil
		})
		return fmt.Errorf("challenger %s refused: %w", dir, err)
	}
	st, err := m.reg.Update(func(st *RegistryState) error {
		st.Challenger = &Challenger{Dir: dir, Since: now, Reason: reason}
		st.note(Event{At: now, Action: "challenger", Model: dir, Reason: reason})
		return nil
	})
	if c, ok := f.(io.Closer); ok {
		c.Close()
	}
	if err != nil {
		return err
	}
	m.apply(st)
	return nil
}

// check loads the model (the Loader compares its metadata with the card)
// and requires its card.
func (m *Models) check(dir string) (inference.Forecaster, error) {
	f, err := m.load(dir)
	if err != nil {
		return nil, err
	}
	if _, err := CheckModel(dir); err != nil {
		if c, ok := f.(io.Closer); ok {
			c.Close()
		}
		return nil, err
	}
	return f, nil
}

// Promote makes the challenger the champion: it is already loaded, so the
// swap is immediate.
func (m *Models) Promote(now time.Time, reason string, evidence Event) error {
	m.mu.Lock()
	chal, f := m.chal, m.challenger
	m.mu.Unlock()
	if chal == nil {
		return fmt.Errorf("promote: no challenger")
	}
	_, err := m.reg.Update(func(st *RegistryState) error {
		st.Promote(chal.Dir, now, reason, evidence)
		return nil
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Champion.Swap(f)
	m.champDir, m.challenger, m.chal = chal.Dir, nil, nil
	if fi, err := os.Stat(m.reg.Path); err == nil {
		m.seenModTime = fi.ModTime()
	}
	return nil
}

// Reject ends the trial without promotion.
func (m *Models) Reject(now time.Time, reason string, evidence Event) error {
	m.mu.Lock()
	chal := m.chal
	m.dropChallenger()
	m.mu.Unlock()
	if chal == nil {
		return nil
	}
	st, err := m.reg.Update(func(st *RegistryState) error {
		if st.Challenger != nil && st.Challenger.Dir == chal.Dir {
			st.Challenger = nil
		}
		evidence.At, evidence.Action, evidence.Model, evidence.Reason = now, "rejected", chal.Dir, reason
		st.note(evidence)
		return nil
	})
	if err == nil {
		m.apply(st)
	}
	return err
}

// Note records an event (a failed retrain) in the history.
func (m *Models) Note(e Event) {
	if _, err := m.reg.Update(func(st *RegistryState) error { st.note(e); return nil }); err != nil {
		m.log.Warn("model registry: cannot record event", "action", e.Action, "err", err)
	}
}

// Close closes the loaded models.
func (m *Models) Close() error {
	m.mu.Lock()
	m.dropChallenger()
	m.mu.Unlock()
	return m.Champion.Close()
}
