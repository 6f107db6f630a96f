package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Writes and reads at once are race-free and lose nothing.
func TestConcurrentWriteRead(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			b.Write([]byte("x"))
		}
	}()
	for range 100 {
		_ = b.String()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 100) {
		t.Fatalf("buffer holds %q", got)
	}
}
