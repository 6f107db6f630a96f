package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/models"
	"github.com/shadowscale/shadowscale/scheduler"
)

// TestAPIServe is the API's contract against a real serve (dry-run, real
// HAProxy, free port): every route's status codes and bodies (validated
// against openapi.json), auth required and refused, validation errors
// naming the field, the CLI clients, the status page in a real Chromium,
// and the toggles surviving a restart.
func TestAPIServe(t *testing.T) {
	e := newServeEnv(t)
	e.startHAProxy()
	tokenFile := filepath.Join(e.dir, "api.token")
	e.writeFile(tokenFile, testToken+"\n")
	svcKeys := "dry_run = true\napi_token_file = " + tokenFile + "\napi_max_body = 4096"
	e.writeConfig(iniOpts{service: svcKeys, eventIn: time.Hour, eventFor: time.Hour})
	l := startLoad(t, e)
	defer l.stop()
	e.startServe()
	at := newAPITester(t, e.apiBase())
	e.waitTicks(at, 3)

	t.Run("reads", func(t *testing.T) { at.t = t; apiReads(t, at) })
	t.Run("validation", func(t *testing.T) { at.t = t; apiValidation(t, at) })
	t.Run("auth", func(t *testing.T) { at.t = t; apiAuth(t, at) })
	t.Run("writes", func(t *testing.T) { at.t = t; apiWrites(t, at) })
	t.Run("cli", func(t *testing.T) { at.t = t; apiCLI(t, e, at) })
	t.Run("page", func(t *testing.T) { at.t = t; statusPage(t, e, at) })
	t.Run("audit", func(t *testing.T) { apiAudit(t, e) })
	at.t = t

	// Restart with reads guarded too: the operator's toggles are still in
	// force, and reads now need the token.
	if code := e.proc.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	e.writeConfig(iniOpts{service: svcKeys + "\napi_read_auth = true", eventIn: time.Hour, eventFor: time.Hour})
	os.Remove(filepath.Join(e.stateDir, addrFile))
	e.startServe()
	at.base = e.apiBase()
	e.waitTicks(at, 1)
	at.expect(at.call("GET", "/v1/lbs", nil, ""), 401, "read without token, api_read_auth on")
	at.expect(at.call("GET", "/v1/lbs", nil, "wrong-token-wrong-token"), 403, "read with a wrong token")
	at.expect(at.call("GET", "/healthz", nil, ""), 200, "healthz needs no token")
	var ctl scheduler.ControlView
	at.expect(at.call("GET", "/v1/controls", nil, "ok"), 200, "controls").json(t, &ctl)
	if !ctl.KillSwitch || ctl.KillSwitchSource != "operator" || !ctl.DryRun || ctl.DryRunSource != "operator" {
		t.Errorf("switches after restart: %+v", ctl)
	}
	if _, ok := ctl.Paused[lbName]; !ok {
		t.Errorf("pause lost at restart: %+v", ctl)
	}
	if len(ctl.Events) != 1 || ctl.Events[0].Kind != "release" {
		t.Errorf("operator events after restart: %+v", ctl.Events)
	}
	st := e.waitTicks(at, 2)
	if !strings.HasPrefix(st.LBs[0].Decision, "paused by operator") {
		t.Errorf("paused LB's decision after restart: %q", st.LBs[0].Decision)
	}
}

