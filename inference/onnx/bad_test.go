package onnx

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withMetadata re-encodes an ONNX ModelProto with its metadata_props
// (field 14) replaced by meta; nil meta drops them.
func withMetadata(t *testing.T, model []byte, meta map[string]string) []byte {
	t.Helper()
	var out []byte
	for b := model; len(b) > 0; {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("bad protobuf tag")
		}
		size := n
		switch tag & 7 {
		case 0:
			_, m := binary.Uvarint(b[n:])
			size += m
		case 2:
			l, m := binary.Uvarint(b[n:])
			size += m + int(l)
		default:
			t.Fatalf("unexpected wire type %d", tag&7)
		}
		if tag>>3 != 14 {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	for k, v := range meta {
		entry := appendBytesField(appendBytesField(nil, 1, []byte(k)), 2, []byte(v))
		out = appendBytesField(out, 14, entry)
	}
	return out
}

func appendBytesField(b []byte, field uint64, v []byte) []byte {
	b = binary.AppendUvarint(b, field<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// shippedMetadata is the shipped card as metadata_props values.
func shippedMetadata(t *testing.T) (map[string]string, []byte) {
	t.Helper()
	dir := shippedModel(t)
	model, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for k, v := range fields {
		meta[k] = string(v)
	}
	return meta, model
}

func TestRefusesBadModels(t *testing.T) {
	meta, model := shippedMetadata(t)
	edit := func(k, v string) func() []byte {
		return func() []byte {
			m := map[string]string{}
			for kk, vv := range meta {
				m[kk] = vv
			}
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
			return withMetadata(t, model, m)
		}
	}
	for _, tc := range []struct {
		name, want string
		data       func() []byte
		card       string // model.json beside it; "" = none
	}{
		{"empty file", "not an ONNX model", func() []byte { return nil }, ""},
		{"text file", "not an ONNX model", func() []byte { return []byte("timestamp,value\n") }, ""},
		{"truncated", "truncated or corrupt", func() []byte { return model[:len(model)*2/3] }, ""},
		{"no metadata", "metadata_props are missing", func() []byte { return withMetadata(t, model, nil) }, ""},
		{"missing window", `missing field "window"`, edit("window", ""), ""},
		{"metadata not JSON", `field "name": not JSON`, edit("name", "lstm"), ""},
		{"schema version", `field "schema_version"`, edit("schema_version", "2"), ""},
		{"feature order", `field "encoder_features"`, edit("encoder_features", reordered(EncoderFeatures)), ""},
		{"quantiles", `field "quantiles"`, edit("quantiles", "[0.05, 0.5, 0.95]"), ""},
		{"scaling", `field "scaling"`, edit("scaling", `{"clip": 10, "method": "log1p"}`), ""},
		{"card window vs graph", `want float "x" with dims`, func() []byte {
			return withMetadata(t, model, patch(meta, "window", "32", "inputs", `{"x": [-1, 32, 11], "xh": `+inputDims(t, meta, "xh")+`}`))
		}, ""},
		{"model.json disagrees", `disagree on field "version"`, func() []byte { return model }, strings.Replace(jsonOf(meta), `"version": `+meta["version"], `"version": "other"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "model.onnx")
			if err := os.WriteFile(p, tc.data(), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.card != "" {
				if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(tc.card), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := New(testenvLib(t), dir, Options{})
			if err == nil {
				m.Close()
				t.Fatalf("model accepted, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestAcceptsRewrittenMetadata(t *testing.T) {
	meta, model := shippedMetadata(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), withMetadata(t, model, meta), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := New(testenvLib(t), dir, Options{})
	if err != nil {
		t.Fatalf("unchanged metadata refused: %v", err)
	}
	m.Close()
}

func reordered(names []string) string {
	r := append([]string{names[1], names[0]}, names[2:]...)
	b, _ := json.Marshal(r)
	return string(b)
}

func patch(meta map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range meta {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func inputDims(t *testing.T, meta map[string]string, name string) string {
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(meta["inputs"]), &in); err != nil {
		t.Fatal(err)
	}
	return string(in[name])
}

func jsonOf(meta map[string]string) string {
	raw := map[string]json.RawMessage{}
	for k, v := range meta {
		raw[k] = json.RawMessage(v)
	}
	b, _ := json.MarshalIndent(raw, "", " ")
	return string(b)
}
