package influx

import (
	"sync"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// buffer is a bounded FIFO of points. Each point has a sequence number so
// the writer can remove exactly the batch it sent even if older points were
// dropped for overflow meanwhile.
type buffer struct {
	mu      sync.Mutex
	limit   int
	pts     []*write.Point
	head    int    // index of the oldest point in pts
	first   uint64 // sequence number of pts[head]
	dropped uint64
	ready   chan struct{} // signalled (non-blocking) when points arrive
}

func newBuffer(limit int) *buffer {
	return &buffer{limit: limit, ready: make(chan struct{}, 1)}
}

// push appends points, dropping the oldest beyond the limit; it returns how
// many were dropped by this call.
func (b *buffer) push(pts []*write.Point) int {
	b.mu.Lock()
	b.pts = append(b.pts, pts...)
	drop := len(b.pts) - b.head - b.limit
	if drop > 0 {
		for i := b.head; i < b.head+drop; i++ {
			b.pts[i] = nil
		}
		b.head += drop
		b.first += uint64(drop)
		b.dropped += uint64(drop)
	} else {
		drop = 0
	}
	b.compact()
	n := len(b.pts) - b.head
	b.mu.Unlock()
	if n > 0 {
		select {
		case b.ready <- struct{}{}:
		default:
		}
	}
	return drop
}

// compact reclaims the slice's front once it is mostly consumed.
func (b *buffer) compact() {
	if b.head > 1024 && b.head > len(b.pts)/2 {
		n := copy(b.pts, b.pts[b.head:])
		clear(b.pts[n:])
		b.pts = b.pts[:n]
		b.head = 0
	}
}

// peek returns up to n oldest points and the sequence number of the first.
func (b *buffer) peek(n int) ([]*write.Point, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := min(b.head+n, len(b.pts))
	return append([]*write.Point(nil), b.pts[b.head:end]...), b.first
}

// remove drops the points with sequence numbers below upTo (those sent).
func (b *buffer) remove(upTo uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if upTo > b.first {
		n := int(min(upTo-b.first, uint64(len(b.pts)-b.head)))
		clear(b.pts[b.head : b.head+n])
		b.head += n
		b.first += uint64(n)
	}
	b.compact()
}

func (b *buffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pts) - b.head
}

func (b *buffer) droppedTotal() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
