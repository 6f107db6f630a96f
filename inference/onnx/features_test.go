package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/internal/testenv"

	"github.com/shadowscale/shadowscale/inference"
)

// featuresGolden is training/testdata/features_golden.json, written by
// training/golden.py and checked by pytest too.
type featuresGolden struct {
	Version         string   `json:"version"`
	Scaling         string   `json:"scaling"`
	Clip            float64  `json:"clip"`
	EncoderFeatures []string `json:"encoder_features"`
	HorizonFeatures []string `json:"horizon_features"`
	Cases           []struct {
		Name        string      `json:"name"`
		Start       int64       `json:"start"`
		StepSeconds int64       `json:"step_seconds"`
		Window      int         `json:"window"`
		Horizon     int         `json:"horizon"`
		Values      []*float64  `json:"values"`
		Loc         float64     `json:"loc"`
		Scale       float64     `json:"scale"`
		Count       int         `json:"count"`
		Encoder     [][]float64 `json:"encoder"`
		HorizonRows [][]float64 `json:"horizon_rows"`
	} `json:"cases"`
}

func loadGolden(t *testing.T) featuresGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "training", "testdata", "features_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g featuresGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("parse golden: %v", err)
	}
	return g
}

func TestFeatureDefinitionMatchesGolden(t *testing.T) {
	g := loadGolden(t)
	if g.Version != FeatureVersion || g.Scaling != Scaling || g.Clip != featureClip {
		t.Errorf("golden %s/%s/%v, Go %s/%s/%v", g.Version, g.Scaling, g.Clip, FeatureVersion, Scaling, featureClip)
	}
	if !slices.Equal(g.EncoderFeatures, EncoderFeatures) {
		t.Errorf("encoder features: golden %v, Go %v", g.EncoderFeatures, EncoderFeatures)
	}
	if !slices.Equal(g.HorizonFeatures, HorizonFeatures) {
		t.Errorf("horizon features: golden %v, Go %v", g.HorizonFeatures, HorizonFeatures)
	}
}

func TestBuildFeaturesGolden(t *testing.T) {
	for _, c := range loadGolden(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			s := inference.Series{ID: c.Name, Start: time.Unix(c.Start, 0).UTC(), Step: time.Duration(c.StepSeconds) * time.Second}
			for _, v := range c.Values {
				s.Values = append(s.Values, nullable(v))
			}
			enc := make([]float32, c.Window*len(EncoderFeatures))
			dec := make([]float32, c.Horizon*len(HorizonFeatures))
			ws := buildFeatures(s, c.StepSeconds, c.Window, c.Horizon, enc, dec)
			if ws.count != c.Count || !closeRel(ws.loc, c.Loc, 1e-9) || !closeRel(ws.scale, c.Scale, 1e-9) {
				t.Errorf("scaling: got loc %v scale %v count %d, want %v %v %d", ws.loc, ws.scale, ws.count, c.Loc, c.Scale, c.Count)
			}
			compareRows(t, "encoder", enc, c.Encoder, EncoderFeatures)
			compareRows(t, "horizon", dec, c.HorizonRows, HorizonFeatures)
		})
	}
}

func compareRows(t *testing.T, what string, got []float32, want [][]float64, names []string) {
	t.Helper()
	for r, row := range want {
		for f, w := range row {
			if g := float64(got[r*len(names)+f]); math.Abs(g-w) > 1e-6 {
				t.Errorf("%s row %d %s: got %v, want %v", what, r, names[f], g, w)
			}
		}
	}
}

func nullable(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

func closeRel(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Max(1, math.Abs(b)) }

func TestStepSecondsRefusesFractionalSteps(t *testing.T) {
	for _, step := range []time.Duration{0, -time.Minute, 1500 * time.Millisecond} {
		if _, err := stepSeconds(inference.Series{ID: "x", Step: step}); err == nil {
			t.Errorf("step %v accepted", step)
		}
	}
}

func TestCalendarIteratorMatchesDirect(t *testing.T) {
	for _, tc := range []struct{ t0, step int64 }{{1420070400, 60}, {-86399, 3600}, {694224000, 2678400}, {1425000173, 300}} {
		c := newCalendar(tc.t0, tc.step)
		got := make([]float32, 4)
		for i := int64(0); i < 20000; i++ {
			tt := tc.t0 + i*tc.step
			c.put(got)
			tod := 2 * math.Pi * float64(featMod(tt, featDay)) / featDay
			dow := 2 * math.Pi * float64(featMod(featFloorDiv(tt, featDay)+3, 7)) / 7
			want := []float64{math.Sin(tod), math.Cos(tod), math.Sin(dow), math.Cos(dow)}
			for k := range want {
				if math.Abs(float64(got[k])-want[k]) > 1e-6 {
					t.Fatalf("t0 %d step %d row %d col %d: %v, want %v", tc.t0, tc.step, i, k, got[k], want[k])
				}
			}
		}
	}
}
