package config

import (
	"testing"
	"time"
)

// goodFeedback is testdata/good.ini's [feedback] section.
func goodFeedback() Feedback {
	f := DefaultFeedback()
	f.Windows = []time.Duration{30 * time.Minute, 6 * time.Hour}
	f.CalibrationGamma, f.DriftMinCoverage, f.TrialMargin = 0, 0.8, 0.05
	f.RetrainAt, f.RetrainMode, f.RetrainArgs = "02:30", "full", []string{"--epochs", "2", "--samples", "500"}
	return f
}

func TestRetrainAtOffset(t *testing.T) {
	for _, c := range []struct {
		at    string
		want  time.Duration
		daily bool
		bad   bool
	}{{"", 0, false, false}, {"03:00", 3 * time.Hour, true, false}, {"23:59", 23*time.Hour + 59*time.Minute, true, false},
		{"24:00", 0, false, true}, {"3", 0, false, true}, {"03:5", 0, false, true}} {
		got, daily, err := Feedback{RetrainAt: c.at}.RetrainAtOffset()
		if (err != nil) != c.bad || got != c.want || daily != c.daily {
			t.Errorf("%q: %v %v %v", c.at, got, daily, err)
		}
	}
}
