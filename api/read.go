package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Band is a forecast's p10/p50/p90 at one time.
type Band struct {
	T   time.Time `json:"t"`
	P10 float64   `json:"p10"`
	P50 float64   `json:"p50"`
	P90 float64   `json:"p90"`
}

// ForecastView is one LB's current forecast.
type ForecastView struct {
	Model       string    `json:"model"`
	Fallback    string    `json:"fallback,omitempty"`
	Calibrated  bool      `json:"calibrated"`
	Start       time.Time `json:"start"`
	StepSeconds float64   `json:"step_seconds"`
	Next        Band      `json:"next"`
	Points      []Band    `json:"points,omitempty"`
}

// LBView is one load balancer in the list.
type LBView struct {
	LB                  string        `json:"lb"`
	Phase               string        `json:"phase"`
	Pool                string        `json:"pool,omitempty"`
	Share               int           `json:"share"`
	Paused              bool          `json:"paused"`
	Demand              *float64      `json:"demand"` // req/s now; null when missing
	Capacity            float64       `json:"capacity"`
	CapacityPerInstance float64       `json:"capacity_per_instance"`
	Instances           int           `json:"instances"`
	PoolSize            int           `json:"pool_size"`
	Needed              int           `json:"needed"`
	Decision            string        `json:"decision"`
	Forecast            *ForecastView `json:"forecast"`
}

// LBDetail is one load balancer with its plan and its forecast's points.
type LBDetail struct {
	LBView
	Plan     scheduler.Plan     `json:"plan"`
	Servers  []scheduler.Server `json:"servers"`
	Failures int                `json:"forecaster_failures"`
	Last     string             `json:"last_failure,omitempty"`
	Cooldown *time.Time         `json:"cooldown_until"`
	Retired  int                `json:"retired"`
	Rolled   int                `json:"rolled_back"`
}

// StatusView is GET /v1/lbs: the loop's health and every LB.
type StatusView struct {
	At          time.Time             `json:"at"`
	Ticks       int64                 `json:"ticks"`
	MissedTicks int64                 `json:"missed_ticks"`
	Heartbeat   time.Time             `json:"heartbeat"`
	Error       string                `json:"error,omitempty"`
	Controls    scheduler.ControlView `json:"controls"`
	LBs         []LBView              `json:"lbs"`
}

func (s *Server) listLBs(c *gin.Context) {
	ctl, err := s.cfg.Sched.Controls(c)
	if err != nil {
		fail(c, http.StatusInternalServerError, "read controls: "+err.Error())
		return
	}
	st := s.cfg.Sched.Status()
	fcs, _ := s.cfg.Sched.Forecasts()
	cal := s.calibrated(c)
	out := StatusView{At: st.At, Ticks: st.Ticks, MissedTicks: st.MissedTicks, Heartbeat: st.Heartbeat,
		Error: st.Error, Controls: ctl, LBs: make([]LBView, 0, len(st.LBs))}
	for _, l := range st.LBs {
		out.LBs = append(out.LBs, lbView(l, ctl, fcs, cal, false))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getLB(c *gin.Context) {
	l, ok := s.findLB(c)
	if !ok {
		return
	}
	ctl, err := s.cfg.Sched.Controls(c)
	if err != nil {
		fail(c, http.StatusInternalServerError, "read controls: "+err.Error())
		return
	}
	fcs, _ := s.cfg.Sched.Forecasts()
	d := LBDetail{LBView: lbView(l, ctl, fcs, s.calibrated(c), true), Plan: l.Plan, Servers: l.Servers,
		Failures: l.Failures, Last: l.LastFailure, Retired: l.Retired, Rolled: l.RolledBack}
	if d.Servers == nil {
		d.Servers = []scheduler.Server{}
	}
	if !l.Cooldown.IsZero() {
		cd := l.Cooldown
		d.Cooldown = &cd
	}
	c.JSON(http.StatusOK, d)
}

// findLB answers 404 for an LB the service does not manage.
func (s *Server) findLB(c *gin.Context) (scheduler.LBStatus, bool) {
	name := c.Param("lb")
	for _, l := range s.cfg.Sched.Status().LBs {
		if l.LB == name {
			return l, true
		}
	}
	fail(c, http.StatusNotFound, "load balancer "+quote(name)+" is not managed by this service")
	return scheduler.LBStatus{}, false
}

func lbView(l scheduler.LBStatus, ctl scheduler.ControlView, fcs map[string]inference.Forecast, cal map[string]bool, points bool) LBView {
	_, paused := ctl.Paused[l.LB]
	v := LBView{LB: l.LB, Phase: string(l.Phase), Pool: l.Pool, Share: l.Share, Paused: paused,
		Demand: l.Plan.Reason.Observed, Capacity: readyCapacity(l), CapacityPerInstance: l.Plan.Reason.Capacity,
		Instances: l.Plan.Current, PoolSize: l.Plan.Pool, Needed: l.Plan.Needed, Decision: l.Plan.Decision}
	if f, ok := fcs[l.LB]; ok && len(f.P50) > 0 {
		v.Forecast = forecastView(f, cal[l.LB], points)
	}
	return v
}

func forecastView(f inference.Forecast, calibrated, points bool) *ForecastView {
	fv := &ForecastView{Model: f.Model, Fallback: f.Fallback, Calibrated: calibrated, Start: f.Start,
		StepSeconds: f.Step.Seconds(), Next: Band{T: f.Start, P10: f.P10[0], P50: f.P50[0], P90: f.P90[0]}}
	if points {
		fv.Points = bands(f)
	}
	return fv
}

func bands(f inference.Forecast) []Band {
	out := make([]Band, len(f.P50))
	for i := range f.P50 {
		out[i] = Band{T: f.Start.Add(time.Duration(i) * f.Step), P10: f.P10[i], P50: f.P50[i], P90: f.P90[i]}
	}
	return out
}

// calibrated says per LB whether its current model is calibrated.
func (s *Server) calibrated(c *gin.Context) map[string]bool {
	out := map[string]bool{}
	mv, err := s.cfg.Models.Models(c)
	if err != nil {
		return out
	}
	for _, m := range mv.LBs {
		out[m.LB] = m.Calibrated
	}
	return out
}

func (s *Server) getControls(c *gin.Context) {
	ctl, err := s.cfg.Sched.Controls(c)
	if err != nil {
		fail(c, http.StatusInternalServerError, "read controls: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, ctl)
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