func apiReads(t *testing.T, at *apiTester) {
	var h api.Health
	at.expect(at.call("GET", "/healthz", nil, ""), 200, "healthz").json(t, &h)
	if !h.OK || h.Ticks < 1 {
		t.Errorf("healthz %+v", h)
	}
	var rd api.Ready
	at.expect(at.call("GET", "/readyz", nil, ""), 200, "readyz").json(t, &rd)
	if len(rd.Checks) != 3 {
		t.Errorf("readyz checks %+v", rd.Checks)
	}
	m := at.expect(at.call("GET", "/metrics", nil, ""), 200, "metrics")
	for _, want := range []string{`shadowscale_pool_phase{lb="app",phase="Idle"} 1`, "shadowscale_ticks_total ", `shadowscale_dry_run 1`,
		`shadowscale_capacity_per_instance_requests_per_second{lb="app"} 100`, `shadowscale_tick_step_duration_seconds{step="forecast"}`,
		`shadowscale_forecast_requests_per_second{lb="app",model="`, "shadowscale_collector_lag_seconds ",
		`shadowscale_actions_total{action="dry-run",lb="app"}`} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	at.expect(at.call("GET", "/openapi.json", nil, ""), 200, "openapi.json")
	page := at.expect(at.call("GET", "/", nil, ""), 200, "page")
	if !strings.Contains(string(page.body), `<script src="/static/app.js">`) {
		t.Errorf("page: %.200s", page.body)
	}
	at.expect(at.call("GET", "/static/app.js", nil, ""), 200, "app.js")
	at.expect(at.call("GET", "/static/nothing.js", nil, ""), 404, "missing asset")

	var st api.StatusView
	at.expect(at.call("GET", "/v1/lbs", nil, ""), 200, "lbs").json(t, &st)
	if len(st.LBs) != 1 || st.LBs[0].LB != lbName || st.LBs[0].Phase != "Idle" || !st.Controls.DryRun ||
		st.Controls.DryRunSource != "config" || st.LBs[0].Forecast == nil || st.LBs[0].CapacityPerInstance != 100 {
		t.Errorf("lbs %+v", st)
	}
	var d api.LBDetail
	at.expect(at.call("GET", "/v1/lbs/app", nil, ""), 200, "lb").json(t, &d)
	if d.Plan.LB != lbName || d.Forecast == nil || len(d.Forecast.Points) == 0 || !strings.HasPrefix(d.Decision, "dry-run") {
		t.Errorf("lb detail %+v", d)
	}
	at.expect(at.call("GET", "/v1/lbs/nope", nil, ""), 404, "unknown lb")
	// The history fills as ticks are recorded: wait for every series.
	var hv api.HistoryView
	full := func() bool {
		hv = api.HistoryView{}
		at.expect(at.call("GET", "/v1/lbs/app/history?hours=1", nil, ""), 200, "history").json(t, &hv)
		return len(hv.Demand) > 0 && len(hv.Capacity) > 1 && len(hv.Forecast) > 1 && len(hv.Ahead) > 0 && len(hv.Decisions) > 0
	}
	deadline := time.Now().Add(60 * time.Second)
	for !full() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if !full() {
		t.Errorf("history: %d demand, %d capacity, %d forecast, %d ahead, %d decisions", len(hv.Demand), len(hv.Capacity),
			len(hv.Forecast), len(hv.Ahead), len(hv.Decisions))
	}
	from, to := time.Now().Add(-10*time.Minute).UTC().Format(time.RFC3339), time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	csv := at.expect(at.call("GET", "/v1/lbs/app/export?step=1s&from="+from+"&to="+to, nil, ""), 200, "export")
	if lines := strings.Split(strings.TrimSpace(string(csv.body)), "\n"); lines[0] != "timestamp,value" || len(lines) < 3 {
		t.Errorf("export csv: %.200s", csv.body)
	}
	var fr api.ForecastResponse
	at.expect(at.call("GET", "/v1/forecast?lb=app&horizon=10s", nil, ""), 200, "forecast of an LB").json(t, &fr)
	if len(fr.Forecasts) != 1 || fr.Forecasts[0].ID != lbName || len(fr.Forecasts[0].Points) != 10 {
		t.Errorf("forecast %+v", fr)
	}
	var acc api.AccuracyView
	at.expect(at.call("GET", "/v1/accuracy?lb=app", nil, ""), 200, "accuracy").json(t, &acc)
	var mv api.ModelsView
	at.expect(at.call("GET", "/v1/models", nil, ""), 200, "models").json(t, &mv)
	if len(mv.LBs) != 1 || mv.LBs[0].Current == "" {
		t.Errorf("models %+v", mv)
	}
	var ev api.EventsView
	at.expect(at.call("GET", "/v1/events?lb=app", nil, ""), 200, "events").json(t, &ev)
	if len(ev.Events) != 1 || ev.Events[0].Source != "file" || ev.Events[0].ID != "file-1" {
		t.Errorf("events %+v", ev)
	}
}

