package scheduler

import (
	"math"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Event is a known external event (a campaign, a scheduled job) that
// multiplies demand by Lift during [Start, End).
type Event struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Lift  float64   `json:"lift"`
}

// PlanInput is everything the planner looks at; nothing else.
type PlanInput struct {
	LB       string
	Now      time.Time
	Forecast inference.Forecast
	Quantile string // p10 | p50 | p90
	// Capacity is requests/s one instance serves at healthy latency.
	Capacity       float64
	CapacitySource string // configured | learned
	Headroom       float64
	Events         []Event
	// ProvisionLead is how far ahead a new pool must be planned: boot +
	// warm-up + one tick. CutoverLead is how long a cutover takes.
	ProvisionLead time.Duration
	CutoverLead   time.Duration
	// GrowLead is how far ahead a serving pool must grow: boot +
	// warm-up + one tick (new servers need no cutover steps).
	GrowLead time.Duration
	Primary  int // serving instances in the primary backend
	Pool     int // instances in the shadow pool
	// Observed is the demand now (req/s; NaN or 0 when unknown): the
	// reactive floor, so a forecast below it never plans fewer instances
	// than the load of this moment needs.
	Observed float64
	// Lead says where ProvisionLead came from, for the reason.
	Lead string
}

// Window is the peak need over one look-ahead.
type Window struct {
	LookAhead time.Duration `json:"look_ahead"`
	Peak      float64       `json:"peak"` // forecast quantile at the peak, req/s
	PeakAt    time.Time     `json:"peak_at"`
	Lift      float64       `json:"lift"` // event multiplier at the peak
	Needed    int           `json:"needed"`
}

// Reason holds every number that led to a decision.
type Reason struct {
	Forecaster     string   `json:"forecaster"`
	Fallback       string   `json:"fallback,omitempty"`
	Quantile       string   `json:"quantile"`
	Capacity       float64  `json:"capacity"`
	CapacitySource string   `json:"capacity_source"`
	Headroom       float64  `json:"headroom"`
	Provision      Window   `json:"provision"` // over boot + warm-up
	Cutover        Window   `json:"cutover"`   // over the cutover duration
	Grow           Window   `json:"grow"`      // over boot + warm-up: an active pool's size
	Horizon        Window   `json:"horizon"`   // over the whole forecast
	Observed       *float64 `json:"observed"`  // demand now, req/s (nil: missing)
	// Estimate says how a learned capacity was found and how sure it is;
	// Utilisation is the app metric's utilisation now, when there is one.
	Estimate    string   `json:"estimate,omitempty"`
	Utilisation *float64 `json:"utilisation,omitempty"`
	// Reactive is what the demand now needs (ceil(observed / capacity
	// × (1 + headroom))); Signal says which side set Needed: "forecast"
	// or "reactive" (the larger wins, as in GCP's predictive autoscaler).
	Reactive int    `json:"reactive"`
	Signal   string `json:"signal"`
	// Lead is where the provision look-ahead came from (configured or
	// learned from the pools' own boot and warm-up times).
	Lead   string   `json:"lead,omitempty"`
	Want   int      `json:"want"` // pool size asked before bounds
	Bounds []string `json:"bounds,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// Plan is the planner's answer for one load balancer at one tick.
type Plan struct {
	LB       string    `json:"lb"`
	At       time.Time `json:"at"`
	Needed   int       `json:"needed"`  // instances needed within the provision look-ahead
	Current  int       `json:"current"` // serving primary instances
	Pool     int       `json:"pool"`    // shadow pool instances
	Deficit  int       `json:"deficit"` // Needed - Current, at least 0
	Decision string    `json:"decision"`
	Reason   Reason    `json:"reason"`
}

// NeedsCutover reports whether demand within the cutover look-ahead will
// exceed what the primary serves.
func (p Plan) NeedsCutover() bool { return p.Reason.Cutover.Needed > p.Current }

// Low reports whether the whole forecast (and the demand now) fits in the
// primary: the peak is over. Unknown capacity or demand is never low.
func (p Plan) Low() bool {
	obs := p.Reason.Observed
	return p.Reason.Capacity > 0 && p.Reason.Horizon.Needed <= p.Current && obs != nil &&
		instances(*obs, 1, p.Reason.Capacity, p.Reason.Headroom) <= p.Current
}

// MakePlan is the pure planner: needed instances at time t =
// ceil(q(t) × lift(t) / capacity × (1 + headroom)), maximised over each
// look-ahead window, and never below what the demand now needs.
func MakePlan(in PlanInput) Plan {
	r := Reason{
		Forecaster: in.Forecast.Model, Fallback: in.Forecast.Fallback, Quantile: in.Quantile,
		Capacity: in.Capacity, CapacitySource: in.CapacitySource, Headroom: in.Headroom, Lead: in.Lead,
	}
	q := quantileValues(in.Forecast, in.Quantile)
	r.Provision = peak(in, q, in.ProvisionLead)
	r.Cutover = peak(in, q, in.CutoverLead)
	r.Horizon = peak(in, q, time.Duration(len(q))*in.Forecast.Step)
	r.Grow = peak(in, q, in.GrowLead)
	r.Reactive = instances(in.Observed, 1, in.Capacity, in.Headroom)
	r.Signal = "forecast"
	if r.Reactive > r.Provision.Needed {
		r.Signal = "reactive"
	}
	// The floor applies to every window: a demand already above the
	// primary must also be cut over to, whatever the forecast says.
	r.Provision.Needed = max(r.Provision.Needed, r.Reactive)
	r.Cutover.Needed = max(r.Cutover.Needed, r.Reactive)
	r.Horizon.Needed = max(r.Horizon.Needed, r.Reactive)
	r.Grow.Needed = max(r.Grow.Needed, r.Reactive)
	p := Plan{LB: in.LB, At: in.Now, Needed: r.Provision.Needed, Current: in.Primary, Pool: in.Pool, Reason: r}
	p.Deficit = max(0, p.Needed-p.Current)
	p.Reason.Want = p.Deficit
	return p
}

// peak finds the largest need among the forecast points in [now, now+ahead]
// (at least the first point, so a short look-ahead still sees something).
func peak(in PlanInput, q []float64, ahead time.Duration) Window {
	w := Window{LookAhead: ahead}
	f := in.Forecast
	for i, v := range q {
		t := f.Start.Add(time.Duration(i) * f.Step)
		if i > 0 && t.After(in.Now.Add(ahead)) {
			break
		}
		lift := eventLift(in.Events, t)
		n := instances(v, lift, in.Capacity, in.Headroom)
		if i == 0 || n > w.Needed || (n == w.Needed && v*lift > w.Peak*w.Lift) {
			w.Peak, w.PeakAt, w.Lift, w.Needed = v, t, lift, n
		}
	}
	return w
}

func instances(demand, lift, capacity, headroom float64) int {
	if capacity <= 0 || math.IsNaN(demand) || demand <= 0 {
		return 0
	}
	// The small epsilon keeps 2.0000000001 from becoming 3.
	return int(math.Ceil(demand*lift/capacity*(1+headroom) - 1e-9))
}

// eventLift is the largest lift of the events covering t (overlapping
// events do not compound: a conservative, non-explosive choice), 1 if none.
func eventLift(events []Event, t time.Time) float64 {
	lift := 1.0
	for _, e := range events {
		if !t.Before(e.Start) && t.Before(e.End) && e.Lift > lift {
			lift = e.Lift
		}
	}
	return lift
}

func quantileValues(f inference.Forecast, q string) []float64 {
	switch q {
	case "p10":
		return f.P10
	case "p50":
		return f.P50
	}
	return f.P90
}
