package influx

import (
	"sync"
)

// buffer is a bounded FIFO of points in line protocol. Each point has a
// sequence number so the writer can remove exactly the batch it sent even
// if older points were dropped for overflow meanwhile. With a spool every
// change is mirrored to disk before the call returns.
type buffer struct {
	mu      sync.Mutex
	limit   int
	pts     []string
	head    int    // index of the oldest point in pts
	first   uint64 // sequence number of pts[head]
	dropped uint64
	spool   *spool        // nil: memory only
	ready   chan struct{} // signalled (non-blocking) when points arrive
}

func newBuffer(limit int) *buffer {
	return &buffer{limit: limit, ready: make(chan struct{}, 1)}
}

// newSpooledBuffer replays the spool in dir (the newest limit points of
// it; older ones count as dropped) and mirrors every change there.
func newSpooledBuffer(limit int, dir string) (*buffer, error) {
	sp, got, err := openSpool(dir)
	if err != nil {
		return nil, err
	}
	b := newBuffer(limit)
	b.first, b.dropped = got.first, got.dropped
	b.spool = sp
	if _, err := b.push(got.lines, false); err != nil {
		sp.close()
		return nil, err
	}
	return b, nil
}

// push appends points, dropping the oldest beyond the limit; it returns how
// many were dropped by this call. With a spool the points are on disk when
// it returns without error (they are kept in memory either way).
func (b *buffer) push(pts []string, spool bool) (int, error) {
	b.mu.Lock()
	var err error
	if spool && b.spool != nil {
		err = b.spool.appendPoints(b.first+uint64(len(b.pts)-b.head), pts)
	}
	b.pts = append(b.pts, pts...)
	drop := max(0, len(b.pts)-b.head-b.limit)
	if drop > 0 {
		clear(b.pts[b.head : b.head+drop])
		b.head += drop
		b.first += uint64(drop)
		b.dropped += uint64(drop)
		err = b.persist(err)
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
	return drop, err
}

// persist records on disk where the live points start (after a drop or a
// sent batch), rewriting the spool when it is empty or twice the bound.
func (b *buffer) persist(prev error) error {
	if b.spool == nil || prev != nil {
		return prev
	}
	n := len(b.pts) - b.head
	if n == 0 || b.spool.lines > 2*b.limit+1024 {
		return b.spool.rewrite(b.first, b.dropped, b.pts[b.head:])
	}
	return b.spool.ack(b.first, b.dropped)
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
func (b *buffer) peek(n int) ([]string, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := min(b.head+n, len(b.pts))
	return append([]string(nil), b.pts[b.head:end]...), b.first
}

// remove drops the points with sequence numbers below upTo (those sent);
// with a spool the acknowledgement is on disk when it returns.
func (b *buffer) remove(upTo uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if upTo <= b.first {
		return nil
	}
	n := int(min(upTo-b.first, uint64(len(b.pts)-b.head)))
	clear(b.pts[b.head : b.head+n])
	b.head += n
	b.first += uint64(n)
	err := b.persist(nil)
	b.compact()
	return err
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

func (b *buffer) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spool == nil {
		return nil
	}
	return b.spool.close()
}
