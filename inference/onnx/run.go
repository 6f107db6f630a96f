package onnx

import (
	"context"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/shadowscale/shadowscale/inference"
)

// Forecast predicts horizon steps for every series, batching up to
// MaxBatch series per ONNX Runtime Run. Steps beyond the model's head
// (horizon_steps) come from the fallback forecaster, and the forecast's
// Model and Reason say so; without a fallback they are an error.
func (m *Model) Forecast(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	if horizon < 1 {
		return nil, fmt.Errorf("%s: horizon %d steps is below 1", m.card.Label(), horizon)
	}
	if horizon > m.card.HorizonSteps {
		return m.beyondHead(ctx, series, horizon)
	}
	return m.forecastHead(ctx, series, horizon)
}

// beyondHead forecasts the head with the model and the rest with the
// fallback.
func (m *Model) beyondHead(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	H := m.card.HorizonSteps
	if m.opts.Fallback == nil {
		return nil, fmt.Errorf("%s: horizon %d steps is beyond the model's %d and no fallback forecasts the rest", m.card.Label(), horizon, H)
	}
	head, err := m.forecastHead(ctx, series, H)
	if err != nil {
		return nil, err
	}
	tail, err := m.opts.Fallback.Forecast(ctx, series, horizon)
	if err != nil {
		return nil, fmt.Errorf("%s: fallback %s for steps beyond %d: %w", m.card.Label(), m.opts.Fallback.Name(), H, err)
	}
	for i := range head {
		if head[i].Fallback != "" { // too short for the model: the fallback serves it all
			tail[i].Fallback = head[i].Fallback
			head[i] = tail[i]
			continue
		}
		f := &head[i]
		f.P10 = append(f.P10, tail[i].P10[H:]...)
		f.P50 = append(f.P50, tail[i].P50[H:]...)
		f.P90 = append(f.P90, tail[i].P90[H:]...)
		f.Reason = fmt.Sprintf("steps 1-%d from %s, %d-%d (beyond its head) from %s", H, f.Model, H+1, horizon, tail[i].Model)
		f.Model += "+" + tail[i].Model
	}
	return head, nil
}

