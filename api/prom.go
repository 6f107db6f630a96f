package api

import (
	"context"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// promMetrics is the Prometheus side: gauges read from the scheduler's
// status at scrape time (so they are never stale or duplicated) and a
// counter of decisions fed by the recorder.
type promMetrics struct {
	reg     *prometheus.Registry
	actions *prometheus.CounterVec
	handler gin.HandlerFunc
}

var phases = []scheduler.Phase{scheduler.Idle, scheduler.Provisioning, scheduler.WarmingUp, scheduler.Ready,
	scheduler.CuttingOver, scheduler.Active, scheduler.Draining, scheduler.Retired, scheduler.RollingBack}

func newPromMetrics(s *Server) *promMetrics {
	m := &promMetrics{reg: prometheus.NewRegistry()}
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shadowscale_actions_total",
		Help: "Decisions taken per load balancer, by kind (first word of the decision)."}, []string{"lb", "action"})
	m.reg.MustRegister(m.actions, statusCollector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = gin.WrapH(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return m
}

func (s *Server) promHandler(c *gin.Context) { s.metrics.handler(c) }

// CountDecision counts one tick's decision for lb (the Recorder calls it).
func (s *Server) CountDecision(lb, decision string) {
	s.metrics.actions.WithLabelValues(lb, actionKind(decision)).Inc()
}

// actionKind is the decision's first word ("provision 2: ..." → provision).
func actionKind(d string) string {
	f := strings.FieldsFunc(d, func(r rune) bool { return r == ' ' || r == ':' })
	if len(f) == 0 {
		return "none"
	}
	return f[0]
}

type statusCollector struct{ s *Server }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("shadowscale_"+name, help, labels, nil)
}

var (
	dDemand    = desc("demand_requests_per_second", "Observed demand of the load balancer.", "lb")
	dForecast  = desc("forecast_requests_per_second", "Forecast demand of the next step, per quantile.", "lb", "quantile", "model")
	dCapacity  = desc("capacity_requests_per_second", "Ready capacity: serving instances times capacity per instance.", "lb")
	dPerInst   = desc("capacity_per_instance_requests_per_second", "Capacity of one instance, configured or learned.", "lb")
	dInstances = desc("instances", "Instances by role (primary serving, shadow pool).", "lb", "role")
	dNeeded    = desc("needed_instances", "Instances the plan needs within the provisioning lead time.", "lb")
	dPhase     = desc("pool_phase", "1 for the shadow pool's current phase (Idle without a pool).", "lb", "phase")
	dShare     = desc("pool_share_ratio", "Share of the load balancer's traffic sent to the shadow pool.", "lb")
	dPaused    = desc("paused", "1 while the operator has paused the load balancer.", "lb")
	dRetired   = desc("pools_retired_total", "Shadow pools closed normally.", "lb")
	dRolled    = desc("pools_rolled_back_total", "Shadow pools rolled back.", "lb")
	dFailures  = desc("forecaster_failures", "Consecutive failures of the primary forecaster.", "lb")
	dKill      = desc("kill_switch", "1 while the global kill switch is on.")
	dDry       = desc("dry_run", "1 while dry-run is on.")
	dTicks     = desc("ticks_total", "Control loop ticks completed.")
	dMissed    = desc("missed_ticks_total", "Ticks skipped because the previous one overran.")
	dLastTick  = desc("last_tick_timestamp_seconds", "Time of the last completed tick.")
	dTickErr   = desc("last_tick_failed", "1 when the last tick reported an error.")
	dStep      = desc("tick_step_duration_seconds", "Duration of each step of the last tick.", "step")
	dScrapes   = desc("collector_scrapes_total", "HAProxy scrapes by the metrics collector.")
	dCollErr   = desc("collector_errors_total", "Failed collector reads and writes.")
	dLag       = desc("collector_lag_seconds", "From the collector's tick to its write finishing.")
	dMAE       = desc("forecast_abs_error_requests_per_second", "Mean absolute error of the last 24h.", "lb", "model", "horizon_s")
	dPinball   = desc("forecast_pinball_loss", "Mean pinball loss of the last 24h.", "lb", "model", "horizon_s")
	dCoverage  = desc("forecast_coverage_ratio", "Share of actuals at or below p90, last 24h.", "lb", "model", "horizon_s")
)

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dDemand, dForecast, dCapacity, dPerInst, dInstances, dNeeded, dPhase, dShare,
		dPaused, dRetired, dRolled, dFailures, dKill, dDry, dTicks, dMissed, dLastTick, dTickErr, dStep, dScrapes, dCollErr, dLag,
		dMAE, dPinball, dCoverage} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	// promhttp passes no context: bound the reads of one scrape.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := s.cfg.Sched.Status()
	fcs, _ := s.cfg.Sched.Forecasts()
	paused := map[string]time.Time{}
	if ctl, err := s.cfg.Sched.Controls(ctx); err == nil {
		paused = ctl.Paused
	}
	for _, l := range st.LBs {
		c.collectLB(ch, l, fcs, paused)
	}
	gauge(ch, dKill, b2f(st.KillSwitch))
	gauge(ch, dDry, b2f(st.DryRun))
	counter(ch, dTicks, float64(max(st.Ticks, 0)))
	counter(ch, dMissed, float64(st.MissedTicks))
	if !st.Heartbeat.IsZero() {
		gauge(ch, dLastTick, float64(st.Heartbeat.UnixNano())/1e9)
	}
	gauge(ch, dTickErr, b2f(st.Error != ""))
	for _, step := range st.Steps {
		gauge(ch, dStep, step.Duration.Seconds(), step.Step)
	}
	if s.cfg.Collector != nil {
		cs := s.cfg.Collector()
		counter(ch, dScrapes, float64(cs.Scrapes))
		counter(ch, dCollErr, float64(cs.Errors))
		gauge(ch, dLag, cs.LastLag.Seconds())
	}
	c.collectAccuracy(ctx, ch)
}

