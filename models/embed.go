package models

import _ "embed"

// The default model is built into the binary, so shadowscale forecasts with
// it from any directory; --model or [forecast] model still override it.
// Keep these paths in step with Default.
var (
	//go:embed lstm-2/model.onnx
	DefaultONNX []byte
	//go:embed lstm-2/model.json
	DefaultCard []byte
)
