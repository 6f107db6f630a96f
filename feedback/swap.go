package feedback

import (
	"context"
	"io"
	"sync"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/inference/onnx"
)

// Swappable is the forecaster the scheduler holds: the champion, replaced
// in place when a challenger is promoted or a promotion rolled back, so no
// restart is needed. Without a champion it forecasts with the fallback.
type Swappable struct {
	mu       sync.RWMutex
	cur      inference.Forecaster
	label    string
	fallback inference.Forecaster
}

// NewSwappable serves cur (nil: the fallback).
func NewSwappable(cur, fallback inference.Forecaster) *Swappable {
	s := &Swappable{fallback: fallback}
	s.Swap(cur)
	return s
}

// Name is the serving model's label (name-version), or the fallback's.
func (s *Swappable) Name() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.label
}

// Forecast forecasts with the serving model.
func (s *Swappable) Forecast(ctx context.Context, series []inference.Series, horizon int) ([]inference.Forecast, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.cur
	if f == nil {
		f = s.fallback
	}
	return f.Forecast(ctx, series, horizon)
}

// Swap serves next from now on and closes the model it replaces; the write
// lock waits for forecasts in flight, so the old one is idle when closed.
func (s *Swappable) Swap(next inference.Forecaster) {
	s.mu.Lock()
	old := s.cur
	s.cur, s.label = next, Label(next)
	if next == nil {
		s.label = s.fallback.Name()
	}
	s.mu.Unlock()
	if c, ok := old.(io.Closer); ok && old != next {
		c.Close()
	}
}

// Close closes the serving model.
func (s *Swappable) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cur.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Label names a forecaster as its forecasts do: a model's name-version
// when it has a card, else its name.
func Label(f inference.Forecaster) string {
	if f == nil {
		return ""
	}
	if c, ok := f.(interface{ Card() onnx.ModelCard }); ok {
		return c.Card().Label()
	}
	return f.Name()
}