func apiValidation(t *testing.T, at *apiTester) {
	ok := map[string]any{"series": []map[string]any{
		{"id": "a", "start": "2026-01-01T00:00:00Z", "step_seconds": 60, "values": series(1440, 10)},
		{"id": "b", "start": "2026-01-01T00:00:00Z", "step_seconds": 60, "values": series(1440, 50)},
	}, "horizon": "30m"}
	var fr api.ForecastResponse
	// 1440 points do not fit the 4096-byte limit: a smaller batch fits.
	ok["series"] = []map[string]any{
		{"id": "a", "start": "2026-01-01T00:00:00Z", "step_seconds": 60, "values": series(120, 10)},
		{"id": "b", "start": "2026-01-01T00:00:00Z", "step_seconds": 60, "values": series(120, 50)},
	}
	at.expect(at.call("POST", "/v1/forecast", ok, ""), 200, "upload forecast").json(t, &fr)
	if len(fr.Forecasts) != 2 || fr.Forecasts[1].ID != "b" || len(fr.Forecasts[0].Points) != 30 || fr.Forecasts[1].Points[0].P50 < fr.Forecasts[0].Points[0].P50 {
		t.Errorf("uploaded forecast %+v", fr)
	}
	big := map[string]any{"series": []map[string]any{{"start": "2026-01-01T00:00:00Z", "step_seconds": 60, "values": series(1440, 10)}}}
	at.expect(at.call("POST", "/v1/forecast", big, ""), 413, "body over api_max_body")
	for _, tc := range []struct {
		method, path string
		body         any
		auth         string
		field        string
	}{
		{"POST", "/v1/forecast", `{"series":[{"start":"2026-01-01T00:00:00Z","step_seconds":60,"values":[1,2,-3]}]}`, "", "series[0].values[2]"},
		{"POST", "/v1/forecast", `{"series":[{"start":"2026-01-01T00:00:00Z","step_seconds":0,"values":[1]}]}`, "", "series[0].step_seconds"},
		{"POST", "/v1/forecast", `{"series":[]}`, "", "series"},
		{"POST", "/v1/forecast", `{"series":[{"start":"2026-01-01T00:00:00Z","step_seconds":60,"values":[1]}],"horizon":"soon"}`, "", "horizon"},
		{"POST", "/v1/forecast", `{"serie":[]}`, "", "serie"},
		{"POST", "/v1/forecast", `{"series":"x"}`, "", "series"},
		{"POST", "/v1/forecast", `not json`, "", "body"},
		{"GET", "/v1/forecast", nil, "", "lb"},
		{"GET", "/v1/lbs/app/history?hours=-1", nil, "", "hours"},
		{"GET", "/v1/lbs/app/export?to=2026-01-01T00:00:00Z", nil, "", "from"},
		{"GET", "/v1/lbs/app/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=0s", nil, "", "step"},
		{"GET", "/v1/accuracy?window=forever", nil, "", "window"},
		{"PUT", "/v1/controls/kill-switch", `{}`, "ok", "on"},
		{"PUT", "/v1/controls/kill-switch", `{"on":"yes"}`, "ok", "on"},
		{"POST", "/v1/events", map[string]any{"lb": "app", "kind": "x", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "lift": 0}, "ok", "lift"},
		{"POST", "/v1/events", map[string]any{"lb": "app", "kind": "x", "start": "tomorrow", "end": "2026-01-02T00:00:00Z", "lift": 2}, "ok", "start"},
		{"POST", "/v1/events", map[string]any{"lb": "app", "kind": "x", "start": "2026-01-03T00:00:00Z", "end": "2026-01-02T00:00:00Z", "lift": 2}, "ok", "end"},
		{"POST", "/v1/events", map[string]any{"kind": "x", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "lift": 2}, "ok", "lb"},
		{"POST", "/v1/models/app/promote", `{}`, "ok", "model"},
		{"POST", "/v1/lbs/app/rollback", `{"why":"x"}`, "ok", "why"},
	} {
		a := at.expect(at.call(tc.method, tc.path, tc.body, tc.auth), 400, tc.method+" "+tc.path)
		if got := a.errField(t); got != tc.field {
			t.Errorf("%s %s %v: field %q, want %q (%s)", tc.method, tc.path, tc.body, got, tc.field, a.body)
		}
	}
	at.expect(at.call("GET", "/v1/forecast?lb=nope", nil, ""), 404, "forecast of an unknown LB")
}

func series(n int, level float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = level + float64(i%10)
	}
	return out
}

// apiAuth: every mutating route refuses a missing token (401) and a wrong
// one (403) before doing anything.
func apiAuth(t *testing.T, at *apiTester) {
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/lbs/app/pause", ""}, {"POST", "/v1/lbs/app/resume", ""}, {"POST", "/v1/lbs/app/rollback", ""},
		{"PUT", "/v1/controls/kill-switch", `{"on":true}`}, {"PUT", "/v1/controls/dry-run", `{"on":false}`},
		{"POST", "/v1/events", `{}`}, {"DELETE", "/v1/events/ev-1", ""},
		{"POST", "/v1/models/app/promote", `{"model":"x"}`}, {"POST", "/v1/models/app/rollback", ""},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		a := at.expect(at.call(r.method, r.path, body, ""), 401, r.method+" "+r.path+" without token")
		if a.hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: no WWW-Authenticate", r.method, r.path)
		}
		at.expect(at.call(r.method, r.path, body, "not-the-token-at-all"), 403, r.method+" "+r.path+" with a wrong token")
	}
	var ctl scheduler.ControlView
	at.expect(at.call("GET", "/v1/controls", nil, ""), 200, "controls").json(t, &ctl)
	if ctl.KillSwitch || !ctl.DryRun || len(ctl.Paused) != 0 {
		t.Errorf("refused calls changed the controls: %+v", ctl)
	}
}

