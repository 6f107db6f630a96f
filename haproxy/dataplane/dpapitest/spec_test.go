package dpapitest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func loadSpec(t *testing.T) *Spec {
	t.Helper()
	s, err := Shared()
	if err != nil {
		t.Fatalf("load specification: %v", err)
	}
	return s
}

// The validator must accept what the real API takes and reject the rest,
// or it would silently pass everything.
func TestValidateRequest(t *testing.T) {
	s := loadSpec(t)
	const json = "application/json"
	tests := []struct {
		name, method, target, ctype, body string
		wantErr                           string // "" = valid
	}{
		{"runtime server get", "GET", "/services/haproxy/runtime/servers/s1?backend=app", "", "", ""},
		{"runtime server put", "PUT", "/services/haproxy/runtime/servers/s1?backend=app", json, `{"admin_state":"drain"}`, ""},
		{"config server post", "POST", "/services/haproxy/configuration/servers?backend=app&transaction_id=abc", json,
			`{"name":"s1","address":"127.0.0.1","port":8080,"weight":100,"check":"enabled","maintenance":"enabled","inter":1000}`, ""},
		{"start transaction", "POST", "/services/haproxy/transactions?version=3", "", "", ""},
		{"commit", "PUT", "/services/haproxy/transactions/abc?force_reload=true", "", "", ""},
		{"map entry put", "PUT", "/services/haproxy/runtime/maps_entries/app?map=shadow.map&force_sync=true", json, `{"value":"5"}`, ""},
		{"stats", "GET", "/services/haproxy/stats/native", "", "", ""},

		{"wrong path", "GET", "/services/haproxy/runtime/server/s1?backend=app", "", "", "no path"},
		{"wrong method", "PATCH", "/services/haproxy/runtime/servers/s1?backend=app", "", "", "method not in"},
		{"missing required query", "GET", "/services/haproxy/runtime/servers/s1", "", "", `required query parameter "backend" missing`},
		{"version not integer", "POST", "/services/haproxy/transactions?version=abc", "", "", `"version"="abc" is not a valid integer`},
		{"undeclared query", "GET", "/services/haproxy/runtime/servers/s1?backend=app&bogus=1", "", "", `"bogus" is not declared`},
		{"bad boolean", "PUT", "/services/haproxy/transactions/abc?force_reload=yes", "", "", "not a valid boolean"},
		{"bad enum in body", "PUT", "/services/haproxy/runtime/servers/s1?backend=app", json, `{"admin_state":"sleep"}`, "is not one of"},
		{"body missing", "PUT", "/services/haproxy/runtime/servers/s1?backend=app", json, "", "required body missing"},
		{"required field missing", "PUT", "/services/haproxy/runtime/maps_entries/app?map=m", json, `{"val":"5"}`, `required field "value" missing`},
		{"wrong field type", "POST", "/services/haproxy/configuration/servers?backend=app", json, `{"name":"s1","address":"a","weight":"100"}`, "want integer"},
		{"unknown field in server", "POST", "/services/haproxy/configuration/servers?backend=app", json, `{"name":"s1","address":"a","wieght":1}`, `unknown field "wieght"`},
		{"port out of range", "POST", "/services/haproxy/configuration/servers?backend=app", json, `{"name":"s1","address":"a","port":70000}`, "above maximum"},
		{"pattern", "POST", "/services/haproxy/configuration/servers?backend=app", json, `{"name":"s 1","address":"a"}`, "does not match"},
		{"not json", "PUT", "/services/haproxy/runtime/servers/s1?backend=app", json, `{admin_state}`, "not JSON"},
		{"wrong content type", "PUT", "/services/haproxy/runtime/servers/s1?backend=app", "text/plain", `{"admin_state":"ready"}`, "content type"},
		{"transaction and version", "DELETE", "/services/haproxy/configuration/servers/s1?backend=app&transaction_id=t&version=2", "", "", "cannot be used together"},
		{"body where none taken", "DELETE", "/services/haproxy/transactions/abc", json, `{"x":1}`, "takes none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			_, err := s.ValidateRequest(r, r.URL.Path, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("valid request rejected: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("invalid request accepted, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	s := loadSpec(t)
	tests := []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"runtime server", "GET", "/services/haproxy/runtime/servers/s1", 200, `{"name":"s1","admin_state":"maint","operational_state":"up"}`, true},
		{"error via default", "GET", "/services/haproxy/runtime/servers/s1", 500, `{"code":500,"message":"no data for app/s1: not found"}`, true},
		{"error without message", "GET", "/services/haproxy/runtime/servers/s1", 404, `{"code":404}`, false},
		{"bad enum", "GET", "/services/haproxy/runtime/servers/s1", 200, `{"admin_state":"up"}`, false},
		{"version integer", "GET", "/services/haproxy/configuration/version", 200, `7`, true},
		{"version string", "GET", "/services/haproxy/configuration/version", 200, `"7"`, false},
		{"transaction", "POST", "/services/haproxy/transactions", 201, `{"id":"t1","_version":3,"status":"in_progress"}`, true},
		{"bad transaction status", "POST", "/services/haproxy/transactions", 201, `{"id":"t1","status":"open"}`, false},
		{"stats status as the real API answers", "GET", "/services/haproxy/stats/native", 200, stats("DRAIN"), true},
		{"stats transition status", "GET", "/services/haproxy/stats/native", 200, stats("UP 1/3"), true},
		{"stats status unknown", "GET", "/services/haproxy/stats/native", 200, stats("SLEEPY"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := s.Match(tt.method, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			err = s.ValidateResponse(op, tt.status, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateResponse = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func stats(status string) string {
	return `[{"runtimeAPI":"/s","stats":[{"type":"server","name":"s1","backend_name":"app","stats":{"status":"` + status + `"}}]}]`
}
