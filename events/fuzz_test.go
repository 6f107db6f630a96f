package events

import (
	"os"
	"strings"
	"testing"
)

// The parsers must return an error, never panic, on any input.
func FuzzReadICS(f *testing.F) {
	for _, name := range []string{"testdata/good.ics", "testdata/rrule.bad.ics", "testdata/bad_tzid.bad.ics"} {
		b, _ := os.ReadFile(name)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		evs, err := ReadICS(strings.NewReader(s), "fuzz.ics")
		for _, e := range evs {
			if err == nil && e.Validate() != nil {
				t.Fatalf("returned an invalid event %+v", e)
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"testdata/good.csv", "testdata/short_row.bad.csv"} {
		b, _ := os.ReadFile(name)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		evs, err := ReadCSV(strings.NewReader(s), "fuzz.csv")
		for _, e := range evs {
			if err == nil && e.Validate() != nil {
				t.Fatalf("returned an invalid event %+v", e)
			}
		}
	})
}
