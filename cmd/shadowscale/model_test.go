package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
	"github.com/shadowscale/shadowscale/models"
)

func TestModelSubcommand(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "models")
	dflt := filepath.Join(root, models.Default)
	lib := testenv.ONNXRuntime(t)
	for _, tc := range []struct {
		args []string
		want string // in the JSON output, or in the error
		fail bool
	}{
		{[]string{"model", "list", "--dir", root, "--json"}, `"feature_version": "features-v1"`, false},
		{[]string{"model", "show", dflt, "--json"}, `"sha256"`, false},
		{[]string{"model", "validate", "--ort-lib", lib, dflt, "--json"}, `"parity_vectors"`, false},
		{[]string{"model", "validate", dflt}, "", false},
		{[]string{"model", "show"}, "missing model PATH", true},
		{[]string{"model", "frobnicate", dflt}, "unknown model action", true},
		{[]string{"model"}, "want `model list", true},
		{[]string{"model", "show", filepath.Join(root, "nope")}, "no such file", true},
	} {
		var out bytes.Buffer
		t.Setenv("ONNXRUNTIME_LIB", lib)
		err := run(context.Background(), tc.args, &out)
		if tc.fail {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if strings.Contains(strings.Join(tc.args, " "), "--json") && !json.Valid(out.Bytes()) {
			t.Errorf("%v: output is not one JSON document", tc.args)
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: output lacks %q:\n%s", tc.args, tc.want, out.String())
		}
	}
}
