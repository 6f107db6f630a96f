package dpapitest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// validate checks a decoded JSON value (numbers as json.Number) against a
// schema node: $ref, allOf, type, required, properties,
// additionalProperties, items, enum, pattern, minimum and maximum; the
// subset of JSON Schema the Data Plane API spec uses. at names the place
// in the document for error messages.
func (s *Spec) validate(sch node, v any, at string) []string {
	return s.validateIn(sch, v, at, nil)
}

// validateIn is validate where the fields in allowed are known to an
// enclosing allOf (so "additionalProperties: false" does not reject them).
func (s *Spec) validateIn(sch node, v any, at string, allowed map[string]bool) []string {
	sch, err := s.deref(sch)
	if err != nil {
		return []string{at + ": " + err.Error()}
	}
	if sch.v == nil {
		return nil // no schema: anything goes
	}
	if v == nil {
		if b, _ := sch.field("x-nullable").v.(bool); b {
			return nil
		}
		return []string{at + ": null is not allowed"}
	}
	var errs []string
	subs, _ := sch.field("allOf").v.([]any)
	if len(subs) > 0 {
		known := s.knownProperties(sch)
		for k := range allowed {
			known[k] = true
		}
		for _, sub := range subs {
			errs = append(errs, s.validateIn(node{sub, sch.file}, v, at, known)...)
		}
	}
	if enum, ok := sch.field("enum").v.([]any); ok && !inEnum(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	typ := sch.str("type")
	if typ == "" && (sch.field("properties").v != nil || len(subs) > 0) {
		typ = "object"
	}
	switch typ {
	case "object":
		errs = append(errs, s.validateObject(sch, v, at, allowed)...)
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want an array, got %T", at, v))
		}
		for i, item := range arr {
			errs = append(errs, s.validate(sch.field("items"), item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want a string, got %T", at, v))
		}
		if p := sch.str("pattern"); p != "" {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(str) {
				errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, str, p))
			}
		}
	case "integer", "number":
		errs = append(errs, checkNumber(sch, v, typ, at)...)
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a boolean, got %T", at, v))
		}
	}
	return errs
}

func (s *Spec) validateObject(sch node, v any, at string, allowed map[string]bool) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want an object, got %T", at, v)}
	}
	var errs []string
	req, _ := sch.field("required").v.([]any)
	for _, r := range req {
		if _, ok := obj[fmt.Sprint(r)]; !ok {
			errs = append(errs, fmt.Sprintf("%s: required field %q missing", at, r))
		}
	}
	props := sch.field("properties")
	known := s.knownProperties(sch)
	for k := range allowed {
		known[k] = true
	}
	extra := sch.field("additionalProperties")
	for k, val := range obj {
		if p := props.field(k); p.v != nil {
			errs = append(errs, s.validate(p, val, at+"."+k)...)
			continue
		}
		switch ev := extra.v.(type) {
		case bool:
			if !ev && !known[k] {
				errs = append(errs, fmt.Sprintf("%s: unknown field %q", at, k))
			}
		case map[string]any:
			if !known[k] {
				errs = append(errs, s.validate(extra, val, at+"."+k)...)
			}
		}
	}
	return errs
}

// knownProperties is the union of an object's properties and those of its
// allOf parts: with "additionalProperties: false" next to allOf (as the
// server model has) a field from any part is allowed.
func (s *Spec) knownProperties(sch node) map[string]bool {
	known := map[string]bool{}
	var walk func(n node, depth int)
	walk = func(n node, depth int) {
		n, err := s.deref(n)
		if err != nil || depth > 8 {
			return
		}
		if props, ok := n.field("properties").v.(map[string]any); ok {
			for k := range props {
				known[k] = true
			}
		}
		subs, _ := n.field("allOf").v.([]any)
		for _, sub := range subs {
			walk(node{sub, n.file}, depth+1)
		}
	}
	walk(sch, 0)
	return known
}

func checkNumber(sch node, v any, typ, at string) []string {
	num, ok := v.(json.Number)
	if !ok {
		return []string{fmt.Sprintf("%s: want %s, got %T", at, typ, v)}
	}
	f, err := num.Float64()
	if typ == "integer" {
		_, err = strconv.ParseInt(num.String(), 10, 64)
	}
	if err != nil {
		return []string{fmt.Sprintf("%s: %s is not an %s", at, num, typ)}
	}
	var errs []string
	if min, ok := number(sch.field("minimum").v); ok && f < min {
		errs = append(errs, fmt.Sprintf("%s: %s below minimum %v", at, num, min))
	}
	if max, ok := number(sch.field("maximum").v); ok && f > max {
		errs = append(errs, fmt.Sprintf("%s: %s above maximum %v", at, num, max))
	}
	return errs
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func inEnum(enum []any, v any) bool {
	if slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return true
	}
	// The stats status enum (UP DOWN NOLB MAINT "no check") is narrower
	// than what the real API v2.9 answers: HAProxy's own "DRAIN" and the
	// transitions "UP 1/3", "DOWN 1/2". The fake answers those too.
	return slices.ContainsFunc(enum, func(e any) bool { return e == "NOLB" }) && realStatusRE.MatchString(fmt.Sprint(v))
}

var realStatusRE = regexp.MustCompile(`^(DRAIN|(UP|DOWN|NOLB) \d+/\d+)$`)
