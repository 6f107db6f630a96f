package dpapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Op is a matched operation of the spec.
type Op struct {
	Template string            // e.g. /services/haproxy/runtime/servers/{name}
	Method   string            // GET, POST…
	Params   map[string]string // path parameters
	node     node
}

// Match finds the operation for a method and a path below the basePath.
// Literal segments win over {templated} ones.
func (s *Spec) Match(method, path string) (*Op, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *pathItem
	bestLit := -1
	for i := range s.paths {
		p := &s.paths[i]
		if lit, ok := matchSegs(p.segs, segs); ok && lit > bestLit {
			best, bestLit = p, lit
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no path in the specification matches %s", path)
	}
	op := best.node.field(strings.ToLower(method))
	if op.v == nil {
		return nil, fmt.Errorf("%s %s: method not in the specification", method, best.template)
	}
	params := map[string]string{}
	for i, t := range best.segs {
		if strings.HasPrefix(t, "{") {
			params[strings.Trim(t, "{}")], _ = url.PathUnescape(segs[i])
		}
	}
	return &Op{Template: best.template, Method: method, Params: params, node: op}, nil
}

func matchSegs(tmpl, segs []string) (literal int, ok bool) {
	if len(tmpl) != len(segs) {
		return 0, false
	}
	for i, t := range tmpl {
		switch {
		case strings.HasPrefix(t, "{") && segs[i] != "":
		case t == segs[i]:
			literal++
		default:
			return 0, false
		}
	}
	return literal, true
}

// ValidateRequest checks a request against the specification: the path
// template and method, every parameter (required ones present, path,
// query and header values of the declared type and enum, no undeclared
// query parameter) and a JSON body against the body parameter's schema.
// path is below the basePath.
func (s *Spec) ValidateRequest(r *http.Request, path string, body []byte) (*Op, error) {
	op, err := s.Match(r.Method, path)
	if err != nil {
		return nil, err
	}
	var errs []string
	declared := map[string]bool{}
	hasBody := false
	for _, p := range s.parameters(op) {
		name, in := p.str("name"), p.str("in")
		switch in {
		case "query":
			declared[name] = true
			errs = append(errs, checkParam(p, r.URL.Query()[name])...)
		case "path":
			errs = append(errs, checkParam(p, []string{op.Params[name]})...)
		case "header":
			errs = append(errs, checkParam(p, r.Header.Values(name))...)
		case "body":
			hasBody = true
			errs = append(errs, s.checkBody(p, r.Header.Get("Content-Type"), body)...)
		}
	}
	for name := range r.URL.Query() {
		if !declared[name] {
			errs = append(errs, fmt.Sprintf("query parameter %q is not declared", name))
		}
	}
	// Stated in the parameters' descriptions, not in the schema.
	if r.URL.Query().Has("transaction_id") && r.URL.Query().Has("version") {
		errs = append(errs, "transaction_id and version cannot be used together")
	}
	if !hasBody && len(bytes.TrimSpace(body)) > 0 {
		errs = append(errs, "request has a body but the operation takes none")
	}
	if len(errs) > 0 {
		return op, fmt.Errorf("%s %s: %s", r.Method, op.Template, strings.Join(errs, "; "))
	}
	return op, nil
}

// parameters are the path item's and the operation's, $refs resolved.
func (s *Spec) parameters(op *Op) []node {
	var out []node
	list, _ := op.node.field("parameters").v.([]any)
	for _, p := range list {
		if n, err := s.deref(node{p, op.node.file}); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// checkParam checks a non-body parameter's values.
func checkParam(p node, vals []string) []string {
	name := p.str("name")
	if len(vals) == 0 || (len(vals) == 1 && vals[0] == "") {
		if req, _ := p.field("required").v.(bool); req {
			return []string{fmt.Sprintf("required %s parameter %q missing", p.str("in"), name)}
		}
		return nil
	}
	var errs []string
	for _, v := range vals {
		var err error
		switch p.str("type") {
		case "integer":
			_, err = strconv.ParseInt(v, 10, 64)
		case "number":
			_, err = strconv.ParseFloat(v, 64)
		case "boolean":
			if v != "true" && v != "false" {
				err = fmt.Errorf("not true or false")
			}
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("parameter %q=%q is not a valid %s", name, v, p.str("type")))
		}
		if enum, ok := p.field("enum").v.([]any); ok && !inEnum(enum, v) {
			errs = append(errs, fmt.Sprintf("parameter %q=%q is not one of %v", name, v, enum))
		}
	}
	return errs
}

func (s *Spec) checkBody(p node, ctype string, body []byte) []string {
	if len(bytes.TrimSpace(body)) == 0 {
		if req, _ := p.field("required").v.(bool); req {
			return []string{"required body missing"}
		}
		return nil
	}
	sch, err := s.deref(p.field("schema"))
	if err != nil {
		return []string{err.Error()}
	}
	if sch.str("type") == "string" {
		return nil // plain text (raw configuration)
	}
	if !strings.HasPrefix(ctype, "application/json") {
		return []string{fmt.Sprintf("body content type %q, want application/json", ctype)}
	}
	v, err := decode(body)
	if err != nil {
		return []string{"body: " + err.Error()}
	}
	return s.validate(sch, v, "body")
}

// ValidateResponse checks a response against the operation's declared
// response for its status (or "default") and that response's schema.
func (s *Spec) ValidateResponse(op *Op, status int, body []byte) error {
	resps := op.node.field("responses")
	resp := resps.field(strconv.Itoa(status))
	if resp.v == nil {
		resp = resps.field("default")
	}
	if resp.v == nil {
		return fmt.Errorf("%s %s: status %d is not declared", op.Method, op.Template, status)
	}
	resp, err := s.deref(resp)
	if err != nil {
		return err
	}
	sch := resp.field("schema")
	if sch.v == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	v, err := decode(body)
	if err != nil {
		return fmt.Errorf("%s %s: response %d: %w", op.Method, op.Template, status, err)
	}
	if errs := s.validate(sch, v, "response"); len(errs) > 0 {
		return fmt.Errorf("%s %s: response %d: %s", op.Method, op.Template, status, strings.Join(errs, "; "))
	}
	return nil
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}
