package demo

import (
	"testing"
)

// The peak window is the rise, the top and the fall at half the peak's
// height, from the replay alone.
func TestPeakWindowHoldsTheRiseIntoThePeak(t *testing.T) {
	ramp := func(lo, hi float64, n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = lo + (hi-lo)*float64(i)/float64(n-1)
		}
		return v
	}
	flat := func(x float64, n int) []float64 { return ramp(x, x, n) }
	cat := func(parts ...[]float64) []float64 {
		var out []float64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name     string
		smooth   []float64
		from, to int
	}{
		// 20 low, a 21-second rise 20→220, a 10-second top, a sudden drop.
		{"rise then plateau", cat(flat(20, 20), ramp(20, 220, 21), flat(220, 10), flat(20, 9)), 20 + 9, 51},
		{"a lone top", cat(flat(10, 10), []float64{200}, flat(10, 10)), 10, 11},
		{"high all day", flat(100, 30), 0, 30},
		// A second, lower hump above half the peak but apart from it is not in it.
		{"two humps", cat(flat(10, 5), flat(150, 5), flat(10, 5), flat(200, 5), flat(10, 5)), 15, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &replay{Smooth: tc.smooth, PeakAt: argmax(tc.smooth)}
			if from, to := r.peakWindow(); from != tc.from || to != tc.to {
				t.Errorf("peak window [%d,%d), want [%d,%d)", from, to, tc.from, tc.to)
			}
		})
	}
}

// Capacity for the peak counts from when it last came and stayed until the
// peak: a pool that covered it in the morning and shrank does not.
func TestReadyBeforePeakIsTheStretchUpToThePeak(t *testing.T) {
	secs := func(caps ...float64) []Second {
		out := make([]Second, len(caps))
		for i, c := range caps {
			out[i] = Second{T: i, Demand: 100, ReadyCap: c, Phase: "Active"}
		}
		out[len(out)-1].Demand = 250 // the day's largest demand
		return out
	}
	cases := []struct {
		name   string
		secs   []Second
		peakAt int
		at     int
		before bool
	}{
		{"covered early, shrunk, back late", secs(300, 300, 100, 100, 300, 300, 300), 6, 4, true},
		{"covered from the start", secs(300, 300, 300, 300), 3, 0, true},
		{"short at the peak", secs(300, 300, 300, 120), 3, -1, false},
		{"only at the peak", secs(120, 120, 120, 300), 3, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			r.readyBeforePeak(tc.secs, tc.peakAt)
			if r.ReadyAtS != tc.at || r.ReadyBeforePeak != tc.before {
				t.Errorf("ready at %d (before the peak %v), want %d (%v)", r.ReadyAtS, r.ReadyBeforePeak, tc.at, tc.before)
			}
		})
	}
}

// A second no sample reached keeps the pool of the last one seen (the
// first seconds the first one seen), marked carried.
func TestCarryOverFillsMissedSamples(t *testing.T) {
	secs := []Second{{}, {Phase: "Provisioning", Serving: 2, ReadyCap: 120}, {}, {Phase: "Active", Serving: 5, Pool: 3, ReadyCap: 300}, {}}
	carryOver(secs)
	want := []struct {
		phase   string
		cap     float64
		carried bool
	}{{"Provisioning", 120, true}, {"Provisioning", 120, false}, {"Provisioning", 120, true}, {"Active", 300, false}, {"Active", 300, true}}
	for i, w := range want {
		if s := secs[i]; s.Phase != w.phase || s.ReadyCap != w.cap || s.Carried != w.carried {
			t.Errorf("second %d: %s %.0f carried %v, want %s %.0f carried %v", i, s.Phase, s.ReadyCap, s.Carried, w.phase, w.cap, w.carried)
		}
	}
}
