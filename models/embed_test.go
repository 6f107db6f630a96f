package models

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The built-in model is the shipped Default, byte for byte.
func TestEmbeddedIsDefault(t *testing.T) {
	for name, got := range map[string][]byte{"model.onnx": DefaultONNX, "model.json": DefaultCard} {
		want, err := os.ReadFile(filepath.Join(Default, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s differs from %s/%s", name, Default, name)
		}
	}
}
