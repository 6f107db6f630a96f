package haproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/shadowscale/shadowscale/internal/atomicfile"
)

// SetShare sets the percentage (0–100) of lb's requests routed to its
// shadow backend: "set map" on the live map, then the map file is
// rewritten atomically (temp file + rename) so a reload keeps it.
func (r *Runtime) SetShare(ctx context.Context, lb string, pct int) error {
	if err := CheckName("lb", lb); err != nil {
		return invalid(r.Name(), "set share", err)
	}
	if pct < 0 || pct > 100 {
		return invalid(r.Name(), "set share", fmt.Errorf("%w: share %d%% for %s not in 0..100", ErrInvalid, pct, lb))
	}
	if r.cfg.MapFile == "" {
		return invalid(r.Name(), "set share", fmt.Errorf("%w: node has no map file configured", ErrInvalid))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := fmt.Sprintf("set map %s %s %d", r.cfg.MapFile, lb, pct)
	if _, err := r.raw(ctx, "set share", cmd); err != nil {
		// "set map" only updates an existing key; a new LB needs "add map"
		// (which on an existing key would add a losing duplicate).
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		add := fmt.Sprintf("add map %s %s %d", r.cfg.MapFile, lb, pct)
		if _, aerr := r.raw(ctx, "set share", add); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	if err := writeMapValue(r.cfg.MapFile, lb, strconv.Itoa(pct)); err != nil {
		return &Error{Node: r.Name(), Op: "persist share", Err: err}
	}
	r.log.Info("share set", "lb", lb, "pct", pct)
	return nil
}

// Share reads lb's live shadow share from the map.
func (r *Runtime) Share(ctx context.Context, lb string) (int, error) {
	if err := CheckName("lb", lb); err != nil {
		return 0, invalid(r.Name(), "get share", err)
	}
	cmd := fmt.Sprintf("get map %s %s", r.cfg.MapFile, lb)
	out, err := r.raw(ctx, "get share", cmd)
	if err != nil {
		return 0, err
	}
	n, err := parseGetMap(out)
	if err != nil {
		return 0, &Error{Node: r.Name(), Op: "get share", Command: cmd, Message: strings.TrimSpace(out), Err: err}
	}
	return n, nil
}

// parseGetMap reads the percentage from a "get map" answer:
// `type=str, case=sensitive, found=yes, idx=tree, key="app", value="5", type="str"`.
// A key the map lacks is ErrNotFound; any other shape (no value, a missing
// closing quote, not a number) is ErrRefused, never a panic.
func parseGetMap(out string) (int, error) {
	if !strings.Contains(out, "found=yes") {
		return 0, ErrNotFound
	}
	_, v, ok := strings.Cut(out, `value="`)
	if !ok {
		return 0, fmt.Errorf("%w: no value in answer", ErrRefused)
	}
	v, _, ok = strings.Cut(v, `"`)
	if !ok {
		return 0, fmt.Errorf("%w: value without closing quote", ErrRefused)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100 {
		return 0, fmt.Errorf("%w: value %q is not a share in 0..100", ErrRefused, v)
	}
	return n, nil
}

// writeMapValue sets key's value in a map file, keeping other lines, and
// replaces the file atomically.
func writeMapValue(path, key, value string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read map %s: %w", path, err)
	}
	var b strings.Builder
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 0 && f[0] == key {
			if found {
				continue // drop duplicates: the first one wins in HAProxy
			}
			line, found = key+" "+value, true
		}
		b.WriteString(line + "\n")
	}
	if !found {
		b.WriteString(key + " " + value + "\n")
	}
	if err := atomicfile.Write(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write map: %w", err)
	}
	return nil
}
