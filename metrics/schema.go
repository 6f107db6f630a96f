package metrics

// The schema of DESIGN.md 3.4: measurement, tag and field names shared by
// every writer and reader, whichever store is behind them.
const (
	MeasHAProxy       = "haproxy"
	MeasApp           = "app"
	MeasForecast      = "forecast"
	MeasForecastError = "forecast_error"
	MeasEvent         = "event"
	MeasAction        = "action"

	TagLB       = "lb"
	TagBackend  = "backend"
	TagServer   = "server"
	TagInstance = "instance"
	TagModel    = "model"
	TagHorizon  = "horizon_s"
	TagKind     = "kind"

	// HAProxy's own names for the aggregate rows of a proxy, used as the
	// server tag of backend and frontend rows.
	ServerBackend  = "BACKEND"
	ServerFrontend = "FRONTEND"

	// haproxy fields: rates per second computed from HAProxy's cumulative
	// counters, and gauges as HAProxy reports them.
	FieldReqRate    = "req_rate"
	FieldSessRate   = "sess_rate"
	FieldErrRate    = "err_rate" // failed requests per second: 5xx, connection and response errors (haproxy.StatRow.Errors)
	FieldSessions   = "scur"
	FieldQueue      = "qcur"
	FieldRespTimeMS = "rtime_ms"
	FieldP10        = "p10"
	FieldP50        = "p50"
	FieldP90        = "p90"
	FieldHorizon    = "horizon_s"
	FieldAbsError   = "abs_error"
	FieldPinball    = "pinball"
	FieldCovered    = "covered"
	FieldLift       = "lift"
	FieldEnd        = "end" // Unix seconds
	TextName        = "name"
	TextReason      = "reason"
	// action fields: one record per LB per tick, the decision and what
	// led to it (written by the API's recorder).
	FieldShare       = "share"        // percent of the LB's traffic on the pool
	FieldNeeded      = "needed"       // instances needed within the lead time
	FieldCurrent     = "current"      // serving primary instances
	FieldPoolSize    = "pool_size"    // shadow pool instances
	FieldCapacity    = "capacity_rps" // ready capacity, req/s
	FieldPerInstance = "capacity_per_instance_rps"
	TextPhase        = "phase"
	KindDecision     = "decision" // the kind tag of a per-tick action
	AllLoadBalancers = "*"        // the lb tag of an event that affects every LB
)

// Demand selects an LB's request rate: the sum over its backends (primary
// and shadow) of their aggregate rows.
func Demand(lb string) (Selector, string) {
	return Selector{Measurement: MeasHAProxy, Tags: map[string]string{TagLB: lb, TagServer: ServerBackend}}, FieldReqRate
}

// Written lists, per measurement, the tags and fields the writers of this
// repository write: the collector (haproxy, app), the events loader
// (event), the API's recorder (forecast, action) and the feedback loop
// (forecast_error). Dashboards and queries are checked against it.
var Written = map[string]struct{ Tags, Fields []string }{
	MeasHAProxy:       {[]string{TagLB, TagBackend, TagServer}, []string{FieldReqRate, FieldSessRate, FieldErrRate, FieldSessions, FieldQueue, FieldRespTimeMS}},
	MeasForecast:      {[]string{TagLB, TagModel}, []string{FieldP10, FieldP50, FieldP90, FieldHorizon}},
	MeasForecastError: {[]string{TagLB, TagModel, TagHorizon}, []string{FieldAbsError, FieldPinball, FieldCovered}},
	MeasEvent:         {[]string{TagLB, TagKind}, []string{FieldLift, FieldEnd, TextName}},
	MeasAction: {[]string{TagLB, TagKind}, []string{FieldShare, FieldNeeded, FieldCurrent, FieldPoolSize, FieldCapacity,
		FieldPerInstance, TextReason, TextPhase}},
}
