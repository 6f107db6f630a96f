package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
)

// SeriesIn is one uploaded series.
type SeriesIn struct {
	ID          string     `json:"id"`
	Start       time.Time  `json:"start"`
	StepSeconds float64    `json:"step_seconds"`
	Values      []*float64 `json:"values"` // null = missing
}

// ForecastRequest is the body of POST /v1/forecast.
type ForecastRequest struct {
	Horizon string     `json:"horizon"` // a duration; default [forecast] horizon
	Series  []SeriesIn `json:"series"`
}

// ForecastOut is one series' forecast.
type ForecastOut struct {
	ID          string    `json:"id"`
	Model       string    `json:"model"`
	Fallback    string    `json:"fallback,omitempty"`
	Start       time.Time `json:"start"`
	StepSeconds float64   `json:"step_seconds"`
	Points      []Band    `json:"points"`
}

// ForecastResponse is the answer of both forecast routes.
type ForecastResponse struct {
	Forecaster string        `json:"forecaster"`
	Forecasts  []ForecastOut `json:"forecasts"`
}

// MaxSeries bounds one batch.
const MaxSeries = 1000

// forecastLB forecasts referenced series: the demand history of the named
// LBs (?lb=a&lb=b), read from the metrics store, in one batch.
func (s *Server) forecastLB(c *gin.Context) {
	names := c.QueryArray("lb")
	if len(names) == 0 {
		failField(c, "lb", "required: the load balancer(s) to forecast (?lb=NAME, repeatable)")
		return
	}
	horizon, ok := s.horizon(c, c.Query("horizon"))
	if !ok {
		return
	}
	known := map[string]bool{}
	for _, l := range s.cfg.Sched.Status().LBs {
		known[l.LB] = true
	}
	var batch []inference.Series
	end := metrics.AlignDown(s.cfg.Now(), s.cfg.HistoryStep)
	for _, n := range names {
		if !known[n] {
			fail(c, http.StatusNotFound, "load balancer "+quote(n)+" is not managed by this service")
			return
		}
		sel, field := metrics.Demand(n)
		r, err := s.cfg.Store.History(c, metrics.Query{Select: sel, Field: field, From: end.Add(-s.cfg.History), To: end, Step: s.cfg.HistoryStep})
		if err != nil {
			fail(c, http.StatusServiceUnavailable, "read history of "+n+": "+err.Error())
			return
		}
		batch = append(batch, inference.Series{ID: n, Start: r.Start, Step: r.Step, Values: r.Values})
	}
	s.runForecast(c, batch, horizon)
}

func (s *Server) forecastUpload(c *gin.Context) {
	var req ForecastRequest
	if !bind(c, &req) {
		return
	}
	horizon, ok := s.horizon(c, req.Horizon)
	if !ok {
		return
	}
	switch {
	case len(req.Series) == 0:
		failField(c, "series", "at least one series is required")
		return
	case len(req.Series) > MaxSeries:
		failField(c, "series", fmt.Sprintf("%d series, more than the limit of %d", len(req.Series), MaxSeries))
		return
	}
	batch := make([]inference.Series, len(req.Series))
	for i, in := range req.Series {
		ser, field, msg := in.series(i)
		if field != "" {
			failField(c, field, msg)
			return
		}
		batch[i] = ser
	}
	s.runForecast(c, batch, horizon)
}

func (in SeriesIn) series(i int) (inference.Series, string, string) {
	at := func(f string) string { return fmt.Sprintf("series[%d].%s", i, f) }
	switch {
	case in.Start.IsZero():
		return inference.Series{}, at("start"), "required (RFC3339)"
	case !(in.StepSeconds > 0) || in.StepSeconds > 86400*7:
		return inference.Series{}, at("step_seconds"), "must be in (0, 604800]"
	case len(in.Values) == 0:
		return inference.Series{}, at("values"), "at least one value is required"
	}
	id := in.ID
	if id == "" {
		id = fmt.Sprintf("series-%d", i)
	}
	out := inference.Series{ID: id, Start: in.Start, Step: time.Duration(in.StepSeconds * float64(time.Second)), Values: make([]float64, len(in.Values))}
	for j, v := range in.Values {
		switch {
		case v == nil:
			out.Values[j] = math.NaN()
		case *v < 0:
			return inference.Series{}, at(fmt.Sprintf("values[%d]", j)), fmt.Sprintf("%v is negative (demand)", *v)
		default:
			out.Values[j] = *v
		}
	}
	return out, "", ""
}

func (s *Server) horizon(c *gin.Context, v string) (time.Duration, bool) {
	if v == "" {
		return s.cfg.Horizon, true
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 7*24*time.Hour {
		failField(c, "horizon", "want a positive duration up to 168h such as 30m, got "+quote(v))
		return 0, false
	}
	return d, true
}

// runForecast makes one batched call for every series (steps from each
// series' own step; the batch uses the largest count).
func (s *Server) runForecast(c *gin.Context, batch []inference.Series, horizon time.Duration) {
	steps := 1
	for _, b := range batch {
		steps = max(steps, int(math.Ceil(float64(horizon)/float64(b.Step))))
	}
	if steps > 10000 {
		failField(c, "horizon", fmt.Sprintf("%d steps ahead, more than the limit of 10000", steps))
		return
	}
	fcs, err := s.cfg.Forecaster.Forecast(c, batch, steps)
	if err != nil {
		code := http.StatusInternalServerError
		if strings.Contains(err.Error(), inference.ErrTooShort.Error()) {
			code = http.StatusUnprocessableEntity
		}
		fail(c, code, "forecast: "+err.Error())
		return
	}
	out := ForecastResponse{Forecaster: s.cfg.Forecaster.Name(), Forecasts: make([]ForecastOut, len(fcs))}
	for i, f := range fcs {
		out.Forecasts[i] = ForecastOut{ID: batch[i].ID, Model: f.Model, Fallback: f.Fallback, Start: f.Start,
			StepSeconds: f.Step.Seconds(), Points: bands(f)}
	}
	c.JSON(http.StatusOK, out)
}

// bind decodes a JSON body strictly (unknown fields refused) and answers
// 400 naming the field, or 413 past the body limit.
func bind(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	switch {
	case isTooLarge(err):
		fail(c, http.StatusRequestEntityTooLarge, "request body larger than the limit")
	case errors.As(err, &te):
		failField(c, te.Field, "want a "+te.Type.String()+", got a JSON "+te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		failField(c, f, "unknown field")
	default:
		failField(c, "body", "not valid JSON: "+err.Error())
	}
	return false
}
