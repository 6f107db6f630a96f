package onnx

import (
	"testing"

	"github.com/shadowscale/shadowscale/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

func valuesOf(vs ...ort.Value) []ort.Value { return vs }

func testenvLib(t testing.TB) string { return testenv.ONNXRuntime(t) }
