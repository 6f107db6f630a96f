package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/scheduler"
)

// controlError maps the scheduler's sentinel errors onto status codes and
// keeps the message for the audit line.
func controlError(c *gin.Context, err error) {
	c.Set("audit_error", err.Error())
	switch {
	case errors.Is(err, scheduler.ErrUnknownLB), errors.Is(err, scheduler.ErrNoEvent):
		fail(c, http.StatusNotFound, err.Error())
	case errors.Is(err, scheduler.ErrNoPool):
		fail(c, http.StatusConflict, err.Error())
	default:
		fail(c, http.StatusInternalServerError, err.Error())
	}
}

// readBody binds an optional JSON body: an empty one is fine.
func readBody(c *gin.Context, v any) bool {
	if c.Request.ContentLength == 0 {
		return true
	}
	return bind(c, v)
}

func (s *Server) answerControls(c *gin.Context) {
	ctl, err := s.cfg.Sched.Controls(c)
	if err != nil {
		controlError(c, err)
		return
	}
	c.JSON(http.StatusOK, ctl)
}

func (s *Server) pause(c *gin.Context) {
	if err := s.cfg.Sched.Pause(c, c.Param("lb"), s.cfg.Now()); err != nil {
		controlError(c, err)
		return
	}
	s.answerControls(c)
}

func (s *Server) resume(c *gin.Context) {
	if err := s.cfg.Sched.Resume(c, c.Param("lb")); err != nil {
		controlError(c, err)
		return
	}
	s.answerControls(c)
}

type rollbackBody struct {
	Reason string `json:"reason"`
}

// RollbackResult is the answer of a forced rollback.
type RollbackResult struct {
	LB     string `json:"lb"`
	Result string `json:"result"`
}

func (s *Server) rollback(c *gin.Context) {
	var b rollbackBody
	if !readBody(c, &b) {
		return
	}
	if len(b.Reason) > 200 {
		failField(c, "reason", "longer than 200 characters")
		return
	}
	if b.Reason == "" {
		b.Reason = "no reason given"
	}
	msg, err := s.cfg.Sched.ForceRollback(c, c.Param("lb"), b.Reason, s.cfg.Now())
	if err != nil {
		controlError(c, err)
		return
	}
	c.JSON(http.StatusOK, RollbackResult{LB: c.Param("lb"), Result: msg})
}

type switchBody struct {
	On *bool `json:"on"`
}

func (s *Server) setSwitch(c *gin.Context, set func(on bool) error) {
	var b switchBody
	if !bind(c, &b) {
		return
	}
	if b.On == nil {
		failField(c, "on", "required: true or false")
		return
	}
	if err := set(*b.On); err != nil {
		controlError(c, err)
		return
	}
	s.answerControls(c)
}

func (s *Server) setKillSwitch(c *gin.Context) {
	s.setSwitch(c, func(on bool) error { return s.cfg.Sched.SetKillSwitch(c, on) })
}

func (s *Server) setDryRun(c *gin.Context) {
	s.setSwitch(c, func(on bool) error { return s.cfg.Sched.SetDryRun(c, on) })
}

// EventView is one external event; Source says whether it came from an
// events file (read-only here) or from the API.
type EventView struct {
	scheduler.OperatorEvent
	Source string `json:"source"`
}

// EventsView is GET /v1/events.
type EventsView struct {
	Events []EventView `json:"events"`
}

func (s *Server) listEvents(c *gin.Context) {
	ctl, err := s.cfg.Sched.Controls(c)
	if err != nil {
		controlError(c, err)
		return
	}
	lb := c.Query("lb")
	out := EventsView{Events: []EventView{}}
	add := func(evs []scheduler.OperatorEvent, src string) {
		for _, e := range evs {
			if lb == "" || e.LB == lb || e.LB == scheduler.AllLBs {
				out.Events = append(out.Events, EventView{OperatorEvent: e, Source: src})
			}
		}
	}
	add(s.cfg.ConfigEvents, "file")
	add(ctl.Events, "api")
	slices.SortStableFunc(out.Events, func(a, b EventView) int { return a.Start.Compare(b.Start) })
	c.JSON(http.StatusOK, out)
}

type eventBody struct {
	LB    string  `json:"lb"`
	Kind  string  `json:"kind"`
	Name  string  `json:"name"`
	Start string  `json:"start"`
	End   string  `json:"end"`
	Lift  float64 `json:"lift"`
}

func (b eventBody) event() (scheduler.OperatorEvent, string, string) {
	e := scheduler.OperatorEvent{LB: b.LB, Kind: b.Kind, Name: b.Name, Lift: b.Lift}
	var err error
	switch {
	case b.LB == "":
		return e, "lb", "required: a load balancer name, or * for all"
	case b.Kind == "" || len(b.Kind) > 64 || strings.ContainsAny(b.Kind, " ,="):
		return e, "kind", "required: a word of at most 64 characters (campaign, release, ...)"
	case len(b.Name) > 200:
		return e, "name", "longer than 200 characters"
	case !(b.Lift > 0) || math.IsInf(b.Lift, 0) || b.Lift > 1000:
		return e, "lift", fmt.Sprintf("must be a demand multiplier in (0, 1000], got %v", b.Lift)
	}
	if e.Start, err = time.Parse(time.RFC3339, b.Start); err != nil {
		return e, "start", "want an RFC3339 time, got " + quote(b.Start)
	}
	if e.End, err = time.Parse(time.RFC3339, b.End); err != nil {
		return e, "end", "want an RFC3339 time, got " + quote(b.End)
	}
	if !e.End.After(e.Start) || e.End.Sub(e.Start) > 90*24*time.Hour {
		return e, "end", "must be after start, by at most 2160h"
	}
	e.Start, e.End = e.Start.UTC(), e.End.UTC()
	return e, "", ""
}

func (s *Server) createEvent(c *gin.Context) {
	var b eventBody
	if !bind(c, &b) {
		return
	}
	e, field, msg := b.event()
	if field != "" {
		failField(c, field, msg)
		return
	}
	e, err := s.cfg.Sched.AddEvent(c, e)
	if err != nil {
		controlError(c, err)
		return
	}
	c.JSON(http.StatusCreated, EventView{OperatorEvent: e, Source: "api"})
}

func (s *Server) deleteEvent(c *gin.Context) {
	id := c.Param("id")
	if strings.HasPrefix(id, "file-") {
		c.Set("audit_error", "file event")
		fail(c, http.StatusConflict, "event "+quote(id)+" comes from an events file: edit the file instead")
		return
	}
	if err := s.cfg.Sched.DeleteEvent(c, id); err != nil {
		controlError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
