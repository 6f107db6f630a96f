package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/demoapp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Target: "http://127.0.0.1:1/", MaxRequests: 1}, ""},
		{"localhost", Config{Target: "http://localhost:1/", Duration: time.Second}, ""},
		{"ipv6 loopback", Config{Target: "http://[::1]:1/", Duration: time.Second}, ""},
		{"unbounded", Config{Target: "http://127.0.0.1:1/"}, "unbounded"},
		{"remote ip", Config{Target: "http://10.0.0.1/", MaxRequests: 1}, "not a loopback"},
		{"remote name", Config{Target: "http://example.com/", MaxRequests: 1}, "not a loopback"},
		{"https", Config{Target: "https://127.0.0.1/", MaxRequests: 1}, "scheme"},
		{"negative", Config{Target: "http://127.0.0.1/", MaxRequests: 1, Rate: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func app(t *testing.T, cfg demoapp.Config) string {
	t.Helper()
	in, err := demoapp.Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Kill() })
	return "http://" + in.Addr + "/"
}

func TestRunCountsAndShares(t *testing.T) {
	url := app(t, demoapp.Config{Name: "a"})
	res, err := Run(context.Background(), Config{Target: url, MaxRequests: 300, Concurrency: 4, CountHeader: "X-Instance"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 300 || res.OK != 300 || res.ErrorCount() != 0 {
		t.Fatalf("result = %+v, want 300 OK", res)
	}
	if res.ByHeader["a"] != 300 || res.Share("a") != 1 || res.Share("b") != 0 {
		t.Errorf("by header = %v", res.ByHeader)
	}
	if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
		t.Errorf("percentiles out of order: %v %v %v", res.P50, res.P99, res.Max)
	}
}

func TestRunErrorsByKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tests := []struct {
		name   string
		target string
		kind   string
		want   int
	}{
		{"refused", closed, KindRefused, 20},
		{"5xx half", app(t, demoapp.Config{Name: "c", ColdRequests: 20, ColdErrorRate: 0.5}), KindHTTP5xx, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{Target: tt.target, MaxRequests: 20, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors[tt.kind] != tt.want {
				t.Errorf("errors = %v, want %d of %s", res.Errors, tt.want, tt.kind)
			}
		})
	}
}

func TestRunRateAndDurationBound(t *testing.T) {
	url := app(t, demoapp.Config{Name: "a"})
	res, err := Run(context.Background(), Config{Target: url, Rate: 100, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Request i is due at i/rate, so at most rate·duration+1 are sent.
	if res.Requests > 21 || res.Requests == 0 {
		t.Errorf("requests = %d, want 1..21 at 100/s for 200ms", res.Requests)
	}
}

func TestRunRefusesRemote(t *testing.T) {
	if _, err := Run(context.Background(), Config{Target: "http://192.0.2.1/", MaxRequests: 1}); err == nil {
		t.Fatal("Run against a non-loopback host succeeded")
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}, {0.01, 1}}
	for _, tt := range tests {
		if got := Percentile(d, tt.q); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("Percentile(nil) != 0")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), KindRefused},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), KindReset},
		{io.ErrUnexpectedEOF, KindEOF},
		{&net.DNSError{IsTimeout: true}, KindTimeout},
		{errors.New("weird"), KindOther},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// A varying rate (a replayed trace) sends what the schedule says: 200 req/s
// for the first half second, then nothing; every request is observed, and
// responses from a cold instance are marked.
func TestRunRateAtAndObserve(t *testing.T) {
	in, err := demoapp.Start(demoapp.Config{Name: "a", ColdFor: time.Hour}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Kill()
	var mu sync.Mutex
	var seen, cold int
	res, err := Run(context.Background(), Config{Target: "http://" + in.Addr + "/", Duration: time.Second,
		RateAt: func(e time.Duration) float64 {
			if e < 500*time.Millisecond {
				return 200
			}
			return 0
		},
		Observe: func(o Outcome) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			if o.Cold {
				cold++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 60 || res.Requests > 110 {
		t.Errorf("%d requests, want about 100 (200 req/s for 0.5s)", res.Requests)
	}
	if seen != res.Requests || cold != res.OK {
		t.Errorf("observed %d (cold %d) of %d requests (%d ok)", seen, cold, res.Requests, res.OK)
	}
}
