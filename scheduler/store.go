package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/shadowscale/shadowscale/internal/atomicfile"
)

// FileStore keeps the state in one JSON file, replaced atomically: write a
// temp file in the same directory, fsync it, rename it over the old one,
// fsync the directory. A crash leaves the old or the new file, never half.
type FileStore struct {
	Path string
}

// Load reads the state; a missing file is an empty state.
func (f FileStore) Load(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("state file %s: %w", f.Path, err)
	}
	return s, nil
}

// Save replaces the state file atomically.
func (f FileStore) Save(ctx context.Context, s State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := atomicfile.Write(f.Path, b, 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// MemStore keeps the state in memory (tests, the simulator). Saves counts
// the saves.
type MemStore struct {
	mu    sync.Mutex
	state State
	Saves int
}

// Load returns a copy of the last saved state.
func (m *MemStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone(), nil
}

// Save keeps a copy of s.
func (m *MemStore) Save(_ context.Context, s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = s.clone()
	m.Saves++
	return nil
}
