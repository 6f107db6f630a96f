package scheduler

import (
	"encoding/json"
	"fmt"
	"time"
)

// Durations in the status document are Go duration strings ("1m22s"), not
// nanoseconds: people read it.

// MarshalJSON writes look_ahead as a duration string.
func (w Window) MarshalJSON() ([]byte, error) {
	type plain Window
	return json.Marshal(struct {
		plain
		LookAhead string `json:"look_ahead"`
	}{plain(w), w.LookAhead.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (w *Window) UnmarshalJSON(b []byte) error {
	type plain Window
	v := struct {
		*plain
		LookAhead string `json:"look_ahead"`
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseDur(v.LookAhead, &w.LookAhead)
}

// MarshalJSON writes the step's duration as a duration string.
func (s StepTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Step     string `json:"step"`
		Duration string `json:"duration"`
	}{s.Step, s.Duration.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *StepTime) UnmarshalJSON(b []byte) error {
	var v struct {
		Step     string `json:"step"`
		Duration string `json:"duration"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.Step = v.Step
	return parseDur(v.Duration, &s.Duration)
}

func parseDur(s string, d *time.Duration) error {
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = v
	return nil
}
