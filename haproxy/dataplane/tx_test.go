package dataplane

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
	"github.com/shadowscale/shadowscale/haproxy/dataplane/dpapitest"
)

// TestVersions covers the configuration-version handling of a change: a
// stale version (409, another client wrote in between) re-reads and
// retries, bounded; a write failing "haproxy -c" (400) surfaces HAProxy's
// message; transient errors are retried.
func TestVersions(t *testing.T) {
	const put = "PUT /services/haproxy/configuration/servers/{name}"
	bump := func(f *dpapitest.Fake) { f.BumpVersion() }
	tests := []struct {
		name     string
		fault    dpapitest.Fault
		check    func(backend, server string, s models.Server) error
		want     error
		wantMsg  string
		wantPuts int
	}{
		{name: "clean", wantPuts: 1},
		{name: "409 version mismatch once", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer, Before: bump}, wantPuts: 2},
		{name: "409 beyond retries", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer, Before: bump, Times: 100},
			want: haproxy.ErrConflict, wantMsg: "version mismatch", wantPuts: 4},
		{name: "400 fails haproxy -c", check: func(_, _ string, s models.Server) error {
			if s.Weight != nil && *s.Weight == 7 {
				return errors.New("[ALERT] parsing [haproxy.cfg:20]: 'server a1': invalid weight")
			}
			return nil
		}, want: haproxy.ErrRefused, wantMsg: "invalid weight", wantPuts: 1},
		{name: "500 cannot read version: another commit took the implicit transaction", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer,
			Status: 500, Message: "cannot read version: transaction does not exist: 1d5f1ba7"}, wantPuts: 2},
		{name: "500 cannot read version beyond retries", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer,
			Status: 500, Message: "cannot read version: transaction does not exist: 1d5f1ba7", Times: 100},
			want: haproxy.ErrConflict, wantMsg: "cannot read version", wantPuts: 4},
		{name: "503 is retried", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer, Status: 503, Message: "busy"}, wantPuts: 2},
		{name: "500 in the change", fault: dpapitest.Fault{Method: "PUT", Template: cfgServer, Status: 500, Message: "cannot write configuration"},
			want: haproxy.ErrRefused, wantMsg: "cannot write", wantPuts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := newFake(t)
			if tt.fault.Method != "" {
				f.Inject(tt.fault)
			}
			f.CommitCheck = tt.check
			before := f.Version()
			err := d.SetWeight(ctx(t), "app", "a1", 7)
			wantErr(t, err, tt.want)
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not carry the API's message %q", err, tt.wantMsg)
			}
			if got := count(f.Calls(), put); got != tt.wantPuts {
				t.Fatalf("%d writes, want %d", got, tt.wantPuts)
			}
			conf, _ := f.Config("app", "a1")
			if committed := *conf.Weight == 7; committed != (tt.want == nil) {
				t.Fatalf("weight %d after %v (version %d → %d)", *conf.Weight, err, before, f.Version())
			}
			if tt.want == nil && f.Reloads() != 0 {
				t.Fatal("a weight change reloaded")
			}
		})
	}
}

// TestReloadTransaction: Reload commits an empty transaction with
// force_reload; a stale version (409) and a transaction outdated by
// another commit (406) start over, bounded; none is left behind.
func TestReloadTransaction(t *testing.T) {
	bump := func(f *dpapitest.Fake) { f.BumpVersion() }
	tests := []struct {
		name     string
		fault    dpapitest.Fault
		want     error
		wantTxns int
	}{
		{name: "clean", wantTxns: 1},
		{name: "409 once", fault: dpapitest.Fault{Method: "POST", Template: "/services/haproxy/transactions", Before: bump}, wantTxns: 2},
		{name: "406 once", fault: dpapitest.Fault{Method: "PUT", Template: txOne, Before: bump}, wantTxns: 2},
		{name: "406 beyond retries", fault: dpapitest.Fault{Method: "PUT", Template: txOne, Before: bump, Times: 100},
			want: haproxy.ErrConflict, wantTxns: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := newFake(t)
			if tt.fault.Method != "" {
				f.Inject(tt.fault)
			}
			wantErr(t, d.Reload(ctx(t)), tt.want)
			if got := count(f.Calls(), "POST /services/haproxy/transactions"); got != tt.wantTxns {
				t.Fatalf("%d transactions started, want %d", got, tt.wantTxns)
			}
			if open := f.Transactions(); len(open) != 0 {
				t.Fatalf("transactions left: %v", open)
			}
		})
	}
}

func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestConnection(t *testing.T) {
	f, _ := newFake(t)
	dead := httptest.NewServer(nil)
	dead.Close()
	tests := []struct {
		name string
		cfg  Config
		ctx  func() context.Context
		want error
	}{
		{"wrong password", Config{URL: f.URL, User: dpapitest.User, Password: "nope"}, nil, haproxy.ErrPermission},
		{"nothing listening", Config{URL: dead.URL + "/v2", RetryDelay: time.Millisecond}, nil, haproxy.ErrUnavailable},
		{"canceled context", Config{URL: f.URL, User: dpapitest.User, Password: dpapitest.Password}, func() context.Context {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			return c
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := ctx(t)
			if tt.ctx != nil {
				c = tt.ctx()
			}
			_, err = d.Stats(c)
			wantErr(t, err, tt.want)
		})
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:5555", "ftp://x/v2", "http://"} {
		if _, err := New(Config{URL: u}, nil); !errors.Is(err, haproxy.ErrInvalid) {
			t.Errorf("New(%q) = %v, want ErrInvalid", u, err)
		}
	}
}
