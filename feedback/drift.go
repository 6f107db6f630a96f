package feedback

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shadowscale/shadowscale/inference"
)

// Staleness is a model's drift verdict for one LB.
type Staleness struct {
	Stale    bool      `json:"stale"`
	Since    time.Time `json:"since,omitzero"`     // stale since
	BadSince time.Time `json:"bad_since,omitzero"` // past a threshold since
	Why      string    `json:"why,omitempty"`
	Model    string    `json:"model,omitempty"`
}

// driftReason says which threshold the accuracy is past, "" when none (or
// too few samples to judge).
func (d Drift) reason(a Accuracy) string {
	if a.Scored < d.MinSamples {
		return ""
	}
	if a.CoverageP90 < d.MinCoverage {
		return fmt.Sprintf("raw p90 coverage %.2f < %.2f over %s (%d targets)", a.CoverageP90, d.MinCoverage, a.Window, a.Scored)
	}
	if d.MaxMASE > 0 && a.MASE != nil && *a.MASE > d.MaxMASE {
		return fmt.Sprintf("MASE %.2f > %.2f over %s (%d targets)", *a.MASE, d.MaxMASE, a.Window, a.Scored)
	}
	return ""
}

// update moves the verdict for the accuracy at now and reports whether the
// model just became stale. It clears as soon as accuracy is back.
func (d Drift) update(st Staleness, model string, a Accuracy, now time.Time) (Staleness, bool) {
	why := d.reason(a)
	if why == "" || model != st.Model && st.Model != "" {
		return Staleness{Model: model}, false
	}
	if st.BadSince.IsZero() {
		st.BadSince = now
	}
	st.Model, st.Why = model, why
	if !st.Stale && now.Sub(st.BadSince) >= d.For {
		st.Stale, st.Since = true, now
		return st, true
	}
	return st, false
}

// widen raises p90 by the stale margin (and lowers p10 by it): a stale
// model's band is trusted less.
func (d Drift) widen(f inference.Forecast) inference.Forecast {
	f.P10, f.P90 = slices.Clone(f.P10), slices.Clone(f.P90)
	for i := range f.P90 {
		f.P90[i] *= 1 + d.Margin
		f.P10[i] = math.Max(0, math.Min(f.P50[i], f.P10[i]*(1-d.Margin)))
	}
	return f
}
