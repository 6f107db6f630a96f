package scheduler

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The per-tick decision line carries the numbers a user needs, and the
// status document's durations read as durations, both ways.
func TestDecisionLogAndStatusJSON(t *testing.T) {
	h := newHarness(t, testSettings(), step(150, 400, 20*time.Minute, 40*time.Minute))
	var buf bytes.Buffer
	sch, err := New(h.set, Deps{Forecaster: h.model, Fallback: h.fb, History: h.hist, Driver: h.drv,
		Providers: map[string]Provider{"local": h.prov}, Store: h.store, Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.sch = sch
	for range 12 {
		h.tick()
	}
	var last map[string]any
	for sc := bufio.NewScanner(&buf); sc.Scan(); {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil && l["msg"] == "decision" {
			last = l
		}
	}
	want := map[string]any{"observed_rps": "150.0", "peak_rps": 400.0, "capacity_rps": 100.0,
		"capacity_source": "configured", "pool": 2.0, "current": 2.0, "needed": 4.0, "quantile": "p90"}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("decision line %s = %v, want %v\n%v", k, last[k], v, last)
		}
	}
	for _, k := range []string{"peak_at", "horizon_peak_at", "look_ahead", "horizon_peak_rps"} {
		if last[k] == nil {
			t.Errorf("decision line lacks %s: %v", k, last)
		}
	}

	b, err := json.Marshal(h.sch.Status())
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"look_ahead":"`) || strings.Contains(s, `"look_ahead":8`) || !strings.Contains(s, `"duration":"`) {
		t.Errorf("durations are not duration strings: %.400s", s)
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.LBs[0].Plan.Reason.Provision.LookAhead, h.sch.Status().LBs[0].Plan.Reason.Provision.LookAhead; got != want || got == 0 {
		t.Errorf("look_ahead round trip %s, want %s", got, want)
	}
	if len(back.Steps) == 0 || back.Steps[0].Step != "observe" {
		t.Errorf("steps round trip %+v", back.Steps)
	}
}
