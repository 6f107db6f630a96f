package feedback

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// The demand repeats 80, 95, 105, 120 each minute; the forecast is always
// p10 90, p50 100, p90 110. Hand-computed per actual: absolute error,
// mean pinball over p10/p50/p90, within p10..p90, at or below p90.
var pattern = []struct {
	actual, abs, pinball float64
	covered, coveredP90  bool
}{
	{80, 20, (9 + 10 + 3) / 3.0, false, true},
	{95, 5, (0.5 + 2.5 + 1.5) / 3.0, true, true},
	{105, 5, (1.5 + 2.5 + 0.5) / 3.0, true, true},
	{120, 20, (3 + 10 + 9) / 3.0, false, false},
}

func minute(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// The loop scores every forecast step exactly once against what happened:
// across a gap (marked missing, never scored), data arriving 5 minutes
// late (scored when it lands), and a restart of the loop and the store.
func TestScoringGapsLateDataRestart(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			store, reopen := kind.open(t)
			opt := DefaultOptions()
			opt.MaxLateness, opt.Season = 10*time.Minute, 2*time.Minute
			opt.Windows = []time.Duration{8 * time.Minute}
			gap := func(m int) bool { return m >= 20 && m <= 22 }
			late := func(m int) bool { return m == 30 || m == 31 }
			loop := New(opt, store, Deps{}, nil)
			ctx := context.Background()
			for k := 0; k <= 75; k++ {
				now := minute(k)
				if k == 52 { // restart: the loop's memory is gone, the store stays
					store.Close()
					store = reopen()
					loop = New(opt, store, Deps{}, nil)
				}
				if m := k - 1; m >= 0 && !gap(m) && !late(m) {
					writeDemand(t, store, "web", minute(m), pattern[m%4].actual)
				}
				if k == 36 {
					writeDemand(t, store, "web", minute(30), pattern[30%4].actual)
					writeDemand(t, store, "web", minute(31), pattern[31%4].actual)
				}
				if k <= 60 {
					loop.RecordTick(ctx, now, []tickRecord{tick("web", now, constant("web", "m-1", now, 3))})
				} else {
					loop.RecordTick(ctx, now, []tickRecord{tick("web", now, nil)})
				}
				if k == 35 { // the late minutes wait, not missing, not scored
					got := errorsByKey(t, store, "web", minute(29), minute(33))
					for key := range got {
						if scoredTarget(key, 30) || scoredTarget(key, 31) {
							t.Fatalf("minute 30/31 scored or marked before its data arrived: %s", key)
						}
					}
				}
			}
			checkScores(t, errorsByKey(t, store, "web", minute(0), minute(80)), gap)
			checkAccuracy(t, loop.Accuracy().Accuracy("web", "m-1", 8*time.Minute, minute(56)))
			if rep := loop.Report(minute(56)); len(rep.Accuracy) != 1 || !reflect.DeepEqual(rep.Accuracy[0], loop.Accuracy().Accuracy("web", "m-1", 8*time.Minute, minute(56))) {
				t.Errorf("report accuracy %+v, want the one window of the one model", rep.Accuracy)
			}
			checkActions(t, store)
			// Calibration was rebuilt from the store after the restart: fewer
			// than MinScores targets per lead were scored since.
			if _, notes := loop.Adjust("web", *constant("web", "m-1", minute(76), 3)); len(notes) != 1 || !strings.Contains(notes[0], "3 of 3 steps") {
				t.Errorf("after the restart the forecast is not calibrated: %q", notes)
			}
		})
	}
}

type tickRecord = schedTick

func scoredTarget(key string, m int) bool {
	var lb, model string
	var lead, unix int64
	fmt.Sscanf(replaceBars(key), "%s %s %d %d", &lb, &model, &lead, &unix)
	return unix == minute(m).Unix()
}

func checkScores(t *testing.T, got map[string][]scored, gap func(int) bool) {
	t.Helper()
	for m := 2; m <= 60; m++ {
		for lead := int64(60); lead <= 180; lead += 60 {
			if m < int(lead/60)-1 {
				continue
			}
			key := fmt.Sprintf("web|m-1|%d|%d", lead, minute(m).Unix())
			list := got[key]
			if len(list) != 1 {
				t.Fatalf("target minute %d lead %ds scored %d times, want once", m, lead, len(list))
			}
			s := list[0]
			if gap(m) {
				if !s.Missing {
					t.Errorf("minute %d has no data but was scored: %+v", m, s)
				}
				continue
			}
			want := pattern[m%4]
			if s.Missing || s.Actual != want.actual || math.Abs(s.absError()-want.abs) > 1e-9 ||
				math.Abs(s.pinball()-want.pinball) > 1e-9 || s.covered() != want.covered || s.coveredP90() != want.coveredP90 {
				t.Errorf("minute %d lead %d: %+v, want %+v", m, lead, s, want)
			}
			// The seasonal reference of minutes 32 and 33 (the late 30 and
			// 31) was not known yet when they were scored.
			noRef := gap(m-2) || m == 32 || m == 33
			if noRef != math.IsNaN(s.SNaive) || (!noRef && s.SNaive != 25) {
				t.Errorf("minute %d: seasonal naive error %v, want 25 (NaN without a reference)", m, s.SNaive)
			}
		}
	}
}

// checkAccuracy: targets 48..55 (two full cycles, spanning the restart),
// three leads each.
func checkAccuracy(t *testing.T, a Accuracy) {
	t.Helper()
	if a.Scored != 24 || a.Missing != 0 {
		t.Fatalf("accuracy over 8m: %d scored, %d missing, want 24, 0: %+v", a.Scored, a.Missing, a)
	}
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("MAE", a.MAE, 12.5)
	near("pinball", a.Pinball, (22.0/3+1.5+1.5+22.0/3)/4)
	near("coverage", a.Coverage, 0.5)
	near("coverage p90", a.CoverageP90, 0.75)
	if a.MASE == nil {
		t.Fatal("MASE missing")
	}
	near("MASE", *a.MASE, 12.5/25)
}

func checkActions(t *testing.T, s metrics.Store) {
	t.Helper()
	recs, err := s.Records(context.Background(), metrics.Selector{Measurement: metrics.MeasAction}, minute(0), minute(80))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 76 {
		t.Fatalf("%d action records, want one per tick (76)", len(recs))
	}
	if r := recs[0]; r.Text["decision"] != "hold" || r.Fields["needed"] != 2 || r.Text[metrics.TextReason] == "" {
		t.Errorf("action record %+v", r)
	}
}