func (c statusCollector) collectLB(ch chan<- prometheus.Metric, l scheduler.LBStatus, fcs map[string]inference.Forecast, paused map[string]time.Time) {
	if o := l.Plan.Reason.Observed; o != nil {
		gauge(ch, dDemand, *o, l.LB)
	}
	if f, ok := fcs[l.LB]; ok && len(f.P50) > 0 {
		gauge(ch, dForecast, f.P10[0], l.LB, "p10", f.Model)
		gauge(ch, dForecast, f.P50[0], l.LB, "p50", f.Model)
		gauge(ch, dForecast, f.P90[0], l.LB, "p90", f.Model)
	}
	gauge(ch, dCapacity, readyCapacity(l), l.LB)
	gauge(ch, dPerInst, l.Plan.Reason.Capacity, l.LB)
	gauge(ch, dInstances, float64(l.Plan.Current), l.LB, "primary")
	gauge(ch, dInstances, float64(l.Plan.Pool), l.LB, "pool")
	gauge(ch, dNeeded, float64(l.Plan.Needed), l.LB)
	for _, p := range phases {
		gauge(ch, dPhase, b2f(l.Phase == p), l.LB, string(p))
	}
	gauge(ch, dShare, float64(l.Share)/100, l.LB)
	_, isPaused := paused[l.LB]
	gauge(ch, dPaused, b2f(isPaused), l.LB)
	counter(ch, dRetired, float64(l.Retired), l.LB)
	counter(ch, dRolled, float64(l.RolledBack), l.LB)
	gauge(ch, dFailures, float64(l.Failures), l.LB)
}

func (c statusCollector) collectAccuracy(ctx context.Context, ch chan<- prometheus.Metric) {
	s := c.s
	if s.cfg.Accuracy == nil {
		return
	}
	ms, err := s.cfg.Accuracy.Accuracy(ctx, "", s.cfg.Now().Add(-24*time.Hour))
	if err != nil {
		return
	}
	for _, m := range ms {
		gauge(ch, dMAE, m.MAE, m.LB, m.Model, m.Horizon)
		gauge(ch, dPinball, m.Pinball, m.LB, m.Model, m.Horizon)
		gauge(ch, dCoverage, m.Coverage, m.LB, m.Model, m.Horizon)
	}
}
