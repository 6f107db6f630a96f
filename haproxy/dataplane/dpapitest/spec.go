// Package dpapitest serves a fake HAProxy Data Plane API v2 for tests and
// checks every request against the API's OpenAPI 2.0 specification as
// shipped (split into YAML files) in the client-native module.
package dpapitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// SpecModule is the Go module that ships the specification sources.
const SpecModule = "github.com/haproxytech/client-native/v5"

// Spec is the loaded specification. $refs stay unresolved in the tree and
// are followed on demand: "file.yaml#/ptr" relative to the referring file,
// "#/ptr" against the root document (the split files are written that way
// for the upstream build tool that inlines them).
type Spec struct {
	root  string // path of haproxy-spec.yaml
	mu    sync.Mutex
	docs  map[string]any // file path → parsed YAML, loaded on first use
	paths []pathItem     // templates from the root "paths" object
	base  string         // basePath, e.g. /v2
}

type pathItem struct {
	template string
	segs     []string
	node     node // path item, with its file
}

// node is a YAML value together with the file it came from, so relative
// $refs inside it can be resolved.
type node struct {
	v    any
	file string
}

// FindSpec locates haproxy-spec.yaml: $DPAPI_SPEC, else the client-native
// module directory as reported by "go list -m".
func FindSpec() (string, error) {
	if p := os.Getenv("DPAPI_SPEC"); p != "" {
		return p, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", SpecModule).Output()
	if err != nil {
		return "", fmt.Errorf("locate module %s: %w", SpecModule, err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "specification", "haproxy-spec.yaml")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("specification: %w", err)
	}
	return p, nil
}

var (
	shared   sync.Map // path → *Spec
	loadOnce sync.Mutex
)

// Shared loads the specification once per process (it is read-only after
// loading; files behind $refs are parsed on first use, under a lock).
func Shared() (*Spec, error) {
	path, err := FindSpec()
	if err != nil {
		return nil, err
	}
	loadOnce.Lock()
	defer loadOnce.Unlock()
	if s, ok := shared.Load(path); ok {
		return s.(*Spec), nil
	}
	s, err := LoadSpec(path)
	if err != nil {
		return nil, err
	}
	shared.Store(path, s)
	return s, nil
}

// LoadSpec parses the root file and indexes its paths.
func LoadSpec(path string) (*Spec, error) {
	s := &Spec{root: path, docs: map[string]any{}}
	doc, err := s.doc(path)
	if err != nil {
		return nil, err
	}
	m, _ := doc.(map[string]any)
	s.base, _ = m["basePath"].(string)
	paths, _ := m["paths"].(map[string]any)
	if len(paths) == 0 {
		return nil, fmt.Errorf("specification %s: no paths", path)
	}
	for tmpl, item := range paths {
		n, err := s.deref(node{item, path})
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", tmpl, err)
		}
		s.paths = append(s.paths, pathItem{template: tmpl, segs: strings.Split(strings.Trim(tmpl, "/"), "/"), node: n})
	}
	return s, nil
}

// BasePath is the spec's basePath ("/v2").
func (s *Spec) BasePath() string { return s.base }

func (s *Spec) doc(file string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.docs[file]; ok {
		return d, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read spec file: %w", err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	v = normalize(v)
	s.docs[file] = v
	return v, nil
}

// deref follows $ref chains until a node without one.
func (s *Spec) deref(n node) (node, error) {
	for range 32 {
		m, ok := n.v.(map[string]any)
		if !ok {
			return n, nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return n, nil
		}
		file, ptr, _ := strings.Cut(ref, "#")
		target := s.root
		if file != "" {
			target = filepath.Join(filepath.Dir(n.file), file)
		}
		doc, err := s.doc(target)
		if err != nil {
			return node{}, err
		}
		v, err := pointer(doc, ptr)
		if err != nil {
			return node{}, fmt.Errorf("$ref %q in %s: %w", ref, filepath.Base(n.file), err)
		}
		n = node{v, target}
	}
	return node{}, fmt.Errorf("$ref chain too long")
}

// pointer follows a JSON pointer ("/definitions/server") into a YAML tree.
func pointer(doc any, ptr string) (any, error) {
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("pointer %s: %q is not in an object", ptr, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("pointer %s: no key %q", ptr, tok)
		}
	}
	return cur, nil
}

// field returns a map field of a node, keeping the node's file.
func (n node) field(key string) node {
	m, _ := n.v.(map[string]any)
	return node{m[key], n.file}
}

func (n node) str(key string) string {
	s, _ := n.field(key).v.(string)
	return s
}

// normalize turns YAML maps with non-string keys (unquoted status codes
// such as 200:) into map[string]any.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
	}
	return v
}
