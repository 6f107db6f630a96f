package influx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func lines(from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf(`m,lb=a v=%d,t="x\ny" %d`, from+i, from+i)) // a newline in a string field
	}
	return out
}

func reopen(t *testing.T, b *buffer, limit int, dir string) *buffer {
	t.Helper()
	if b != nil {
		b.close()
	}
	nb, err := newSpooledBuffer(limit, dir)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

func live(b *buffer) []string { p, _ := b.peek(1 << 30); return p }

// The spool replays exactly the points not yet sent, keeps the drop-oldest
// counter across restarts, and stays bounded.
func TestSpoolReplay(t *testing.T) {
	dir := t.TempDir()
	b := reopen(t, nil, 10, dir)
	b.push(lines(0, 6), true)
	_, seq := b.peek(4)
	if err := b.remove(seq + 4); err != nil { // 0..3 sent
		t.Fatal(err)
	}
	b = reopen(t, b, 10, dir)
	if got := live(b); !slices.Equal(got, lines(4, 2)) {
		t.Fatalf("after a restart: %q, want points 4 and 5", got)
	}
	if d, _ := b.push(lines(6, 12), true); d != 4 { // 4..17 > 10: 4..7 dropped
		t.Fatalf("dropped %d, want 4", d)
	}
	b = reopen(t, b, 10, dir)
	if got := live(b); !slices.Equal(got, lines(8, 10)) || b.droppedTotal() != 4 {
		t.Fatalf("after overflow and restart: %q dropped %d, want 8..17 and 4", got, b.droppedTotal())
	}
	b = reopen(t, b, 5, dir) // a smaller bound: the oldest go, counted
	if got := live(b); !slices.Equal(got, lines(13, 5)) || b.droppedTotal() != 9 {
		t.Fatalf("with a smaller bound: %q dropped %d", got, b.droppedTotal())
	}
	for i := range 200 { // many sent batches: the file stays small
		b.push(lines(100+i, 3), true)
		_, seq := b.peek(100)
		b.remove(seq + uint64(b.len()))
	}
	if fi, err := os.Stat(filepath.Join(dir, spoolFile)); err != nil || fi.Size() > 4096 {
		t.Fatalf("spool grew to %d bytes (%v)", fi.Size(), err)
	}
	b.close()
}

// A torn last record (the process died mid-write) is ignored.
func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	b := reopen(t, nil, 10, dir)
	b.push(lines(0, 2), true)
	b.close()
	f, err := os.OpenFile(filepath.Join(dir, spoolFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`p 2 "m v=2`)
	f.Close()
	b = reopen(t, nil, 10, dir)
	defer b.close()
	if got := live(b); !slices.Equal(got, lines(0, 2)) {
		t.Fatalf("replayed %q, want the two complete points", got)
	}
}
