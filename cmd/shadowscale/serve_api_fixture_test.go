package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/shadowscale/shadowscale/api"
)

// apiTester calls a running serve's API and validates every answer against
// the OpenAPI document: a status code it does not list, or a body that does
// not match the schema, fails the test.
type apiTester struct {
	t      *testing.T
	base   string
	token  string
	router routers.Router
}

const testToken = "test-token-0123456789abcdef"

func newAPITester(t *testing.T, base string) *apiTester {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil // match whatever port the test serve has
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiTester{t: t, base: base, token: testToken, router: r}
}

// answer is one response.
type answer struct {
	code int
	body []byte
	hdr  http.Header
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// errField is the field an error answer names.
func (a answer) errField(t *testing.T) string {
	var e api.Error
	a.json(t, &e)
	return e.Field
}

// call sends method path with body (a string or a value to encode) and
// auth ("" none, "ok" the right token, anything else as the token).
func (at *apiTester) call(method, path string, body any, auth string) answer {
	at.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, at.base+path, rd)
	if err != nil {
		at.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch auth {
	case "":
	case "ok":
		req.Header.Set("Authorization", "Bearer "+at.token)
	default:
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		at.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	at.validate(req, resp, data)
	return answer{code: resp.StatusCode, body: data, hdr: resp.Header}
}

func (at *apiTester) validate(req *http.Request, resp *http.Response, body []byte) {
	at.t.Helper()
	route, params, err := at.router.FindRoute(req)
	if err != nil {
		at.t.Errorf("%s %s: not in openapi.json: %v", req.Method, req.URL.Path, err)
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		at.t.Errorf("%s %s answered %d, not as openapi.json says: %v\nbody: %.400s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

// expect fails unless the answer has the status code.
func (at *apiTester) expect(a answer, code int, what string) answer {
	at.t.Helper()
	if a.code != code {
		at.t.Errorf("%s: status %d, want %d; body %.300s", what, a.code, code, a.body)
	}
	return a
}

// apiBase waits for serve to write the address it listens on.
func (e *serveEnv) apiBase() string {
	e.t.Helper()
	path := filepath.Join(e.stateDir, addrFile)
	var addr string
	e.waitFor("the API address file", 60*time.Second, func() bool {
		b, err := os.ReadFile(path)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	return "http://" + addr
}

// waitTicks waits until the API reports at least n ticks.
func (e *serveEnv) waitTicks(at *apiTester, n int64) api.StatusView {
	e.t.Helper()
	var st api.StatusView
	e.waitFor("ticks through the API", 90*time.Second, func() bool {
		a := at.call("GET", "/v1/lbs", nil, "ok")
		if a.code != 200 {
			return false
		}
		st = api.StatusView{}
		a.json(e.t, &st)
		return st.Ticks >= n
	})
	return st
}

// runCLI runs the built binary with args and returns stdout.
func (e *serveEnv) runCLI(args ...string) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.serveBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), &cliError{err: err, stderr: errb.String()}
	}
	return out.String(), nil
}

type cliError struct {
	err    error
	stderr string
}

func (c *cliError) Error() string { return c.err.Error() + ": " + strings.TrimSpace(c.stderr) }
