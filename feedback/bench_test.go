package feedback

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// BenchmarkRecordTick is one tick of the loop for one LB in steady state
// on the embedded store: 30-step forecast and decision written, due
// targets scored against scraped demand (an hour of scored history).
func BenchmarkRecordTick(b *testing.B) {
	store, err := embedded.Open(filepath.Join(b.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	opt := DefaultOptions()
	loop := New(opt, store, Deps{}, nil)
	ctx := context.Background()
	k := 0
	step := func() {
		now := minute(k)
		if k > 0 {
			if err := store.Write(ctx, demandRecord("web", minute(k-1), pattern[(k-1)%4].actual)); err != nil {
				b.Fatal(err)
			}
		}
		loop.RecordTick(ctx, now, []schedTick{tick("web", now, constant("web", "m-1", now, 30))})
		k++
	}
	for range 120 {
		step()
	}
	b.ResetTimer()
	for b.Loop() {
		step()
	}
}