func (m *Model) forecastHead(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("%s: forecaster is closed", m.card.Label())
	}
	out := make([]inference.Forecast, len(series))
	var modelIdx, shortIdx []int
	steps := make([]int64, len(series))
	for i, s := range series {
		step, err := stepSeconds(s)
		if err != nil {
			return nil, err
		}
		steps[i] = step
		if _, short := m.tooShort(s); short {
			shortIdx = append(shortIdx, i)
		} else {
			modelIdx = append(modelIdx, i)
		}
	}
	if err := m.fallback(ctx, series, shortIdx, horizon, out); err != nil {
		return nil, err
	}
	for lo := 0; lo < len(modelIdx); lo += m.opts.MaxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := modelIdx[lo:min(lo+m.opts.MaxBatch, len(modelIdx))]
		if err := m.runChunk(series, steps, chunk, horizon, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fallback forecasts the series too short for the window with the
// configured fallback, saying so in each Forecast.
func (m *Model) fallback(ctx context.Context, series []inference.Series, idx []int, horizon int, out []inference.Forecast) error {
	if len(idx) == 0 {
		return nil
	}
	if m.opts.Fallback == nil {
		reason, _ := m.tooShort(series[idx[0]])
		return fmt.Errorf("%s: series %q: %s: %w", m.card.Label(), series[idx[0]].ID, reason, inference.ErrTooShort)
	}
	sub := make([]inference.Series, len(idx))
	for k, i := range idx {
		sub[k] = series[i]
	}
	fc, err := m.opts.Fallback.Forecast(ctx, sub, horizon)
	if err != nil {
		return fmt.Errorf("%s: fallback %s: %w", m.card.Label(), m.opts.Fallback.Name(), err)
	}
	for k, i := range idx {
		reason, _ := m.tooShort(series[i])
		fc[k].Fallback = reason
		out[i] = fc[k]
	}
	return nil
}

func (m *Model) runChunk(series []inference.Series, steps []int64, chunk []int, horizon int, out []inference.Forecast) error {
	w, err := m.workspace()
	if err != nil {
		return err
	}
	defer m.release(w)
	n := len(chunk)
	t, err := w.tensors(n)
	if err != nil {
		return fmt.Errorf("%s: tensors for batch %d: %w", m.card.Label(), n, err)
	}
	W, H := m.card.Window, m.card.HorizonSteps
	ne, nh := W*len(EncoderFeatures), H*len(HorizonFeatures)
	for k, i := range chunk {
		w.scales[k] = buildFeatures(series[i], steps[i], W, H, w.enc[k*ne:(k+1)*ne], w.dec[k*nh:(k+1)*nh])
	}
	if err := m.session.Run([]ort.Value{t.x, t.xh}, []ort.Value{t.y}); err != nil {
		return fmt.Errorf("%s: run batch of %d: %w", m.card.Label(), n, err)
	}
	y := t.y.GetData()
	for k, i := range chunk {
		out[i] = m.toForecast(series[i], y[k*H*3:(k+1)*H*3], w.scales[k], horizon)
	}
	return nil
}

func (m *Model) toForecast(s inference.Series, y []float32, ws windowScale, horizon int) inference.Forecast {
	f := inference.Forecast{ID: s.ID, Start: s.End(), Step: s.Step, Model: m.card.Label(),
		P10: make([]float64, horizon), P50: make([]float64, horizon), P90: make([]float64, horizon)}
	for h := 0; h < horizon; h++ {
		// The model's outputs never cross and unscale is monotone, so the
		// quantiles stay ordered after clamping at zero.
		f.P10[h], f.P50[h], f.P90[h] = ws.unscale(y[3*h]), ws.unscale(y[3*h+1]), ws.unscale(y[3*h+2])
	}
	return f
}

// onnxWorkspace is one in-flight Run's buffers; the tensors wrap them, so
// filling the buffers fills the tensors.
type onnxWorkspace struct {
	enc, dec, y []float32
	scales      []windowScale
	byBatch     map[int]*onnxTensors
	window      int
	horizon     int
}

type onnxTensors struct{ x, xh, y *ort.Tensor[float32] }

// maxCachedShapes bounds the tensors kept per workspace (one per batch size).
const maxCachedShapes = 4

func (m *Model) workspace() (*onnxWorkspace, error) {
	m.poolMu.Lock()
	defer m.poolMu.Unlock()
	if n := len(m.pool); n > 0 {
		w := m.pool[n-1]
		m.pool = m.pool[:n-1]
		return w, nil
	}
	b, W, H := m.opts.MaxBatch, m.card.Window, m.card.HorizonSteps
	return &onnxWorkspace{
		enc: make([]float32, b*W*len(EncoderFeatures)), dec: make([]float32, b*H*len(HorizonFeatures)),
		y: make([]float32, b*H*len(inference.Quantiles)), scales: make([]windowScale, b),
		byBatch: map[int]*onnxTensors{}, window: W, horizon: H,
	}, nil
}

func (m *Model) release(w *onnxWorkspace) {
	m.poolMu.Lock()
	defer m.poolMu.Unlock()
	m.pool = append(m.pool, w)
}

func (w *onnxWorkspace) tensors(n int) (*onnxTensors, error) {
	if t, ok := w.byBatch[n]; ok {
		return t, nil
	}
	if len(w.byBatch) >= maxCachedShapes {
		for k, t := range w.byBatch {
			t.destroy()
			delete(w.byBatch, k)
			break
		}
	}
	x, err := ort.NewTensor(ort.NewShape(int64(n), int64(w.window), int64(len(EncoderFeatures))), w.enc)
	if err != nil {
		return nil, err
	}
	xh, err := ort.NewTensor(ort.NewShape(int64(n), int64(w.horizon), int64(len(HorizonFeatures))), w.dec)
	if err != nil {
		x.Destroy()
		return nil, err
	}
	y, err := ort.NewTensor(ort.NewShape(int64(n), int64(w.horizon), int64(len(inference.Quantiles))), w.y)
	if err != nil {
		x.Destroy()
		xh.Destroy()
		return nil, err
	}
	t := &onnxTensors{x, xh, y}
	w.byBatch[n] = t
	return t, nil
}

func (t *onnxTensors) destroy() {
	t.x.Destroy()
	t.xh.Destroy()
	t.y.Destroy()
}

func (w *onnxWorkspace) destroy() {
	for _, t := range w.byBatch {
		t.destroy()
	}
	w.byBatch = nil
}

var _ inference.Forecaster = (*Model)(nil)
