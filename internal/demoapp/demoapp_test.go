package demoapp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Name: "a"}, ""},
		{"no name", Config{}, "empty name"},
		{"negative delay", Config{Name: "a", Delay: -1}, "negative delay"},
		{"negative capacity", Config{Name: "a", Capacity: -1}, "negative cold-requests, capacity"},
		{"error rate", Config{Name: "a", ColdErrorRate: 1.5}, "not in [0,1]"},
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

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

func TestColdStartByRequests(t *testing.T) {
	app, err := New(Config{Name: "a", ColdRequests: 10, ColdErrorRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	h := app.Handler()
	count := func(n int) (errs int) {
		for range n {
			w := get(t, h, "/")
			if w.Code == 500 {
				errs++
			}
			if w.Header().Get("X-Instance") != "a" {
				t.Fatalf("X-Instance = %q", w.Header().Get("X-Instance"))
			}
		}
		return errs
	}
	if e := count(10); e != 5 {
		t.Errorf("cold errors = %d, want 5", e)
	}
	if app.Cold() {
		t.Error("still cold after 10 requests")
	}
	if e := count(10); e != 0 {
		t.Errorf("warm errors = %d, want 0", e)
	}
}

func TestColdStartByTime(t *testing.T) {
	now := time.Unix(1000, 0)
	app, err := New(Config{Name: "a", ColdFor: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !app.Cold() {
		t.Fatal("not cold at start")
	}
	now = now.Add(time.Minute)
	if app.Cold() {
		t.Fatal("cold after ColdFor")
	}
}

func TestFaultsViaAdmin(t *testing.T) {
	app, _ := New(Config{Name: "a"})
	h := app.Handler()
	post := func(body string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/admin/fault", strings.NewReader(body)))
		return w.Code
	}
	tests := []struct {
		body                 string
		wantPost, wantHealth int
		wantWork             int
	}{
		{`{"mode":"down"}`, 200, 503, 503},
		{`{"mode":"error","error_rate":1}`, 200, 200, 500},
		{`{"mode":""}`, 200, 200, 200},
		{`{"mode":"explode"}`, 400, 200, 200},
		{`not json`, 400, 200, 200},
	}
	for _, tt := range tests {
		if c := post(tt.body); c != tt.wantPost {
			t.Errorf("POST %s = %d, want %d", tt.body, c, tt.wantPost)
		}
		if c := get(t, h, "/health").Code; c != tt.wantHealth {
			t.Errorf("after %s: /health = %d, want %d", tt.body, c, tt.wantHealth)
		}
		if c := get(t, h, "/").Code; c != tt.wantWork {
			t.Errorf("after %s: / = %d, want %d", tt.body, c, tt.wantWork)
		}
	}
}

func TestCapacityQueueThenReject(t *testing.T) {
	in, err := Start(Config{Name: "a", Delay: 300 * time.Millisecond, Capacity: 1, QueueLimit: 1}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Kill()
	url := "http://" + in.Addr + "/"
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(url)
			if err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for in.App.Stats().Queued < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("third request = %d, want 503 (capacity 1, queue 1)", resp.StatusCode)
	}
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("served + queued = %v, want both 200", codes)
	}
	if s := in.App.Stats(); s.Rejected != 1 || s.Served != 2 {
		t.Errorf("stats = %+v, want 1 rejected, 2 served", s)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:80", "nonsense"} {
		if _, err := Start(Config{Name: "a"}, addr); err == nil {
			t.Errorf("Start(%q) succeeded, want error", addr)
		}
	}
}

func TestShutdownWaitsForInFlight(t *testing.T) {
	in, err := Start(Config{Name: "a", Delay: 100 * time.Millisecond}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + in.Addr + "/")
		if err != nil {
			res <- 0
			return
		}
		resp.Body.Close()
		res <- resp.StatusCode
	}()
	for in.App.Stats().InFlight == 0 {
		time.Sleep(2 * time.Millisecond)
	}
	if err := in.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := <-res; c != 200 {
		t.Errorf("in-flight request during shutdown = %d, want 200", c)
	}
}
