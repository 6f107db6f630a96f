package collect

import (
	"testing"
	"time"
)

func TestRates(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		dt      time.Duration // since the previous step
		c       Counters
		want    PerSecond
		outcome Outcome
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"steady", []step{
			{0, Counters{1000, 100, 1}, PerSecond{}, FirstSeen},
			{10 * time.Second, Counters{2000, 150, 1}, PerSecond{100, 5, 0}, RateOK},
			{10 * time.Second, Counters{2500, 150, 11}, PerSecond{50, 0, 1}, RateOK},
		}},
		{"reload resets counters", []step{
			{0, Counters{50000, 900, 10}, PerSecond{}, FirstSeen},
			{10 * time.Second, Counters{51000, 950, 10}, PerSecond{100, 5, 0}, RateOK},
			{10 * time.Second, Counters{400, 20, 0}, PerSecond{}, Reset}, // not negative, not 400/10
			{10 * time.Second, Counters{1400, 70, 0}, PerSecond{100, 5, 0}, RateOK},
		}},
		{"one counter reset is a reset", []step{
			{0, Counters{100, 100, 100}, PerSecond{}, FirstSeen},
			{10 * time.Second, Counters{200, 200, 5}, PerSecond{}, Reset},
		}},
		{"same or earlier time", []step{
			{0, Counters{100, 10, 0}, PerSecond{}, FirstSeen},
			{0, Counters{200, 20, 0}, PerSecond{}, NoTime},
			{-time.Second, Counters{200, 20, 0}, PerSecond{}, NoTime},
			{3 * time.Second, Counters{400, 20, 0}, PerSecond{150, 5, 0}, RateOK}, // over 2 s since the baseline
		}},
		{"irregular interval", []step{
			{0, Counters{0, 0, 0}, PerSecond{}, FirstSeen},
			{25 * time.Second, Counters{500, 0, 0}, PerSecond{20, 0, 0}, RateOK},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRates()
			at := t0
			for i, s := range tc.steps {
				at = at.Add(s.dt)
				got, outcome := r.Update("web/BACKEND", at, s.c)
				if outcome != s.outcome || got != s.want {
					t.Fatalf("step %d: got %+v %v, want %+v %v", i, got, outcome, s.want, s.outcome)
				}
			}
		})
	}
}

func TestSweepForgetsVanishedServers(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	r := NewRates()
	r.Update("be/s1", t0, Counters{Requests: 100})
	r.Update("be/s2", t0, Counters{Requests: 100})
	r.Sweep()
	// s2 disappears for one scrape.
	r.Update("be/s1", t0.Add(10*time.Second), Counters{Requests: 200})
	if n := r.Sweep(); n != 1 {
		t.Fatalf("forgot %d rows, want 1", n)
	}
	// It comes back (re-added, counters from 0): a new baseline, no rate.
	if _, o := r.Update("be/s2", t0.Add(20*time.Second), Counters{Requests: 5000}); o != FirstSeen {
		t.Fatalf("returning server: %v, want FirstSeen", o)
	}
}
