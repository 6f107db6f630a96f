// Package api is the operator's surface of serve: the REST API (gin), the
// Prometheus /metrics, /healthz and /readyz, the OpenAPI document and the
// status page. It reads the scheduler, the metrics store and the feedback
// loop through the small interfaces below and changes nothing but through
// the scheduler's controls.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Scheduler is what the API reads from and asks of the control loop
// (*scheduler.Scheduler).
type Scheduler interface {
	Status() scheduler.Status
	Controls(ctx context.Context) (scheduler.ControlView, error)
	Forecasts() (map[string]inference.Forecast, time.Time)
	Pause(ctx context.Context, lb string, now time.Time) error
	Resume(ctx context.Context, lb string) error
	ForceRollback(ctx context.Context, lb, reason string, now time.Time) (string, error)
	SetKillSwitch(ctx context.Context, on bool) error
	SetDryRun(ctx context.Context, on bool) error
	AddEvent(ctx context.Context, e scheduler.OperatorEvent) (scheduler.OperatorEvent, error)
	DeleteEvent(ctx context.Context, id string) error
}

// Models is the model registry as serve sees it: the current model per LB,
// a challenger, their history, and promotion (the feedback loop's
// champion/challenger). ErrNotSupported where a build has none of it.
type Models interface {
	Models(ctx context.Context) (ModelsView, error)
	Promote(ctx context.Context, lb, model string) error
	Rollback(ctx context.Context, lb string) error
}

// Accuracy reports forecast accuracy per LB and model.
type Accuracy interface {
	Accuracy(ctx context.Context, lb string, since time.Time) ([]ModelAccuracy, error)
}

// Probe is one readiness check (store, HAProxy, forecaster).
type Probe struct {
	Name  string
	Check func(ctx context.Context) error
}

// Config is everything the API needs.
type Config struct {
	Sched      Scheduler
	Store      metrics.Source
	Forecaster inference.Forecaster // the one serve uses (batched)
	Models     Models
	Accuracy   Accuracy
	// ConfigEvents are the events of the configured events files (read-only
	// here: the file is their source).
	ConfigEvents []scheduler.OperatorEvent
	Probes       []Probe
	Tick         time.Duration
	Horizon      time.Duration
	HistoryStep  time.Duration // the step of the demand history
	History      time.Duration // how much history a forecast sees
	Token        string        // bearer token; "" refuses every mutating call
	ReadAuth     bool          // require the token on reads too
	MaxBody      int64         // request body limit in bytes
	Collector    func() CollectorStatus
	Log          *slog.Logger
	Now          func() time.Time
	ExtraRoutes  func(r *gin.Engine) // tests only
}

// CollectorStatus is the metrics collector's health for /metrics.
type CollectorStatus struct {
	Scrapes, Errors uint64
	LastTick        time.Time
	LastLag         time.Duration
}

// Server is the HTTP surface.
type Server struct {
	cfg     Config
	engine  *gin.Engine
	metrics *promMetrics
	start   time.Time
}

// New builds the router. It does no I/O.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Models == nil {
		cfg.Models = NoModels{}
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, engine: gin.New(), start: cfg.Now()}
	s.metrics = newPromMetrics(s)
	s.engine.Use(gin.Recovery(), s.limitBody)
	s.routes()
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists the registered method and path pairs (gin's syntax).
func (s *Server) Routes() [][2]string {
	var out [][2]string
	for _, r := range s.engine.Routes() {
		out = append(out, [2]string{r.Method, r.Path})
	}
	return out
}

func (s *Server) routes() {
	r := s.engine
	r.GET("/", s.page)
	r.GET("/static/*file", s.static)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.promHandler)
	r.GET("/openapi.json", s.openapi)

	read := r.Group("/v1", s.readAuth)
	read.GET("/lbs", s.listLBs)
	read.GET("/lbs/:lb", s.getLB)
	read.GET("/lbs/:lb/history", s.lbHistory)
	read.GET("/lbs/:lb/export", s.exportLB)
	read.GET("/forecast", s.forecastLB)
	read.POST("/forecast", s.forecastUpload) // computes, changes nothing
	read.GET("/accuracy", s.accuracy)
	read.GET("/models", s.models)
	read.GET("/events", s.listEvents)
	read.GET("/controls", s.getControls)

	write := r.Group("/v1", s.writeAuth, s.audit)
	write.POST("/lbs/:lb/pause", s.pause)
	write.POST("/lbs/:lb/resume", s.resume)
	write.POST("/lbs/:lb/rollback", s.rollback)
	write.PUT("/controls/kill-switch", s.setKillSwitch)
	write.PUT("/controls/dry-run", s.setDryRun)
	write.POST("/events", s.createEvent)
	write.DELETE("/events/:id", s.deleteEvent)
	write.POST("/models/:lb/promote", s.promoteModel)
	write.POST("/models/:lb/rollback", s.rollbackModel)
	if s.cfg.ExtraRoutes != nil {
		s.cfg.ExtraRoutes(r)
	}
}
