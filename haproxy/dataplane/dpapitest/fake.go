package dpapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v5/models"
)

// Credentials the fake accepts.
const (
	User     = "admin"
	Password = "secret"
	MapName  = "shadow.map"
)

// Fake is an in-memory Data Plane API v2 for one HAProxy node: a
// configuration (backends, servers, version, transactions), a live state
// (runtime servers, maps, stats, worker pid) and injected faults. Every
// request is validated against the specification and every answer too; a
// violation fails the test.
type Fake struct {
	URL  string // base URL including /v2
	t    testing.TB
	spec *Spec
	srv  *httptest.Server

	mu      sync.Mutex
	version int64
	conf    config                      // committed configuration
	live    map[string]map[string]*Live // backend → server → live state
	maps    map[string]map[string]string
	mapFile map[string]map[string]string // maps as written to disk
	txs     map[string]*tx
	nextTx  int
	pid     int64
	faults  []*Fault
	calls   []string
	// CommitCheck, when set, validates a configuration at commit like
	// "haproxy -c": an error fails the commit with 400.
	CommitCheck func(backend, server string, s models.Server) error
	// NoNewWorker makes reloads keep the old worker (a reload the API
	// reports done that HAProxy did not perform).
	NoNewWorker bool
	// HealthyAfter is how many stats reads a new server needs before its
	// check passes (default 2).
	HealthyAfter int
	// Down names servers whose checks fail (their app does not answer).
	Down map[string]bool
	// ReloadDelay is how long after a change the scheduled reload runs
	// (the real API's --reload-delay; default 20ms).
	ReloadDelay   time.Duration
	reloadPending bool
	reloads       int
}

// Live is a server's runtime state.
type Live struct {
	Addr              string
	Port              int64
	Admin, Op, Check  string
	Weight            int64
	Sessions, Queue   int64
	statsReads        int
	healthyAfterReads int
}

// Fault makes matching requests fail: Method and Template (a spec path
// template such as /services/haproxy/transactions/{id}) select them; the
// first Times matches (default 1) answer Status with Message, or, when
// Status is 0, only run Before and proceed normally. Body, when set,
// replaces the error body.
type Fault struct {
	Method, Template string
	Status           int
	Message          string
	Body             any
	Times            int
	Before           func(*Fake) // runs under the fake's lock
	hits             int
}

type tx struct {
	id      string
	version int64
	status  string
	conf    config
}

// New starts a fake with backends "app" (servers a1, a2, ready) and
// "app_shadow" (empty), map shadow.map holding "app 0", configuration
// version 1. It is closed when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	spec, err := Shared()
	if err != nil {
		t.Fatalf("dpapitest: %v", err)
	}
	f := &Fake{t: t, spec: spec, version: 1, pid: 100, HealthyAfter: 2, Down: map[string]bool{}, ReloadDelay: 20 * time.Millisecond,
		conf: config{"app": {}, "app_shadow": {}}, live: map[string]map[string]*Live{},
		maps: map[string]map[string]string{MapName: {"app": "0"}}, mapFile: map[string]map[string]string{MapName: {"app": "0"}},
		txs: map[string]*tx{}}
	for i, name := range []string{"a1", "a2"} {
		port, w := int64(9001+i), int64(100)
		f.conf["app"][name] = models.Server{Name: name, Address: "127.0.0.1", Port: &port,
			ServerParams: models.ServerParams{Weight: &w, Check: "enabled"}}
	}
	f.reloadLocked()
	f.reloads = 0
	for _, s := range f.live["app"] {
		s.Check = "L7OK"
	}
	f.srv = httptest.NewServer(f)
	f.URL = f.srv.URL + spec.BasePath()
	t.Cleanup(f.srv.Close)
	return f
}

// Inject adds a fault.
func (f *Fake) Inject(flt Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flt.Times == 0 {
		flt.Times = 1
	}
	f.faults = append(f.faults, &flt)
}

// Calls returns "METHOD template" of every request so far.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Do runs fn on the fake's state under its lock.
func (f *Fake) Do(fn func(*Fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// ServeHTTP checks auth, validates the request against the spec, applies
// faults, dispatches, and validates the answer before sending it.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, f.spec.BasePath())
	op, err := f.spec.ValidateRequest(r, path, body)
	if err != nil {
		f.t.Errorf("dpapitest: request not valid against the specification: %v", err)
		// go-swagger answers validation failures with 422.
		writeJSON(w, http.StatusUnprocessableEntity, apiErr(422, err.Error()))
		return
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+op.Template)
	if u, p, ok := r.BasicAuth(); !ok || u != User || p != Password {
		writeJSON(rec, http.StatusUnauthorized, apiErr(401, "invalid credentials"))
	} else if flt := f.fault(op); flt != nil {
		var body any = apiErr(flt.Status, flt.Message)
		if flt.Body != nil {
			body = flt.Body
		}
		writeJSON(rec, flt.Status, body)
	} else {
		f.dispatch(rec, r, op, body)
	}
	f.mu.Unlock()
	if err := f.spec.ValidateResponse(op, rec.status, rec.body.Bytes()); err != nil {
		f.t.Errorf("dpapitest: fake answered against the specification: %v", err)
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// fault returns the first matching fault that answers, after running the
// Before hooks of matching ones.
func (f *Fake) fault(op *Op) *Fault {
	for _, flt := range f.faults {
		if flt.hits >= flt.Times || flt.Method != op.Method || flt.Template != op.Template {
			continue
		}
		flt.hits++
		if flt.Before != nil {
			flt.Before(f)
		}
		if flt.Status != 0 {
			return flt
		}
	}
	return nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func apiErr(code int, msg string) *models.Error {
	c := int64(code)
	return &models.Error{Code: &c, Message: &msg}
}

func notFound(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusNotFound, apiErr(404, fmt.Sprintf(format, args...)))
}
