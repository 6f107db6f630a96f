package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
)

// promote, rollback and history against a registry file, with the shipped
// model and a copy of it; a corrupt model is refused naming the field.
func TestModelRegistrySubcommands(t *testing.T) {
	t.Setenv("ONNXRUNTIME_LIB", testenv.ONNXRuntime(t))
	shipped := filepath.Join(testenv.RepoRoot(), "models", "lstm-1")
	dir := t.TempDir()
	second := filepath.Join(dir, "lstm-2")
	bad := filepath.Join(dir, "lstm-bad")
	copyModel(t, shipped, second)
	copyModel(t, shipped, bad)
	card := filepath.Join(bad, "model.json")
	b, _ := os.ReadFile(card)
	os.WriteFile(card, []byte(strings.Replace(string(b), `"window": 48`, `"window": 64`, 1)), 0o644)
	reg := filepath.Join(dir, "models.json")
	steps := []struct {
		args     []string
		champion string // after the step; "" = unchanged check skipped
		err      string
	}{
		{[]string{"history"}, "", ""},
		{[]string{"promote", "--reason", "first", shipped}, shipped, ""},
		{[]string{"promote", second}, second, ""},
		{[]string{"promote", bad}, "", `field "window"`},
		{[]string{"history"}, second, ""},
		{[]string{"rollback"}, shipped, ""},
		{[]string{"rollback"}, fallbackChampion, ""},
		{[]string{"rollback"}, "", "no previous champion"},
		{[]string{"promote"}, "", "no challenger on trial"},
		{[]string{"promote", "a", "b"}, "", "unexpected argument"},
	}
	for _, s := range steps {
		args := append([]string{"model"}, s.args...)
		args = append(args, "--registry", reg, "--json")
		var out bytes.Buffer
		err := run(context.Background(), args, &out)
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) {
				t.Fatalf("%v: err %v, want %q", s.args, err, s.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", s.args, err)
		}
		var doc registryDoc
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%v: not one JSON document: %v\n%s", s.args, err, out.String())
		}
		if s.champion == fallbackChampion {
			s.champion = ""
		}
		if s.champion != "" && doc.Champion != s.champion || s.args[0] == "rollback" && doc.Champion != s.champion {
			t.Fatalf("%v: champion %s, want %s", s.args, doc.Champion, s.champion)
		}
		if s.args[0] == "history" && doc.Champion == second {
			if len(doc.History) != 2 || doc.History[0].Reason != "first" || doc.History[1].Action != "promoted" {
				t.Errorf("history %+v", doc.History)
			}
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"model", "history", "--registry", reg}, &out); err != nil ||
		!strings.Contains(out.String(), "rollback") {
		t.Errorf("human history: %v\n%s", err, out.String())
	}
}

// fallbackChampion stands for "" (the fallback serves) in the table.
const fallbackChampion = "(fallback)"

func copyModel(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o755)
	for _, f := range []string{"model.onnx", "model.json"} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, f), b, 0o644)
	}
}
