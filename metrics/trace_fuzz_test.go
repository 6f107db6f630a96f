package metrics

import (
	"math"
	"strings"
	"testing"
)

// FuzzReadTrace: any input either errors or yields points sorted strictly
// by time with non-negative or NaN values. `make test` runs the seed corpus.
func FuzzReadTrace(f *testing.F) {
	for _, s := range []string{
		"timestamp,value\n2024-01-01T00:00:00Z,1\n",
		"timestamp,value\n1704067200,2\n1704067200,3\n",
		"timestamp,value\n2024-01-01T00:00:00Z,NaN\n2024-01-01T00:01:00Z,\n",
		"timestamp,value\n2024-01-01T00:00:00+02:00,1e3\n",
		"\ufefftimestamp,value\r\nx,1\r\n",
		"timestamp,value\n2024-01-01T00:00:00Z,1,2\n",
		"timestamp,value\n-1e30,5\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ReadTrace(strings.NewReader(in), "fuzz.csv", TraceOptions{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		for i, p := range tr.Points {
			if p.V < 0 || math.IsInf(p.V, 0) {
				t.Fatalf("point %d has value %v", i, p.V)
			}
			if i > 0 && !tr.Points[i-1].T.Before(p.T) {
				t.Fatalf("points %d,%d not strictly increasing", i-1, i)
			}
		}
		if step := tr.MedianStep(); step > 0 {
			if r, err := tr.Resample(step); err == nil && len(r.Values) == 0 {
				t.Fatal("resample gave no slots")
			}
		}
	})
}
