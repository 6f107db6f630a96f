package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/shadowscale/shadowscale/inference"
)

// Options tune an ONNX forecaster; the zero value is usable.
type Options struct {
	// Threads is ONNX Runtime's intra-op thread count per Run (0 means 1).
	Threads int
	// MaxBatch is the most series one Run carries (0 means 256).
	MaxBatch int
	// Fallback forecasts series with too little history for the model's
	// window; their Forecast.Fallback says why. Nil makes those series an
	// error wrapping inference.ErrTooShort.
	Fallback inference.Forecaster
}

// Model is the LSTM quantile forecaster served by ONNX Runtime. It is safe
// for concurrent use; Close it after the last Forecast returns.
type Model struct {
	card    ModelCard
	path    string
	opts    Options
	session *ort.DynamicAdvancedSession

	mu     sync.RWMutex // Forecast holds R, Close holds W
	closed bool
	poolMu sync.Mutex
	pool   []*onnxWorkspace
}

// ONNX Runtime's environment is process-global: it is initialised once,
// from the first library path given, and never torn down.
var ortEnv struct {
	sync.Mutex
	lib string
}

func initORT(lib string) error {
	if lib == "" {
		return errors.New("ONNX Runtime library path is empty (set ONNXRUNTIME_LIB or run `make setup`)")
	}
	abs, err := filepath.Abs(lib)
	if err != nil {
		return fmt.Errorf("ONNX Runtime library %s: %w", lib, err)
	}
	ortEnv.Lock()
	defer ortEnv.Unlock()
	if ortEnv.lib != "" {
		if ortEnv.lib != abs {
			return fmt.Errorf("ONNX Runtime is already initialised from %s; cannot also load %s", ortEnv.lib, abs)
		}
		return nil
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("ONNX Runtime library: %w (run `make setup`)", err)
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("initialise ONNX Runtime from %s: %w", abs, err)
	}
	ortEnv.lib = abs
	return nil
}

// ModelFiles resolves a model path (a model directory or its model.onnx)
// to the .onnx file and its model.json card.
func ModelFiles(path string) (onnxPath, cardPath string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("model %s: %w", path, err)
	}
	if st.IsDir() {
		return filepath.Join(path, "model.onnx"), filepath.Join(path, "model.json"), nil
	}
	return path, filepath.Join(filepath.Dir(path), "model.json"), nil
}

// New loads the model at modelPath (a model directory or a .onnx file
// with model.json beside it) using the ONNX Runtime shared library at lib,
// and refuses it unless its metadata matches what this build feeds.
func New(lib, modelPath string, opts Options) (*Model, error) {
	if err := initORT(lib); err != nil {
		return nil, err
	}
	onnxPath, cardPath, err := ModelFiles(modelPath)
	if err != nil {
		return nil, err
	}
	data, card, err := LoadModel(onnxPath, cardPath)
	if err != nil {
		return nil, err
	}
	return newSession(onnxPath, data, card, opts)
}

// NewFromData is New for a model held in memory (the one built into the
// binary): name labels it in errors, cardFile is its model.json.
func NewFromData(lib, name string, data, cardFile []byte, opts Options) (*Model, error) {
	if err := initORT(lib); err != nil {
		return nil, err
	}
	card, err := checkModel(data, cardFile, name+" model.json")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return newSession(name, data, card, opts)
}

func newSession(onnxPath string, data []byte, card ModelCard, opts Options) (*Model, error) {
	opts.Threads = max(opts.Threads, 1)
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: session options: %w", onnxPath, err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
		return nil, fmt.Errorf("model %s: set threads: %w", onnxPath, err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("model %s: set threads: %w", onnxPath, err)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"x", "xh"}, []string{"y"}, so)
	if err != nil {
		return nil, fmt.Errorf("model %s: create session: %w", onnxPath, err)
	}
	return &Model{card: card, path: onnxPath, opts: opts, session: sess}, nil
}

