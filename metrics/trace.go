package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Point is one observation; V is NaN when the value is missing.
type Point struct {
	T time.Time
	V float64
}

// Trace is a series read from a trace CSV (DESIGN.md 3.1): points sorted by
// time with duplicates resolved (the last row wins).
type Trace struct {
	Name       string
	Points     []Point
	Missing    int // empty or NaN values, kept as NaN points
	Duplicates int // rows whose timestamp was seen before (the last one kept)
}

// TraceOptions relaxes the contract for series that are not demand.
type TraceOptions struct {
	// AllowNegative accepts negative values (e.g. temperatures); demand
	// series must be non-negative, so it is off by default.
	AllowNegative bool
}

// ErrEmptyTrace is returned for a trace with a header but no usable rows.
var ErrEmptyTrace = errors.New("trace has no data rows")

// ReadTraceFile reads a trace CSV file; errors name the file and line.
func ReadTraceFile(path string, opt TraceOptions) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	defer f.Close()
	return ReadTrace(f, path, opt)
}

// ReadTrace parses a trace CSV from r; name is used in errors.
func ReadTrace(r io.Reader, name string, opt TraceOptions) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	tr := &Trace{Name: strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
			if !isHeader(text) {
				return nil, fmt.Errorf("%s:1: header must be \"timestamp,value\", got %q", name, clip(text))
			}
			continue
		}
		if text == "" {
			continue
		}
		p, err := parseRow(text, opt)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if math.IsNaN(p.V) {
			tr.Missing++
		}
		tr.Points = append(tr.Points, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%s: empty file: want header \"timestamp,value\"", name)
	}
	tr.Duplicates = sortDedup(&tr.Points)
	if len(tr.Points) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmptyTrace)
	}
	return tr, nil
}

func isHeader(s string) bool {
	f := strings.Split(s, ",")
	return len(f) == 2 && strings.EqualFold(strings.TrimSpace(f[0]), "timestamp") &&
		strings.EqualFold(strings.TrimSpace(f[1]), "value")
}

func parseRow(text string, opt TraceOptions) (Point, error) {
	f := strings.Split(text, ",")
	if len(f) != 2 {
		return Point{}, fmt.Errorf("want 2 fields \"timestamp,value\", got %d in %q", len(f), clip(text))
	}
	t, err := ParseTimestamp(strings.TrimSpace(f[0]))
	if err != nil {
		return Point{}, err
	}
	v, err := parseValue(strings.TrimSpace(f[1]), opt)
	if err != nil {
		return Point{}, err
	}
	return Point{T: t, V: v}, nil
}

// ParseTimestamp accepts RFC3339 (with or without fractional seconds) and
// Unix seconds (integer or decimal).
func ParseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(sec) && !math.IsInf(sec, 0) &&
		math.Abs(sec) < 1e11 {
		whole, frac := math.Modf(sec)
		return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp %q is neither RFC3339 nor Unix seconds", clip(s))
}

func parseValue(s string, opt TraceOptions) (float64, error) {
	if s == "" || strings.EqualFold(s, "nan") {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v):
		return 0, fmt.Errorf("value %q is not a number", clip(s))
	case math.IsInf(v, 0):
		return 0, fmt.Errorf("value %q is not finite", clip(s))
	case v < 0 && !opt.AllowNegative:
		return 0, fmt.Errorf("value %s is negative (demand must be >= 0)", s)
	}
	return v, nil
}

// sortDedup sorts points by time, keeping the last row of each timestamp,
// and returns how many rows it dropped.
func sortDedup(pts *[]Point) int {
	p := *pts
	sort.SliceStable(p, func(i, j int) bool { return p[i].T.Before(p[j].T) })
	out := p[:0]
	dups := 0
	for _, x := range p {
		if n := len(out); n > 0 && out[n-1].T.Equal(x.T) {
			out[n-1] = x // stable sort keeps file order: this row came later
			dups++
			continue
		}
		out = append(out, x)
	}
	*pts = out
	return dups
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
