package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Health is GET /healthz: the loop is alive when a tick completed within
// the last two ticks (or, before the first one, while start-up is young).
type Health struct {
	OK                 bool      `json:"ok"`
	Ticks              int64     `json:"ticks"`
	LastTick           time.Time `json:"last_tick"`
	LastTickAgeSeconds *float64  `json:"last_tick_age_seconds"`
	Error              string    `json:"error,omitempty"`
}

// startGrace is how long a serve without any tick yet counts as alive
// (HAProxy may still be coming up).
const startGrace = 2 * time.Minute

func (s *Server) healthz(c *gin.Context) {
	st := s.cfg.Sched.Status()
	now := s.cfg.Now()
	h := Health{Ticks: st.Ticks, LastTick: st.Heartbeat, Error: st.Error}
	if !st.Heartbeat.IsZero() {
		age := now.Sub(st.Heartbeat).Seconds()
		h.LastTickAgeSeconds = &age
		h.OK = now.Sub(st.Heartbeat) <= 2*s.cfg.Tick+time.Second
	} else {
		h.OK = now.Sub(s.started()) < startGrace+2*s.cfg.Tick
	}
	code := http.StatusOK
	if !h.OK {
		code = http.StatusServiceUnavailable
	}
	c.JSON(code, h)
}

func (s *Server) started() time.Time { return s.start }

// Check is one readiness check's result.
type Check struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Ready is GET /readyz.
type Ready struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// readyz runs every probe (store, HAProxy, forecaster) in parallel, each
// bounded by a timeout.
func (s *Server) readyz(c *gin.Context) {
	out := Ready{OK: true, Checks: make([]Check, len(s.cfg.Probes))}
	var wg sync.WaitGroup
	for i, p := range s.cfg.Probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c, 3*time.Second)
			defer cancel()
			err := p.Check(ctx)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && err != nil {
				err = errors.New("no answer within 3s")
			}
			out.Checks[i] = Check{Name: p.Name, OK: err == nil}
			if err != nil {
				out.Checks[i].Error = err.Error()
			}
		}()
	}
	wg.Wait()
	for _, ch := range out.Checks {
		out.OK = out.OK && ch.OK
	}
	code := http.StatusOK
	if !out.OK {
		code = http.StatusServiceUnavailable
	}
	c.JSON(code, out)
}
