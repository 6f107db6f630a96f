package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// BenchmarkForecastUpload: POST /v1/forecast with 100 series of 2 days at
// 1-minute steps through the router, the real seasonal-naive baseline
// behind it (decode, validate, forecast, encode).
func BenchmarkForecastUpload(b *testing.B) {
	fc, err := inference.Baseline("seasonal-naive")
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Config{Forecaster: fc, Horizon: 30 * time.Minute, MaxBody: 64 << 20})
	var req ForecastRequest
	for i := range 100 {
		s := SeriesIn{ID: fmt.Sprint(i), Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), StepSeconds: 60}
		for j := range 2880 {
			v := 100 + 50*math.Sin(2*math.Pi*float64(j)/1440)
			s.Values = append(s.Values, &v)
		}
		req.Series = append(req.Series, s)
	}
	body, _ := json.Marshal(req)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/forecast", bytes.NewReader(body))
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
