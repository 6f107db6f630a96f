package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/metrics"
)

// ErrNotSupported is returned by a Models without champion/challenger.
var ErrNotSupported = errors.New("not supported by this build")

// ModelInfo is one LB's models.
type ModelInfo struct {
	LB         string `json:"lb"`
	Current    string `json:"current"`
	Calibrated bool   `json:"calibrated"`
	Challenger string `json:"challenger,omitempty"`
}

// ModelChange is one promotion or rollback.
type ModelChange struct {
	At     time.Time `json:"at"`
	LB     string    `json:"lb"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// ModelsView is GET /v1/models.
type ModelsView struct {
	LBs     []ModelInfo   `json:"lbs"`
	History []ModelChange `json:"history"`
}

// NoModels is the registry of a serve without champion/challenger: the
// current model per LB is what the scheduler reports, nothing else.
type NoModels struct{}

// Models returns nothing: the server fills the current model in.
func (NoModels) Models(context.Context) (ModelsView, error) { return ModelsView{}, nil }

// Promote is not supported.
func (NoModels) Promote(context.Context, string, string) error { return ErrNotSupported }

// Rollback is not supported.
func (NoModels) Rollback(context.Context, string) error { return ErrNotSupported }

func (s *Server) models(c *gin.Context) {
	mv, err := s.cfg.Models.Models(c)
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "models: "+err.Error())
		return
	}
	have := map[string]bool{}
	for _, m := range mv.LBs {
		have[m.LB] = true
	}
	for _, l := range s.cfg.Sched.Status().LBs {
		if !have[l.LB] {
			mv.LBs = append(mv.LBs, ModelInfo{LB: l.LB, Current: l.Forecaster})
		}
	}
	if mv.History == nil {
		mv.History = []ModelChange{}
	}
	if mv.LBs == nil {
		mv.LBs = []ModelInfo{}
	}
	c.JSON(http.StatusOK, mv)
}

type promoteBody struct {
	Model string `json:"model"`
}

func (s *Server) promoteModel(c *gin.Context) {
	if _, ok := s.findLB(c); !ok {
		return
	}
	var b promoteBody
	if !bind(c, &b) {
		return
	}
	if b.Model == "" {
		failField(c, "model", "required: the model to promote (name-version)")
		return
	}
	s.modelChange(c, s.cfg.Models.Promote(c, c.Param("lb"), b.Model))
}

func (s *Server) rollbackModel(c *gin.Context) {
	if _, ok := s.findLB(c); !ok {
		return
	}
	s.modelChange(c, s.cfg.Models.Rollback(c, c.Param("lb")))
}

func (s *Server) modelChange(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ErrNotSupported):
		c.Set("audit_error", "not supported")
		fail(c, http.StatusNotImplemented, "model promotion and rollback are not available: this serve runs one forecaster without champion/challenger")
	case err != nil:
		c.Set("audit_error", err.Error())
		fail(c, http.StatusConflict, err.Error())
	default:
		s.models(c)
	}
}

// ModelAccuracy is one LB's, model's and horizon's forecast accuracy.
type ModelAccuracy struct {
	LB       string  `json:"lb"`
	Model    string  `json:"model"`
	Horizon  string  `json:"horizon_s"`
	N        int     `json:"n"`
	MAE      float64 `json:"mae"`
	Pinball  float64 `json:"pinball"`
	Coverage float64 `json:"coverage"` // share of actuals at or below p90
}

// StoreAccuracy averages the forecast_error records the feedback loop
// writes (DESIGN.md 3.4).
type StoreAccuracy struct{ Src metrics.Source }

// Accuracy groups the errors since since by LB, model and horizon.
func (a StoreAccuracy) Accuracy(ctx context.Context, lb string, since time.Time) ([]ModelAccuracy, error) {
	sel := metrics.Selector{Measurement: metrics.MeasForecastError}
	if lb != "" {
		sel.Tags = map[string]string{metrics.TagLB: lb}
	}
	recs, err := a.Src.Records(ctx, sel, since, time.Now().Add(time.Second))
	if err != nil {
		return nil, err
	}
	byKey := map[[3]string]*ModelAccuracy{}
	for _, r := range recs {
		k := [3]string{r.Tags[metrics.TagLB], r.Tags[metrics.TagModel], r.Tags[metrics.TagHorizon]}
		m := byKey[k]
		if m == nil {
			m = &ModelAccuracy{LB: k[0], Model: k[1], Horizon: k[2]}
			byKey[k] = m
		}
		m.N++
		m.MAE += r.Fields[metrics.FieldAbsError]
		m.Pinball += r.Fields[metrics.FieldPinball]
		m.Coverage += r.Fields[metrics.FieldCovered]
	}
	out := make([]ModelAccuracy, 0, len(byKey))
	for _, m := range byKey {
		n := float64(m.N)
		m.MAE, m.Pinball, m.Coverage = m.MAE/n, m.Pinball/n, m.Coverage/n
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].LB+out[i].Model+out[i].Horizon < out[j].LB+out[j].Model+out[j].Horizon
	})
	return out, nil
}

// AccuracyView is GET /v1/accuracy.
type AccuracyView struct {
	Since  time.Time       `json:"since"`
	Models []ModelAccuracy `json:"models"`
}

func (s *Server) accuracy(c *gin.Context) {
	window := 24 * time.Hour
	if v := c.Query("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 90*24*time.Hour {
			failField(c, "window", "want a positive duration up to 2160h, got "+quote(v))
			return
		}
		window = d
	}
	since := s.cfg.Now().Add(-window).UTC()
	out := AccuracyView{Since: since, Models: []ModelAccuracy{}}
	if s.cfg.Accuracy != nil {
		ms, err := s.cfg.Accuracy.Accuracy(c, c.Query("lb"), since)
		if err != nil {
			fail(c, http.StatusServiceUnavailable, "accuracy: "+err.Error())
			return
		}
		out.Models = append(out.Models, ms...)
	}
	c.JSON(http.StatusOK, out)
}