// LoadModel reads an ONNX model, checks that it is a complete ONNX file
// whose metadata, inputs and outputs match this build (and the model.json
// at cardPath, when that exists), and returns its bytes and card. ONNX
// Runtime must be initialised (New does it).
func LoadModel(onnxPath, cardPath string) ([]byte, ModelCard, error) {
	data, err := os.ReadFile(onnxPath)
	if err != nil {
		return nil, ModelCard{}, fmt.Errorf("read model: %w", err)
	}
	var cardFile []byte
	if _, err := os.Stat(cardPath); err == nil {
		if cardFile, err = os.ReadFile(cardPath); err != nil {
			return nil, ModelCard{}, fmt.Errorf("read model card: %w", err)
		}
	}
	card, err := checkModel(data, cardFile, cardPath)
	if err != nil {
		return nil, ModelCard{}, fmt.Errorf("model %s: %w", onnxPath, err)
	}
	return data, card, nil
}

// checkModel checks ONNX bytes against this build and, when cardFile is
// not nil, against that model.json (named cardName in errors).
func checkModel(data, cardFile []byte, cardName string) (ModelCard, error) {
	// An ONNX ModelProto starts with field 1 (ir_version, varint): 0x08.
	if len(data) == 0 || data[0] != 0x08 {
		return ModelCard{}, errors.New("not an ONNX model (empty, or no ir_version field at the start)")
	}
	card, fields, err := readMetadata(data)
	if err != nil {
		return ModelCard{}, err
	}
	if err := card.Check(); err != nil {
		return ModelCard{}, err
	}
	if cardFile != nil {
		_, fileFields, err := decodeCard(cardFile, cardName)
		if err != nil {
			return ModelCard{}, err
		}
		if err := sameCard(fileFields, fields); err != nil {
			return ModelCard{}, err
		}
	}
	if err := checkIO(data, card); err != nil {
		return ModelCard{}, err
	}
	return card, nil
}

func readMetadata(data []byte) (ModelCard, map[string]any, error) {
	md, err := ort.GetModelMetadataWithONNXData(data)
	if err != nil {
		return ModelCard{}, nil, fmt.Errorf("not a valid ONNX model (truncated or corrupt?): %w", err)
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return ModelCard{}, nil, fmt.Errorf("read ONNX metadata: %w", err)
	}
	if len(keys) == 0 {
		return ModelCard{}, nil, errors.New("ONNX metadata_props are missing (no model card embedded)")
	}
	meta := make(map[string]string, len(keys))
	for _, k := range keys {
		v, _, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return ModelCard{}, nil, fmt.Errorf("read ONNX metadata field %q: %w", k, err)
		}
		meta[k] = v
	}
	return cardFromMetadata(meta)
}

// checkIO compares the graph's inputs and outputs with the card.
func checkIO(data []byte, card ModelCard) error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return fmt.Errorf("read model inputs/outputs: %w", err)
	}
	want := []struct {
		name string
		dims []int
	}{{"x", card.Inputs["x"]}, {"xh", card.Inputs["xh"]}, {"y", card.Outputs["y"]}}
	got := append(slices.Clone(ins), outs...)
	if len(got) != len(want) {
		return fmt.Errorf("model has %d inputs and %d outputs, want inputs x, xh and output y", len(ins), len(outs))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.DataType != ort.TensorElementDataTypeFloat || !sameDims(g.Dimensions, w.dims) {
			return fmt.Errorf("model tensor %d is %s, want float %q with dims %v (batch first)", i, g.String(), w.name, w.dims)
		}
	}
	return nil
}

// sameDims accepts any batch dimension (symbolic dims read as -1 or 0).
func sameDims(got ort.Shape, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := 1; i < len(want); i++ {
		if got[i] != int64(want[i]) {
			return false
		}
	}
	return true
}

// Card is the loaded model's card.
func (m *Model) Card() ModelCard { return m.card }

// Name is the forecaster's name in eval tables.
func (m *Model) Name() string { return m.card.Name }

// Close releases the session and tensors; Forecast fails afterwards.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, w := range m.pool {
		w.destroy()
	}
	m.pool = nil
	return m.session.Destroy()
}

// tooShort says why a series has too few observed values in the window.
func (m *Model) tooShort(s inference.Series) (string, bool) {
	lo := max(0, len(s.Values)-m.card.Window)
	n := 0
	for _, v := range s.Values[lo:] {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			n++
		}
	}
	if n >= m.card.MinHistory {
		return "", false
	}
	return fmt.Sprintf("%s: %d observed values in the last %d steps, the model needs %d",
		inference.ErrTooShort, n, m.card.Window, m.card.MinHistory), true
}