func apiWrites(t *testing.T, at *apiTester) {
	var ctl scheduler.ControlView
	at.expect(at.call("POST", "/v1/lbs/app/pause", nil, "ok"), 200, "pause").json(t, &ctl)
	if _, ok := ctl.Paused[lbName]; !ok {
		t.Errorf("pause: %+v", ctl)
	}
	at.expect(at.call("POST", "/v1/lbs/nope/pause", nil, "ok"), 404, "pause unknown")
	ctl = scheduler.ControlView{}
	at.expect(at.call("POST", "/v1/lbs/app/resume", nil, "ok"), 200, "resume").json(t, &ctl)
	if len(ctl.Paused) != 0 {
		t.Errorf("resume: %+v", ctl)
	}
	at.expect(at.call("POST", "/v1/lbs/nope/resume", nil, "ok"), 404, "resume unknown")
	at.expect(at.call("POST", "/v1/lbs/app/rollback", map[string]string{"reason": "test"}, "ok"), 409, "rollback without a pool")
	at.expect(at.call("POST", "/v1/lbs/nope/rollback", nil, "ok"), 404, "rollback unknown")
	at.expect(at.call("PUT", "/v1/controls/kill-switch", map[string]bool{"on": true}, "ok"), 200, "kill switch on").json(t, &ctl)
	if !ctl.KillSwitch || ctl.KillSwitchSource != "operator" {
		t.Errorf("kill switch: %+v", ctl)
	}
	at.expect(at.call("PUT", "/v1/controls/dry-run", map[string]bool{"on": true}, "ok"), 200, "dry-run on").json(t, &ctl)
	if !ctl.DryRun || ctl.DryRunSource != "operator" {
		t.Errorf("dry-run: %+v", ctl)
	}
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	evBody := map[string]any{"lb": "app", "kind": "release", "name": "v2", "start": start.Format(time.RFC3339),
		"end": start.Add(time.Hour).Format(time.RFC3339), "lift": 1.5}
	var ev api.EventView
	at.expect(at.call("POST", "/v1/events", evBody, "ok"), 201, "create event").json(t, &ev)
	if ev.ID != "ev-1" || ev.Source != "api" || !ev.Start.Equal(start) {
		t.Errorf("created %+v", ev)
	}
	evBody["lb"] = "nope"
	at.expect(at.call("POST", "/v1/events", evBody, "ok"), 404, "event for an unknown LB")
	evBody["lb"] = "*"
	at.expect(at.call("POST", "/v1/events", evBody, "ok"), 201, "event for every LB").json(t, &ev)
	at.expect(at.call("DELETE", "/v1/events/"+ev.ID, nil, "ok"), 204, "delete event")
	at.expect(at.call("DELETE", "/v1/events/"+ev.ID, nil, "ok"), 404, "delete it again")
	at.expect(at.call("DELETE", "/v1/events/file-1", nil, "ok"), 409, "delete a file event")
	var evs api.EventsView
	at.expect(at.call("GET", "/v1/events", nil, ""), 200, "events").json(t, &evs)
	if len(evs.Events) != 2 {
		t.Errorf("events after create/delete: %+v", evs)
	}
	// The feedback loop's registry: a model that does not exist is refused,
	// the shipped one is promoted (and hot-swapped by serve), then rolled back.
	at.expect(at.call("POST", "/v1/models/app/rollback", nil, "ok"), 409, "model rollback with nothing to roll back to")
	at.expect(at.call("POST", "/v1/models/app/promote", map[string]string{"model": "nosuch-1"}, "ok"), 409, "promote of a model that does not exist")
	shipped := filepath.Join(testenv.RepoRoot(), "models", models.Default)
	var mv api.ModelsView
	at.expect(at.call("POST", "/v1/models/app/promote", map[string]string{"model": shipped}, "ok"), 200, "promote").json(t, &mv)
	if len(mv.LBs) != 1 || mv.LBs[0].Current != models.Default {
		t.Errorf("models after promote: %+v", mv)
	}
	at.expect(at.call("POST", "/v1/models/app/rollback", nil, "ok"), 200, "model rollback")
	at.expect(at.call("POST", "/v1/models/nope/rollback", nil, "ok"), 404, "model rollback of an unknown LB")
}

