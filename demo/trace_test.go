package demo

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A synthetic trace with a daily peak at 15:00 and a one-minute spike at
// 02:00 on the last day: the replay picks a whole day, compresses it, puts
// the peak where the daily cycle has it (not at the spike) and scales it.
func TestLoadReplayFindsTheDailyPeak(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	csv := "timestamp,value\n"
	for i := 0; i < 5*1440; i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		h := float64(at.Hour()) + float64(at.Minute())/60
		v := 100 + 80*math.Cos((h-15)/24*2*math.Pi)
		if i == 4*1440+120 {
			v = 2000
		}
		csv += at.Format(time.RFC3339) + "," + ftoa(v) + "\n"
	}
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	rp, err := loadReplay(path, 240*time.Second, 300, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Rate) != 240 || len(rp.History) != 3*240 {
		t.Fatalf("replay %d s with %d s of history, want 240 and 720", len(rp.Rate), len(rp.History))
	}
	if want := 150; rp.PeakAt < want-6 || rp.PeakAt > want+6 {
		t.Errorf("peak at %ds, want about %ds (15:00 of a 240s day)", rp.PeakAt, want)
	}
	if m := maxOf(rp.Rate); math.Abs(m-300) > 1e-6 {
		t.Errorf("peak rate %.1f, want 300", m)
	}
	if from, to := rp.peakWindow(); !(from < rp.PeakAt && rp.PeakAt < to) {
		t.Errorf("peak window [%d,%d) does not hold the peak %d", from, to, rp.PeakAt)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
