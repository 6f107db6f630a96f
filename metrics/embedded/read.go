package embedded

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	bolt "go.etcd.io/bbolt"
)

// eachSeries calls fn for every series bucket the selector matches.
func eachSeries(tx *bolt.Tx, sel metrics.Selector, fn func(tags map[string]string, b *bolt.Bucket) error) error {
	root := tx.Bucket(rootBucket)
	prefix := measurementPrefix(sel.Measurement)
	c := root.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if v != nil {
			continue // not a bucket
		}
		m, tags, err := parseSeriesName(k)
		if err != nil {
			return err
		}
		if sel.Matches(m, tags) {
			if err := fn(tags, root.Bucket(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// History returns windowed means of the selected series, summed across
// series (see metrics.Query).
func (s *Store) History(ctx context.Context, q metrics.Query) (metrics.Regular, error) {
	start, n, err := q.Grid()
	if err != nil {
		return metrics.Regular{}, err
	}
	sum := metrics.NewWindowSum(start, q.Step, n)
	from, to := timeKey(start), timeKey(q.To)
	var ts []time.Time
	var vs []float64
	err = s.db.View(func(tx *bolt.Tx) error {
		return eachSeries(tx, q.Select, func(_ map[string]string, b *bolt.Bucket) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			ts, vs = ts[:0], vs[:0]
			c := b.Cursor()
			for k, v := c.Seek(from); k != nil && bytes.Compare(k, to) < 0; k, v = c.Next() {
				if f, ok := lookupField(v, q.Field); ok {
					ts = append(ts, keyTime(k))
					vs = append(vs, f)
				}
			}
			sum.AddSeries(ts, vs)
			return nil
		})
	})
	if err != nil {
		return metrics.Regular{}, fmt.Errorf("read history of %s.%s: %w", q.Select, q.Field, err)
	}
	return sum.Regular(q.Select.String() + ":" + q.Field), nil
}

// Records returns the selected raw records in [from, to).
func (s *Store) Records(ctx context.Context, sel metrics.Selector, from, to time.Time) ([]metrics.Record, error) {
	if err := checkRange(sel, from, to); err != nil {
		return nil, err
	}
	var out []metrics.Record
	lo, hi := timeKey(from), timeKey(to)
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachSeries(tx, sel, func(tags map[string]string, b *bolt.Bucket) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := b.Cursor()
			for k, v := c.Seek(lo); k != nil && bytes.Compare(k, hi) < 0; k, v = c.Next() {
				r, err := record(sel.Measurement, tags, k, v)
				if err != nil {
					return err
				}
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read records of %s: %w", sel, err)
	}
	metrics.SortRecords(out)
	return out, nil
}

// Latest returns each selected series' last record in [from, to).
func (s *Store) Latest(ctx context.Context, sel metrics.Selector, from, to time.Time) ([]metrics.Record, error) {
	if err := checkRange(sel, from, to); err != nil {
		return nil, err
	}
	var out []metrics.Record
	lo, hi := timeKey(from), timeKey(to)
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachSeries(tx, sel, func(tags map[string]string, b *bolt.Bucket) error {
			c := b.Cursor()
			k, v := c.Seek(hi)
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			if k == nil || bytes.Compare(k, lo) < 0 {
				return nil
			}
			r, err := record(sel.Measurement, tags, k, v)
			out = append(out, r)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read latest of %s: %w", sel, err)
	}
	metrics.SortRecords(out)
	return out, nil
}

func record(m string, tags map[string]string, k, v []byte) (metrics.Record, error) {
	f, t, err := decodeValue(v)
	if err != nil {
		return metrics.Record{}, err
	}
	return metrics.Record{Measurement: m, Tags: tags, Fields: f, Text: t, Time: keyTime(k)}, nil
}

func checkRange(sel metrics.Selector, from, to time.Time) error {
	if sel.Measurement == "" {
		return fmt.Errorf("select records: no measurement")
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return fmt.Errorf("select %s: range [%v, %v) is empty or unbounded", sel, from, to)
	}
	return nil
}
