package feedback

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// patterned forecasts the test pattern shifted by bias (0 = perfect p50).
type patterned struct {
	name string
	bias float64
}

func (p patterned) Name() string { return p.name }

func (p patterned) Forecast(_ context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(series))
	for i, s := range series {
		f := inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: p.name}
		for k := range horizon {
			m := int(s.End().Add(time.Duration(k)*s.Step).Sub(t0) / time.Minute)
			v := pattern[((m%4)+4)%4].actual + p.bias
			f.P10, f.P50, f.P90 = append(f.P10, v-5), append(f.P50, v), append(f.P90, v+5)
		}
		out[i] = f
	}
	return out, nil
}

func fakeLoader(dir string) (inference.Forecaster, error) {
	switch filepath.Base(dir) {
	case "better":
		return patterned{name: "better-1", bias: 0}, nil
	case "worse":
		return patterned{name: "worse-1", bias: 60}, nil
	case "champ":
		return patterned{name: "champ-1", bias: 15}, nil
	}
	return nil, nil
}

// A challenger runs beside the champion on the same histories, is scored
// on the same origins and is promoted only when better by the margin; the
// champion serving the scheduler is swapped in place.
func TestTrialPromotesOnlyABetterChallenger(t *testing.T) {
	for _, c := range []struct {
		challenger, wantChampion, wantAction string
	}{{"better", "better-1", "promoted"}, {"worse", "champ-1", "rejected"}} {
		t.Run(c.challenger, func(t *testing.T) {
			store, _ := storeKinds()[0].open(t)
			reg := Registry{Path: filepath.Join(t.TempDir(), "models.json")}
			if _, err := reg.Update(func(st *RegistryState) error {
				st.Challenger = &Challenger{Dir: "/m/" + c.challenger, Since: minute(1), Reason: "test"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			champ, _ := fakeLoader("/m/champ")
			models, err := NewModels(reg, fakeLoader, champ, "/m/champ", patterned{name: "fb"}, minute(0), nil)
			if err != nil {
				t.Fatal(err)
			}
			opt := DefaultOptions()
			opt.MaxLateness, opt.Trial = 5*time.Minute, Trial{Period: 20 * time.Minute, MinSamples: 30, Margin: 0.05}
			loop := New(opt, store, Deps{Models: models}, nil)
			for k := 0; k <= 30; k++ {
				now := minute(k)
				if k > 0 {
					writeDemand(t, store, "web", minute(k-1), pattern[(k-1)%4].actual)
				}
				s := inference.Series{ID: "web", Start: now.Add(-10 * time.Minute), Step: time.Minute, Values: make([]float64, 10)}
				fc, _ := models.Champion.Forecast(context.Background(), []inference.Series{s}, 3)
				tr := tick("web", now, &fc[0])
				tr.Series, tr.Forecaster = s, models.Champion.Name()
				loop.RecordTick(context.Background(), now, []schedTick{tr})
			}
			if got := models.Champion.Name(); got != c.wantChampion {
				t.Errorf("serving %s, want %s", got, c.wantChampion)
			}
			st, _ := reg.Load()
			last := st.History[len(st.History)-1]
			if last.Action != c.wantAction || last.Samples < 30 || st.Challenger != nil {
				t.Fatalf("history ends with %+v (challenger %v), want %s on >= 30 origins", last, st.Challenger, c.wantAction)
			}
			if c.wantAction == "promoted" && (st.Champion != "/m/better" || len(st.Previous) != 1) {
				t.Errorf("registry after promotion: %+v", st)
			}
			if *last.ChallengerPinball >= *last.ChampionPinball == (c.wantAction == "promoted") {
				t.Errorf("evidence %v vs %v does not support %s", *last.ChallengerPinball, *last.ChampionPinball, c.wantAction)
			}
		})
	}
}

// A stale model's band is widened and the reason says so; a retraining is
// started (here it fails for lack of history, and that is reported).
func TestDriftMarksStaleWidensAndRetrains(t *testing.T) {
	loop, staleAt := untilStale(t, nil)
	st := loop.Staleness()["web"]
	if staleAt == 0 || !strings.Contains(st.Why, "raw p90 coverage 0.75 < 0.80") {
		t.Fatalf("not stale after 40 ticks of 75 %% p90 coverage: %+v", st)
	}
	if d := staleAt - int(st.BadSince.Sub(t0)/time.Minute); d != 5 {
		t.Errorf("stale %d ticks after the threshold was crossed, want the configured 5", d)
	}
	f, notes := loop.Adjust("web", *constant("web", "m-1", minute(41), 3))
	if f.P90[0] != 110*1.25 || len(notes) != 1 || !strings.Contains(notes[0], "model m-1 stale for web") {
		t.Errorf("adjusted p90 %v notes %q, want 137.5 and a stale note", f.P90[0], notes)
	}
	if other, notes := loop.Adjust("web", *constant("web", "m-2", minute(41), 3)); other.P90[0] != 110 || len(notes) != 0 {
		t.Errorf("another model's forecast was widened: %v %q", other.P90, notes)
	}
	waitDriftRetrain(t, loop)
}

// untilStale runs a loop whose model covers 75 % at p90 until drift marks
// it stale (at most 40 ticks): the tick it became stale.
func untilStale(t *testing.T, leading func() bool) (*Loop, int) {
	t.Helper()
	store, _ := storeKinds()[0].open(t)
	opt := DefaultOptions()
	opt.MaxLateness = 5 * time.Minute
	opt.Calibration.Enabled = false
	opt.Drift = Drift{Window: 20 * time.Minute, MinSamples: 20, MinCoverage: 0.8, For: 5 * time.Minute, Margin: 0.25}
	loop := New(opt, store, Deps{Retrainer: &Retrainer{Source: store, ModelsDir: t.TempDir(), History: time.Hour,
		Step: time.Minute, Timeout: time.Minute}, Leading: leading}, nil)
	var staleAt int
	for k := 0; k <= 40 && staleAt == 0; k++ {
		loop.recordAt(t, store, k)
		if loop.Staleness()["web"].Stale {
			staleAt = k
		}
	}
	return loop, staleAt
}

func (l *Loop) recordAt(t *testing.T, store metrics.Store, k int) {
	now := minute(k)
	if k > 0 {
		writeDemand(t, store, "web", minute(k-1), pattern[(k-1)%4].actual)
	}
	l.RecordTick(context.Background(), now, []schedTick{tick("web", now, constant("web", "m-1", now, 3))})
}

// waitDriftRetrain waits for the drift's retraining to start and end; here
// it fails for lack of history, and that is reported.
func waitDriftRetrain(t *testing.T, loop *Loop) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for loop.RetrainStatus().Running || loop.RetrainStatus().Started.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("no retraining started or it never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rs := loop.RetrainStatus(); !strings.Contains(rs.Error, "200 observed points") || !strings.HasPrefix(rs.Why, "drift: ") {
		t.Errorf("retrain status %+v, want a drift retraining refused for lack of history", rs)
	}
}

// With [ha] only the leader retrains: drift seen while following defers
// the retraining, which starts at the first tick as leader.
func TestRetrainOnlyWhileLeading(t *testing.T) {
	var leading atomic.Bool
	loop, staleAt := untilStale(t, leading.Load)
	if staleAt == 0 {
		t.Fatal("never stale")
	}
	store := loop.store
	for k := staleAt + 1; k <= staleAt+5; k++ {
		loop.recordAt(t, store, k)
	}
	if rs := loop.RetrainStatus(); !rs.Started.IsZero() || rs.Running {
		t.Fatalf("a follower retrained: %+v", rs)
	}
	leading.Store(true)
	loop.recordAt(t, store, staleAt+6)
	waitDriftRetrain(t, loop)
}

// A change made to the registry by another process (`shadowscale model
// promote|rollback`) is hot-swapped in by Sync; back to "" is the fallback.
func TestModelsSyncHotSwap(t *testing.T) {
	reg := Registry{Path: filepath.Join(t.TempDir(), "models.json")}
	champ, _ := fakeLoader("/m/champ")
	ms, err := NewModels(reg, fakeLoader, champ, "/m/champ", patterned{name: "fb"}, minute(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*RegistryState) error
		want   string
	}{
		{func(st *RegistryState) error { st.Promote("/m/better", minute(1), "cli", Event{}); return nil }, "better-1"},
		{func(st *RegistryState) error { return st.Rollback(minute(2), "cli") }, "champ-1"},
		{func(st *RegistryState) error { return st.Rollback(minute(3), "cli") }, "champ-1"}, // nothing before: refused
	} {
		reg.Update(c.change)
		ms.Sync()
		if got := ms.Champion.Name(); got != c.want {
			t.Fatalf("serving %s after the change, want %s", got, c.want)
		}
	}
	reg.Update(func(st *RegistryState) error { st.Champion = ""; return nil })
	ms.Sync()
	if got := ms.Champion.Name(); got != "fb" {
		t.Errorf("serving %s with no champion, want the fallback fb", got)
	}
}
