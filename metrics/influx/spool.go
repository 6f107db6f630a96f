package influx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// spool is the buffer's copy on disk, so a crash during an InfluxDB outage
// loses no point: one append-only file of records
//
//	p <seq> <quoted line protocol>   a buffered point
//	a <first> <dropped>              every point below first was sent,
//	                                 refused or dropped; drops so far
//
// Each push and each acknowledged batch is one write and one fsync. The
// file is rewritten with only the live points when it empties or grows to
// twice the buffer bound, so it stays bounded. A torn last record (no
// newline: the process died mid-write) is ignored.
type spool struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	lines int // records in the file
}

// spooled is what a spool file held: the live points from seq first on.
type spooled struct {
	first, dropped uint64
	lines          []string
}

const spoolFile = "influx-buffer.spool"

func openSpool(dir string) (*spool, spooled, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, spooled{}, fmt.Errorf("influxdb spool: %w", err)
	}
	sp := &spool{path: filepath.Join(dir, spoolFile)}
	got, n, err := readSpool(sp.path)
	if err != nil {
		return nil, spooled{}, err
	}
	sp.lines = n
	if err := sp.rewrite(got.first, got.dropped, got.lines); err != nil {
		return nil, spooled{}, err
	}
	return sp, got, nil
}

// readSpool replays a spool file: the live points after the last ack.
func readSpool(path string) (spooled, int, error) {
	var out spooled
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, 0, nil
	}
	if err != nil {
		return out, 0, fmt.Errorf("influxdb spool: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var seqs []uint64
	n := 0
	for {
		rec, err := r.ReadString('\n')
		if err == io.EOF {
			break // a tail without newline is a torn write: never acknowledged
		}
		if err != nil {
			return out, n, fmt.Errorf("influxdb spool %s: %w", path, err)
		}
		n++
		kind, rest, _ := strings.Cut(strings.TrimSuffix(rec, "\n"), " ")
		a, b, _ := strings.Cut(rest, " ")
		x, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return out, n, fmt.Errorf("influxdb spool %s: record %d: %q", path, n, rec)
		}
		switch kind {
		case "a":
			out.first = x
			out.dropped, _ = strconv.ParseUint(b, 10, 64)
		case "p":
			lp, err := strconv.Unquote(b)
			if err != nil {
				return out, n, fmt.Errorf("influxdb spool %s: record %d: %w", path, n, err)
			}
			seqs, out.lines = append(seqs, x), append(out.lines, lp)
		}
	}
	// Keep the points at or after the last ack, in order; seqs are
	// contiguous because points leave only from the front.
	live := 0
	for live < len(seqs) && seqs[live] < out.first {
		live++
	}
	if live < len(seqs) {
		out.first = seqs[live]
	}
	out.lines = out.lines[live:]
	return out, n, nil
}

// appendPoints spools points seq, seq+1, … with one fsync.
func (s *spool) appendPoints(seq uint64, lines []string) error {
	for i, l := range lines {
		fmt.Fprintf(s.w, "p %d %s\n", seq+uint64(i), strconv.Quote(l))
	}
	s.lines += len(lines)
	return s.sync()
}

// ack records that everything below first is gone, with one fsync.
func (s *spool) ack(first, dropped uint64) error {
	fmt.Fprintf(s.w, "a %d %d\n", first, dropped)
	s.lines++
	return s.sync()
}

func (s *spool) sync() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("influxdb spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("influxdb spool: %w", err)
	}
	return nil
}

// rewrite replaces the file with just the live points (temp file, fsync,
// rename: a crash leaves the old file or the new one).
func (s *spool) rewrite(first, dropped uint64, live []string) error {
	if s.f != nil {
		s.f.Close()
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("influxdb spool: %w", err)
	}
	s.f, s.w, s.lines = f, bufio.NewWriterSize(f, 1<<16), 0
	if err := s.ack(first, dropped); err != nil {
		return err
	}
	if err := s.appendPoints(first, live); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("influxdb spool: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (s *spool) close() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Close()
}
