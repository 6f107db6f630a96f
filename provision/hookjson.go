package provision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// hookInstance is one instance as a hook prints it.
type hookInstance struct {
	ID   string            `json:"id"`
	Addr string            `json:"addr"`
	Meta map[string]string `json:"meta,omitempty"`
}

// parseInstances decodes a hook's stdout: one JSON array of instances, or a
// sequence of instance objects; empty output is zero instances. On error it
// still returns the valid instances decoded before the problem, so that a
// failed Create can destroy them.
func parseInstances(out []byte) ([]hookInstance, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return nil, nil
	}
	var got []hookInstance
	if out[0] == '[' {
		if err := json.Unmarshal(out, &got); err != nil {
			return nil, fmt.Errorf("JSON array: %w", err)
		}
		return checkInstances(got)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var h hookInstance
		err := dec.Decode(&h)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			valid, _ := checkInstances(got)
			return valid, fmt.Errorf("JSON object %d: %w (want {\"id\": ..., \"addr\": \"host:port\"} per instance, or an array of them)", len(got)+1, err)
		}
		got = append(got, h)
	}
	return checkInstances(got)
}

// checkInstances validates each instance and returns the valid ones.
func checkInstances(in []hookInstance) ([]hookInstance, error) {
	seen := map[string]bool{}
	var ok []hookInstance
	var errs []error
	for i, h := range in {
		if err := checkInstance(h); err != nil {
			errs = append(errs, fmt.Errorf("instance %d: %w", i+1, err))
			continue
		}
		if seen[h.ID] {
			errs = append(errs, fmt.Errorf("instance %d: duplicate id %q", i+1, h.ID))
			continue
		}
		seen[h.ID] = true
		ok = append(ok, h)
	}
	return ok, errors.Join(errs...)
}

func checkInstance(h hookInstance) error {
	if h.ID == "" {
		return errors.New(`"id" is missing or empty`)
	}
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil || host == "" {
		return fmt.Errorf(`"addr" must be host:port, got %q`, h.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf(`"addr" %q: port must be 1-65535`, h.Addr)
	}
	return nil
}
