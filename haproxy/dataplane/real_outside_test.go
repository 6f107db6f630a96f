package dataplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

// outsider is another client of the same API: before the first request of
// ours that matches (method and path prefix), it commits a change of its
// own, so ours meets a configuration version it did not read.
type outsider struct {
	mu      sync.Mutex
	base    http.RoundTripper
	url     string
	method  string
	prefix  string
	left    int // interventions still to make
	seen    int // our matching requests
	created []string
	errs    []error
}

func (o *outsider) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	match := r.Method == o.method && strings.Contains(r.URL.Path, o.prefix)
	if match {
		o.seen++
	}
	if o.left > 0 && match {
		o.left--
		name := fmt.Sprintf("outside_%d", len(o.created)+1)
		if err := o.commit(name); err != nil {
			o.errs = append(o.errs, err)
		} else {
			o.created = append(o.created, name)
		}
	}
	o.mu.Unlock()
	return o.base.RoundTrip(r)
}

// commit adds a backend of its own in a transaction of its own.
func (o *outsider) commit(name string) error {
	var version string
	if err := o.do(http.MethodGet, "/services/haproxy/configuration/version", "", &version); err != nil {
		return err
	}
	var tx struct {
		ID string `json:"id"`
	}
	if err := o.doJSON(http.MethodPost, "/services/haproxy/transactions?version="+strings.TrimSpace(version), "", &tx); err != nil {
		return err
	}
	body := fmt.Sprintf(`{"name":%q,"mode":"http","balance":{"algorithm":"roundrobin"}}`, name)
	if err := o.doJSON(http.MethodPost, "/services/haproxy/configuration/backends?transaction_id="+tx.ID, body, nil); err != nil {
		return err
	}
	return o.doJSON(http.MethodPut, "/services/haproxy/transactions/"+tx.ID, "", nil)
}

func (o *outsider) doJSON(method, path, body string, out any) error {
	var raw string
	if err := o.do(method, path, body, &raw); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal([]byte(raw), out)
}

func (o *outsider) do(method, path, body string, out *string) error {
	req, err := http.NewRequest(method, o.url+path, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(dpapitest.User, dpapitest.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.base.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("outsider %s %s: HTTP %d %s", method, path, resp.StatusCode, data)
	}
	*out = string(data)
	return nil
}

// TestRealOutsideChange: another client commits between our read of the
// configuration and our write (409 version mismatch), and between the
// start and the commit of our transaction (406 outdated): ours is retried
// on top of theirs, and nothing of theirs is lost.
func TestRealOutsideChange(t *testing.T) {
	forEachHAProxy(t, func(t *testing.T, bin string) {
		tests := []struct {
			name, method, prefix string
			run                  func(*realEnv) error
			check                func(*testing.T, *realEnv)
		}{
			{"409 on a weight change", http.MethodPut, "/configuration/servers/",
				func(e *realEnv) error { return e.d.SetWeight(t.Context(), "app", "p1", 50) },
				func(t *testing.T, e *realEnv) {
					if st, err := e.d.Server(t.Context(), "app", "p1"); err != nil || st.Weight != 50 {
						t.Errorf("p1 after the retried change: %+v, %v", st, err)
					}
				}},
			{"409 on an add", http.MethodPost, "/configuration/servers",
				func(e *realEnv) error {
					return e.d.AddServer(t.Context(), e.h.ShadowBackend(), haproxy.ServerSpec{Name: "ss-o-1", Addr: "127.0.0.1", Port: 1})
				},
				func(t *testing.T, e *realEnv) {
					if got := e.configured(e.h.ShadowBackend()); len(got) != 1 || got[0] != "ss-o-1" {
						t.Errorf("shadow backend configured %v, want ss-o-1", got)
					}
				}},
			{"406 on the reload transaction", http.MethodPut, "/transactions/",
				func(e *realEnv) error { return e.d.Reload(t.Context()) }, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := &outsider{base: http.DefaultTransport, method: tt.method, prefix: tt.prefix, left: 1}
				e := startRealEnv(t, bin, &http.Client{Transport: o, Timeout: 20 * time.Second})
				o.url = e.api.URL
				mustOK(t, tt.name, tt.run(e))
				if len(o.errs) > 0 || len(o.created) != 1 {
					t.Fatalf("the outside change did not happen: %v", o.errs)
				}
				if o.seen != 2 {
					t.Errorf("%d requests of ours, want 2: the one the outside change outdated, and its retry", o.seen)
				}
				if tt.check != nil {
					tt.check(t, e)
				}
				var be struct {
					Data struct {
						Name string `json:"name"`
					} `json:"data"`
				}
				err := e.d.call(t.Context(), "test", http.MethodGet, configBackends+"/"+o.created[0], nil, nil, &be)
				if err != nil || be.Data.Name != o.created[0] {
					t.Errorf("the outside change was lost: backend %s: %+v, %v", o.created[0], be, err)
				}
			})
		}
	})
}
