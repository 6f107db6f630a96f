package dpapitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recTB records Errorf instead of failing, to test that the fake fails
// the test on a request outside the specification.
type recTB struct {
	testing.TB
	errs []string
}

func (r *recTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestFakeFailsTestOnInvalidRequest(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantErr                  string
	}{
		{"valid", "GET", "/services/haproxy/runtime/servers/a1?backend=app", "", 200, ""},
		{"unknown path", "GET", "/services/haproxy/runtime/serverz?backend=app", "", 422, "no path"},
		{"missing backend", "GET", "/services/haproxy/runtime/servers/a1", "", 422, "backend"},
		{"bad body", "PUT", "/services/haproxy/runtime/servers/a1?backend=app", `{"admin_state":1}`, 422, "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recTB{TB: t}
			f := New(rec)
			req, _ := http.NewRequest(tt.method, f.URL+tt.path, strings.NewReader(tt.body))
			req.SetBasicAuth(User, Password)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			got := strings.Join(rec.errs, "\n")
			if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
				t.Fatalf("test errors %q, want one containing %q", got, tt.wantErr)
			}
		})
	}
}
