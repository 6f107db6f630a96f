package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/shadowscale/shadowscale/internal/atomicfile"
)

// Records persists what a provider handed out, so that List still finds
// every instance after a restart. Load of a record never saved leaves v as
// it is; Save replaces the whole record atomically.
type Records interface {
	Load(v any) error
	Save(v any) error
}

// FileRecords keeps the record in one JSON file, replaced atomically.
type FileRecords struct{ Path string }

// Load implements Records.
func (f FileRecords) Load(v any) error { return loadJSON(f.Path, v) }

// Save implements Records.
func (f FileRecords) Save(v any) error { return saveJSON(f.Path, v) }

// loadJSON reads path into v; a missing file leaves v as it is.
func loadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	return nil
}

// saveJSON writes v to path atomically: a temp file in the same directory,
// fsync, rename, then fsync of the directory so the rename itself survives
// a power cut. A crash leaves either the old or the new file, never half.
func saveJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
