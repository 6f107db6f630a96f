package haproxy

import (
	"errors"
	"testing"
)

func TestParseGetMap(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want int
		err  error
	}{
		{"found", `type=str, case=sensitive, found=yes, idx=tree, key="app", value="5", type="str"`, 5, nil},
		{"zero", `type=str, case=sensitive, found=yes, idx=tree, key="app", value="0", type="str"`, 0, nil},
		{"not found", `type=str, case=sensitive, found=no`, 0, ErrNotFound},
		{"empty", ``, 0, ErrNotFound},
		{"no value", `found=yes, key="app"`, 0, ErrRefused},
		{"no closing quote", `found=yes, key="app", value="5`, 0, ErrRefused},
		{"quote at end", `found=yes, value="`, 0, ErrRefused},
		{"not a number", `found=yes, value="x", type="str"`, 0, ErrRefused},
		{"above 100", `found=yes, value="101"`, 0, ErrRefused},
		{"negative", `found=yes, value="-1"`, 0, ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGetMap(tt.out)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("parseGetMap(%q) = %d, %v; want %d, %v", tt.out, got, err, tt.want, tt.err)
			}
		})
	}
}

// FuzzParseGetMap: any answer HAProxy (or something else on the socket)
// gives is parsed without a panic, and a success is a share in 0..100.
func FuzzParseGetMap(f *testing.F) {
	for _, s := range []string{`found=yes, value="5"`, `found=yes, value="`, `found=no`, `found=yes value="12" "`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		n, err := parseGetMap(out)
		if err == nil && (n < 0 || n > 100) {
			t.Fatalf("parseGetMap(%q) = %d without error", out, n)
		}
	})
}
