package api

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIMatchesRoutes: the document is valid OpenAPI 3 and lists
// exactly the routes the server registers (method and path). Responses are
// validated against it by the contract tests against a real serve
// (cmd/shadowscale).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	param := regexp.MustCompile(`[:*]([a-z]+)`)
	var registered []string
	for _, r := range New(Config{}).Routes() {
		registered = append(registered, r[0]+" "+param.ReplaceAllString(r[1], "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Errorf("openapi.json and the router differ:\n documented: %s\n registered: %s",
			strings.Join(documented, ", "), strings.Join(registered, ", "))
	}
}

// TestMutatingRoutesNeedToken: every route that changes something is
// documented with the bearer scheme and no anonymous alternative.
func TestMutatingRoutesNeedToken(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			mutating := method != "GET" && !(method == "POST" && path == "/v1/forecast")
			if !mutating {
				continue
			}
			if op.Security == nil || len(*op.Security) != 1 || (*op.Security)[0]["bearerAuth"] == nil {
				t.Errorf("%s %s: security %v, want bearerAuth only", method, path, op.Security)
			}
		}
	}
}
