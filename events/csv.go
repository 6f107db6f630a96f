package events

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LoadFile reads events from a .csv or .ics file; errors name file:line.
func LoadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return ReadCSV(f, path)
	case ".ics", ".ical", ".ifb", ".icalendar":
		return ReadICS(f, path)
	}
	return nil, fmt.Errorf("load events %s: unknown format (want .csv or .ics)", path)
}

// ReadCSV reads events from CSV with a header naming the columns, in any
// order: lb, start, end, lift (required), kind, name (optional). lb is a
// load balancer, or * / all; times are RFC3339 or Unix seconds; lines
// starting with # are comments. name is used in errors.
func ReadCSV(r io.Reader, name string) ([]Event, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, csvError(name, err)
	}
	col, err := columns(header)
	if err != nil {
		line, _ := cr.FieldPos(0)
		return nil, fmt.Errorf("%s:%d: %w", name, line, err)
	}
	var out []Event
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		e, err := csvEvent(rec, col)
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, e)
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
	}
	if err == io.EOF {
		return fmt.Errorf("%s:1: empty file: want a header lb,kind,start,end,lift,name", name)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func columns(header []string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "lb", "kind", "start", "end", "lift", "name":
		default:
			return nil, fmt.Errorf("unknown column %q (want lb, kind, start, end, lift, name)", h)
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("column %q appears twice", h)
		}
		col[h] = i
	}
	for _, need := range []string{"lb", "start", "end", "lift"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("header lacks the %q column", need)
		}
	}
	return col, nil
}

func csvEvent(rec []string, col map[string]int) (Event, error) {
	get := func(k string) string {
		if i, ok := col[k]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	e := Event{LB: normLB(get("lb")), Kind: get("kind"), Name: get("name")}
	if e.Kind == "" {
		e.Kind = DefaultKind
	}
	var err error
	if e.Start, err = parseTime("start", get("start")); err != nil {
		return e, err
	}
	if e.End, err = parseTime("end", get("end")); err != nil {
		return e, err
	}
	if e.Lift, err = strconv.ParseFloat(get("lift"), 64); err != nil {
		return e, fmt.Errorf("lift %q is not a number", get("lift"))
	}
	return e, nil
}

func parseTime(what, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s %q is not an RFC3339 time or Unix seconds", what, s)
}
