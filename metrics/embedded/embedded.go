// Package embedded is the default metrics store for a single machine with no
// InfluxDB: every series' history in one local file.
//
// It is built on go.etcd.io/bbolt, the B+tree store maintained by etcd, for
// what the job needs: a single file with ACID transactions where a commit is
// fsync'ed copy-on-write pages plus a meta page switch, so a kill -9 at any
// moment leaves the last committed state readable (no recovery code of ours);
// MVCC with one writer and many concurrent readers; ordered keys, so a
// series' points are a contiguous time-ordered range read with one cursor
// seek; pure Go (no cgo). A log-structured store (Pebble, Badger) would write
// faster but brings compaction, background goroutines and a directory of
// files, which this store's volume (one point per series per scrape) does
// not need.
//
// Layout: one bucket per series (measurement and sorted tags) under a root
// bucket, keyed by big-endian time. Retention is applied by Prune.
package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	bolt "go.etcd.io/bbolt"
)

var rootBucket = []byte("series")

// Options tunes a store; the zero value keeps history forever.
type Options struct {
	// Retention is how long history is kept by Prune; 0 keeps everything.
	Retention time.Duration
	// LockTimeout bounds the wait for another process holding the file.
	LockTimeout time.Duration
}

// Store is the embedded store. It is safe for concurrent use; a successful
// Write is durable (fsync'ed) when it returns.
type Store struct {
	db   *bolt.DB
	opts Options
	path string
}

var _ metrics.Store = (*Store)(nil)

// ErrLocked is returned when another process has the store open.
var ErrLocked = errors.New("store file is in use by another process")

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open metrics store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open metrics store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(rootBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open metrics store %s: %w", path, err)
	}
	return &Store{db: db, opts: opts, path: path}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Write stores records in one transaction: all or none of them are kept. A
// record at the time of an existing one of the same series merges into it
// (fields overwrite), as in InfluxDB.
func (s *Store) Write(ctx context.Context, records ...metrics.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range records {
		if err := validate(r); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		for _, r := range records {
			if err := put(root, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write metrics to %s: %w", s.path, err)
	}
	return nil
}

func validate(r metrics.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkName("measurement", r.Measurement); err != nil {
		return err
	}
	for k, v := range r.Tags {
		if err := errors.Join(checkName("tag", k), checkName("tag value", v)); err != nil {
			return err
		}
	}
	return nil
}

func put(root *bolt.Bucket, r metrics.Record) error {
	b, err := root.CreateBucketIfNotExists(seriesName(r.Measurement, r.Tags))
	if err != nil {
		return err
	}
	b.FillPercent = 0.9 // keys mostly arrive in time order
	k := timeKey(r.Time)
	fields, text := r.Fields, r.Text
	if old := b.Get(k); old != nil {
		of, ot, err := decodeValue(old)
		if err != nil {
			return err
		}
		fields, text = merge(of, fields), merge(ot, text)
	}
	return b.Put(k, encodeValue(fields, text))
}

func merge[V any](old, update map[string]V) map[string]V {
	if old == nil {
		old = map[string]V{}
	}
	for k, v := range update {
		old[k] = v
	}
	return old
}

// Prune deletes history older than now minus the retention and series left
// empty; it returns how many points it removed.
func (s *Store) Prune(ctx context.Context, now time.Time) (int, error) {
	if s.opts.Retention <= 0 {
		return 0, nil
	}
	cutoff := timeKey(now.Add(-s.opts.Retention))
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		var empty [][]byte
		err := root.ForEachBucket(func(name []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			b := root.Bucket(name)
			c := b.Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
				removed++
			}
			if k, _ := c.First(); k == nil {
				empty = append(empty, append([]byte(nil), name...))
			}
			return nil
		})
		for _, name := range empty {
			if err == nil {
				err = root.DeleteBucket(name)
			}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune metrics store %s: %w", s.path, err)
	}
	return removed, nil
}

// RunRetention prunes every interval until ctx is done, logging through
// report (which may be nil).
func (s *Store) RunRetention(ctx context.Context, every time.Duration, now func() time.Time, report func(removed int, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Prune(ctx, now())
		if report != nil {
			report(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
