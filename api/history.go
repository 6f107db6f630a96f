package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shadowscale/shadowscale/metrics"
)

// Point is one value at one time.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Decision is one recorded decision: it is listed when the decision or the
// phase changed from the tick before.
type Decision struct {
	T        time.Time `json:"t"`
	Phase    string    `json:"phase"`
	Share    float64   `json:"share"`
	Decision string    `json:"decision"`
}

// HistoryView is GET /v1/lbs/{lb}/history: what the status page charts.
type HistoryView struct {
	LB        string     `json:"lb"`
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Demand    []Point    `json:"demand"`
	Forecast  []Band     `json:"forecast"` // one step ahead, at the target time
	Ahead     []Band     `json:"ahead"`    // the current forecast
	Capacity  []Point    `json:"capacity"`
	Decisions []Decision `json:"decisions"` // newest first
}

// maxChartPoints bounds each series of a history answer.
const maxChartPoints = 360

func (s *Server) lbHistory(c *gin.Context) {
	if _, ok := s.findLB(c); !ok {
		return
	}
	lb := c.Param("lb")
	hours := 3.0
	if h := c.Query("hours"); h != "" {
		v, err := strconv.ParseFloat(h, 64)
		if err != nil || !(v > 0) || v > 168 {
			failField(c, "hours", "want a number of hours in (0, 168], got "+quote(h))
			return
		}
		hours = v
	}
	to := s.cfg.Now().UTC()
	from := to.Add(-time.Duration(hours * float64(time.Hour)))
	out := HistoryView{LB: lb, From: from, To: to, Ahead: []Band{}}
	var err error
	var first time.Time
	out.Capacity, out.Decisions, first, err = s.actions(c, lb, from, to)
	if err == nil {
		out.Forecast, err = s.forecastHistory(c, lb, from, to)
	}
	if err == nil {
		// A young service has less than the window: fit the demand's
		// windows to the span the recorder has seen.
		dfrom := from
		if first.After(from) {
			dfrom = first.Add(-s.cfg.Tick)
		}
		out.Demand, err = s.demand(c, lb, dfrom, to)
	}
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "read history: "+err.Error())
		return
	}
	if fcs, _ := s.cfg.Sched.Forecasts(); len(fcs[lb].P50) > 0 {
		out.Ahead = bands(fcs[lb])
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) demand(c *gin.Context, lb string, from, to time.Time) ([]Point, error) {
	step := max(s.cfg.HistoryStep, to.Sub(from)/maxChartPoints)
	// The window still filling would show as a dip: leave it out.
	if end := metrics.AlignDown(to, step); end.After(from) {
		to = end
	}
	sel, field := metrics.Demand(lb)
	r, err := s.cfg.Store.History(c, metrics.Query{Select: sel, Field: field, From: from, To: to, Step: step})
	if err != nil {
		return nil, err
	}
	out := []Point{}
	for i, v := range r.Values {
		if !math.IsNaN(v) {
			out = append(out, Point{T: r.Time(i), V: v})
		}
	}
	return out, nil
}

func (s *Server) forecastHistory(c *gin.Context, lb string, from, to time.Time) ([]Band, error) {
	recs, err := s.cfg.Store.Records(c, metrics.Selector{Measurement: metrics.MeasForecast, Tags: map[string]string{metrics.TagLB: lb}}, from, to.Add(s.cfg.Tick+time.Hour))
	if err != nil {
		return nil, err
	}
	out := []Band{}
	for _, r := range thin(recs) {
		out = append(out, Band{T: r.Time, P10: r.Fields[metrics.FieldP10], P50: r.Fields[metrics.FieldP50], P90: r.Fields[metrics.FieldP90]})
	}
	return out, nil
}

// actions returns the ready capacity and the decisions, and the time of the
// first record.
func (s *Server) actions(c *gin.Context, lb string, from, to time.Time) ([]Point, []Decision, time.Time, error) {
	sel := metrics.Selector{Measurement: metrics.MeasAction, Tags: map[string]string{metrics.TagLB: lb, metrics.TagKind: metrics.KindDecision}}
	recs, err := s.cfg.Store.Records(c, sel, from, to.Add(time.Second))
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	caps, decs, first := []Point{}, []Decision{}, time.Time{}
	if len(recs) > 0 {
		first = recs[0].Time
	}
	for _, r := range thin(recs) {
		caps = append(caps, Point{T: r.Time, V: r.Fields[metrics.FieldCapacity]})
	}
	prev := Decision{}
	for _, r := range recs {
		d := Decision{T: r.Time, Phase: r.Text[metrics.TextPhase], Share: r.Fields[metrics.FieldShare], Decision: r.Text[metrics.TextReason]}
		if d.Phase != prev.Phase || d.Decision != prev.Decision {
			decs = append(decs, d)
		}
		prev = d
	}
	for i, j := 0, len(decs)-1; i < j; i, j = i+1, j-1 {
		decs[i], decs[j] = decs[j], decs[i]
	}
	return caps, decs[:min(len(decs), 50)], first, nil
}

// thin keeps at most maxChartPoints records, evenly spaced, the last one
// always kept.
func thin(recs []metrics.Record) []metrics.Record {
	if len(recs) <= maxChartPoints {
		return recs
	}
	out := make([]metrics.Record, 0, maxChartPoints+1)
	stride := float64(len(recs)) / maxChartPoints
	for f := 0.0; int(f) < len(recs)-1; f += stride {
		out = append(out, recs[int(f)])
	}
	return append(out, recs[len(recs)-1])
}

// exportLB writes an LB's demand as a trace CSV (what `shadowscale export
// --url` asks for while serve holds the store).
func (s *Server) exportLB(c *gin.Context) {
	if _, ok := s.findLB(c); !ok {
		return
	}
	q, ok := exportQuery(c)
	if !ok {
		return
	}
	r, err := s.cfg.Store.History(c, q)
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "read history: "+err.Error())
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Status(http.StatusOK)
	if _, err := metrics.WriteTraceCSV(c.Writer, r); err != nil {
		s.cfg.Log.Warn("export", "lb", c.Param("lb"), "err", err)
	}
}

func exportQuery(c *gin.Context) (metrics.Query, bool) {
	sel, field := metrics.Demand(c.Param("lb"))
	q := metrics.Query{Select: sel, Field: field, Step: time.Minute}
	var err error
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := c.Query(p.name)
		if v == "" {
			failField(c, p.name, "required (RFC3339 or Unix seconds)")
			return q, false
		}
		if *p.t, err = metrics.ParseTimestamp(v); err != nil {
			failField(c, p.name, "want RFC3339 or Unix seconds, got "+quote(v))
			return q, false
		}
	}
	if v := c.Query("step"); v != "" {
		if q.Step, err = time.ParseDuration(v); err != nil || q.Step <= 0 {
			failField(c, "step", "want a positive duration such as 1m, got "+quote(v))
			return q, false
		}
	}
	if !q.From.Before(q.To) {
		failField(c, "to", "must be after from")
		return q, false
	}
	if _, _, err := q.Grid(); err != nil {
		failField(c, "step", err.Error())
		return q, false
	}
	return q, true
}