// apiCLI: the client subcommands against the same serve.
func apiCLI(t *testing.T, e *serveEnv, at *apiTester) {
	out, err := e.runCLI("status", "--config", e.cfgPath, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st api.StatusView
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.LBs) != 1 || !st.Controls.KillSwitch {
		t.Fatalf("status --json: %v %.300s", err, out)
	}
	if out, err = e.runCLI("status", "--url", at.base); err != nil || !strings.Contains(out, "app ") || !strings.Contains(out, "PHASE") {
		t.Errorf("status (text): %v\n%s", err, out)
	}
	if _, err := e.runCLI("pause", "app", "--url", at.base); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("pause without a token: %v", err)
	}
	for _, args := range [][]string{{"pause", "app"}, {"kill-switch", "on"}, {"resume", "app"}, {"pause", "app"}} {
		out, err := e.runCLI(append(args, "--config", e.cfgPath, "--json")...)
		var ctl scheduler.ControlView // fresh: Unmarshal merges maps
		if err != nil || json.Unmarshal([]byte(out), &ctl) != nil || !ctl.KillSwitch {
			t.Errorf("%v: %v %s", args, err, out)
		}
	}
	if _, err := e.runCLI("rollback", "app", "--config", e.cfgPath, "--reason", "cli"); err == nil || !strings.Contains(err.Error(), "no shadow pool") {
		t.Errorf("rollback without a pool: %v", err)
	}
	if _, err := e.runCLI("kill-switch", "maybe", "--config", e.cfgPath); err == nil || !strings.Contains(err.Error(), "on|off") {
		t.Errorf("kill-switch maybe: %v", err)
	}
	if out, err = e.runCLI("events", "add", "--config", e.cfgPath, "--lb", "app", "--kind", "release", "--start", "2030-01-01T00:00:00Z",
		"--end", "2030-01-01T02:00:00Z", "--lift", "2", "--json"); err != nil || !strings.Contains(out, `"source": "api"`) {
		t.Errorf("events add: %v %s", err, out)
	}
	var added api.EventView
	json.Unmarshal([]byte(out), &added)
	if out, err = e.runCLI("events", "list", "--url", at.base); err != nil || !strings.Contains(out, added.ID) {
		t.Errorf("events list: %v %s", err, out)
	}
	// export while serve holds the embedded store: through the API.
	from, to := time.Now().Add(-5*time.Minute).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)
	if _, err := e.runCLI("export", "--lb", "app", "--from", from, "--to", to, "--config", e.cfgPath); err == nil {
		t.Log("export --config worked while serve runs (store not locked?)")
	}
	// The collector writes a point a second: wait until a few are in.
	var doc exportDoc
	e.waitFor("three seconds of history to export", lifecycle, func() bool {
		out, err = e.runCLI("export", "--lb", "app", "--from", from, "--to", time.Now().UTC().Format(time.RFC3339),
			"--step", "1s", "--url", at.base, "--json")
		return err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc.Rows >= 3
	})
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc.Rows < 3 || doc.Windows < 300 {
		t.Errorf("export --url: %v rows %d windows %d: %.300s", err, doc.Rows, doc.Windows, out)
	}
	// Leave the controls as apiWrites left them plus the CLI's pause, so
	// the restart checks what a person set.
	at.expect(at.call("DELETE", "/v1/events/"+added.ID, nil, "ok"), 204, "delete the CLI's event")
}

// apiAudit: one audit line per mutating call, with who, what and the
// result; the token never appears in the log.
func apiAudit(t *testing.T, e *serveEnv) {
	data, err := os.ReadFile(e.proc.log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) {
		t.Error("the API token appears in serve's log")
	}
	found := map[string]bool{}
	for _, l := range e.proc.lines() {
		if l.str("msg") != "audit" {
			continue
		}
		if l.str("who") == "" || l.str("result") == "" || l.str("path") == "" {
			t.Errorf("audit line without who/result/path: %v", l)
		}
		found[l.str("method")+" "+l.str("path")+" "+strings.SplitN(l.str("result"), ":", 2)[0]] = true
	}
	for _, want := range []string{"POST /v1/lbs/app/pause ok", "POST /v1/lbs/app/pause refused", "PUT /v1/controls/kill-switch ok",
		"POST /v1/lbs/app/rollback error", "DELETE /v1/events/file-1 error", "POST /v1/events ok"} {
		if !found[want] {
			t.Errorf("no audit line %q in %v", want, found)
		}
	}
}
