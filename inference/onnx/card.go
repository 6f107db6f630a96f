package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// CardSchemaVersion is the model card schema this code reads.
const CardSchemaVersion = 1

// ModelCard is a model's metadata (DESIGN.md 3.3): model.json, and the
// same fields JSON-encoded one per key in the ONNX metadata_props.
type ModelCard struct {
	SchemaVersion   int               `json:"schema_version"`
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	CreatedAt       string            `json:"created_at"`
	Window          int               `json:"window"`
	HorizonSteps    int               `json:"horizon_steps"`
	Quantiles       []float64         `json:"quantiles"`
	FeatureVersion  string            `json:"feature_version"`
	EncoderFeatures []string          `json:"encoder_features"`
	HorizonFeatures []string          `json:"horizon_features"`
	Scaling         CardScaling       `json:"scaling"`
	MinHistory      int               `json:"min_history"`
	Inputs          map[string][]int  `json:"inputs"`
	Outputs         map[string][]int  `json:"outputs"`
	TrainingData    []CardTrainingSet `json:"training_data"`
	Split           string            `json:"split"`
	Architecture    map[string]any    `json:"architecture"`
	Training        map[string]any    `json:"training"`
	Metrics         map[string]any    `json:"metrics"`
}

// CardScaling names the per-window scaling the model expects.
type CardScaling struct {
	Method string  `json:"method"`
	Clip   float64 `json:"clip"`
}

// CardTrainingSet is one training file and its hash.
type CardTrainingSet struct {
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	StepSeconds int64  `json:"step_seconds"`
	Points      int    `json:"points"`
	PointsUsed  int    `json:"points_used"`
}

// requiredCardFields must be present in both model.json and the ONNX metadata.
var requiredCardFields = []string{
	"schema_version", "name", "version", "created_at", "window", "horizon_steps",
	"quantiles", "feature_version", "encoder_features", "horizon_features",
	"scaling", "min_history", "inputs", "outputs", "training_data",
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Label is name-version, the model's directory name.
func (c ModelCard) Label() string { return c.Name + "-" + c.Version }

// Check refuses a card that does not match what this code feeds the model,
// naming the field.
func (c ModelCard) Check() error {
	switch {
	case c.SchemaVersion != CardSchemaVersion:
		return fieldErr("schema_version", c.SchemaVersion, CardSchemaVersion)
	case c.Name == "" || c.Version == "":
		return fmt.Errorf("model card: field %q/%q: empty", "name", "version")
	case c.Window < 1:
		return fmt.Errorf("model card: field %q: %d, want >= 1", "window", c.Window)
	case c.HorizonSteps < 1:
		return fmt.Errorf("model card: field %q: %d, want >= 1", "horizon_steps", c.HorizonSteps)
	case !slices.Equal(c.Quantiles, inference.Quantiles[:]):
		return fieldErr("quantiles", c.Quantiles, inference.Quantiles)
	case c.FeatureVersion != FeatureVersion:
		return fieldErr("feature_version", c.FeatureVersion, FeatureVersion)
	case !slices.Equal(c.EncoderFeatures, EncoderFeatures):
		return fieldErr("encoder_features", c.EncoderFeatures, EncoderFeatures)
	case !slices.Equal(c.HorizonFeatures, HorizonFeatures):
		return fieldErr("horizon_features", c.HorizonFeatures, HorizonFeatures)
	case c.Scaling.Method != Scaling || c.Scaling.Clip != featureClip:
		return fieldErr("scaling", c.Scaling, CardScaling{Scaling, featureClip})
	case c.MinHistory < 1 || c.MinHistory > c.Window:
		return fmt.Errorf("model card: field %q: %d, want 1..window (%d)", "min_history", c.MinHistory, c.Window)
	}
	if _, err := time.Parse(time.RFC3339, c.CreatedAt); err != nil {
		return fmt.Errorf("model card: field %q: %w", "created_at", err)
	}
	return c.checkShapesAndData()
}

func (c ModelCard) checkShapesAndData() error {
	want := map[string][]int{
		"inputs.x":  {-1, c.Window, len(EncoderFeatures)},
		"inputs.xh": {-1, c.HorizonSteps, len(HorizonFeatures)},
		"outputs.y": {-1, c.HorizonSteps, len(inference.Quantiles)},
	}
	got := map[string][]int{"inputs.x": c.Inputs["x"], "inputs.xh": c.Inputs["xh"], "outputs.y": c.Outputs["y"]}
	for _, k := range []string{"inputs.x", "inputs.xh", "outputs.y"} {
		if !slices.Equal(got[k], want[k]) {
			return fieldErr(k, got[k], want[k])
		}
	}
	if len(c.TrainingData) == 0 {
		return fmt.Errorf("model card: field %q: empty", "training_data")
	}
	for i, d := range c.TrainingData {
		if d.File == "" || !sha256Hex.MatchString(d.SHA256) {
			return fmt.Errorf("model card: field %q[%d]: want a file name and a sha256 hex digest", "training_data", i)
		}
	}
	return nil
}

func fieldErr(field string, got, want any) error {
	return fmt.Errorf("model card: field %q is %v, this build feeds %v", field, got, want)
}

// cardFromMetadata decodes ONNX metadata_props (one JSON value per field).
func cardFromMetadata(meta map[string]string) (ModelCard, map[string]any, error) {
	raw := make(map[string]json.RawMessage, len(meta))
	for k, v := range meta {
		if !json.Valid([]byte(v)) {
			return ModelCard{}, nil, fmt.Errorf("ONNX metadata field %q: not JSON: %.40q", k, v)
		}
		raw[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return ModelCard{}, nil, fmt.Errorf("ONNX metadata: %w", err)
	}
	return decodeCard(b, "ONNX metadata")
}

// ReadCardFile reads a model.json.
func ReadCardFile(path string) (ModelCard, map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ModelCard{}, nil, fmt.Errorf("read model card: %w", err)
	}
	return decodeCard(b, path)
}

func decodeCard(b []byte, what string) (ModelCard, map[string]any, error) {
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return ModelCard{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, k := range requiredCardFields {
		if _, ok := fields[k]; !ok {
			return ModelCard{}, nil, fmt.Errorf("%s: missing field %q", what, k)
		}
	}
	var c ModelCard
	if err := json.Unmarshal(b, &c); err != nil {
		return ModelCard{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, fields, nil
}

// sameCard names the first field where model.json and the ONNX metadata differ.
func sameCard(file, meta map[string]any) error {
	keys := make([]string, 0, len(file)+len(meta))
	for k := range file {
		keys = append(keys, k)
	}
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if !reflect.DeepEqual(file[k], meta[k]) {
			return fmt.Errorf("model.json and ONNX metadata disagree on field %q", k)
		}
	}
	return nil
}
