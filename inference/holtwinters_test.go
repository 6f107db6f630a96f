package inference

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Hand-computed Holt (no season), alpha=beta=0.5, phi=1, level 1, trend 0:
// y=3 gives level 2 and trend 0.5, so the forecasts are 2.5 and 3.
func TestHoltByHand(t *testing.T) {
	st := &hwState{p: hwParams{0.5, 0.5, 0, 1}, level: 1}
	if e := st.update(3); e != 2 {
		t.Errorf("one-step error %v, want 2", e)
	}
	if !near(st.predict(1), 2.5, 1e-12) || !near(st.predict(2), 3, 1e-12) {
		t.Errorf("forecasts %v %v, want 2.5 3", st.predict(1), st.predict(2))
	}
}

// Hand-computed Holt-Winters in statsmodels' form, m=2, weights 0.5, phi=1,
// level 2, trend 0.5, season [-1, 1]: y=2.5 (forecast 1.5) gives level
// 0.5*(2.5+1)+0.5*2.5 = 3, trend 0.5*1+0.5*0.5 = 0.75, season[0]
// 0.5*(2.5-2.5)+0.5*(-1) = -0.5; forecasts 3+0.75+1 = 4.75 and 3+1.5-0.5 = 4.
func TestHoltWintersByHand(t *testing.T) {
	st := &hwState{p: hwParams{0.5, 0.5, 0.5, 1}, level: 2, trend: 0.5, season: []float64{-1, 1}}
	st.update(2.5)
	if st.level != 3 || st.trend != 0.75 || st.season[0] != -0.5 || st.phase != 1 {
		t.Fatalf("level %v trend %v season %v phase %d", st.level, st.trend, st.season, st.phase)
	}
	if st.predict(1) != 4.75 || st.predict(2) != 4 {
		t.Errorf("forecasts %v %v, want 4.75 and 4", st.predict(1), st.predict(2))
	}
	st.update(math.NaN()) // a missing value is replaced by its forecast
	if st.level != 3.75 || st.phase != 0 {
		t.Errorf("after a gap: level %v phase %d, want the damped 3.75 and 0", st.level, st.phase)
	}
}

// Hand-computed start on [1,3,2,4], m=2: season means 2 and 3 give trend
// 0.5; the detrended profile is [-0.75, 0.75] and the level before v[0]
// 2-0.5*(0.5+1) = 1.25, so the first forecast is exactly 1. With v[0] at
// absolute phase 1 the profile is rotated.
func TestInitialStateByHand(t *testing.T) {
	v := []float64{1, 3, 2, 4}
	st := initialState(v, 2, 0)
	if st.level != 1.25 || st.trend != 0.5 || st.season[0] != -0.75 || st.season[1] != 0.75 {
		t.Fatalf("level %v trend %v season %v", st.level, st.trend, st.season)
	}
	st.p = hwParams{phi: 1}
	if st.predict(1) != 1 {
		t.Errorf("first forecast %v, want 1", st.predict(1))
	}
	if r := initialState(v, 2, 1); r.phase != 1 || r.season[1] != -0.75 || r.season[0] != 0.75 {
		t.Errorf("rotated: phase %d season %v", r.phase, r.season)
	}
}

// simulateHW draws n points from a damped additive Holt-Winters with known
// parameters and Gaussian one-step errors.
func simulateHW(n, m int, p hwParams, sigma float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	st := &hwState{p: p, level: 100, trend: 0.2, season: make([]float64, m)}
	for i := range st.season {
		st.season[i] = 30 * math.Sin(2*math.Pi*float64(i)/float64(m))
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = st.predict(1) + sigma*rng.NormFloat64()
		st.update(v[i])
	}
	return v
}

// On a series drawn from the model itself the fit finds the level weight
// and an SSE no worse than the true parameters' from the same start (the
// season's drift is too small here for gamma to be identified).
func TestFitRecoversParameters(t *testing.T) {
	want := hwParams{alpha: 0.3, beta: 0.02, gamma: 0.1, phi: 0.9}
	v := simulateHW(40*24, 24, want, 2, 7)
	fit := fitPeriod(v, 24, 0)
	truth := initialState(v, 24, 0)
	truth.p = want
	sTrue, _ := truth.sse(v)
	sFit, _ := fit.clone().sse(v)
	if !near(fit.p.alpha, want.alpha, 0.05) || fit.p.beta > 0.1 || sFit > sTrue {
		t.Errorf("fitted %+v (SSE %.1f), want alpha about %.2f and SSE <= %.1f", fit.p, sFit, want.alpha, sTrue)
	}
}

// The period comes from the data: a daily cycle, a weekly one (weekdays and
// weekends differ) and none at all.
func TestPeriodDetection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 28 * 24
	shape := map[string]func(i int) float64{
		"day": func(i int) float64 { return 50 * math.Sin(2*math.Pi*float64(i%24)/24) },
		"week": func(i int) float64 {
			if wd := t0.Add(time.Duration(i) * time.Hour).Weekday(); wd == time.Saturday || wd == time.Sunday {
				return -40 + 10*math.Sin(2*math.Pi*float64(i%24)/24)
			}
			return 40 * math.Sin(2*math.Pi*float64(i%24)/24)
		},
		"none": func(i int) float64 { return 0 },
	}
	wantM := map[string]int{"day": 24, "week": 168, "none": 0}
	for name, f := range shape {
		v := make([]float64, n)
		walk := 0.0
		for i := range v {
			walk += rng.NormFloat64()
			v[i] = 300 + walk + f(i) + 3*rng.NormFloat64()
		}
		fit := fitHoltWinters(v, time.Hour, t0.UnixNano()/int64(time.Hour), 6)
		if fit.m != wantM[name] {
			t.Errorf("%s: period %d, want %d", name, fit.m, wantM[name])
		}
	}
}
