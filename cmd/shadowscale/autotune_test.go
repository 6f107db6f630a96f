//go:build autotune

// The replay that chose auto's half-life and window (autoHalfLife):
//
//	TUNE_DIR=../../../shared/data/traces TUNE_KEEP=0.8 TUNE_TEST=0.25 TUNE_OUT=val.tsv \
//	  go test -tags autotune -run AutoTune -timeout 60m .
//
// keeps the first 80 % of every trace and evaluates auto's variants with
// eval's definitions on the last quarter of that (the 60-80 % part), so
// the test part (the last 20 %) decides nothing.

package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/evaluate"
	"github.com/shadowscale/shadowscale/inference"
)

type cacheKey struct {
	id  string
	end time.Time
	h   int
}

type cached struct {
	inner inference.Forecaster
	mu    sync.Mutex
	m     map[cacheKey]inference.Forecast
}

func (c *cached) Name() string { return c.inner.Name() }

func (c *cached) Forecast(ctx context.Context, in []inference.Series, h int) ([]inference.Forecast, error) {
	out := make([]inference.Forecast, len(in))
	var todo []inference.Series
	var at []int
	c.mu.Lock()
	for i, s := range in {
		if f, ok := c.m[cacheKey{s.ID, s.End(), h}]; ok {
			out[i] = f
		} else {
			todo, at = append(todo, s), append(at, i)
		}
	}
	c.mu.Unlock()
	if len(todo) == 0 {
		return out, nil
	}
	fs, err := c.inner.Forecast(ctx, todo, h)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for k, i := range at {
		out[i] = fs[k]
		c.m[cacheKey{todo[k].ID, todo[k].End(), h}] = fs[k]
	}
	c.mu.Unlock()
	return out, nil
}

type named struct {
	inference.Auto
	name string
}

func (n named) Name() string { return n.name }

// TestAutoTune writes one line per trace and forecaster: MASE and coverage_p90.
func TestAutoTune(t *testing.T) {
	dir := os.Getenv("TUNE_DIR")
	if dir == "" {
		t.Skip("TUNE_DIR")
	}
	keep, err := strconv.ParseFloat(os.Getenv("TUNE_KEEP"), 64)
	if err != nil {
		t.Fatalf("TUNE_KEEP: %v", err)
	}
	test, err := strconv.ParseFloat(os.Getenv("TUNE_TEST"), 64)
	if err != nil {
		t.Fatalf("TUNE_TEST: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, os.Getenv("TUNE_ONLY")+"*.csv")) // the pattern is valid
	out, err := os.Create(os.Getenv("TUNE_OUT"))
	if err != nil {
		t.Fatalf("TUNE_OUT: %v", err)
	}
	defer out.Close()
	for _, f := range files {
		r, err := loadTrace(f, true)
		if err != nil {
			t.Fatal(err)
		}
		r.Values = r.Values[:int(math.Floor(float64(len(r.Values))*keep))]
		h, _ := horizonSteps(30*time.Minute, r.Step)
		classical, hw := classicalSet()
		lstm, err := openLSTM(os.Getenv("TUNE_MODEL"), hw)
		if err != nil {
			t.Fatal(err)
		}
		var cands []inference.Forecaster
		wrap := func(fc inference.Forecaster) inference.Forecaster {
			return &cached{inner: fc, m: map[cacheKey]inference.Forecast{}}
		}
		byName := map[string]inference.Forecaster{}
		for _, c := range append([]inference.Forecaster{lstm}, classical...) {
			byName[c.Name()] = wrap(c)
		}
		for _, n := range []string{"lstm", "holt-winters", "diff-ar", "seasonal-naive", "naive"} {
			cands = append(cands, byName[n])
		}
		fcs := []inference.Forecaster{byName["naive"], byName["seasonal-naive"], byName["holt-winters"], byName["diff-ar"], byName["lstm"]}
		for _, v := range variants() {
			a := v.Auto
			a.Candidates = cands
			fcs = append(fcs, named{inference.NewAuto(a), v.name})
		}
		rep, err := evaluate.Run(context.Background(), r, fcs, evaluate.Options{HorizonSteps: h, TestFraction: test,
			MaxOrigins: 1000, MaxHistory: maxHistorySteps(r.Step) + inference.Auto{Window: 1000}.LookbackSteps(h)})
		lstm.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".csv")
		for _, res := range rep.Results {
			fmt.Fprintf(out, "%s\t%s\t%.5f\t%.4f\n", name, res.Forecaster, float64(res.MASE), float64(res.CoverageP90))
		}
		t.Logf("%s done", name)
	}
}

// variants are the settings compared: uniform weights and half-lives of
// 25, 50 and 100 origins, windows of 100, 200 and 400.
func variants() []named {
	var out []named
	add := func(name string, a inference.Auto) { out = append(out, named{a, name}) }
	add("base", inference.Auto{Window: 200})
	for _, hl := range []float64{25, 50, 100} {
		add(fmt.Sprintf("hl%g", hl), inference.Auto{Window: 200, HalfLife: hl})
	}
	for _, w := range []int{100, 400} {
		add(fmt.Sprintf("w%d", w), inference.Auto{Window: w})
	}
	add("hl50-w400", inference.Auto{HalfLife: 50, Window: 400})
	add("hl100-w400", inference.Auto{HalfLife: 100, Window: 400})
	return out
}
