package feedback

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/shadowscale/shadowscale/inference/onnx"
	"github.com/shadowscale/shadowscale/internal/atomicfile"
)

// Registry is the champion/challenger record: which model directory serves,
// which one is on trial, the champions before it (for rollback) and the
// history of every change. It is one JSON file, replaced atomically under
// a lock, shared by the service and `shadowscale model`.
type Registry struct{ Path string }

// RegistryState is the file's content.
type RegistryState struct {
	// Champion is the model directory that serves; "" = the fallback.
	Champion   string      `json:"champion"`
	Previous   []string    `json:"previous,omitempty"` // rollback stack, latest last
	Challenger *Challenger `json:"challenger,omitempty"`
	History    []Event     `json:"history"`
}

// Challenger is the model on trial.
type Challenger struct {
	Dir    string    `json:"dir"`
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

// Event is one entry of the history.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // initial | challenger | refused | promoted | rejected | rollback | retrain-failed
	Model  string    `json:"model,omitempty"`
	Reason string    `json:"reason"`
	// The trial's evidence, when there was one.
	ChampionPinball   *float64 `json:"champion_pinball,omitempty"`
	ChallengerPinball *float64 `json:"challenger_pinball,omitempty"`
	Samples           int      `json:"samples,omitempty"`
}

const maxHistory = 500

// Load reads the state; a registry never written is empty.
func (r Registry) Load() (RegistryState, error) {
	b, err := os.ReadFile(r.Path)
	if errors.Is(err, os.ErrNotExist) {
		return RegistryState{}, nil
	}
	if err != nil {
		return RegistryState{}, fmt.Errorf("model registry: %w", err)
	}
	var st RegistryState
	if err := json.Unmarshal(b, &st); err != nil {
		return RegistryState{}, fmt.Errorf("model registry %s: %w", r.Path, err)
	}
	return st, nil
}

// Update changes the state under an exclusive lock (the service and the
// CLI may both write); fn's error leaves the file unchanged.
func (r Registry) Update(fn func(*RegistryState) error) (RegistryState, error) {
	lock, err := r.lock()
	if err != nil {
		return RegistryState{}, err
	}
	defer lock.Close()
	st, err := r.Load()
	if err != nil {
		return st, err
	}
	if err := fn(&st); err != nil {
		return st, err
	}
	if len(st.History) > maxHistory {
		st.History = st.History[len(st.History)-maxHistory:]
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return st, fmt.Errorf("model registry: %w", err)
	}
	return st, atomicfile.Write(r.Path, append(b, '\n'), 0o644)
}

func (r Registry) lock() (*os.File, error) {
	f, err := os.OpenFile(r.Path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock model registry: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock model registry: %w", err)
	}
	return f, nil // closing releases the lock
}

func (st *RegistryState) note(e Event) { st.History = append(st.History, e) }

// Promote makes dir the champion (the current one, "" for the fallback, is
// kept for rollback) and ends the trial of dir.
func (st *RegistryState) Promote(dir string, at time.Time, reason string, evidence Event) {
	if st.Champion != dir {
		st.Previous = append(st.Previous, st.Champion)
	}
	st.Champion = dir
	if st.Challenger != nil && st.Challenger.Dir == dir {
		st.Challenger = nil
	}
	evidence.At, evidence.Action, evidence.Model, evidence.Reason = at, "promoted", dir, reason
	st.note(evidence)
}

// Rollback restores the champion before the current one.
func (st *RegistryState) Rollback(at time.Time, reason string) error {
	if len(st.Previous) == 0 {
		return errors.New("rollback: no previous champion in the model registry")
	}
	prev := st.Previous[len(st.Previous)-1]
	st.Previous = st.Previous[:len(st.Previous)-1]
	st.note(Event{At: at, Action: "rollback", Model: prev, Reason: fmt.Sprintf("%s (was %s)", reason, st.Champion)})
	st.Champion = prev
	return nil
}

// CheckModel refuses a model directory whose card is missing or does not
// match what this build feeds (naming the field), or whose .onnx file is
// missing or not an ONNX model. It needs no ONNX Runtime; the Loader checks
// the rest (the ONNX metadata against the card, the graph's inputs).
func CheckModel(dir string) (onnx.ModelCard, error) {
	onnxPath, cardPath, err := onnx.ModelFiles(dir)
	if err != nil {
		return onnx.ModelCard{}, err
	}
	card, _, err := onnx.ReadCardFile(cardPath)
	if err != nil {
		return card, fmt.Errorf("model %s: card: %w", dir, err)
	}
	if err := card.Check(); err != nil {
		return card, fmt.Errorf("model %s: %w", dir, err)
	}
	head := make([]byte, 1)
	f, err := os.Open(onnxPath)
	if err != nil {
		return card, fmt.Errorf("model %s: %w", dir, err)
	}
	defer f.Close()
	// An ONNX ModelProto starts with field 1 (ir_version, varint): 0x08.
	if n, _ := f.Read(head); n == 0 || head[0] != 0x08 {
		return card, fmt.Errorf("model %s: %s is not an ONNX model (empty, or no ir_version field at the start)", dir, filepath.Base(onnxPath))
	}
	return card, nil
}
